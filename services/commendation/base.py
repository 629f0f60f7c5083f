"""The shared part of commendation's use cases: a scoped transaction per
call, the clock, events recorded in the transaction, rollup bumps, the
tenant's effective settings and the remote facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from services.commendation import domain
from services.commendation.clients import Facts
from services.commendation.models import OUTBOX, ROLLUP, PolicyNode
from services.common import outbox, settings_replica
from services.common.db import Database
from services.common.rollup import month_of
from services.common.unit_of_work import UnitOfWork


class UseCases:
    def __init__(
        self,
        db: Database,
        facts: Facts | None = None,
        clock: Callable[[], datetime] = outbox.now,
        today: Callable[[], date] = domain.today,
    ):
        self.db, self.facts, self.clock, self.today = db, facts, clock, today
        self.uow = UnitOfWork(db, OUTBOX, clock)

    def _bump(self, s: Session, code: str, **deltas: float) -> None:
        ROLLUP.bump(s, code, month_of(self.clock()), **deltas)

    @staticmethod
    def _settings(s: Session, code: str) -> dict[str, Any]:
        return settings_replica.effective(s, PolicyNode, code)

    def _facts(self) -> Facts:
        if self.facts is None:
            raise RuntimeError("this use case needs the remote facts clients")
        return self.facts
