"""The shared part of recycling's use cases: the kernel's unit of work (a
scoped transaction per call, the clock, events recorded in it, rollup
bumps), the repository a unit's session is read and written through, China's
calendar day, activity's client and registration's (which organisations the
caller sees). A use case touches no session itself: a test hands in an
in-memory unit of work and repository instead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.references import Organisation, optional_organisation
from services.common.remote import Remote
from services.common.rollup import CST
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work
from services.recycling.activity_client import Activity
from services.recycling.models import OUTBOX
from services.recycling.repository import Repository, sql_repository

RepositoryFactory = Callable[[Work], Repository]


class UseCases:
    """``repository``: how a unit of work's repository is made, and ``uow``
    the unit of work (a test's in-memory ones instead of SQL)."""

    def __init__(
        self,
        db: Database,
        cipher: PiiCipher | None = None,
        activity: Activity | None = None,
        clock: Callable[[], datetime] = outbox.now,
        registration: Remote | None = None,
        *,
        repository: RepositoryFactory = sql_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
    ):
        self.db, self.activity, self.clock = db, activity, clock
        self.uow = uow if uow is not None else UnitOfWork(db, OUTBOX, clock)
        self.repo = repository
        # Registration answers which organisations the caller may name.
        self.registration = registration
        # Bookings hold residents' contact data: stored encrypted only.
        self.cipher = cipher

    def today(self) -> date:
        """Today in China, the calendar every recorded date is checked against."""
        return self.clock().astimezone(CST).date()

    def _activity(self) -> Activity:
        if self.activity is None:
            raise RuntimeError("this use case needs activity's client")
        return self.activity

    def _organisation(self, organisation_id: str) -> Organisation | None:
        """The named organisation if the caller may see it (NOT_FOUND
        otherwise, as for an unknown id); ``None`` when none is named."""
        return optional_organisation(
            self.registration, organisation_id, "organisation_id"
        )

    def _cipher(self) -> PiiCipher:
        if self.cipher is None:
            raise RuntimeError("bookings need the personal-data key")
        return self.cipher
