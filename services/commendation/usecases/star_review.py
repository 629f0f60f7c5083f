"""Approving and rejecting star requests, and bars for falsified hours.

A request is decided by the reviewers of exactly the division it was routed
to: a county reviewer cannot grant a five-star rating, and a provincial one
does not take over a county's queue. Approval re-checks the hours, which
may have been corrected since the request was opened.
"""

from __future__ import annotations

import uuid
from datetime import date

from services.commendation import domain
from services.commendation.models import BarEntry, StarRating, StarRequest
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.commendation.usecases.ratings import RatingCases
from services.common import checks
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.roles import ADMINS, REVIEWERS


class StarReviewCases:
    """The reviewers' decisions on star requests (the stars move through
    ``ratings``), and bars."""

    def __init__(self, ctx: Context, ratings: RatingCases):
        self.ctx, self.ratings = ctx, ratings

    def approve_star(self, p: Principal, ident: str) -> tuple[StarRequest, StarRating]:
        p.require_any(*REVIEWERS)
        ident = checks.ident(ident, "id")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            # The rating first, then the request: the worker locks them in
            # that order too, so an approval and an hours event never deadlock.
            found = self._request(repo, p, ident, lock=False)
            rating = repo.rating(found.volunteer_id, lock=True)
            assert rating is not None  # a request is opened with its rating
            request = self._request(repo, p, ident, lock=True)
            eligible = domain.tier(
                rating.total_hours,
                repo.settings(rating.division_code)["stars.thresholds_hours"],
            )
            if eligible < request.stars:
                raise FailedPrecondition(
                    f"the approved hours ({rating.total_hours}) no longer reach "
                    f"{request.stars} stars",
                    f"已审核时长（{rating.total_hours}）已不足 {request.stars} 星",
                    field="id",
                    rule="stars.hours_reached",
                )
            request.status, request.reason = "approved", ""
            request.decided_by, request.decided_at = p.username, self.ctx.clock()
            repo.flush()
            self.ratings.change(
                work, repo, rating, request.stars, "approved", p.username, ""
            )
            # Hours that grew meanwhile open the next tier at once.
            self.ratings.reconcile(work, repo, rating, actor=p.username)
            return request, rating

    def reject_star(self, p: Principal, ident: str, reason: str) -> StarRequest:
        p.require_any(*REVIEWERS)
        ident = checks.ident(ident, "id")
        reason = checks.text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            found = self._request(repo, p, ident, lock=False)
            repo.rating(found.volunteer_id, lock=True)
            request = self._request(repo, p, ident)
            request.status, request.reason = "rejected", reason
            request.decided_by, request.decided_at = p.username, self.ctx.clock()
            return request

    @staticmethod
    def _request(
        repo: Repository, p: Principal, ident: str, lock: bool = True
    ) -> StarRequest:
        request = repo.star_request(ident, lock)
        if request is None:
            raise NotFound.entity("star request", "星级申请", ident)
        if request.approving_code != p.scope_code:
            raise PermissionDenied(
                f"{request.stars}-star ratings of this volunteer are approved by "
                f"{request.approving_code} ({request.approval_level} level)",
                f"该志愿者的 {request.stars} 星评定由 {request.approving_code}"
                f"（{request.approval_level} 级）审批",
                field="id",
                rule="stars.approval_level",
            )
        if request.status != "pending":
            raise FailedPrecondition.transition(
                "star request", "星级申请", request.status, "decided"
            )
        return request

    # -- bars ------------------------------------------------------------------
    def bar(
        self, p: Principal, volunteer_id: str, years: int, reason: str,
        organisation_id: str, organisation_name: str,
    ) -> BarEntry:  # fmt: skip
        """Bar a volunteer for falsified hours (1-3 years), naming the
        organisation that recorded them."""
        p.require_any(*ADMINS)
        volunteer_id = checks.ident(volunteer_id, "volunteer_id")
        years = checks.whole(years, "years", 1, 3)
        reason = checks.text(reason, "reason", 500)
        organisation_id = checks.ident(organisation_id, "organisation_id", False)
        organisation_name = checks.text(organisation_name, "organisation_name", 200)
        # Fetched in the caller's scope; a volunteer outside it is NOT_FOUND,
        # and so is an organisation (a neighbour's, an ancestor's, unknown).
        nominee = self.ctx.require_facts().nominee(volunteer_id, "volunteer_id")
        if organisation_id:
            self.ctx.require_facts().organisation(organisation_id, "organisation_id")
        start = self.ctx.today()
        with self.ctx.uow(p) as work:
            entry = BarEntry(
                id=str(uuid.uuid4()), volunteer_id=volunteer_id,
                volunteer_number=nominee.volunteer_number,
                division_code=p.scope.require(nominee.home_division_code,
                                              "volunteer_id"),
                years=years, starts_on=start, ends_on=_years_after(start, years),
                reason=reason, organisation_id=organisation_id,
                organisation_name=organisation_name, created_by=p.username,
                created_at=self.ctx.clock(),
            )  # fmt: skip
            self.ctx.repo(work).add(entry)
            work.record("commendation.volunteer.barred", entry.division_code, {
                "bar_id": entry.id, "volunteer_id": volunteer_id,
                "volunteer_number": entry.volunteer_number, "years": years,
                "ends_on": entry.ends_on.isoformat(),
                "organisation_id": organisation_id,
                "organisation_name": organisation_name,
            })  # fmt: skip
            return entry


def _years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)
