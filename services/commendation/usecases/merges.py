"""Duplicate registrations merged (issue 14): commendation follows
``registration.volunteer.merged`` and ``.unmerged``.

Merged: the survivor's rating takes over the merged record's approved hours
and its hours per year, and is re-rated by its home's rules (as a transfer
re-rates, see moves.py): a tier the combined hours reach opens a request;
approved stars are not lowered. Hours re-points the records at the same
event, so the next total hours announces for the survivor already includes
them. What was added is kept (``commendation_merges``), so ``.unmerged``
takes exactly that back and re-rates, lowering stars above the tier as a
correction would. The merged record's own rating is left as it was (its
registration is marked merged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.commendation.models import StarRating, VolunteerMerge
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.commendation.usecases.ratings import RatingCases
from services.common import times
from services.common.outbox import Envelope
from services.common.tenancy import Scope
from services.common.unit_of_work import Work

MERGED = "a duplicate registration was merged into this one"
UNMERGED = "a merge of a duplicate registration was reverted"
LEVELS = (12, 9, 6, 4, 2)


@dataclass(frozen=True)
class Merge:
    """What a ``registration.volunteer.merged`` (or ``.unmerged``) says."""

    merge_id: str
    survivor_id: str
    survivor_number: str
    survivor_code: str
    merged_id: str
    merged_code: str
    occurred_at: datetime

    @classmethod
    def from_event(cls, env: Envelope) -> Merge:
        d = env.data
        return cls(
            str(d["merge_id"]),
            str(d["survivor_id"]),
            str(d["survivor_number"]),
            str(d["survivor_division_code"]),
            str(d["merged_id"]),
            str(d["merged_division_code"]),
            times.parse(env.occurred_at),
        )


def common_scope(a: str, b: str) -> str:
    """The deepest division holding both codes (the merging office's scope
    holds it: it held both records)."""
    for n in LEVELS:
        if len(a) >= n and len(b) >= n and a[:n] == b[:n]:
            return a[:n]
    return ""


class MergeCases:
    """Carry a merged record's hours over to the survivor's rating, and back."""

    def __init__(self, ctx: Context, ratings: RatingCases):
        self.ctx, self.ratings = ctx, ratings

    def follow(self, consumer: str, event_id: str, m: Merge, undo: bool) -> bool:
        """Apply one merge (``undo``: its revert); False if done before."""
        scope = common_scope(m.survivor_code, m.merged_code)
        with self.ctx.uow(Scope(scope)) as work:
            repo = self.ctx.repo(work)
            if not repo.claim(consumer, event_id):
                return False
            row = repo.s.get(VolunteerMerge, m.merge_id)
            if undo:
                if row is not None and row.reverted_at is None:
                    self._take_back(work, repo, row, m)
            elif row is None:
                self._take_over(work, repo, m)
            return True

    def _take_over(self, work: Work, repo: Repository, m: Merge) -> None:
        donor = repo.rating(m.merged_id)
        added = donor.total_hours if donor is not None else Decimal("0")
        years = [
            [str(y.year), str(y.hours)] for y in repo.service_years_of(m.merged_id)
        ]
        rating = repo.rating(m.survivor_id, lock=True)
        if rating is None:
            rating = StarRating(
                volunteer_id=m.survivor_id, volunteer_number=m.survivor_number,
                division_code=m.survivor_code, total_hours=Decimal("0"),
                total_as_of=m.occurred_at, stars=0, eligible_stars=0,
                continuous_years=0, updated_at=self.ctx.clock(), held_reason="",
            )  # fmt: skip
            repo.add(rating)
        rating.total_hours += added
        for year, hours in years:
            repo.add_year_hours(m.survivor_id, int(year), rating.division_code, hours)
        repo.add(
            VolunteerMerge(
                merge_id=m.merge_id, division_code=rating.division_code,
                survivor_id=m.survivor_id, merged_id=m.merged_id,
                hours_added=added, years=years, merged_at=self.ctx.clock(),
            )
        )  # fmt: skip
        repo.flush()
        self.ratings.reconcile(work, repo, rating, "system", lower=False, why=MERGED)

    def _take_back(
        self, work: Work, repo: Repository, row: VolunteerMerge, m: Merge
    ) -> None:
        rating = repo.rating(row.survivor_id, lock=True)
        row.reverted_at = self.ctx.clock()
        if rating is None:
            return
        rating.total_hours = max(Decimal("0"), rating.total_hours - row.hours_added)
        for year, hours in row.years:
            repo.add_year_hours(
                row.survivor_id, int(year), rating.division_code, -Decimal(hours)
            )
        repo.flush()
        self.ratings.reconcile(work, repo, rating, "system", lower=True, why=UNMERGED)
