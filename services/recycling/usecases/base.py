"""The shared part of recycling's use cases: a :class:`Context` every area is
built with, holding the database, the kernel's unit of work (a scoped
transaction per call, the clock, events recorded in it, rollup bumps), the
repository a unit's session is read and written through, China's calendar
day, activity's client and registration's (which organisations the caller
sees) and the personal-data cipher. A use case touches no session itself: a
test hands in an in-memory unit of work and repository instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.references import Organisation, optional_organisation
from services.common.remote import Remote
from services.common.rollup import CST
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work
from services.recycling.activity_client import Activity
from services.recycling.repository import Repository

RepositoryFactory = Callable[[Work], Repository]


@dataclass(frozen=True)
class Context:
    """What the areas work with: ``uow`` the unit of work (a test's in-memory
    one instead of SQL) and ``repo`` how a unit of work's repository is made;
    ``registration`` answers which organisations the caller may name, and
    ``cipher`` seals bookings' contact data (stored encrypted only).
    ``RecyclingApp`` builds it and holds the defaults."""

    db: Database
    uow: UnitOfWork | FakeUnitOfWork
    repo: RepositoryFactory
    clock: Callable[[], datetime]
    cipher: PiiCipher | None
    activity: Activity | None
    registration: Remote | None

    def today(self) -> date:
        """Today in China, the calendar every recorded date is checked against."""
        return self.clock().astimezone(CST).date()

    def require_activity(self) -> Activity:
        """Activity's client (a use case linking a session needs it)."""
        if self.activity is None:
            raise RuntimeError("this use case needs activity's client")
        return self.activity

    def organisation(self, organisation_id: str) -> Organisation | None:
        """The named organisation if the caller may see it (NOT_FOUND
        otherwise, as for an unknown id); ``None`` when none is named."""
        return optional_organisation(
            self.registration, organisation_id, "organisation_id"
        )

    def require_cipher(self) -> PiiCipher:
        """The personal-data key (bookings hold residents' contact data)."""
        if self.cipher is None:
            raise RuntimeError("bookings need the personal-data key")
        return self.cipher
