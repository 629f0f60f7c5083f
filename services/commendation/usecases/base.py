"""What commendation's use-case areas share, handed to each as one
:class:`Context`: the kernel's unit of work (a scoped transaction per call,
the clock, events recorded in it, rollup bumps), the repository a unit's
session is read through, the effective settings and the remote facts. The
areas (``usecases/*.py``) are composed in ``application.py``, not inherited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from services.commendation.clients import Facts
from services.commendation.models import ROLLUP
from services.commendation.repository import Repository
from services.common.db import Database
from services.common.errors import Unavailable
from services.common.rollup import month_of
from services.common.settings_replica import EffectiveCache
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work

RepositoryFactory = Callable[[Work], Repository]


def sql_repository(work: Work) -> Repository:
    return Repository(work.session, work.scope)


@dataclass(frozen=True)
class Context:
    """``settings_cache``: effective settings by the override rows they come
    from, kept as long as this object (the worker keeps one per process);
    ``repo``: how a unit of work's repository is made, and ``uow`` the unit
    of work (a test's in-memory ones instead of SQL); ``facts``: the remote
    facts clients, None where no use case needs them (the worker, the seed,
    the CLI). ``CommendationApp`` builds it and holds the defaults."""

    db: Database
    facts: Facts | None
    clock: Callable[[], datetime]
    today: Callable[[], date]
    uow: UnitOfWork | FakeUnitOfWork
    settings_cache: EffectiveCache
    repo: RepositoryFactory

    def bump(self, work: Work, code: str, **deltas: float) -> None:
        """Add ``deltas`` to ``code``'s rollup row of this month."""
        work.bump(ROLLUP, code, month_of(self.clock()), **deltas)

    def require_facts(self) -> Facts:
        if self.facts is None:
            raise RuntimeError("this use case needs the remote facts clients")
        return self.facts


def require_replica(repo: Repository, volunteer_id: str) -> None:
    """Stop an event of a volunteer whose registration has not reached
    commendation yet: a volunteer's rating and conduct facts are filed under
    their home, which only the replica knows. Filed under the event's
    division instead (where the service was), they would stay there: the
    home's reads (a nomination's check, a re-evaluation's reconcile) never
    see them. The event is retried until the replica arrives (a transient
    failure: the worker waits and tries again)."""
    if repo.replica_row(volunteer_id) is None:
        raise missing_replica(volunteer_id)


def missing_replica(volunteer_id: str) -> Unavailable:
    return Unavailable(
        f"volunteer {volunteer_id} has not reached commendation yet",
        f"志愿者 {volunteer_id} 的信息尚未同步到表彰服务",
        rule="volunteer.replica",
    )
