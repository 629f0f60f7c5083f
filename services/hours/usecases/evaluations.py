"""Evaluations (评价): the organiser rates an approved record's service
quality (the 2012 Measures' 服务质量), 1 (差) to 5 (优), with a comment.
Whoever may act for the record (its organisation's leader, an office over
its division) evaluates it; one current evaluation a record, which the same
office (or one above it) may replace: the old row stays, superseded, and
hours.record.evaluated tells what changed. Whether a score is poor, and
what a poor one blocks (stars, nominations), is tenant policy at the
record's division, published in the event for commendation."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.auth import Principal
from services.common.errors import FailedPrecondition, PermissionDenied
from services.common.roles import require_organisation
from services.hours import domain
from services.hours import validation as v
from services.hours.models import Evaluation, HourRecord
from services.hours.usecases.base import Context


class EvaluationCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def evaluate(
        self, p: Principal, record_id: str, score: str, comment: str
    ) -> Evaluation:
        """Evaluate (or re-evaluate) the approved record ``record_id``;
        whether it is poor is the policy's verdict at the record's division.

        Example::

            found = app.evaluations.evaluate(p, record.id, "4", "认真负责")
        """
        p.require_any(*domain.WRITERS)
        record_id = v.ident(record_id, "record_id")
        grade = v.score(score)
        comment = v.prose(comment, "comment", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            record = repo.record(record_id, "record_id", lock=True)
            require_organisation(p, record.organisation_id, "organisation_id")
            if record.status != "approved":
                raise FailedPrecondition(
                    f"only an approved record is evaluated; this one is "
                    f"{record.status}",
                    f"只能评价已审核通过的记录，该记录状态为 {record.status}",
                    field="record_id",
                    rule="evaluation.approved_only",
                )
            now = self.ctx.clock()
            current = repo.evaluation(record.id, lock=True)
            if current is not None:
                _may_replace(p, current)
                current.superseded_at = now
                repo.flush()  # one current row a record: the old one first
            policy = repo.policy(record.division_code)
            found = Evaluation(
                id=str(uuid.uuid4()),
                record_id=record.id,
                division_code=record.division_code,
                volunteer_id=record.volunteer_id,
                volunteer_number=record.volunteer_number,
                score=grade,
                poor=policy.poor(grade),
                comment=comment,
                evaluator_scope=p.scope.code,
                evaluated_by=p.username,
                evaluated_at=now,
                replaced=current.replaced + 1 if current else 0,
                superseded_at=None,
            )
            repo.add(found)
            repo.flush()
            work.record(
                "hours.record.evaluated",
                record.division_code,
                _event(record, found, policy, current),
            )
            return found


def _may_replace(p: Principal, current: Evaluation) -> None:
    # The office that evaluated, or one above it; not one below or beside
    # it that the record's division also lies under.
    if not current.evaluator_scope.startswith(p.scope.code):
        raise PermissionDenied(
            "the evaluation was made by another office; only it, or an "
            "office above it, may replace it",
            "该评价由其他单位作出，只有该单位或其上级单位可以修改",
            field="record_id",
            rule="evaluation.same_office",
        )


def _event(
    record: HourRecord,
    found: Evaluation,
    policy: domain.Policy,
    previous: Evaluation | None,
) -> dict[str, Any]:
    return {
        "evaluation_id": found.id,
        "record_id": record.id,
        "volunteer_id": record.volunteer_id,
        "volunteer_number": record.volunteer_number,
        "division_code": record.division_code,
        "organisation_id": record.organisation_id,
        "service_month": record.month,
        "score": found.score,
        "grade": domain.GRADES[found.score],
        "previous_score": previous.score if previous else None,
        "replaced": found.replaced,
        # The policy in force at the record's division, for commendation.
        "poor": found.poor,
        "poor_max_score": policy.poor_max_score,
        "poor_blocks": sorted(policy.poor_blocks),
    }
