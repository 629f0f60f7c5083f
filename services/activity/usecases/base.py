"""The shared part of activity's use cases: a scoped transaction per call
and events recorded in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.activity.models import OUTBOX
from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.tenancy import Scope


class UseCases:
    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        clock: Callable[[], datetime] = outbox.now,
    ):
        self.db, self.cipher, self.clock = db, cipher, clock

    def _tx(self, scope: Scope):  # type: ignore[no-untyped-def]
        return self.db.session(scope)

    def _event(
        self, s: Session, event_type: str, code: str, data: dict[str, Any]
    ) -> None:
        outbox.record(s, OUTBOX, event_type, division_code=code, data=data)
