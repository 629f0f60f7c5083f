"""The shared part of registration's use cases: a scoped transaction per
call and events recorded in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.common import outbox
from services.common.auth import Principal, TokenIssuer
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.tenancy import ancestors
from services.registration.models import OUTBOX


class UseCases:
    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        issuer: TokenIssuer | None,
        clock: Callable[[], datetime] = outbox.now,
    ):
        self.db, self.cipher, self.issuer, self.clock = db, cipher, issuer, clock

    def _tx(self, principal: Principal):  # type: ignore[no-untyped-def]
        return self.db.session(principal.scope)

    def _event(
        self, s: Session, event_type: str, code: str, data: dict[str, Any]
    ) -> None:
        outbox.record(s, OUTBOX, event_type, division_code=code, data=data)


def strict_ancestors(code: str) -> list[str]:
    return ancestors(code, include_self=False)
