"""The shared part of activity's use cases: a scoped transaction per call
and events recorded in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.activity.models import OUTBOX
from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import UnitOfWork


class UseCases:
    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        clock: Callable[[], datetime] = outbox.now,
    ):
        self.db, self.cipher, self.clock = db, cipher, clock
        self.uow = UnitOfWork(db, OUTBOX, clock)
