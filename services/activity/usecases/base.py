"""The shared part of activity's use cases: the kernel's unit of work (a
scoped transaction per call, the clock, events recorded in it, rollup bumps)
and the repository a unit's session is read and written through. A use case
talks to nothing else, so the same code runs on in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.activity.models import OUTBOX, ROLLUP
from services.activity.repository import Repository
from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.rollup import month_of
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work

RepositoryFactory = Callable[[Work], Repository]


def sql_repository(work: Work) -> Repository:
    if work.scope is None:  # activity has no system-context use case
        raise RuntimeError("activity's use cases run in a tenant scope")
    return Repository(work.session, work.scope)


class UseCases:
    """``repository``: how a unit of work's repository is made, and ``uow``
    the unit of work (a test's in-memory ones instead of SQL)."""

    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        clock: Callable[[], datetime] = outbox.now,
        *,
        repository: RepositoryFactory = sql_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
    ):
        self.db, self.cipher, self.clock = db, cipher, clock
        self.uow = uow if uow is not None else UnitOfWork(db, OUTBOX, clock)
        self.repo = repository

    @staticmethod
    def _bump(work: Work, code: str, at: datetime, **deltas: float) -> None:
        """Count a fact of the moment ``at`` in the rollups of ``code`` and
        its ancestors, in this unit of work."""
        work.bump(ROLLUP, code, month_of(at), **deltas)
