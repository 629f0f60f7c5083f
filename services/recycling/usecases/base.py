"""The shared part of recycling's use cases: a scoped transaction per call,
the clock and China's calendar day, events recorded in the transaction,
activity's client and registration's (which organisations the caller sees)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.references import Organisation, optional_organisation
from services.common.remote import Remote
from services.common.rollup import CST
from services.common.unit_of_work import UnitOfWork
from services.recycling.activity_client import Activity
from services.recycling.models import OUTBOX


class UseCases:
    def __init__(
        self,
        db: Database,
        cipher: PiiCipher | None = None,
        activity: Activity | None = None,
        clock: Callable[[], datetime] = outbox.now,
        registration: Remote | None = None,
    ):
        self.db, self.activity, self.clock = db, activity, clock
        self.uow = UnitOfWork(db, OUTBOX, clock)
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
