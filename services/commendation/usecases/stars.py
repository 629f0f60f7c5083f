"""Star ratings (星级评定) from the hours events.

The worker follows each volunteer's approved hours (hours announces the
platform total after every approval and correction) and keeps the tier they
reach (:mod:`.ratings` holds the rule). A change of the star rules re-rates
the subtree it applies to (:mod:`.rerate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from services.commendation import domain
from services.commendation.models import StarRating, Volunteer
from services.commendation.repository import Repository, batches_set_wise
from services.commendation.usecases.base import Context, require_replica
from services.commendation.usecases.ratings import (
    EPOCH,
    HoursNews,
    RatingCases,
    apply_news,
)
from services.common.tenancy import Scope
from services.common.unit_of_work import Work

IMPORTED_SLICE = 500  # parts of an imported chunk per transaction


class StarCases:
    """The replica of volunteers and the hours events, each brought to the
    star rule through ``ratings``."""

    def __init__(self, ctx: Context, ratings: RatingCases):
        self.ctx, self.ratings = ctx, ratings

    # -- replicas ------------------------------------------------------------
    def replicate_volunteer(self, consumer: str, event_id: str, v: Volunteer) -> bool:
        """Keep the volunteer's number, home division and status."""
        with self.ctx.uow(Scope(v.division_code)) as work:
            repo = self.ctx.repo(work)
            if not repo.claim(consumer, event_id):
                return False
            repo.upsert_volunteers([v])
            return True

    # -- hours ---------------------------------------------------------------
    def follow_hours(self, consumer: str, event_id: str, news: HoursNews) -> bool:
        """Apply one hours event: totals, the year's hours, then the tier.

        One transaction: it starts in the system context, finds the
        volunteer's home and narrows to it, then claims the event. Row locks
        are taken rating first, then the pending request (as the reviewers'
        approvals do), so two events or an event and an approval never
        deadlock.
        """
        with self.ctx.uow(None) as work:
            return self._follow(work, self.ctx.repo(work), consumer, event_id, news)

    def follow_hours_batch(
        self, consumer: str, items: Sequence[tuple[str, HoursNews]]
    ) -> list[bool]:
        """:meth:`follow_hours` for ``(event_id, news)`` pairs in one
        transaction: all applied or none; each answer as one at a time.
        Volunteers are taken in id order (each one's events in the order
        given), so two batches lock ratings in one order and never deadlock.
        On PostgreSQL the batch is applied set-wise (:mod:`.star_batch`): a
        fixed number of statements per batch, the same outcome.
        """
        if batches_set_wise(self.ctx.db):
            from services.commendation.star_batch import follow_batch

            with self.ctx.uow(None) as work:
                return follow_batch(self.ratings, work.session, consumer, items)
        order = sorted(range(len(items)), key=lambda i: items[i][1].volunteer_id)
        out = [False] * len(items)
        with self.ctx.uow(None) as work:
            repo = self.ctx.repo(work)
            for i in order:
                event_id, news = items[i]
                out[i] = self._follow(work, repo, consumer, event_id, news)
        return out

    def follow_imported(
        self, consumer: str, items: Sequence[tuple[str, HoursNews]],
        slice_size: int = IMPORTED_SLICE,
    ) -> int:  # fmt: skip
        """An imported chunk's ``(claim id, news)`` parts (one per volunteer
        and service year): :meth:`follow_hours_batch` a slice per
        transaction (a transaction per part ran ~15 volunteers/s). Each part
        is claimed on its own, so a redelivery skips the slices already
        applied. Returns how many parts were applied now."""
        applied = 0
        for start in range(0, len(items), slice_size):
            part = items[start : start + slice_size]
            applied += sum(self.follow_hours_batch(consumer, part))
        return applied

    def _follow(
        self, work: Work, repo: Repository, consumer: str, event_id: str,
        news: HoursNews,
    ) -> bool:  # fmt: skip
        # The volunteer's home (a cross-tenant lookup: the event says where
        # the service was, not where they live); a malformed replica row
        # fails the event, a missing one holds it until it arrives.
        home = Scope(repo.enter_home(news.volunteer_id, news.division_code)).code
        require_replica(repo, news.volunteer_id)
        if not repo.claim(consumer, event_id):
            return False
        rating, rows = self._rating(repo, news, home)
        # The rating's lock already serialises the events of one volunteer.
        repo.add_year_hours(news.volunteer_id, news.year, home, news.delta_hours)
        rating.continuous_years = domain.continuous_years(
            repo.years_served(news.volunteer_id)
        )
        # Approved stars fall only when the hours do (a correction), not
        # because the thresholds were raised since they were approved.
        lower = apply_news(rating, news)
        settings = None
        if rating.division_code == home:  # always, unless the home moved
            settings = self.ctx.settings_cache.get(rows, home)
        self.ratings.reconcile(
            work, repo, rating, actor="system", settings=settings, lower=lower
        )
        # Written while the scope is this volunteer's home: a batch moves
        # on to another home next.
        repo.flush()
        return True

    def _rating(
        self, repo: Repository, news: HoursNews, home: str
    ) -> tuple[StarRating, str | None]:
        """The locked rating, and the override rows of its settings (read in
        the same statement, for the settings cache)."""
        return repo.rating_locked_with_settings({
            "volunteer_id": news.volunteer_id,
            "volunteer_number": news.volunteer_number, "division_code": home,
            "total_hours": Decimal(0), "total_as_of": EPOCH, "stars": 0,
            "eligible_stars": 0, "continuous_years": 0, "updated_at": self.ctx.clock(),
        })  # fmt: skip
