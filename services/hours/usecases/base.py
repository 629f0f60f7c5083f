"""The shared part of hours' use cases: a scoped transaction per call, the
clock, events recorded in the transaction, and registration's client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import UnitOfWork
from services.hours import pdf
from services.hours.models import OUTBOX
from services.hours.registration_client import Registration


class UseCases:
    def __init__(
        self,
        db: Database,
        registration: Registration | None = None,
        clock: Callable[[], datetime] = outbox.now,
        cipher: PiiCipher | None = None,
        public_url: str = "",
    ):
        self.db, self.registration, self.clock = db, registration, clock
        # The gateway's public address, for the certificate's QR code.
        self.public_url = public_url or pdf.DEFAULT_PUBLIC_URL
        self.uow = UnitOfWork(db, OUTBOX, clock)
        # Certificates carry the full name: stored sealed when a key is set.
        self.cipher = cipher

    def _registration(self) -> Registration:
        if self.registration is None:
            raise RuntimeError("this use case needs the registration client")
        return self.registration


def number(value: Any) -> float:
    """A NUMERIC amount as an event's JSON number (two places)."""
    return float(value)
