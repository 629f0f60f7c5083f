"""What registration's use-case areas share: a :class:`Context` holding the
database, the kernel's unit of work (a scoped transaction per call, the
clock, events recorded in it, rollup bumps), the repository a unit's session
is read and written through, the PII cipher, the token issuer and the
failed-login counter. Each area takes the context (and any area it calls)
in its constructor; ``RegistrationApp`` builds one context and composes the
areas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.common.auth import TokenIssuer
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.rollup import month_of
from services.common.tenancy import ancestors
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work
from services.registration.login_guard import LoginGuard, LoginPolicy
from services.registration.models import ROLLUP
from services.registration.repository import Repository

RepositoryFactory = Callable[[Work], Repository]
GuardFactory = Callable[[LoginPolicy], LoginGuard]


def sql_repository(work: Work) -> Repository:
    return Repository(work.session, work.scope)


@dataclass(frozen=True)
class Context:
    """The dependencies every area reaches: ``uow`` the unit of work,
    ``repo`` how a unit of work's repository is made and ``login_guard`` the
    failed-login counter under a policy (a test's in-memory ones instead of
    SQL); ``issuer`` is ``None`` in a process that signs no tokens.
    ``RegistrationApp`` builds it and holds the defaults."""

    db: Database
    cipher: PiiCipher
    issuer: TokenIssuer | None
    clock: Callable[[], datetime]
    uow: UnitOfWork | FakeUnitOfWork
    repo: RepositoryFactory
    login_guard: GuardFactory


def bump(work: Work, code: str, at: datetime, **deltas: float) -> None:
    """Count a fact of time ``at`` in the rollups of ``code`` and above."""
    work.bump(ROLLUP, code, month_of(at), **deltas)


def strict_ancestors(code: str) -> list[str]:
    return ancestors(code, include_self=False)
