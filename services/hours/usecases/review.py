"""Reviewing hour records: approval (rollups and the hours.record.approved
event in the same transaction), rejection, and corrections, which are new
entries that amend or reverse an approved record, never an edit of it."""

from __future__ import annotations

import uuid
from decimal import Decimal

from services.common.auth import Principal
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.roles import require_organisation
from services.common.unit_of_work import Work
from services.hours import domain
from services.hours import validation as v
from services.hours.models import Correction, HourRecord
from services.hours.repository import Repository, effective
from services.hours.usecases.base import Context, number


class ReviewCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def approve(self, p: Principal, ident: str) -> tuple[HourRecord, Decimal]:
        p.require_any(*domain.WRITERS)
        ident = v.ident(ident, "id")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            record = repo.record(ident, lock=True)
            require_organisation(p, record.organisation_id, "organisation_id")
            _require(record, "pending", "approved")
            repo.lock_volunteer(record.volunteer_id)
            record.status, record.reviewed_by = "approved", p.username
            record.reviewed_at = self.ctx.clock()
            repo.flush()
            repo.count_approved(record, record.hours, +1)
            work.record(
                "hours.record.approved",
                record.division_code,
                {
                    "record_id": record.id,
                    "volunteer_id": record.volunteer_id,
                    "volunteer_number": record.volunteer_number,
                    "division_code": record.division_code,
                    "service_field": record.service_field,
                    "service_month": record.month,
                    "hours": number(record.hours),
                    "volunteer_total_hours": number(
                        repo.platform_total(record.volunteer_id)
                    ),
                },
            )
            return record, record.hours

    def reject(self, p: Principal, ident: str, reason: str) -> HourRecord:
        p.require_any(*domain.WRITERS)
        ident = v.ident(ident, "id")
        reason = v.text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            record = self.ctx.repo(work).record(ident, lock=True)
            require_organisation(p, record.organisation_id, "organisation_id")
            _require(record, "pending", "rejected")
            record.status, record.status_reason = "rejected", reason
            record.reviewed_by, record.reviewed_at = p.username, self.ctx.clock()
            return record

    def correct(
        self,
        p: Principal,
        record_id: str,
        new_hours: float | None,
        reverse: bool,
        reason: str,
    ) -> tuple[HourRecord, Correction, Decimal]:
        """Amend an approved record to ``new_hours``, or reverse it."""
        p.require_any(*domain.WRITERS)
        record_id = v.ident(record_id, "record_id")
        wanted = change(new_hours, reverse)
        reason = v.text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            record = repo.record(record_id, "record_id", lock=True)
            require_organisation(p, record.organisation_id, "organisation_id")
            fix, new = self.apply_correction(p, work, repo, record, wanted, reason)
            return record, fix, new

    def apply_correction(
        self,
        p: Principal,
        work: Work,
        repo: Repository,
        record: HourRecord,
        wanted: Decimal | None,
        reason: str,
    ) -> tuple[Correction, Decimal]:
        """Inside the caller's unit of work, on a record it read locked and
        may act for: amend it to ``wanted`` hours (None: reverse it), count
        the change and record hours.record.corrected. The correction and the
        hours the record counts now."""
        _require(record, "approved", "corrected")
        repo.lock_volunteer(record.volunteer_id)
        current = effective(record, repo.corrections([record.id])[record.id])
        new = Decimal("0.00") if wanted is None else wanted
        if wanted is not None:
            self._check_amendment(repo, record, current, wanted)
        fix = Correction(
            id=str(uuid.uuid4()),
            record_id=record.id,
            division_code=record.division_code,
            kind="reversal" if wanted is None else "amend",
            previous_hours=current,
            new_hours=new,
            delta_hours=new - current,
            reason=reason,
            actor=p.username,
            created_at=self.ctx.clock(),
        )
        repo.add(fix)
        if wanted is None:
            record.status = "reversed"
            repo.flush()
            repo.count_approved(record, current, -1)
        else:
            repo.flush()
            repo.amend_counted(record, fix.delta_hours)
        work.record(
            "hours.record.corrected",
            record.division_code,
            {
                "record_id": record.id,
                "correction_id": fix.id,
                "volunteer_id": record.volunteer_id,
                "volunteer_number": record.volunteer_number,
                "division_code": record.division_code,
                "service_month": record.month,
                "delta_hours": number(fix.delta_hours),
                "volunteer_total_hours": number(
                    repo.platform_total(record.volunteer_id)
                ),
                "reason": reason,
            },
        )
        return fix, new

    def _check_amendment(
        self, repo: Repository, record: HourRecord, current: Decimal, wanted: Decimal
    ) -> None:
        # Never more than the service time allows, as the policy rounded it.
        limit = max(
            record.rounded_hours, domain.round_hours(record.duration_seconds, "exact")
        )
        if wanted > limit:
            raise InvalidArgument(
                "new_hours",
                "new_hours.max",
                f"the record's service time allows at most {limit} hours",
                f"该记录的服务时间最多计 {limit} 小时",
            )
        if wanted == current:
            raise InvalidArgument(
                "new_hours",
                "new_hours.unchanged",
                "the record already counts these hours",
                "新时长与当前时长相同",
            )
        cap = repo.policy(record.division_code).daily_cap
        day = repo.day_total(record.volunteer_id, record.service_day, record.id)
        if wanted > current and day + wanted > cap:
            raise InvalidArgument(
                "new_hours",
                "new_hours.daily_cap",
                f"the volunteer's hours that day would exceed the cap of {cap} hours",
                f"该志愿者当日时长将超过上限 {cap} 小时",
            )


def change(new_hours: float | None, reverse: bool) -> Decimal | None:
    """The hours a correction sets (None: a reversal), from a request's
    ``new_hours`` or ``reverse``."""
    if new_hours is None and not reverse:
        raise InvalidArgument(
            "new_hours",
            "change.required",
            "give new_hours, or reverse set to true",
            "须填写新的时长，或选择撤销该记录",
        )
    return None if reverse else v.amount(new_hours or 0.0, "new_hours")


def _require(record: HourRecord, status: str, target: str) -> None:
    if record.status != status:
        raise FailedPrecondition.transition(
            "hour record", "时长记录", record.status, target
        )
