"""Rows → protobuf messages and protobuf enums → domain words. Personal data
leaves only in masked form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common

from services.activity import models as m
from services.activity.own_queries import OwnSignUp
from services.activity.repository import ProjectView
from services.activity.usecases.insurance import CoverView
from services.activity.usecases.training import OwnTraining, SessionView
from services.activity.usecases.training_of import TrainingLine
from services.common.paging import Page
from services.common.rollup_query import LEVELS as LEVELS
from services.common.rollup_query import PB_LEVEL as PB_LEVEL
from services.common.rollup_query import RollupResult, to_rollup
from services.common.rollup_query import enum_value as enum_value
from services.common.times import iso

PROJECT_STATUS = {
    pb.PROJECT_STATUS_DRAFT: "draft",
    pb.PROJECT_STATUS_SUBMITTED: "submitted",
    pb.PROJECT_STATUS_APPROVED: "approved",
    pb.PROJECT_STATUS_RETURNED: "returned",
    pb.PROJECT_STATUS_RECRUITING: "recruiting",
    pb.PROJECT_STATUS_IN_PROGRESS: "in_progress",
    pb.PROJECT_STATUS_COMPLETED: "completed",
    pb.PROJECT_STATUS_CANCELLED: "cancelled",
}
KINDS = {pb.PROJECT_KIND_SERVICE: "service", pb.PROJECT_KIND_DONATION: "donation"}
SIGN_UP_STATUS = {
    pb.SIGN_UP_STATUS_PENDING: "pending",
    pb.SIGN_UP_STATUS_CONFIRMED: "confirmed",
    pb.SIGN_UP_STATUS_WAITLISTED: "waitlisted",
    pb.SIGN_UP_STATUS_WITHDRAWN: "withdrawn",
    pb.SIGN_UP_STATUS_REJECTED: "rejected",
}
MODES = {
    pb.PAIRING_MODE_ONE_TO_ONE: "one_to_one",
    pb.PAIRING_MODE_MANY_TO_ONE: "many_to_one",
}


def _reverse(known: Mapping[int, str]) -> dict[str, int]:
    return {v: k for k, v in known.items()}


def project_fields(req: Any) -> dict[str, Any]:
    """The editable fields of a create or update request, as plain values
    (an unknown kind passes through as "?" for the validator to name)."""
    eligibility = req.eligibility
    return {
        "title": req.title,
        "description": req.description,
        "place": req.place,
        "service_field": req.service_field,
        "kind": KINDS.get(req.kind, "?") if req.kind else "",
        "sessions": [(x.starts_at, x.ends_at, x.capacity) for x in req.sessions],
        "recruit_starts_at": req.recruit_starts_at,
        "recruit_ends_at": req.recruit_ends_at,
        "min_age": eligibility.min_age,
        "required_skills": list(eligibility.required_skills),
        "leader_approval": req.leader_approval,
        "emergency": req.emergency,
        "required_course_id": req.required_course_id,
        "position_id": req.position_id,
    }


def project(v: ProjectView) -> pb.Project:
    p = v.project
    return pb.Project(
        id=p.id,
        organisation_id=p.organisation_id,
        organisation_name=p.organisation_name,
        division_code=p.division_code,
        title=p.title,
        description=p.description,
        place=p.place,
        service_field=p.service_field,
        kind=_reverse(KINDS)[p.kind],
        sessions=[session(x, v.counts.get(x.id, (0, 0))) for x in v.sessions],
        recruit_starts_at=iso(p.recruit_starts_at),
        recruit_ends_at=iso(p.recruit_ends_at),
        eligibility=pb.Eligibility(
            min_age=p.min_age, required_skills=list(p.required_skills)
        ),
        leader_approval=bool(p.leader_approval),
        emergency=bool(p.emergency),
        status=_reverse(PROJECT_STATUS)[p.status],
        publisher=p.publisher_name,
        comment=p.comment,
        created_at=iso(p.created_at),
        published_at=iso(p.published_at),
        required_course_id=p.required_course_id or "",
        campaign_id=p.campaign_id or "",
        position_id=p.position_id or "",
    )


def own_project(v: ProjectView) -> pb.Project:
    """A project as a volunteer's own pages show it: without the office
    account that published it."""
    out = project(v)
    out.publisher = ""
    return out


def session(x: m.ProjectSession, counts: tuple[int, int]) -> pb.Session:
    return pb.Session(
        id=x.id,
        starts_at=iso(x.starts_at),
        ends_at=iso(x.ends_at),
        capacity=x.capacity,
        confirmed=counts[0],
        waitlisted=counts[1],
    )


def sign_up(x: m.SignUp) -> pb.SignUp:
    return pb.SignUp(
        id=x.id,
        session_id=x.session_id,
        project_id=x.project_id,
        volunteer_id=x.volunteer_id,
        volunteer_number=x.volunteer_number,
        status=_reverse(SIGN_UP_STATUS)[x.status],
        queue_number=x.queue_number,
        reason=x.reason,
        created_at=iso(x.created_at),
    )


def own_sign_up(x: OwnSignUp) -> pb.SignUp:
    """A sign-up as its volunteer sees it: what it is for, and its place in
    the waitlist."""
    out = sign_up(x.row)
    out.project_title = x.project_title
    out.session_starts_at = iso(x.starts_at)
    out.session_ends_at = iso(x.ends_at)
    out.waitlist_position = x.waitlist_position
    return out


def attendance(x: m.Attendance) -> pb.Attendance:
    return pb.Attendance(
        id=x.id,
        session_id=x.session_id,
        project_id=x.project_id,
        volunteer_id=x.volunteer_id,
        volunteer_number=x.volunteer_number,
        checked_in_at=iso(x.checked_in_at),
        checked_out_at=iso(x.checked_out_at),
        closed_by=x.closed_by or "",
    )


def recipient(x: m.Recipient) -> pb.Recipient:
    return pb.Recipient(
        id=x.id,
        division_code=x.division_code,
        name=x.name_masked,
        phone=x.phone_masked,
        address=x.address_masked,
        pairing_mode=_reverse(MODES)[x.pairing_mode],
        needs=x.needs,
        consent_at=iso(x.consent_at),
        created_at=iso(x.created_at),
    )


def pair(x: m.Pair) -> pb.Pair:
    return pb.Pair(
        id=x.id,
        recipient_id=x.recipient_id,
        volunteer_id=x.volunteer_id,
        volunteer_number=x.volunteer_number,
        organisation_id=x.organisation_id,
        organisation_name=x.organisation_name,
        division_code=x.division_code,
        created_at=iso(x.created_at),
    )


def visit(x: m.Visit) -> pb.Visit:
    return pb.Visit(
        id=x.id,
        pair_id=x.pair_id,
        recipient_id=x.recipient_id,
        volunteer_id=x.volunteer_id,
        volunteer_number=x.volunteer_number,
        division_code=x.division_code,
        started_at=iso(x.started_at),
        ended_at=iso(x.ended_at),
        note=x.note,
        created_at=iso(x.created_at),
        campaign_id=x.campaign_id or "",
    )


def cover(v: CoverView) -> tuple[pb.InsuranceCover | None, pb.InsuranceStatus]:
    """A project's cover (None without one) and what policy asks of it."""
    status = pb.InsuranceStatus(
        required=v.required,
        covers_sessions=v.covers_sessions,
        covered_volunteers=v.covered_volunteers,
    )
    x = v.cover
    if x is None:
        return None, status
    return (
        pb.InsuranceCover(
            id=x.id,
            project_id=x.project_id,
            insurer=x.insurer,
            policy_number=x.policy_number,
            starts_on=x.starts_on.isoformat(),
            ends_on=x.ends_on.isoformat(),
            recorded_by=x.recorded_by,
            created_at=iso(x.created_at),
        ),
        status,
    )


