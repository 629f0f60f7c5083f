"""Creating hour records: from activity's events (the worker) and by hand
("honour hours", the api). Both go through :meth:`RecordCases._place`, so
the policy, overlap and daily cap are applied the same way."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from services.common import references
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.roles import require_organisation
from services.common.rollup import month_of
from services.common.tenancy import Scope, ancestors, is_within
from services.hours import domain
from services.hours import validation as v
from services.hours.models import HourRecord
from services.hours.repository import Repository
from services.hours.usecases.base import Context

# Namespace of honour records' ids derived from a division and a request_id.
_HONOUR_KEYS = uuid.UUID("5d6c1f0e-7a43-4b52-9d3e-2f8e1c0b6a71")

# Drafts per batch at most: each volunteer's lock is held to the commit, and
# PostgreSQL's lock table is shared (64 per connection by default).
BATCH_MAX = 500


@dataclass(frozen=True)
class Draft:
    """What a record is made of before the policy is applied."""

    source: str  # attendance | visit | honour
    source_id: str
    volunteer_id: str
    volunteer_number: str
    division_code: str
    organisation_id: str
    organisation_name: str
    service_field: str
    activity_kind: str
    content: str
    started_at: datetime  # as reported (check-in, visit start, session start)
    ended_at: datetime
    interval: domain.Interval | None  # the service time that counts
    recorded_by: str
    event_id: str | None = None
    given_hours: Decimal | None = None  # honour hours: set by hand, not rounded
    note: str = ""
    position_id: str = ""  # the service position an office named


class RecordCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def ingest(self, consumer: str, event_id: str, draft: Draft) -> HourRecord | None:
        """Apply one consumed event: a record, exactly once per event and
        per source entry; ``None`` when it was already applied."""
        with self.ctx.uow(Scope(draft.division_code)) as work:
            repo = self.ctx.repo(work)
            if not repo.claim(consumer, event_id):
                return None
            if repo.record_by_source(draft.source, draft.source_id) is not None:
                return None  # the same check-out announced twice
            repo.lock_volunteer(draft.volunteer_id)
            return self._place(repo, _Asked(repo), draft, strict=False)

    def ingest_batch(
        self, consumer: str, items: Sequence[tuple[str, Draft]]
    ) -> list[HourRecord | None]:
        """Apply consumed events, given as ``(event_id, draft)``, in one
        transaction: all of them or none. Each gives what :meth:`ingest`
        would give it one event at a time in the same order (a record, or
        ``None`` when already applied): the event is claimed, the source
        checked through the draft's own division, then :meth:`_place`
        applies the policy, overlap and daily cap, seeing the batch's
        earlier records. The transaction's scope is the drafts' deepest
        common division, so a batch lies in one province (``ValueError``
        otherwise, and above ``BATCH_MAX`` drafts). The volunteers are
        locked first, in one order, so two batches cannot deadlock.
        """
        if len(items) > BATCH_MAX:
            raise ValueError(f"a batch holds at most {BATCH_MAX} drafts")
        if not items:
            return []
        codes = {draft.division_code for _, draft in items}
        shared = [
            a for a in ancestors(min(codes)) if all(is_within(c, a) for c in codes)
        ]
        if not shared:
            raise ValueError("a batch's drafts must lie in one province")
        with self.ctx.uow(Scope(shared[-1])) as work:
            batch = self.ctx.repo(work)
            batch.lock_volunteers([draft.volunteer_id for _, draft in items])
            fresh = batch.claim_many(consumer, [event_id for event_id, _ in items])
            known = batch.records_by_source(
                [(draft.source, draft.source_id) for _, draft in items]
            )
            todo: list[tuple[int, Draft]] = []
            for i, (event_id, draft) in enumerate(items):
                if event_id in fresh:  # not applied before, nor earlier here
                    fresh.discard(event_id)
                    todo.append((i, draft))
            ledger = _Ledger(batch, [draft for _, draft in todo])
            out: list[HourRecord | None] = [None] * len(items)
            for i, draft in todo:
                source = (draft.source, draft.source_id)
                earlier = known.get(source)
                if earlier is not None and is_within(
                    earlier.division_code, draft.division_code
                ):
                    continue  # the same check-out announced twice
                known[source] = out[i] = self._place(
                    batch.within(draft.division_code), ledger, draft, strict=False
                )
            batch.flush()
        return out

    def record_honour(
        self,
        p: Principal,
        volunteer_id: str,
        code: str,
        org_id: str,
        org_name: str,
        field: str,
        content: str,
        start: str,
        end: str,
        amount: float,
        reason: str,
        request_id: str = "",
        position_id: str = "",
    ) -> tuple[HourRecord, bool]:
        """Honour hours added by hand, never more than the session lasted.
        With a ``request_id`` the same request (for the same division)
        answers the first record again, with ``False``. ``position_id``
        names the service position (阵地) where the service happened: one
        the caller may see, else NOT_FOUND as for an unknown id."""
        p.require_any(*domain.WRITERS)
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        code = p.scope.require(v.text(code, "division_code", 12), "division_code")
        org_id = v.ident(org_id, "organisation_id", required=False)
        # An org_leader records honour hours for its own organisation only.
        require_organisation(p, org_id, "organisation_id")
        org_name = v.text(org_name, "organisation_name", 200)
        field = v.service_field(field)
        content = v.text(content, "content", 200)
        a, b = v.session(start, end, self.ctx.clock())
        given = v.amount(amount, "hours", domain.hours((b - a).total_seconds() / 3600))
        reason = v.text(reason, "reason", 500)
        request_id = v.text(request_id, "request_id", 100, required=False)
        position_id = v.ident(position_id, "position_id", required=False)
        # The organisation must be one the caller may see: another tenant's,
        # an ancestor's or an unknown one is NOT_FOUND alike, nothing written.
        references.optional_organisation(
            self.ctx.registration_client().remote, org_id, "organisation_id"
        )
        if position_id:  # registration answers as the caller: in scope or not found
            self.ctx.registration_client().position(position_id)
        record_id = (
            str(uuid.uuid5(_HONOUR_KEYS, f"{code}/{request_id}"))
            if request_id
            else str(uuid.uuid4())
        )
        if request_id:
            with self.ctx.uow(p) as work:
                earlier = self.ctx.repo(work).record_by_source("honour", record_id)
                if earlier is not None:
                    return earlier, False
        number, status = self.ctx.registration_client().volunteer(volunteer_id)
        if status != "verified":
            raise FailedPrecondition(
                "only verified volunteers receive hours",
                "只有已审核通过的志愿者才能记录时长",
                field="volunteer_id",
                rule="volunteer.verified",
            )
        draft = Draft(
            "honour", record_id, volunteer_id, number, code, org_id, org_name,
            field, "service", content, a, b, domain.Interval(a, b),
            p.username, given_hours=given, note=f"补录：{reason}",
            position_id=position_id,
        )  # fmt: skip
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            repo.lock_volunteer(volunteer_id)
            earlier = repo.record_by_source("honour", record_id) if request_id else None
            if earlier is not None:  # the same request, racing the first
                return earlier, False
            return self._place(repo, _Asked(repo), draft, strict=True), True

    def _place(
        self, repo: Repository, ledger: Ledger, d: Draft, strict: bool
    ) -> HourRecord:
        """Round, cap and check overlap under the volunteer's lock (the
        caller holds it); ``ledger`` answers the policy, overlap and the
        day's hours. An event cannot be answered with an error, so
        (``strict=False``) a refused record is stored as rejected with its
        reason; a request (``strict``) is refused and nothing is written."""
        policy = ledger.policy(d.division_code)
        start, end = d.interval or (d.started_at, d.started_at)
        seconds = int((end - start).total_seconds())
        rounding = "manual" if d.given_hours else policy.rounding
        record = HourRecord(
            id=d.source_id if d.source == "honour" else str(uuid.uuid4()),
            source=d.source, source_id=d.source_id,
            event_id=d.event_id, volunteer_id=d.volunteer_id,
            volunteer_number=d.volunteer_number, division_code=d.division_code,
            organisation_id=d.organisation_id, organisation_name=d.organisation_name,
            service_field=d.service_field, activity_kind=d.activity_kind,
            content=d.content, started_at=start, ended_at=end,
            duration_seconds=seconds, service_day=domain.service_day(start),
            month=month_of(start), rounding=rounding,
            rounded_hours=Decimal(0), hours=Decimal(0), capped_hours=Decimal(0),
            note=d.note, status="pending", status_reason="", recorded_by=d.recorded_by,
            recorded_at=self.ctx.clock(), position_id=d.position_id or None,
        )  # fmt: skip
        reason = self._refusal(ledger, d, policy, record)
        if reason is None:
            rounded = d.given_hours or domain.round_hours(seconds, policy.rounding)
            day = ledger.day_total(d.volunteer_id, record.service_day)
            credited, capped = domain.apply_cap(day, rounded, policy.daily_cap)
            record.rounded_hours, record.hours, record.capped_hours = (
                rounded, credited, capped
            )  # fmt: skip
            if capped:
                cap = f"每日上限 {policy.daily_cap} 小时：{capped} 小时未计入"
                record.note = _join(record.note, cap)
            if rounded <= 0:  # too short to count once rounded
                record.note = _join(record.note, "服务时长不足计入单位")
                reason = "no_service_time"
            elif credited <= 0:
                reason = "daily_cap"
        if reason is not None:
            if strict:
                raise _refused(reason)
            record.status, record.status_reason = "rejected", reason
            record.hours = Decimal(0)
        repo.add(record)
        ledger.placed(record)
        return record

    def _refusal(
        self, ledger: Ledger, d: Draft, policy: domain.Policy, record: HourRecord
    ) -> str | None:
        if d.activity_kind in policy.excluded_kinds:
            record.note = _join(record.note, "捐赠等不计服务时长")
            return "excluded_kind"
        if d.interval is None:
            record.note = _join(record.note, "签到签退时间不在活动时段内")
            return "no_service_time"
        if ledger.overlaps(d.volunteer_id, *d.interval):
            record.note = _join(record.note, "与该志愿者已有的时长记录时间重叠")
            return "overlap"
        return None


class Ledger(Protocol):
    """What placing a record asks: the policy at a division, whether the
    volunteer's active records overlap a span, their hours on a day."""

    def policy(self, code: str) -> domain.Policy: ...

    def overlaps(self, volunteer_id: str, start: datetime, end: datetime) -> bool: ...

    def day_total(self, volunteer_id: str, day: date) -> Decimal: ...

    def placed(self, record: HourRecord) -> None: ...


