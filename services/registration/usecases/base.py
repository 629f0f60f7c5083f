"""The shared part of registration's use cases: a scoped transaction per
call and events recorded in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.common import outbox
from services.common.auth import TokenIssuer
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.tenancy import ancestors
from services.common.unit_of_work import UnitOfWork
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
        self.uow = UnitOfWork(db, OUTBOX, clock)


def strict_ancestors(code: str) -> list[str]:
    return ancestors(code, include_self=False)
