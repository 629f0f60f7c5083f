"""The shared part of hours' use cases: a scoped transaction per call, the
clock, events recorded in the transaction, and registration's client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.common import outbox
from services.common.auth import Principal
from services.common.db import Database
from services.common.pii import PiiCipher
from services.hours.models import OUTBOX
from services.hours.registration_client import Registration


class UseCases:
    def __init__(
        self,
        db: Database,
        registration: Registration | None = None,
        clock: Callable[[], datetime] = outbox.now,
        cipher: PiiCipher | None = None,
    ):
        self.db, self.registration, self.clock = db, registration, clock
        # Certificates carry the full name: stored sealed when a key is set.
        self.cipher = cipher

    def _tx(self, principal: Principal):  # type: ignore[no-untyped-def]
        return self.db.session(principal.scope)

    def _event(
        self, s: Session, event_type: str, code: str, data: dict[str, Any]
    ) -> None:
        outbox.record(s, OUTBOX, event_type, division_code=code, data=data)

    def _registration(self) -> Registration:
        if self.registration is None:
            raise RuntimeError("this use case needs the registration client")
        return self.registration


def number(value: Any) -> float:
    """A NUMERIC amount as an event's JSON number (two places)."""
    return float(value)
