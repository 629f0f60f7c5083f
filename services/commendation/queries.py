"""Commendation's reads: every one runs in the caller's scope (row security
underneath), pages with the kernel's tokens and carries no personal data
beyond the volunteer number and a masked name."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.commendation import domain
from services.commendation.models import (
    ROLLUP,
    ROLLUP_TABLE,
    AwardRound,
    BarEntry,
    Nomination,
    Objection,
    ReviewStep,
    StarChange,
    StarRating,
    StarRequest,
)
from services.commendation.usecases.base import Context
from services.commendation.usecases.rounds import visible_round
from services.common import checks
from services.common.auth import Principal
from services.common.errors import NotFound
from services.common.federation_read import Links, summarize_federated
from services.common.paging import Page, page_bounds
from services.common.roles import READERS, own_volunteer
from services.common.rollup_query import RollupResult, summarize
from services.common.tenancy import Level, Scope, validate_code


@dataclass(frozen=True)
class MyStars:
    """A volunteer's own stars, progress and honours (GetMyStars)."""

    stars: int
    hours: Decimal
    progress: domain.Progress
    pending: StarRequest | None
    awards: list[tuple[Nomination, AwardRound]]


class CommendationQueries:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def my_stars(self, p: Principal) -> MyStars:
        """The caller's own stars, the way to the next star and honours: the
        volunteer the token names (:func:`own_volunteer`), never another.

        Read in the province of the caller's home: the rating, its pending
        request and the star settings lie at the home; an award's nomination
        lies at the nominating unit, inside the round's subtree, and a round
        takes nominees of its own subtree only, so an ancestor of the home.
        Every row read is the volunteer's own (by the token's id). A
        volunteer no hours event has reached yet has no rating: no stars, no
        hours, the first star ahead under the home's settings.

        Example::

            got = queries.my_stars(principal)  # principal.volunteer_id's
        """
        vid = own_volunteer(p)
        with self.ctx.uow(Scope(p.scope.code[:2])) as work:
            repo = self.ctx.repo(work)
            rating = repo.rating(vid)
            home = rating.division_code if rating else repo.home_of(vid)
            settings = repo.settings(home or p.scope_code)
            pending = repo.pending(vid, lock=False)
            awards = repo.awards_of(vid)
        stars = rating.stars if rating else 0
        hours = rating.total_hours if rating else Decimal(0)
        way = domain.progress(stars, hours, settings["stars.thresholds_hours"])
        return MyStars(stars, hours, way, pending, awards)

    def _node(self, p: Principal, code: str) -> Scope:
        p.require_any(*READERS)
        return Scope(
            p.scope.require(validate_code(code or p.scope_code), "division_code")
        )

    def star_requests(
        self, p: Principal, code: str, status: str | None, awaiting_me: bool,
        paging: tuple[int, str],
    ) -> Page:  # fmt: skip
        node = self._node(p, code)
        q = select(StarRequest).where(StarRequest.division_code.like(node.like_pattern))
        if status:
            q = q.where(StarRequest.status == status)
        if awaiting_me:
            q = q.where(
                StarRequest.approving_code == p.scope_code,
                StarRequest.status == "pending",
            )
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).page(
                q, [StarRequest.created_at, StarRequest.id], paging
            )

    def volunteer_stars(self, p: Principal, volunteer_id: str) -> dict[str, Any]:
        p.require_any(*READERS)
        volunteer_id = checks.ident(volunteer_id, "volunteer_id")
        with self.ctx.uow(p) as work:
            s = work.session
            rating = s.execute(
                select(StarRating).where(
                    StarRating.volunteer_id == volunteer_id,
                    StarRating.division_code.like(p.scope.like_pattern),
                )
            ).scalar_one_or_none()
            if rating is None:
                raise NotFound.entity("star rating", "星级记录", volunteer_id)
            history = list(
                s.execute(
                    select(StarChange)
                    .where(StarChange.volunteer_id == volunteer_id)
                    .order_by(StarChange.id)
                ).scalars()
            )
            pending = s.execute(
                select(StarRequest).where(
                    StarRequest.volunteer_id == volunteer_id,
                    StarRequest.status == "pending",
                )
            ).scalar_one_or_none()
            medals = self.ctx.repo(work).settings(rating.division_code)[
                "honours.medal_hours"
            ]
        medal = domain.medal(rating.stars, rating.total_hours, medals)
        return {
            "rating": rating,
            "history": history,
            "pending": pending,
            "medal": medal,
        }

    def honours(
        self, p: Principal, code: str, kind: str, min_years: int,
        paging: tuple[int, str],
    ) -> tuple[Page, dict[str, str]]:  # fmt: skip
        """Medal holders (five stars plus the hours) or long service, best first."""
        node = self._node(p, code)
        checks.whole(min_years, "min_years", 0, 60)
        with self.ctx.uow(p) as work:
            settings = self.ctx.repo(work).settings(node.code)
            q = select(StarRating).where(
                StarRating.division_code.like(node.like_pattern)
            )
            if kind == "medal":
                bronze = settings["honours.medal_hours"]["bronze"]
                q = q.where(StarRating.stars == 5, StarRating.total_hours >= bronze)
                order = [StarRating.total_hours.desc(), StarRating.volunteer_id]
            else:
                years = min_years or settings["honours.long_service_years"]
                years = checks.whole(years, "min_years", 1, 60)
                q = q.where(StarRating.continuous_years >= years)
                order = [StarRating.continuous_years.desc(), StarRating.volunteer_id]
            page = self.ctx.repo(work).page(q, order, paging)
            # One settings read per division on the page, not per volunteer.
            rules: dict[str, dict[str, float]] = {}
            for r in page.items:
                if r.division_code not in rules:
                    rules[r.division_code] = self.ctx.repo(work).settings(
                        r.division_code
                    )["honours.medal_hours"]
            medals = {
                r.volunteer_id: domain.medal(
                    r.stars, r.total_hours, rules[r.division_code]
                )
                for r in page.items
            }
        return page, medals

    def bars(
        self, p: Principal, code: str, active_only: bool, paging: tuple[int, str]
    ) -> Page:
        node = self._node(p, code)
        q = select(BarEntry).where(BarEntry.division_code.like(node.like_pattern))
        if active_only:
            q = q.where(BarEntry.ends_on >= self.ctx.today())
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).page(
                q, [BarEntry.created_at.desc(), BarEntry.id], paging
            )

    def rounds(self, p: Principal, code: str, paging: tuple[int, str]) -> Page:
        """Rounds opened in the subtree, and those opened above it. A round
        is a public announcement: residents (the volunteer role) may list
        the rounds of their area, to find the public notices."""
        p.require_any(*READERS, "volunteer")
        node = Scope(
            p.scope.require(validate_code(code or p.scope_code), "division_code")
        )
        above = [node.code[:w] for w in (2, 4, 6, 9) if w < len(node.code)]
        q = select(AwardRound).where(
            AwardRound.division_code.like(node.like_pattern)
            | AwardRound.division_code.in_(above)
        )
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).page(
                q, [AwardRound.created_at.desc(), AwardRound.id], paging
            )

    def round(self, p: Principal, ident: str) -> tuple[AwardRound, dict[str, int]]:
        p.require_any(*READERS, "volunteer")
        ident = checks.ident(ident, "id")  # GetRound's field, not round_id
        with self.ctx.uow(p) as work:
            s = work.session
            r = visible_round(self.ctx.repo(work), p, ident)
            rows = s.execute(
                select(Nomination.status, func.count())
                .where(Nomination.round_id == r.id)
                .group_by(Nomination.status)
            ).tuples()
            counts: dict[str, int] = {status: n for status, n in rows}
        return r, counts

    def nominations(
        self, p: Principal, round_id: str, code: str, status: str | None,
        awaiting_me: bool, paging: tuple[int, str],
    ) -> Page:  # fmt: skip
        node = self._node(p, code)
        q = select(Nomination).where(Nomination.division_code.like(node.like_pattern))
        if round_id:
            q = q.where(Nomination.round_id == checks.ident(round_id, "round_id"))
        if status:
            q = q.where(Nomination.status == status)
        if awaiting_me:
            q = q.where(Nomination.current_stage == p.scope_code)
        with self.ctx.uow(p) as work:
            s = work.session
            page = self.ctx.repo(work).page(
                q, [Nomination.created_at, Nomination.id], paging
            )
            page.extra["steps"] = self._steps(s, [n.id for n in page.items])
        return page

    def nomination(self, p: Principal, ident: str) -> tuple[Nomination, list, list]:
        p.require_any(*READERS)
        ident = checks.ident(ident, "id")
        with self.ctx.uow(p) as work:
            s = work.session
            n = s.execute(
                select(Nomination).where(
                    Nomination.id == ident,
                    Nomination.division_code.like(p.scope.like_pattern),
                )
            ).scalar_one_or_none()
            if n is None:
                raise NotFound.entity("nomination", "推荐", ident)
            steps = self._steps(s, [n.id])[n.id]
            objections = list(
                s.execute(
                    select(Objection)
                    .where(Objection.nomination_id == n.id)
                    .order_by(Objection.filed_at)
                ).scalars()
            )
        return n, steps, objections

    def notice(
        self, p: Principal, ident: str, paging: tuple[int, str]
    ) -> tuple[AwardRound, Page]:
        """A round's nominations on public notice (公示) while it runs.

        The notice is public within the round's area: the caller's scope lies
        in the round's subtree or contains it (else NOT_FOUND, as for any
        round out of sight). The nominations are read in the round's scope,
        since a county user sees a provincial round's notice from all over
        the province; only what a notice shows leaves here (see
        :func:`convert.notice_entry`).
        """
        p.require_any(*READERS, "volunteer")
        ident = checks.ident(ident, "round_id")
        page_bounds(*paging)  # a bad token is refused whether or not it runs
        with self.ctx.uow(p) as work:
            r = visible_round(self.ctx.repo(work), p, ident)
        running = (
            r.status == "notice"
            and r.notice_ends_on is not None
            and self.ctx.today() <= r.notice_ends_on
        )
        if not running:
            return r, Page([], "", 0)
        q = select(Nomination).where(
            Nomination.round_id == r.id, Nomination.status == "in_notice"
        )
        with self.ctx.uow(Scope(r.division_code)) as work:
            page = self.ctx.repo(work).page(
                q, [Nomination.created_at, Nomination.id], paging
            )
        return r, page

    @staticmethod
    def _steps(s: Session, ids: list[str]) -> dict[str, list[ReviewStep]]:
        out: dict[str, list[ReviewStep]] = {i: [] for i in ids}
        if ids:
            for step in s.execute(
                select(ReviewStep)
                .where(ReviewStep.nomination_id.in_(ids))
                .order_by(ReviewStep.id)
            ).scalars():
                out[step.nomination_id].append(step)
        return out

    def summarize(
        self, p: Principal, code: str, group_by: Level | None, start: str, end: str,
        by_month: bool,
    ) -> RollupResult:  # fmt: skip
        """Rows for the children (or a deeper level) of a node, and its total."""
        query = (code, group_by, start, end, by_month)
        return summarize(self.ctx.db, p, ROLLUP, ROLLUP_TABLE, query, READERS)

    def summarize_federated(
        self,
        p: Principal,
        node: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> tuple[RollupResult, Links]:
        """What downstream releases forwarded of ``commendation_rollup`` (issue 15),
        beside this release's own :meth:`summarize`."""
        query = (node, group_by, start, end, by_month)
        return summarize_federated(self.ctx.db, p, ROLLUP, query, READERS)
