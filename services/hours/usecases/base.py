"""What hours' use-case areas share: a :class:`Context` holding the
database, the kernel's unit of work (a scoped transaction per call, the
clock, events recorded in it), how the repositories a unit's session is read
through are made, registration's client, the PII cipher and the gateway's
public address. Each area takes the context in its constructor;
``HoursApp`` builds one context and composes the areas. :func:`number`
writes an amount as an event's JSON number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work
from services.hours.bank_repository import BankRepository
from services.hours.lines_client import LineSource
from services.hours.registration_client import Registration
from services.hours.repository import Repository

RepositoryFactory = Callable[[Work], Repository]
BankRepositoryFactory = Callable[[Work], BankRepository]


def sql_repository(work: Work) -> Repository:
    return Repository(work.session, work.scope)


def sql_bank_repository(work: Work) -> BankRepository:
    return BankRepository(work.session, work.scope)


@dataclass(frozen=True)
class Context:
    """What the areas work with: ``uow`` the unit of work, ``repo`` and
    ``bank`` how a unit of work's repositories are made (a test's in-memory
    ones instead of SQL), ``registration`` registration's client (``None``
    where no use case needs it), ``cipher`` seals certificates (they carry
    the full name) when a key is set, and ``public_url`` is the gateway's
    public address, for the certificate's QR code. ``HoursApp`` builds it
    and holds the defaults."""

    db: Database
    registration: Registration | None
    clock: Callable[[], datetime]
    cipher: PiiCipher | None
    public_url: str
    uow: UnitOfWork | FakeUnitOfWork
    repo: RepositoryFactory
    bank: BankRepositoryFactory
    # Activity's and commendation's records, for a certificate's training
    # and awards lines (None where no use case prints them).
    lines: LineSource | None = None

    def line_source(self) -> LineSource:
        """The records' client, for a certificate that prints their lines."""
        if self.lines is None:
            raise RuntimeError(
                "this use case needs activity's and commendation's client"
            )
        return self.lines

    def registration_client(self) -> Registration:
        """Registration's client, for a use case that cannot go without it."""
        if self.registration is None:
            raise RuntimeError("this use case needs the registration client")
        return self.registration


def number(value: Any) -> float:
    """A NUMERIC amount as an event's JSON number (two places)."""
    return float(value)
