"""The rule every star path shares (hours events, re-ratings, approvals):
bring a volunteer's pending request and stars in line with their hours.

A tier above the approved stars opens one approval request at the tier's
level (default: 1-2 stars the county, 3-4 the city, 5 the province, each
tenant may change both thresholds and levels); a higher tier supersedes
it, a tier below withdraws it, and a correction below approved stars
lowers them, on the record. A tier a reviewer refused is not asked again.
A current poor evaluation whose policy blocks stars (:mod:`..conduct`)
holds the request: none opens (the rating says why), a pending one is
withdrawn; the reconcile after the evaluation is lifted opens it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.commendation import conduct, domain
from services.commendation.models import StarChange, StarRating, StarRequest
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.common.times import utc
from services.common.unit_of_work import Work

if TYPE_CHECKING:
    from services.commendation.star_batch import Book

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CORRECTED = "a correction lowered the hours"
RULES_CHANGED = "the star thresholds or levels changed"


@dataclass(frozen=True)
class HoursNews:
    """What an hours event says about a volunteer."""

    volunteer_id: str
    volunteer_number: str
    division_code: str  # where the service was
    year: int
    delta_hours: Decimal
    total_hours: Decimal
    occurred_at: datetime


@dataclass(frozen=True)
class Reconciled:
    """What :meth:`RatingCases.reconcile` did to one rating."""

    closed: str = ""  # "superseded" or "withdrawn" (the pending request)
    opened: int = 0  # the stars of a request it opened
    lowered: bool = False


def apply_news(rating: StarRating, news: HoursNews) -> bool:
    """The rating's total follows the event unless a later one was applied
    first; True when the total fell (a correction may lower stars)."""
    lower = False
    if utc(rating.total_as_of) <= news.occurred_at:
        lower = news.total_hours < rating.total_hours
        rating.total_hours = news.total_hours
        rating.total_as_of = news.occurred_at
    return lower


class RatingCases:
    """The star rule itself: the area every star path (hours events,
    re-ratings, approvals) is handed."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def reconcile(
        self,
        work: Work,
        repo: Repository,
        rating: StarRating,
        actor: str,
        settings: dict[str, Any] | None = None,
        *,
        lower: bool = True,
        why: str = CORRECTED,
        book: Book | None = None,
    ) -> Reconciled:
        """Bring the pending request and the stars in line with the hours
        (``settings``: the effective settings at the rating's division, when
        the caller has them). The caller holds the rating's row lock; the
        pending request is locked here, after it. ``lower``: approved stars
        above the tier fall to it (a correction); ``why``: the reason a
        withdrawn request records; ``book``: the pending requests and
        refusals read for a whole batch, instead of a query each)."""
        if settings is None:
            settings = repo.settings(rating.division_code)
        eligible = domain.tier(rating.total_hours, settings["stars.thresholds_hours"])
        rating.eligible_stars, rating.updated_at = eligible, self.ctx.clock()
        closed, opened, lowered = "", 0, False
        vid = rating.volunteer_id
        pending = repo.pending(vid) if book is None else book.pending.get(vid)
        held = self.held(repo, vid, book)
        if pending is not None and held:
            # A poor evaluation blocks stars: nothing stays asked meanwhile;
            # the reconcile after it is lifted asks again.
            closed = "withdrawn"
            self._close(pending, closed, held)
            pending = None
            if book is not None:
                del book.pending[vid]
        if pending is not None and pending.stars != eligible:
            if eligible > rating.stars:
                closed = "superseded"
                self._close(pending, closed, f"the hours now reach {eligible}")
            else:
                closed = "withdrawn"
                self._close(pending, closed, why)
            pending = None
            if book is not None:
                del book.pending[vid]
        if eligible < rating.stars and lower:
            lowered = True
            self.change(work, repo, rating, eligible, "lowered_by_correction",
                        actor, "hours corrected below the threshold")  # fmt: skip
        rating.held_reason = ""
        if (
            eligible > rating.stars
            and pending is None
            and not (
                repo.rejected_at(vid, eligible)
                if book is None
                else book.rejected_at(vid, eligible)
            )
        ):
            if held:
                rating.held_reason = held
            else:
                opened = eligible
                levels = settings["stars.approval_level"]
                request = self._open(work, repo, rating, eligible, levels)
                if book is not None:
                    book.pending[vid] = request
        return Reconciled(closed, opened, lowered)

    @staticmethod
    def held(repo: Repository, volunteer_id: str, book: Book | None = None) -> str:
        """Why the volunteer's star requests are held ('' when they are
        not): a current poor evaluation whose policy blocks stars."""
        if book is not None:
            blocked = book.blocked.get(volunteer_id, frozenset())
        else:
            blocked = repo.conduct_blocks(volunteer_id)
        return conduct.HELD_STARS if "stars" in blocked else ""

    def _close(self, request: StarRequest, status: str, reason: str) -> None:
        request.status, request.reason = status, reason
        request.decided_by, request.decided_at = "system", self.ctx.clock()

    def _open(
        self, work: Work, repo: Repository, rating: StarRating, stars: int,
        levels: dict[str, str],
    ) -> StarRequest:  # fmt: skip
        level = levels[str(stars)]
        request = StarRequest(
            id=str(uuid.uuid4()), volunteer_id=rating.volunteer_id,
            volunteer_number=rating.volunteer_number,
            division_code=rating.division_code, stars=stars,
            approval_level=level,
            approving_code=domain.approving_code(rating.division_code, level),
            hours_at_request=rating.total_hours, status="pending", reason="",
            created_at=self.ctx.clock(), decided_by="", decided_at=None,
        )  # fmt: skip
        repo.add(request)
        work.record("commendation.star_request.opened", rating.division_code, {
            "request_id": request.id, "volunteer_id": rating.volunteer_id,
            "volunteer_number": rating.volunteer_number, "stars": stars,
            "approval_level": level, "approving_division_code": request.approving_code,
        })  # fmt: skip
        return request

    def change(
        self, work: Work, repo: Repository, rating: StarRating, to: int, kind: str,
        actor: str, reason: str,
    ) -> None:  # fmt: skip
        """Move ``rating``'s stars to ``to``, on the record (a star change, the
        rollup, an event); a reviewer's approval calls it too."""
        old = rating.stars
        repo.add(StarChange(
            volunteer_id=rating.volunteer_id, division_code=rating.division_code,
            from_stars=old, to_stars=to, kind=kind, reason=reason, actor=actor,
            changed_at=self.ctx.clock(),
        ))  # fmt: skip
        deltas: dict[str, float] = {}
        if old:
            deltas[f"stars_{old}"] = -1.0
        if to:
            deltas[f"stars_{to}"] = 1.0
        if kind == "approved":
            deltas["star_approvals"] = 1.0
        self.ctx.bump(work, rating.division_code, **deltas)
        rating.stars = to
        work.record(f"commendation.stars.{kind}", rating.division_code, {
            "volunteer_id": rating.volunteer_id,
            "volunteer_number": rating.volunteer_number,
            "from_stars": old, "to_stars": to,
        })  # fmt: skip
