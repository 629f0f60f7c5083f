"""Registration's use cases: each runs in one scoped transaction, checks the
caller's roles and scope, writes, bumps rollups and records events together.
Nothing here knows about gRPC. The areas live in ``usecases/``; this module
composes them over one :class:`~services.registration.usecases.base.Context`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.common import outbox
from services.common.auth import TokenIssuer
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork
from services.registration.login_guard import LoginGuard
from services.registration.models import OUTBOX
from services.registration.usecases.accounts import AccountCases
from services.registration.usecases.base import (
    Context,
    GuardFactory,
    RepositoryFactory,
    sql_repository,
)
from services.registration.usecases.directory import DirectoryCases
from services.registration.usecases.merges import MergeCases
from services.registration.usecases.people import Guardian, PeopleCases
from services.registration.usecases.positions import PositionCases
from services.registration.usecases.selfservice import SelfServiceCases
from services.registration.usecases.transfers import TransferCases

__all__ = ["Guardian", "RegistrationApp"]


class RegistrationApp:
    """Every registration use case, as the api role and the seed call them,
    by area:

    - ``directory``: divisions (get, list, create, rename, retire, history)
      and tenant settings (effective, update);
    - ``accounts``: login and creating accounts (``accounts.login_policy``
      holds the failed-login limits);
    - ``people``: organisations and teams, volunteers (register, review,
      identity, get) and team memberships;
    - ``self_service``: a volunteer's own registration (public,
      ``self_service.policy`` holds its per-address limit), own record and
      the public division picker;
    - ``transfers``: transfers between regions (request, accept, refuse,
      cancel, the volunteer's own);
    - ``merges``: duplicate registrations merged and reverted;
    - ``positions``: service positions (志愿服务阵地: create, update, get).

    ``ctx`` is the one context the areas share.
    """

    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        issuer: TokenIssuer | None,
        clock: Callable[[], datetime] = outbox.now,
        *,
        repository: RepositoryFactory = sql_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
        login_guard: GuardFactory | None = None,
    ):
        self.ctx = Context(
            db=db,
            cipher=cipher,
            issuer=issuer,
            clock=clock,
            uow=uow if uow is not None else UnitOfWork(db, OUTBOX, clock),
            repo=repository,
            login_guard=login_guard or (lambda policy: LoginGuard(db, policy, clock)),
        )
        self.directory = DirectoryCases(self.ctx)
        self.accounts = AccountCases(self.ctx)
        self.people = PeopleCases(self.ctx)
        self.self_service = SelfServiceCases(self.ctx, self.people)
        self.transfers = TransferCases(self.ctx)
        self.merges = MergeCases(self.ctx)
        self.positions = PositionCases(self.ctx)
