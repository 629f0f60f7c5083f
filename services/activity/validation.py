"""Checks of request values, each failure naming its field and rule
(pure functions, like domain.py).

Example:
    >>> utc_moment("2026-11-08T09:00:00+08:00", "starts_at").isoformat()
    '2026-11-08T01:00:00+00:00'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common.checks import ident
from services.common.checks import text as text
from services.common.checks import utc_moment as utc_moment
from services.common.errors import InvalidArgument
from services.common.pii import mask_address as mask_address
from services.common.service_fields import check_service_fields
from services.common.tenancy import Level, level_of

KINDS = ("service", "donation")
MAX_SESSIONS = 50
MAX_CAPACITY = 10_000
MAX_SESSION = timedelta(hours=24)
MAX_VISIT = timedelta(hours=12)


def check_order(start: datetime, end: datetime, field: str, longest: timedelta) -> None:
    if end <= start:
        raise InvalidArgument(
            field, f"{field}.after_start", "must be after the start", "须晚于开始时间"
        )
    if end - start > longest:
        hours = int(longest.total_seconds() // 3600)
        raise InvalidArgument(
            field,
            f"{field}.max_duration",
            f"may last at most {hours} hours",
            f"时长不能超过 {hours} 小时",
        )


@dataclass
class SessionSpec:
    starts_at: datetime
    ends_at: datetime
    capacity: int


@dataclass
class ProjectSpec:
    """The editable part of a project, checked."""

    title: str
    description: str
    place: str
    service_field: str
    kind: str
    sessions: list[SessionSpec]
    recruit_starts_at: datetime
    recruit_ends_at: datetime
    min_age: int
    required_skills: list[str] = field(default_factory=list)
    leader_approval: bool = False
    emergency: bool = False
    # A course volunteers must have attended first ("" none).
    required_course_id: str = ""


def sessions(raw: list[tuple[str, str, int]]) -> list[SessionSpec]:
    if not raw:
        raise InvalidArgument(
            "sessions", "sessions.required", "at least one session", "至少安排一场活动"
        )
    if len(raw) > MAX_SESSIONS:
        raise InvalidArgument(
            "sessions",
            "sessions.max_count",
            f"at most {MAX_SESSIONS} sessions",
            f"活动场次不能超过 {MAX_SESSIONS} 场",
        )
    out = []
    for i, (start, end, capacity) in enumerate(raw):
        f = f"sessions[{i}]"
        s, e = utc_moment(start, f"{f}.starts_at"), utc_moment(end, f"{f}.ends_at")
        check_order(s, e, f"{f}.ends_at", MAX_SESSION)
        if not 1 <= capacity <= MAX_CAPACITY:
            raise InvalidArgument(
                f"{f}.capacity",
                "capacity.range",
                f"must be between 1 and {MAX_CAPACITY}",
                f"名额须在 1 至 {MAX_CAPACITY} 之间",
            )
        out.append(SessionSpec(s, e, capacity))
    return sorted(out, key=lambda x: x.starts_at)


def project_spec(raw: dict, division: str) -> ProjectSpec:
    """Check a create or update request's fields for an organisation at
    ``division`` (emergency campaigns are a province's or a city's)."""
    title = text(raw["title"], "title", 100)
    description = text(raw["description"], "description", 2000, required=False)
    place = text(raw["place"], "place", 200)
    if not raw["service_field"]:
        raise InvalidArgument.required("service_field")
    service_field = check_service_fields([raw["service_field"]], "service_field")[0]
    kind = raw["kind"]
    if not kind:
        raise InvalidArgument.required("kind")
    if kind not in KINDS:
        raise InvalidArgument(
            "kind",
            "kind.known",
            "kind must be SERVICE or DONATION",
            "类型须为服务或捐赠",
        )
    spec_sessions = sessions(raw["sessions"])
    r_start = utc_moment(raw["recruit_starts_at"], "recruit_starts_at")
    r_end = utc_moment(raw["recruit_ends_at"], "recruit_ends_at")
    check_order(r_start, r_end, "recruit_ends_at", timedelta(days=366))
    if r_end > spec_sessions[-1].ends_at:
        raise InvalidArgument(
            "recruit_ends_at",
            "recruit_ends_at.before_last_session",
            "recruitment must end by the end of the last session",
            "招募截止时间不能晚于最后一场活动结束时间",
        )
    min_age = raw["min_age"]
    if not 0 <= min_age <= 100:
        raise InvalidArgument(
            "eligibility.min_age",
            "min_age.range",
            "must be between 0 and 100",
            "最低年龄须在 0 至 100 之间",
        )
    skills = check_service_fields(raw["required_skills"], "eligibility.required_skills")
    emergency, approval = bool(raw["emergency"]), bool(raw["leader_approval"])
    if emergency and level_of(division).width > Level.CITY.width:
        raise InvalidArgument(
            "emergency",
            "emergency.level",
            "emergency campaigns are published at province or city level",
            "应急招募须由省级或市级组织发布",
        )
    if emergency and approval:
        raise InvalidArgument(
            "leader_approval",
            "leader_approval.emergency",
            "emergency campaigns take volunteers without approval",
            "应急招募无需负责人审批报名",
        )
    course = ident(raw.get("required_course_id", ""), "required_course_id", False)
    return ProjectSpec(
        title,
        description,
        place,
        service_field,
        kind,
        spec_sessions,
        r_start,
        r_end,
        min_age,
        skills,
        approval,
        emergency,
        course,
    )
