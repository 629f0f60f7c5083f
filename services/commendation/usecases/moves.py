"""A volunteer's home moved (``registration.volunteer.transferred``, issue
14): their stars belong to the new home from now on.

In one transaction: under the old home, the pending star request (if any)
is withdrawn, the stars held leave the old home's rollup and the
volunteer's rows (the replica, the rating, the years served, the current
evaluations and complaints) are taken out of the old subtree; under the
new home they are written again, the stars held enter the new home's
rollup (and a ``transferred`` star change records the move), and the
rating is re-rated by the new home's rules: a tier the hours reach above
the approved stars opens a request at the new home's approval level.
Approved stars are not lowered by the move (as a change of rules never
lowers them). Star changes, requests and refusals decided
before the move stay under the old home, as its history. Past hours are not
the replica's: hours keeps them where the service was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.commendation.models import (
    ServiceYear,
    StarChange,
    StarRating,
    Volunteer,
)
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.commendation.usecases.ratings import RatingCases
from services.common.tenancy import Scope
from services.common.unit_of_work import Work

MOVED = "the volunteer moved to another home"


@dataclass(frozen=True)
class Move:
    """What a ``registration.volunteer.transferred`` event says."""

    volunteer_id: str
    volunteer_number: str
    from_code: str
    to_code: str
    status: str
    occurred_at: datetime


class MoveCases:
    """Follow a volunteer's transfer to a new home."""

    def __init__(self, ctx: Context, ratings: RatingCases):
        self.ctx, self.ratings = ctx, ratings

    def follow_transfer(self, consumer: str, event_id: str, move: Move) -> bool:
        """Apply one transfer; False if it was applied before."""
        with self.ctx.uow(Scope(move.from_code)) as work:
            repo = self.ctx.repo(work)
            # Where the replica has the volunteer now (a cross-tenant look-up):
            # the event's old home, unless the replica never knew them.
            home = repo.enter_home(move.volunteer_id, move.from_code)
            repo.scope = Scope(home)
            if not repo.claim(consumer, event_id):
                return False
            if home == move.to_code:
                return True  # nothing left to move
            rating = repo.rating(move.volunteer_id, lock=True)
            kept = self._leave(work, repo, move, rating)
            repo.enter_scope(move.to_code)
            self._arrive(work, repo, move, kept)
            return True

    def _leave(
        self,
        work: Work,
        repo: Repository,
        move: Move,
        rating: StarRating | None,
    ) -> dict[str, Any]:
        """Take the volunteer's rows out of the old home; what to write again."""
        pending = repo.pending(move.volunteer_id)
        if pending is not None:
            pending.status, pending.reason = "withdrawn", MOVED
            pending.decided_by, pending.decided_at = "system", self.ctx.clock()
        years = [(y.year, y.hours) for y in repo.service_years_of(move.volunteer_id)]
        conduct = repo.conduct_rows(move.volunteer_id)
        kept: dict[str, Any] = {
            "years": years,
            "rating": None,
            "conduct": [(type(row), _columns(row)) for row in conduct],
        }
        if rating is not None:
            kept["rating"] = _columns(rating)
            if rating.stars:  # counted where the rating was (change())
                held = {f"stars_{rating.stars}": -1.0}
                self.ctx.bump(work, rating.division_code, **held)
            repo.delete(rating)
        for row in [*repo.service_years_of(move.volunteer_id), *conduct]:
            repo.delete(row)
        replica = repo.replica_row(move.volunteer_id)
        if replica is not None:
            repo.delete(replica)
        repo.flush()
        return kept

    def _arrive(
        self, work: Work, repo: Repository, move: Move, kept: dict[str, Any]
    ) -> None:
        to, vid = move.to_code, move.volunteer_id
        repo.add(
            Volunteer(
                id=vid,
                volunteer_number=move.volunteer_number,
                division_code=to,
                status=move.status,
                changed_at=move.occurred_at,
            )
        )
        for year, hours in kept["years"]:
            repo.add(
                ServiceYear(volunteer_id=vid, year=year, division_code=to, hours=hours)
            )
        # The evaluations and complaints follow the volunteer (what they
        # block, and the evidence, are read at the home).
        for model, values in kept["conduct"]:
            repo.add(model(**{**values, "division_code": to}))
        if kept["rating"] is None:
            repo.flush()
            return
        rating = StarRating(**{**kept["rating"], "division_code": to})
        repo.add(rating)
        repo.flush()
        if rating.stars:
            self.ctx.bump(work, to, **{f"stars_{rating.stars}": 1.0})
            repo.add(
                StarChange(
                    volunteer_id=vid,
                    division_code=to,
                    from_stars=rating.stars,
                    to_stars=rating.stars,
                    kind="transferred",
                    reason=f"moved from {move.from_code}",
                    actor="system",
                    changed_at=self.ctx.clock(),
                )
            )
        rows = repo.settings_rows(to)
        self.ratings.reconcile(
            work,
            repo,
            rating,
            actor="system",
            settings=self.ctx.settings_cache.get(rows, to),
            lower=False,
            why=MOVED,
        )
        repo.flush()


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
