"""The shared part of activity's use cases: a :class:`Context` every area is
built with, holding the database, the kernel's unit of work (a scoped
transaction per call, the clock, events recorded in it, rollup bumps), the
repository a unit's session is read and written through and the PII cipher.
A use case talks to nothing else, so the same code runs on in-memory fakes.
:func:`bump` counts a fact in the rollups of a unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.activity.models import ROLLUP
from services.activity.repository import Repository
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.rollup import month_of
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work

RepositoryFactory = Callable[[Work], Repository]


def sql_repository(work: Work) -> Repository:
    if work.scope is None:  # activity has no system-context use case
        raise RuntimeError("activity's use cases run in a tenant scope")
    return Repository(work.session, work.scope)


@dataclass(frozen=True)
class Context:
    """What the areas work with: ``uow`` the unit of work (a test's in-memory
    one instead of SQL) and ``repo`` how a unit of work's repository is made.
    ``ActivityApp`` builds it and holds the defaults."""

    db: Database
    cipher: PiiCipher
    clock: Callable[[], datetime]
    uow: UnitOfWork | FakeUnitOfWork
    repo: RepositoryFactory


def bump(work: Work, code: str, at: datetime, **deltas: float) -> None:
    """Count a fact of the moment ``at`` in the rollups of ``code`` and its
    ancestors, in this unit of work."""
    work.bump(ROLLUP, code, month_of(at), **deltas)
