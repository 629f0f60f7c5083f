"""Activity's use cases: each runs in scoped transactions, checks the
caller's roles and scope, writes, bumps rollups and records events together.
Nothing here knows about gRPC. The areas live in ``usecases/``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.activity.models import OUTBOX
from services.activity.usecases.attendance import AttendanceCases
from services.activity.usecases.base import Context, RepositoryFactory, sql_repository
from services.activity.usecases.campaigns import CampaignCases
from services.activity.usecases.imported_training import ImportedTrainingCases
from services.activity.usecases.insurance import IdentitySource, InsuranceCases
from services.activity.usecases.own import OwnCases
from services.activity.usecases.pairing import PairingCases
from services.activity.usecases.projects import PositionSource, ProjectCases
from services.activity.usecases.signups import SignUpCases
from services.activity.usecases.training import TrainingCases
from services.activity.usecases.training_of import TrainingOfCases
from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork

__all__ = ["ActivityApp"]


class ActivityApp:
    """Every activity use case, as the api role and the seed call them, by
    area, all sharing one :class:`Context`:

    - ``projects``: drafting, review and the rest of a project's lifecycle;
    - ``signups``: sign-ups, the waitlist and the leader's decision;
    - ``attendance``: the rotating code, check-in, check-out, the late close;
    - ``pairing``: recipients, volunteer ↔ recipient pairs and visit logs;
    - ``own``: a volunteer signing up, withdrawing, checking in and out
      for themself (their own pages);
    - ``insurance``: a project's insurance cover and the insurer's list
      (names from ``registration``, registration's client);
    - ``training``: course catalogues, training sessions and attendance
      (training hours, kept apart from service hours);
    - ``training_of``: a volunteer's training in a period, for the
      certificate's training lines (hours asks);
    - ``imported_training``: training transferred in from another platform
      (the national record format's import);
    - ``campaigns``: special campaigns (专项行动), tagging and their summary.

    ``repository``: how a unit of work's repository is made, and ``uow`` the
    unit of work (a test's in-memory ones instead of SQL); ``positions``
    checks a service position a project names (registration's client)."""

    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        clock: Callable[[], datetime] = outbox.now,
        *,
        repository: RepositoryFactory = sql_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
        registration: IdentitySource | None = None,
        positions: PositionSource | None = None,
    ):
        ctx = Context(
            db=db,
            cipher=cipher,
            clock=clock,
            uow=uow if uow is not None else UnitOfWork(db, OUTBOX, clock),
            repo=repository,
        )
        self.projects = ProjectCases(ctx, positions)
        self.signups = SignUpCases(ctx)
        self.attendance = AttendanceCases(ctx)
        self.pairing = PairingCases(ctx)
        self.own = OwnCases(ctx, self.signups, self.attendance)
        self.insurance = InsuranceCases(ctx, registration)
        self.training: TrainingCases = self.signups.training
        self.training_of = TrainingOfCases(ctx)
        self.imported_training = ImportedTrainingCases(ctx)
        self.campaigns = CampaignCases(ctx)
