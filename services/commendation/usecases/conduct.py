"""A volunteer's conduct record from hours' events (issue 14, part 2): the
current evaluation of each record and each complaint's status, kept under
the volunteer's home (where the stars are), and what a poor evaluation
blocks (:mod:`services.commendation.conduct` holds the rules).

Each event is one transaction: it starts in the system context, finds the
volunteer's home and narrows to it, claims the event (a redelivery changes
nothing), locks the rating (first, as every star path does), then the fact.
An evaluation brings the star rule to the rating at once: a poor one whose
policy blocks stars holds the request, a re-evaluation lifts it.
"""

from __future__ import annotations

from services.commendation import conduct
from services.commendation.conduct import ComplaintNews, EvaluationNews
from services.commendation.models import ComplaintFact, EvaluationFact
from services.commendation.usecases.base import Context, require_replica
from services.commendation.usecases.ratings import RatingCases
from services.common.tenancy import Scope


class ConductCases:
    """Follow ``hours.record.evaluated`` and ``hours.complaint.*``."""

    def __init__(self, ctx: Context, ratings: RatingCases):
        self.ctx, self.ratings = ctx, ratings

    def follow_evaluation(
        self, consumer: str, event_id: str, e: EvaluationNews
    ) -> bool:
        """Keep ``e`` as its record's current evaluation (unless a later one
        of the record was kept first), then reconcile the stars; False if
        the event was applied before."""
        with self.ctx.uow(None) as work:
            repo = self.ctx.repo(work)
            home = Scope(repo.enter_home(e.volunteer_id, e.division_code)).code
            repo.scope = Scope(home)
            require_replica(repo, e.volunteer_id)
            if not repo.claim(consumer, event_id):
                return False
            rating = repo.rating(e.volunteer_id, lock=True)
            fact, new = repo.fact_locked(EvaluationFact, {
                "record_id": e.record_id, "volunteer_id": e.volunteer_id,
                "division_code": home, "record_division_code": e.division_code,
                "score": e.score, "poor": e.poor, "poor_blocks": list(e.poor_blocks),
                "replaced": e.replaced, "evaluated_at": e.occurred_at,
            })  # fmt: skip
            if not new and conduct.replaces(
                fact.replaced, fact.evaluated_at, e.replaced, e.occurred_at
            ):
                fact.score, fact.poor = e.score, e.poor
                fact.poor_blocks, fact.replaced = list(e.poor_blocks), e.replaced
                fact.evaluated_at = e.occurred_at
                fact.record_division_code = e.division_code
            repo.flush()
            if rating is not None and rating.division_code == home:
                self.ratings.reconcile(work, repo, rating, actor="system", lower=False)
                repo.flush()
            return True

    def follow_complaint(self, consumer: str, event_id: str, c: ComplaintNews) -> bool:
        """Keep the complaint's status, only ever forward (a late ``filed``
        after ``decided`` changes nothing); False if applied before."""
        with self.ctx.uow(None) as work:
            repo = self.ctx.repo(work)
            home = Scope(repo.enter_home(c.volunteer_id, c.division_code)).code
            repo.scope = Scope(home)
            require_replica(repo, c.volunteer_id)
            if not repo.claim(consumer, event_id):
                return False
            fact, new = repo.fact_locked(ComplaintFact, {
                "complaint_id": c.complaint_id, "volunteer_id": c.volunteer_id,
                "division_code": home, "filed_at_code": c.division_code,
                "status": c.status, "changed_at": c.occurred_at,
            })  # fmt: skip
            if not new and conduct.complaint_moves(fact.status, c.status):
                fact.status, fact.changed_at = c.status, c.occurred_at
            repo.flush()
            return True