class _Asked:
    """One record at a time: each question goes to the database, which
    already holds every earlier record (flushed after placing)."""

    def __init__(self, repo: Repository):
        self.repo = repo

    def policy(self, code: str) -> domain.Policy:
        return self.repo.policy(code)

    def overlaps(self, volunteer_id: str, start: datetime, end: datetime) -> bool:
        return self.repo.overlaps(volunteer_id, start, end)

    def day_total(self, volunteer_id: str, day: date) -> Decimal:
        return self.repo.day_total(volunteer_id, day)

    def placed(self, record: HourRecord) -> None:
        self.repo.flush()


class _Ledger:
    """A batch's questions, asked of the database once for all its drafts
    before any is placed, plus the batch's own records placed so far: the
    same answers one draft at a time would get, in a few round trips."""

    def __init__(self, repo: Repository, drafts: Sequence[Draft]):
        self.repo = repo
        timed = [(d.volunteer_id, *d.interval) for d in drafts if d.interval]
        self.stored_overlap = dict(zip(timed, repo.overlaps_many(timed), strict=True))
        self.stored_day = repo.day_totals(
            [(v, domain.service_day(a)) for v, a, _ in timed]
        )
        # Read before any record is added: a query after an add would flush
        # the records one by one (autoflush) instead of once at the end.
        self.policies = repo.policies({d.division_code for d in drafts})
        self.batch: dict[str, list[HourRecord]] = defaultdict(list)

    def policy(self, code: str) -> domain.Policy:
        return self.policies[code]

    def _active(self, volunteer_id: str) -> list[HourRecord]:
        return [r for r in self.batch[volunteer_id] if r.status != "rejected"]

    def overlaps(self, volunteer_id: str, start: datetime, end: datetime) -> bool:
        return self.stored_overlap[(volunteer_id, start, end)] or any(
            r.started_at < end and r.ended_at > start
            for r in self._active(volunteer_id)
        )

    def day_total(self, volunteer_id: str, day: date) -> Decimal:
        mine = (r.hours for r in self._active(volunteer_id) if r.service_day == day)
        return self.stored_day[(volunteer_id, day)] + sum(mine, Decimal(0))

    def placed(self, record: HourRecord) -> None:
        self.batch[record.volunteer_id].append(record)


def _join(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _refused(reason: str) -> Exception:
    if reason == "overlap":
        return FailedPrecondition(
            "the volunteer already has hours recorded for part of this time",
            "该志愿者在此时段已有时长记录",
            field="session_start",
            rule="record.overlap",
        )
    if reason == "daily_cap":
        return FailedPrecondition(
            "the volunteer has reached the daily cap for that day",
            "该志愿者当日时长已达上限",
            field="hours",
            rule="record.daily_cap",
        )
    return InvalidArgument(
        "session_start", f"record.{reason}", "no service time", "没有可计入的服务时长"
    )
