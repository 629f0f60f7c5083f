"""Objections (异议): a volunteer's correction request on one of its own
records, with a reason. It lands in the queue of the office of the record's
division (where the service was done), which resolves it: corrected (a
correction as CorrectRecord makes one, in the same transaction, or the one
it made since the filing) or dismissed with a note. Corrections never edit
a record silently; an objection is the volunteer's way into that flow."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from services.common.auth import Principal
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.roles import own_volunteer, require_organisation
from services.hours import domain
from services.hours import validation as v
from services.hours.models import Correction, Objection
from services.hours.usecases.base import Context
from services.hours.usecases.review import ReviewCases, change

OUTCOMES = ("corrected", "dismissed")


class ObjectionCases:
    def __init__(self, ctx: Context, review: ReviewCases) -> None:
        self.ctx, self.review = ctx, review

    def file(self, p: Principal, record_id: str, reason: str) -> Objection:
        """The caller's objection to its own record ``record_id``; another's
        record is NOT_FOUND exactly like an unknown one. One open objection
        a record."""
        volunteer_id = own_volunteer(p)
        record_id = v.ident(record_id, "record_id")
        reason = v.prose(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            # Two filings of the volunteer's wait for each other here.
            repo.lock_volunteer(volunteer_id)
            record = repo.own_record(volunteer_id, record_id, "record_id")
            if any(
                o.record_id == record.id and o.status == "open"
                for o in repo.own_objections(volunteer_id)
            ):
                raise AlreadyExists(
                    "an objection to this record is open already; the office "
                    "will answer it",
                    "该记录已有待处理的异议，请等待办理结果",
                    field="record_id",
                    rule="objection.open",
                )
            found = repo.file_objection(
                str(uuid.uuid4()), volunteer_id, record.id, reason, self.ctx.clock()
            )
            work.record("hours.objection.filed", found.division_code, _event(found))
            return found

    def resolve(
        self,
        p: Principal,
        ident: str,
        outcome: str,
        note: str,
        new_hours: float | None = None,
        reverse: bool = False,
    ) -> tuple[Objection, Correction | None]:
        """Close an open objection in the caller's scope: ``corrected`` (with
        ``new_hours`` or ``reverse``, the correction is made now; without,
        the record's newest correction since the filing is linked) or
        ``dismissed`` (no change allowed), with a note."""
        p.require_any(*domain.WRITERS)
        ident = v.ident(ident, "id")
        outcome = (outcome or "").strip().lower()
        if outcome not in OUTCOMES:
            raise InvalidArgument(
                "outcome",
                "outcome.choice",
                "outcome is corrected or dismissed",
                "处理结果须为 corrected（已更正）或 dismissed（不予更正）",
            )
        note = v.prose(note, "note", 500)
        asked = new_hours is not None or reverse
        if asked and outcome != "corrected":
            raise InvalidArgument(
                "new_hours" if new_hours is not None else "reverse",
                "change.corrected_only",
                "a dismissed objection changes no hours",
                "不予更正的异议不能修改时长",
            )
        wanted: Decimal | None = change(new_hours, reverse) if asked else None
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            found = repo.objection(ident, lock=True)
            if found.status != "open":
                raise FailedPrecondition.transition(
                    "objection", "异议", found.status, outcome
                )
            record = repo.record(found.record_id, "id", lock=True)
            require_organisation(p, record.organisation_id, "organisation_id")
            fix: Correction | None = None
            if asked:
                fix, _ = self.review.apply_correction(
                    p, work, repo, record, wanted, note
                )
            elif outcome == "corrected":
                fix = repo.latest_correction(record.id, found.filed_at)
                if fix is None:
                    raise FailedPrecondition(
                        "correct the record first, or give new_hours or reverse",
                        "请先更正该记录，或填写新的时长或选择撤销",
                        field="outcome",
                        rule="objection.correction_required",
                    )
            found.status, found.resolution_note = outcome, note
            found.resolved_by, found.resolved_at = p.username, self.ctx.clock()
            found.correction_id = fix.id if fix else None
            work.record("hours.objection.resolved", found.division_code, _event(found))
            return found, fix


def _event(o: Objection) -> dict[str, Any]:
    return {
        "objection_id": o.id,
        "record_id": o.record_id,
        "volunteer_id": o.volunteer_id,
        "volunteer_number": o.volunteer_number,
        "division_code": o.division_code,
        "status": o.status,
        "correction_id": o.correction_id or "",
    }
