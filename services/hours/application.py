"""Hours' use cases: each runs in one scoped transaction, checks the caller's
roles and scope, writes, bumps rollups and records events together. Nothing
here knows about gRPC or nameko. The areas live in ``usecases/``; this module
composes them over one :class:`~services.hours.usecases.base.Context`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork
from services.hours import pdf
from services.hours.lines_client import LineSource
from services.hours.models import OUTBOX
from services.hours.registration_client import Registration
from services.hours.usecases.base import (
    BankRepositoryFactory,
    Context,
    RepositoryFactory,
    sql_bank_repository,
    sql_repository,
)
from services.hours.usecases.certificates import CertificateCases
from services.hours.usecases.complaints import ComplaintCases
from services.hours.usecases.evaluations import EvaluationCases
from services.hours.usecases.merges import MergeCases
from services.hours.usecases.objections import ObjectionCases
from services.hours.usecases.policy import PolicyCases
from services.hours.usecases.records import Draft, RecordCases
from services.hours.usecases.review import ReviewCases
from services.hours.usecases.timebank import TimeBankCases

__all__ = ["Draft", "HoursApp"]


class HoursApp:
    """Every hours use case, as the api role, the worker and the seed call
    them, by area:

    - ``records``: hour records from activity's events (``ingest``,
      ``ingest_batch``) and honour hours by hand (``record_honour``);
    - ``review``: approving, rejecting and correcting records;
    - ``objections``: a volunteer's objection to its own record, and the
      office resolving it (through ``review``'s corrections);
    - ``evaluations``: the organiser's rating of an approved record;
    - ``complaints``: complaints about a volunteer, its reply, the outcome;
    - ``seals``: the issuer's seal image certificates carry;
    - ``certificates``: issuing (by an office, or on a volunteer's own
      request), reading (and its PDF), revoking and verifying certificates;
    - ``bank``: the time bank's deposits (``reconcile``) and withdrawals;
    - ``policy``: the replica of registration's setting overrides
      (``replicate``).

    ``ctx`` is the one context the areas share; ``repository``,
    ``bank_repository`` and ``uow`` are how a unit of work and its
    repositories are made (a test's in-memory ones instead of SQL);
    ``lines`` reads a certificate's training and awards from activity and
    commendation.
    """

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
        lines: LineSource | None = None,
    ):
        self.ctx = Context(
            db=db,
            registration=registration,
            clock=clock,
            cipher=cipher,
            public_url=public_url or pdf.DEFAULT_PUBLIC_URL,
            uow=uow if uow is not None else UnitOfWork(db, OUTBOX, clock),
            repo=repository,
            bank=bank_repository,
            lines=lines,
        )
        self.records = RecordCases(self.ctx)
        self.review = ReviewCases(self.ctx)
        self.objections = ObjectionCases(self.ctx, self.review)
        self.evaluations = EvaluationCases(self.ctx)
        self.complaints = ComplaintCases(self.ctx)
        self.certificates = CertificateCases(self.ctx)
        self.seals = self.certificates.seals
        self.bank = TimeBankCases(self.ctx)
        self.policy = PolicyCases(self.ctx)
        self.merges = MergeCases(self.ctx)
