"""Reviewing nominations level by level: each level approves (passing the
nomination up, into the round's quota at the round's own level), rejects
or returns it; a returned nomination is resubmitted by its unit. A reviewer
steps aside from their own unit's nominations and from those they declared
a conflict on."""

from __future__ import annotations

from services.commendation.models import AwardRound, Nomination, ReviewStep
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.commendation.usecases.rounds import RoundCases
from services.common import checks
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, PermissionDenied
from services.common.roles import MANAGERS, REVIEWERS, require_organisation

# A nomination whose review is still running (a returned one comes back).
_UNDER_REVIEW = frozenset({"in_review", "returned"})


class ReviewCases:
    """Reviewing nominations, with the round checks of ``rounds``."""

    def __init__(self, ctx: Context, rounds: RoundCases):
        self.ctx, self.rounds = ctx, rounds

    def review(
        self, p: Principal, ident: str, decision: str, comment: str
    ) -> Nomination:
        p.require_any(*REVIEWERS)
        ident = checks.ident(ident, "id")
        comment = checks.text(comment, "comment", 1000, required=decision != "approve")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            n = repo.nomination(ident, lock=True)
            self._may_review(repo, p, n)
            stage = n.stage_codes[n.stage_index]
            repo.add(self._step(n, stage, decision, comment, p))
            if decision == "approve":
                if n.stage_index + 1 == len(n.stage_codes):
                    n.status, n.current_stage = "approved", ""
                else:
                    n.stage_index += 1
                    n.current_stage = n.stage_codes[n.stage_index]
                    self.rounds.enter_stage(repo, self._round_of(repo, n), n)
            else:
                n.status = "rejected" if decision == "reject" else "returned"
                n.status_reason, n.at_round_level = comment, False
                n.current_stage = ""
            n.updated_at = self.ctx.clock()
            work.record("commendation.nomination.reviewed", n.division_code, {
                "nomination_id": n.id, "stage_code": stage, "decision": decision,
                "status": n.status,
            })  # fmt: skip
            return n

    @staticmethod
    def _round_of(repo: Repository, n: Nomination) -> AwardRound:
        r = repo.round(n.round_id)
        assert r is not None  # a nomination's round is never deleted
        return r

    @staticmethod
    def _may_review(repo: Repository, p: Principal, n: Nomination) -> None:
        if n.status != "in_review":
            raise FailedPrecondition.transition(
                "nomination", "推荐", n.status, "reviewed"
            )
        stage = n.current_stage
        if p.scope_code != stage:
            raise PermissionDenied(
                f"this nomination is being reviewed at {stage}",
                f"该推荐当前由 {stage} 审核",
                field="id", rule="review.stage",
            )  # fmt: skip
        conflicted = repo.conflict_declared(n.id, p.subject)
        own = p.subject == n.nominated_by_subject or (
            not n.unit_organisation_id and p.scope_code == n.division_code
        )
        if own or conflicted:
            raise PermissionDenied(
                "you must step aside: the nomination is your own unit's or you "
                "declared a conflict",
                "您须回避：该推荐来自本单位或您已声明利益关系",
                field="id", rule="review.recusal",
            )  # fmt: skip

    def _step(
        self, n: Nomination, stage: str, decision: str, comment: str, p: Principal
    ) -> ReviewStep:
        return ReviewStep(
            nomination_id=n.id, division_code=n.division_code, stage_code=stage,
            decision=decision, comment=comment, reviewer=p.username,
            reviewer_subject=p.subject, decided_at=self.ctx.clock(),
        )  # fmt: skip

    def resubmit(self, p: Principal, ident: str, statement: str) -> Nomination:
        """Send a returned nomination back into review from its first level.
        The nominee's conduct is checked again as on nominating: a poor
        evaluation that arrived since, under a policy that blocks
        nominations, refuses it (``nominee_volunteer_id``,
        ``evaluation.poor_blocks``) with nothing written."""
        p.require_any(*MANAGERS)
        ident = checks.ident(ident, "id")
        statement = checks.text(statement, "statement", 4000)
        with self.ctx.uow(p) as work:
            n = self._returned_by_unit(self.ctx.repo(work), p, ident)
            individual = n.category == "individual"
            nominee, home = n.nominee_volunteer_id, n.nominee_division_code
        if individual:
            self.rounds.check_nominee_conduct(nominee, home)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            # Checked again under the lock: it may have moved on meanwhile.
            n = self._returned_by_unit(repo, p, ident, lock=True)
            r = self._round_of(repo, n)
            self.rounds.before_deadline(r)
            n.statement, n.status, n.status_reason = statement, "in_review", ""
            n.stage_index, n.updated_at = 0, self.ctx.clock()
            n.current_stage = n.stage_codes[0]
            repo.add(self._step(n, n.stage_codes[0], "resubmit", statement[:200], p))
            self.rounds.enter_stage(repo, r, n)
            return n

    @staticmethod
    def _returned_by_unit(
        repo: Repository, p: Principal, ident: str, lock: bool = False
    ) -> Nomination:
        """The nomination, returned for changes, that the caller's unit may
        resubmit."""
        n = repo.nomination(ident, lock=lock)
        require_organisation(p, n.unit_organisation_id, "unit_organisation_id")
        if p.subject != n.nominated_by_subject and p.scope_code not in (
            n.division_code,
            n.nominated_by_scope,
        ):
            raise PermissionDenied(
                "only the nominating unit resubmits its nomination",
                "仅推荐单位可重新提交推荐",
                field="id", rule="nomination.unit",
            )  # fmt: skip
        if n.status != "returned":
            raise FailedPrecondition.transition(
                "nomination", "推荐", n.status, "in_review"
            )
        return n

    def declare_conflict(self, p: Principal, ident: str, reason: str) -> Nomination:
        p.require_any(*REVIEWERS)
        ident = checks.ident(ident, "nomination_id")
        reason = checks.text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            n = repo.nomination(ident, lock=True)
            if n.status not in _UNDER_REVIEW:
                # Once decided, recusal has nothing left to keep fair.
                raise FailedPrecondition.transition(
                    "nomination", "推荐", n.status, "conflict declared"
                )
            if not repo.conflict_declared(n.id, p.subject):
                # declaring twice records it once
                repo.add(self._step(n, p.scope_code, "conflict", reason, p))
            return n
