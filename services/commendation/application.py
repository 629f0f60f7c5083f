"""Commendation's use cases: each runs in the kernel's unit of work (one
scoped transaction), checks the caller's roles and scope, writes through the
repository, bumps rollups and records events together. Nothing here knows
about gRPC or nameko. The areas live in ``usecases/``; this module composes
them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from services.commendation import domain
from services.commendation.clients import Facts
from services.commendation.models import OUTBOX
from services.commendation.usecases.base import (
    Context,
    RepositoryFactory,
    sql_repository,
)
from services.commendation.usecases.conduct import ConductCases
from services.commendation.usecases.merges import MergeCases
from services.commendation.usecases.moves import MoveCases
from services.commendation.usecases.notice import NoticeCases
from services.commendation.usecases.ratings import RatingCases
from services.commendation.usecases.rerate import RerateCases
from services.commendation.usecases.review import ReviewCases
from services.commendation.usecases.rounds import RoundCases
from services.commendation.usecases.star_review import StarReviewCases
from services.commendation.usecases.stars import StarCases
from services.common import outbox
from services.common.db import Database
from services.common.settings_replica import EffectiveCache
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork

__all__ = ["CommendationApp"]


class CommendationApp:
    """Every commendation use case, as the api role, the worker, the seed
    and the CLI call them, by area (one :class:`Context` shared by all):

    - ``ratings``: the star rule every star path applies (``reconcile``);
    - ``stars``: the volunteer replica and the hours events;
    - ``moves``: a volunteer's transfer to a new home (stars follow it);
    - ``conduct``: evaluations and complaints from hours (what they block);
    - ``rerating``: re-rating a subtree after a change of the star rules;
    - ``star_review``: approving and rejecting star requests, bars;
    - ``rounds``: award rounds and nominations;
    - ``review``: reviewing nominations level by level;
    - ``notice``: the public notice, objections and the final award.
    """

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
        self.ctx = ctx = Context(
            db=db,
            facts=facts,
            clock=clock,
            today=today,
            uow=uow if uow is not None else UnitOfWork(db, OUTBOX, clock),
            settings_cache=(
                settings_cache if settings_cache is not None else EffectiveCache()
            ),
            repo=repository,
        )
        self.ratings = RatingCases(ctx)
        self.stars = StarCases(ctx, self.ratings)
        self.rerating = RerateCases(ctx, self.ratings)
        self.moves = MoveCases(ctx, self.ratings)
        self.merges = MergeCases(ctx, self.ratings)
        self.conduct = ConductCases(ctx, self.ratings)
        self.star_review = StarReviewCases(ctx, self.ratings)
        self.rounds = RoundCases(ctx)
        self.review = ReviewCases(ctx, self.rounds)
        self.notice = NoticeCases(ctx, self.rounds)
