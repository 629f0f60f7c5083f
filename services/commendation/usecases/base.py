"""What commendation's use-case areas share, handed to each as one
:class:`Context`: the kernel's unit of work (a scoped transaction per call,
the clock, events recorded in it, rollup bumps), the repository a unit's
session is read through, the effective settings and the remote facts. The
areas (``usecases/*.py``) are composed in ``application.py``, not inherited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from services.commendation import domain
from services.commendation.clients import Facts
from services.commendation.models import OUTBOX, ROLLUP
from services.commendation.repository import Repository
from services.common import outbox
from services.common.db import Database
from services.common.rollup import month_of
from services.common.settings_replica import EffectiveCache
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work

RepositoryFactory = Callable[[Work], Repository]


def sql_repository(work: Work) -> Repository:
    return Repository(work.session, work.scope)


class Context:
    """``settings_cache``: effective settings by the override rows they come
    from, kept as long as this object (the worker keeps one per process);
    ``repository`` (kept as ``repo``): how a unit of work's repository is
    made, and ``uow`` the unit of work (a test's in-memory ones instead of
    SQL); ``facts``: the remote facts clients, None where no use case needs
    them (the worker, the seed, the CLI)."""

    def __init__(
        self,
        db: Database,
        facts: Facts | None = None,
        clock: Callable[[], datetime] = outbox.now,
        today: Callable[[], date] = domain.today,
        *,
        settings_cache: EffectiveCache | None = None,
        repository: RepositoryFactory = sql_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
    ):
        self.db, self.facts, self.clock, self.today = db, facts, clock, today
        self.uow = uow if uow is not None else UnitOfWork(db, OUTBOX, clock)
        self.settings_cache = (
            settings_cache if settings_cache is not None else EffectiveCache()
        )
        self.repo = repository

    def bump(self, work: Work, code: str, **deltas: float) -> None:
        """Add ``deltas`` to ``code``'s rollup row of this month."""
        work.bump(ROLLUP, code, month_of(self.clock()), **deltas)

    def require_facts(self) -> Facts:
        if self.facts is None:
            raise RuntimeError("this use case needs the remote facts clients")
        return self.facts
