"""The shared part of hours' use cases: the kernel's unit of work (a scoped
transaction per call, the clock, events recorded in it), the repositories a
unit's session is read through, and registration's client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, Work
from services.hours import pdf
from services.hours.bank_repository import BankRepository
from services.hours.models import OUTBOX
from services.hours.registration_client import Registration
from services.hours.repository import Repository

RepositoryFactory = Callable[[Work], Repository]
BankRepositoryFactory = Callable[[Work], BankRepository]


def sql_repository(work: Work) -> Repository:
    return Repository(work.session, work.scope)


def sql_bank_repository(work: Work) -> BankRepository:
    return BankRepository(work.session, work.scope)


class UseCases:
    """``repository`` and ``bank_repository``: how a unit of work's
    repositories are made, and ``uow`` the unit of work (a test's in-memory
    ones instead of SQL)."""

    def __init__(
        self,
        db: Database,
        registration: Registration | None = None,
        clock: Callable[[], datetime] = outbox.now,
        cipher: PiiCipher | None = None,
        public_url: str = "",
        *,
        repository: RepositoryFactory = sql_repository,
        bank_repository: BankRepositoryFactory = sql_bank_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
    ):
        self.db, self.registration, self.clock = db, registration, clock
        # The gateway's public address, for the certificate's QR code.
        self.public_url = public_url or pdf.DEFAULT_PUBLIC_URL
        self.uow = uow if uow is not None else UnitOfWork(db, OUTBOX, clock)
        self.repo, self.bank = repository, bank_repository
        # Certificates carry the full name: stored sealed when a key is set.
        self.cipher = cipher

    def _registration(self) -> Registration:
        if self.registration is None:
            raise RuntimeError("this use case needs the registration client")
        return self.registration


def number(value: Any) -> float:
    """A NUMERIC amount as an event's JSON number (two places)."""
    return float(value)