def insured(row: tuple[str, str, int]) -> pb.InsuredVolunteer:
    return pb.InsuredVolunteer(
        volunteer_id=row[0], volunteer_number=row[1], sessions=row[2]
    )


def course(x: m.Course) -> pb.Course:
    return pb.Course(
        id=x.id,
        division_code=x.division_code,
        title=x.title,
        description=x.description,
        created_by=x.created_by,
        created_at=iso(x.created_at),
    )


def training_session(v: SessionView) -> pb.TrainingSession:
    x = v.session
    return pb.TrainingSession(
        id=x.id,
        course_id=x.course_id,
        course_title=v.course_title,
        division_code=x.division_code,
        place=x.place,
        starts_at=iso(x.starts_at),
        ends_at=iso(x.ends_at),
        attended=v.attended,
    )


def training_attendance(x: m.TrainingAttendance) -> pb.TrainingAttendance:
    return pb.TrainingAttendance(
        id=x.id,
        training_session_id=x.training_session_id,
        course_id=x.course_id,
        volunteer_id=x.volunteer_id,
        volunteer_number=x.volunteer_number,
        hours=float(x.hours),
        recorded_at=iso(x.recorded_at),
    )


def own_training(v: OwnTraining) -> pb.TrainingAttendance:
    out = training_attendance(v.row)
    out.course_title = v.course_title
    if v.session is not None:
        out.starts_at = iso(v.session.starts_at)
        out.ends_at = iso(v.session.ends_at)
    return out


def training_line(x: TrainingLine) -> pb.TrainingAttendance:
    out = training_attendance(x.row)
    out.course_title = x.course_title
    out.starts_at = iso(x.session.starts_at)
    out.ends_at = iso(x.session.ends_at)
    return out


def imported_training(x: m.ImportedTraining) -> pb.TrainingAttendance:
    """Training transferred in: marked imported, with its issuer platform
    and the session's id there (no session or course of this platform)."""
    return pb.TrainingAttendance(
        id=x.id,
        volunteer_id=x.volunteer_id,
        volunteer_number=x.volunteer_number,
        hours=float(x.hours),
        recorded_at=iso(x.imported_at),
        course_title=x.course_title,
        starts_at=iso(x.started_at) if x.started_at else "",
        ends_at=iso(x.ended_at) if x.ended_at else "",
        imported=True,
        issuer_platform=x.issuer_platform,
        source_session_id=x.source_session_id,
    )


def page(p: Page) -> common.PageInfo:
    return common.PageInfo(next_page_token=p.next_token, total_size=p.total)


def rollup(r: RollupResult) -> common.Rollup:
    return to_rollup(r)
