"""Rows → protobuf messages. Personal data leaves only in masked form (a
certificate's full name lives only inside its PDF)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb

from services.common.paging import Page
from services.common.rollup_query import LEVELS as LEVELS
from services.common.rollup_query import PB_LEVEL as PB_LEVEL
from services.common.rollup_query import RollupResult, to_rollup
from services.common.rollup_query import enum_value as enum_value
from services.common.times import iso as ts
from services.hours import domain
from services.hours import models as m

STATUSES = {
    pb.RECORD_STATUS_PENDING: "pending",
    pb.RECORD_STATUS_APPROVED: "approved",
    pb.RECORD_STATUS_REJECTED: "rejected",
    pb.RECORD_STATUS_REVERSED: "reversed",
}
PB_STATUS = {v: k for k, v in STATUSES.items()}
SOURCES = {
    "attendance": pb.RECORD_SOURCE_ATTENDANCE,
    "visit": pb.RECORD_SOURCE_VISIT,
    "honour": pb.RECORD_SOURCE_HONOUR,
    "import": pb.RECORD_SOURCE_IMPORT,
}
KINDS = {"amend": pb.CORRECTION_KIND_AMEND, "reversal": pb.CORRECTION_KIND_REVERSAL}
CERT_STATUS = {
    "valid": pb.CERTIFICATE_STATUS_VALID,
    "revoked": pb.CERTIFICATE_STATUS_REVOKED,
}
CERT_STATUSES = {v: k for k, v in CERT_STATUS.items()}
OBJECTION_STATUS = {
    "open": pb.OBJECTION_STATUS_OPEN,
    "corrected": pb.OBJECTION_STATUS_CORRECTED,
    "dismissed": pb.OBJECTION_STATUS_DISMISSED,
}
OBJECTION_STATUSES = {v: k for k, v in OBJECTION_STATUS.items()}
COMPLAINT_STATUS = {
    "open": pb.COMPLAINT_STATUS_OPEN,
    "replied": pb.COMPLAINT_STATUS_REPLIED,
    "upheld": pb.COMPLAINT_STATUS_UPHELD,
    "dismissed": pb.COMPLAINT_STATUS_DISMISSED,
}
COMPLAINT_STATUSES = {v: k for k, v in COMPLAINT_STATUS.items()}


def h(value: Decimal | float | int) -> float:
    return float(value)


def record(r: m.HourRecord, effective: Decimal) -> pb.HourRecord:
    return pb.HourRecord(
        id=r.id, source=SOURCES[r.source], source_id=r.source_id,
        volunteer_id=r.volunteer_id, volunteer_number=r.volunteer_number,
        division_code=r.division_code, organisation_id=r.organisation_id,
        organisation_name=r.organisation_name, service_field=r.service_field,
        activity_kind=r.activity_kind, content=r.content,
        started_at=ts(r.started_at), ended_at=ts(r.ended_at),
        duration_seconds=r.duration_seconds, rounding=r.rounding,
        rounded_hours=h(r.rounded_hours), hours=h(r.hours),
        capped_hours=h(r.capped_hours), note=r.note, status=PB_STATUS[r.status],
        status_reason=r.status_reason, recorded_by=r.recorded_by,
        recorded_at=ts(r.recorded_at), reviewed_by=r.reviewed_by or "",
        reviewed_at=ts(r.reviewed_at), effective_hours=h(effective),
        position_id=r.position_id or "",
    )  # fmt: skip


def correction(c: m.Correction) -> pb.Correction:
    return pb.Correction(
        id=c.id, record_id=c.record_id, kind=KINDS[c.kind],
        previous_hours=h(c.previous_hours), new_hours=h(c.new_hours),
        delta_hours=h(c.delta_hours), reason=c.reason, actor=c.actor,
        created_at=ts(c.created_at),
    )  # fmt: skip


def objection(o: m.Objection) -> pb.Objection:
    return pb.Objection(
        id=o.id, record_id=o.record_id, volunteer_id=o.volunteer_id,
        volunteer_number=o.volunteer_number, division_code=o.division_code,
        reason=o.reason, status=OBJECTION_STATUS[o.status],
        filed_at=ts(o.filed_at), resolved_by=o.resolved_by or "",
        resolved_at=ts(o.resolved_at), resolution_note=o.resolution_note,
        correction_id=o.correction_id or "",
    )  # fmt: skip


def evaluation(e: m.Evaluation | None) -> pb.Evaluation | None:
    if e is None:
        return None
    return pb.Evaluation(
        id=e.id, record_id=e.record_id, volunteer_id=e.volunteer_id,
        volunteer_number=e.volunteer_number, division_code=e.division_code,
        score=e.score, grade=domain.GRADES[e.score], comment=e.comment,
        evaluated_by=e.evaluated_by, evaluated_at=ts(e.evaluated_at),
        poor=e.poor, replaced=e.replaced,
    )  # fmt: skip


def complaint(c: m.Complaint) -> pb.Complaint:
    return pb.Complaint(
        id=c.id, division_code=c.division_code, volunteer_id=c.volunteer_id,
        volunteer_number=c.volunteer_number, record_id=c.record_id,
        organisation_id=c.organisation_id, text=c.text,
        status=COMPLAINT_STATUS[c.status], filed_by=c.filed_by,
        filed_at=ts(c.filed_at), reply=c.reply, replied_at=ts(c.replied_at),
        decision_note=c.decision_note, decided_by=c.decided_by or "",
        decided_at=ts(c.decided_at),
    )  # fmt: skip


def seal(s: m.Seal) -> pb.Seal:
    return pb.Seal(
        division_code=s.division_code, organisation_id=s.organisation_id,
        media_type=s.media_type, size_bytes=s.size_bytes, width=s.width,
        height=s.height, sha256=s.sha256, uploaded_by=s.uploaded_by,
        uploaded_at=ts(s.uploaded_at),
    )  # fmt: skip


def certificate(c: m.Certificate) -> pb.Certificate:
    return pb.Certificate(
        number=c.number, volunteer_id=c.volunteer_id,
        volunteer_number=c.volunteer_number, name_masked=c.name_masked,
        id_type=c.id_type, id_number_masked=c.id_number_masked, hours=h(c.hours),
        service_content=c.service_content, issuer_name=c.issuer_name,
        person_in_charge=c.person_in_charge, handler=c.handler, contact=c.contact,
        division_code=c.division_code,
        period=common.Period(start_month=c.period_start, end_month=c.period_end),
        issued_on=c.issued_on.isoformat(), issued_by=c.issued_by,
        status=CERT_STATUS[c.status], revoked_reason=c.revoked_reason,
        training=list(c.training_lines or ()), awards=list(c.award_lines or ()),
    )  # fmt: skip


def verification(found: Mapping[str, Any]) -> pb.VerifyCertificateResponse:
    return pb.VerifyCertificateResponse(
        number=found["number"],
        name_masked=found["name_masked"],
        hours=h(found["hours"]),
        issuer_name=found["issuer_name"],
        issued_on=found["issued_on"].isoformat(),
        status=CERT_STATUS[found["status"]],
    )


def policy(code: str, p: domain.Policy) -> pb.GetHourPolicyResponse:
    return pb.GetHourPolicyResponse(
        division_code=code,
        rounding=p.rounding,
        daily_cap_hours=h(p.daily_cap),
        excluded_kinds=sorted(p.excluded_kinds),
        deposit_ratio=h(p.deposit_ratio),
        sources=p.sources,
        poor_evaluation_max_score=p.poor_max_score,
        poor_evaluation_blocks=sorted(p.poor_blocks),
    )


def transaction(
    t: m.BankTransaction, legs: list[tuple[str, Decimal]]
) -> pb.TimeBankTransaction:
    return pb.TimeBankTransaction(
        id=t.id, kind=t.kind, division_code=t.division_code,
        description=t.description, record_id=t.record_id, actor=t.actor,
        created_at=ts(t.created_at),
        entries=[pb.TimeBankEntry(account=a, amount_hours=h(x)) for a, x in legs],
    )  # fmt: skip


def page(p: Page) -> common.PageInfo:
    return common.PageInfo(next_page_token=p.next_token, total_size=p.total)


def rollup(r: RollupResult) -> common.Rollup:
    return to_rollup(r)
