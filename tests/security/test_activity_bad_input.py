"""Bad input on activity's real api role: INVALID_ARGUMENT naming the field
(``zhiyuan-field``) and the rule (``zhiyuan-rule``), a Chinese message, no
stack trace, and nothing written by the rejected request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common

from tests.helpers import assert_field, auth, rejected
from tests.integration.test_activity_flow import Kit, editable, when

pytestmark = pytest.mark.integration
OWNER, TOWN = "610113", "610113002"
PAGE = common.PageRequest(page_size=500)


class Later:
    """A request value computed when the test runs, not when it is collected:
    the suite may run long after collection, and times are relative to now."""

    def __init__(self, make: Callable[[], Any]):
        self.make = make


def now(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.make() if isinstance(v, Later) else v for k, v in values.items()}


def at(minutes: float) -> Later:
    return Later(lambda: when(minutes))


def session(
    start: float = -10, end: float = 120, capacity: int = 5, **raw: str
) -> Later:
    def make() -> list[Any]:
        spec = pb.SessionSpec(
            starts_at=when(start), ends_at=when(end), capacity=capacity
        )
        for key, value in raw.items():
            setattr(spec, key, value)
        return [spec]

    return Later(make)


@pytest.fixture(scope="module")
def world(stub, stubs, token, worker, migrated) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    kit = Kit(stub, stubs("activity"), token, migrated)
    org, city = kit.org(OWNER), kit.org("6101")
    (vol,) = kit.volunteers(TOWN)
    md = auth(kit.token(OWNER))
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code=TOWN,
            name="孙奶奶",
            address="陕西省西安市雁塔区大雁塔街道",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=md,
    ).recipient
    pair = kit.act.CreatePair(
        pb.CreatePairRequest(
            recipient_id=rec.id, volunteer_id=vol.id, organisation_id=org.id
        ),
        metadata=md,
    ).pair
    return {"kit": kit, "org": org, "city": city, "vol": vol, "pair": pair, "md": md}


def total(world: dict[str, Any], method: str, request: Any, md: Any = None) -> int:
    reply = getattr(world["kit"].act, method)(request, metadata=md or world["md"])
    return int(reply.page.total_size)


# -- CreateProject: every field --------------------------------------------------------

LONG_SESSIONS = Later(lambda: session().make() * 51)
PROJECT_CASES = [
    ("no-org", {"organisation_id": ""}, "organisation_id", "organisation_id.required"),
    ("no-title", {"title": " "}, "title", "title.required"),
    ("long-title", {"title": "题" * 101}, "title", "title.max_length"),
    (
        "long-description",
        {"description": "述" * 2001},
        "description",
        "description.max_length",
    ),
    ("no-place", {"place": ""}, "place", "place.required"),
    ("long-place", {"place": "地" * 201}, "place", "place.max_length"),
    ("no-field", {"service_field": ""}, "service_field", "service_field.required"),
    (
        "unknown-field",
        {"service_field": "cooking"},
        "service_field",
        "service_field.known",
    ),
    ("no-kind", {"kind": pb.PROJECT_KIND_UNSPECIFIED}, "kind", "kind.required"),
    ("unknown-kind", {"kind": 9}, "kind", "kind.known"),
    ("no-sessions", {"sessions": []}, "sessions", "sessions.required"),
    ("51-sessions", {"sessions": LONG_SESSIONS}, "sessions", "sessions.max_count"),
    (
        "no-start",
        {"sessions": session(starts_at="")},
        "sessions[0].starts_at",
        "sessions[0].starts_at.required",
    ),
    (
        "start-not-a-time",
        {"sessions": session(starts_at="tomorrow 9am")},
        "sessions[0].starts_at",
        "sessions[0].starts_at.format",
    ),
    (
        "start-without-offset",
        {"sessions": session(starts_at="2026-11-08T09:00:00")},
        "sessions[0].starts_at",
        "sessions[0].starts_at.format",
    ),
    (
        "end-before-start",
        {"sessions": session(start=30, end=20)},
        "sessions[0].ends_at",
        "sessions[0].ends_at.after_start",
    ),
    (
        "25-hour-session",
        {"sessions": session(start=-10, end=25 * 60), "recruit_ends_at": at(30)},
        "sessions[0].ends_at",
        "sessions[0].ends_at.max_duration",
    ),
    (
        "zero-capacity",
        {"sessions": session(capacity=0)},
        "sessions[0].capacity",
        "capacity.range",
    ),
    (
        "huge-capacity",
        {"sessions": session(capacity=10_001)},
        "sessions[0].capacity",
        "capacity.range",
    ),
    (
        "no-recruit-start",
        {"recruit_starts_at": ""},
        "recruit_starts_at",
        "recruit_starts_at.required",
    ),
    (
        "bad-recruit-start",
        {"recruit_starts_at": "2026-13-01T00:00:00+08:00"},
        "recruit_starts_at",
        "recruit_starts_at.format",
    ),
    (
        "recruit-ends-before-it-starts",
        {"recruit_starts_at": at(30), "recruit_ends_at": at(20)},
        "recruit_ends_at",
        "recruit_ends_at.after_start",
    ),
    (
        "recruit-ends-after-last-session",
        {"recruit_ends_at": at(121)},
        "recruit_ends_at",
        "recruit_ends_at.before_last_session",
    ),
    (
        "negative-age",
        {"eligibility": pb.Eligibility(min_age=-1)},
        "eligibility.min_age",
        "min_age.range",
    ),
    (
        "age-101",
        {"eligibility": pb.Eligibility(min_age=101)},
        "eligibility.min_age",
        "min_age.range",
    ),
    (
        "unknown-skill",
        {"eligibility": pb.Eligibility(required_skills=["cooking"])},
        "eligibility.required_skills",
        "eligibility.required_skills.known",
    ),
    ("county-emergency", {"emergency": True}, "emergency", "emergency.level"),
]


@pytest.mark.parametrize(
    ("over", "field", "rule"), [pytest.param(*c[1:], id=c[0]) for c in PROJECT_CASES]
)
def test_create_project_names_the_field(world, over, field, rule) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    title = f"坏输入-{uuid.uuid4().hex[:8]}"
    listing = pb.ListProjectsRequest(division_code=OWNER, page=PAGE)
    before = total(world, "ListProjects", listing)
    request = kit.request(world["org"], **now({"title": title, **over}))
    assert_field(
        rejected(lambda: kit.act.CreateProject(request, metadata=world["md"])),
        field,
        rule,
    )
    assert total(world, "ListProjects", listing) == before
    titles = {
        p.title for p in kit.act.ListProjects(listing, metadata=world["md"]).projects
    }
    assert title not in titles


def test_emergency_campaign_cannot_ask_for_leader_approval(world) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    listing = pb.ListProjectsRequest(division_code="6101", page=PAGE)
    city = auth(kit.token("6101"))
    before = total(world, "ListProjects", listing, city)
    request = kit.request(world["city"], emergency=True, leader_approval=True)
    trailers = rejected(
        lambda: kit.act.CreateProject(request, metadata=auth(kit.token("6101")))
    )
    assert_field(trailers, "leader_approval", "leader_approval.emergency")
    assert total(world, "ListProjects", listing, city) == before


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [pytest.param(*c[1:], id=c[0]) for c in PROJECT_CASES if c[0] != "no-org"],
)
def test_update_project_names_the_field_and_changes_nothing(
    world, over, field, rule
) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    p = kit.draft(world["org"])
    request = pb.UpdateProjectRequest(
        id=p.id, **editable(kit.request(world["org"], **now(over)))
    )
    assert_field(
        rejected(lambda: kit.act.UpdateProject(request, metadata=world["md"])),
        field,
        rule,
    )
    after = kit.get(p.id, kit.token(OWNER))
    assert (after.title, list(after.sessions)) == (p.title, list(p.sessions))


# -- CreateRecipient -------------------------------------------------------------------

RECIPIENT_CASES = [
    ("no-division", {"division_code": ""}, "division_code", "division_code.required"),
    (
        "division-5-digits",
        {"division_code": "61011"},
        "division_code",
        "division_code.width",
    ),
    (
        "division-letters",
        {"division_code": "61011X"},
        "division_code",
        "division_code.format",
    ),
    ("no-name", {"name": ""}, "name", "name.required"),
    ("long-name", {"name": "名" * 51}, "name", "name.max_length"),
    ("bad-phone", {"phone": "12345"}, "phone", "phone.format"),
    ("no-address", {"address": " "}, "address", "address.required"),
    ("long-address", {"address": "址" * 201}, "address", "address.max_length"),
    ("no-mode", {"pairing_mode": 0}, "pairing_mode", "pairing_mode.required"),
    ("unknown-mode", {"pairing_mode": 9}, "pairing_mode", "pairing_mode.known"),
    ("long-needs", {"needs": "需" * 501}, "needs", "needs.max_length"),
    ("no-consent", {"consent": False}, "consent", "consent.required"),
]


@pytest.mark.parametrize(
    ("over", "field", "rule"), [pytest.param(*c[1:], id=c[0]) for c in RECIPIENT_CASES]
)
def test_create_recipient_names_the_field(world, over, field, rule) -> None:  # type: ignore[no-untyped-def]
    listing = pb.ListRecipientsRequest(division_code=OWNER)
    before = total(world, "ListRecipients", listing)
    fields = dict(
        division_code=TOWN,
        name="吴奶奶",
        phone="13891230009",
        address="陕西省西安市雁塔区",
        pairing_mode=pb.PAIRING_MODE_ONE_TO_ONE,
        needs="",
        consent=True,
    )
    fields.update(over)

    def call() -> Any:
        return world["kit"].act.CreateRecipient(
            pb.CreateRecipientRequest(**fields), metadata=world["md"]
        )

    assert_field(rejected(call), field, rule)
    assert total(world, "ListRecipients", listing) == before


# -- CreatePair, LogVisit, SignUp ------------------------------------------------------


@pytest.mark.parametrize("missing", ["recipient_id", "volunteer_id", "organisation_id"])
def test_create_pair_names_the_missing_field(world, missing: str) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code=TOWN,
            name="郑爷爷",
            address="陕西省西安市雁塔区",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=world["md"],
    ).recipient
    fields = {
        "recipient_id": rec.id,
        "volunteer_id": world["vol"].id,
        "organisation_id": world["org"].id,
        missing: "",
    }

    def call() -> Any:
        return kit.act.CreatePair(pb.CreatePairRequest(**fields), metadata=world["md"])

    assert_field(rejected(call), missing, f"{missing}.required")
    assert not kit.act.ListPairs(
        pb.ListPairsRequest(recipient_id=rec.id), metadata=world["md"]
    ).pairs


def test_pair_organisation_must_cover_the_recipient(world) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    far = kit.org("610116")
    city = auth(kit.token("6101"))
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code=TOWN,
            name="钱奶奶",
            address="陕西省西安市雁塔区",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=city,
    ).recipient

    def call() -> Any:
        return kit.act.CreatePair(
            pb.CreatePairRequest(
                recipient_id=rec.id,
                volunteer_id=world["vol"].id,
                organisation_id=far.id,
            ),
            metadata=city,
        )

    assert_field(rejected(call), "organisation_id", "organisation_id.covers_recipient")
    assert not kit.act.ListPairs(
        pb.ListPairsRequest(recipient_id=rec.id), metadata=city
    ).pairs


VISIT_CASES = [
    ("no-pair", {"pair_id": ""}, "pair_id", "pair_id.required"),
    ("no-start", {"started_at": ""}, "started_at", "started_at.required"),
    ("bad-start", {"started_at": "yesterday"}, "started_at", "started_at.format"),
    ("no-end", {"ended_at": ""}, "ended_at", "ended_at.required"),
    ("end-before-start", {"ended_at": at(-130)}, "ended_at", "ended_at.after_start"),
    (
        "13-hour-visit",
        {"started_at": at(-14 * 60), "ended_at": at(-60)},
        "ended_at",
        "ended_at.max_duration",
    ),
    (
        "in-the-future",
        {"started_at": at(30), "ended_at": at(90)},
        "ended_at",
        "ended_at.not_future",
    ),
    ("long-note", {"note": "记" * 1001}, "note", "note.max_length"),
]


@pytest.mark.parametrize(
    ("over", "field", "rule"), [pytest.param(*c[1:], id=c[0]) for c in VISIT_CASES]
)
def test_log_visit_names_the_field(world, over, field, rule) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    pair = world["pair"].id
    listing = pb.ListVisitsRequest(pair_id=pair)
    before = total(world, "ListVisits", listing)
    fields = {
        "pair_id": pair,
        "started_at": at(-120),
        "ended_at": at(-60),
        "note": "",
    }
    fields = now({**fields, **over})

    def call() -> Any:
        return kit.act.LogVisit(pb.LogVisitRequest(**fields), metadata=world["md"])

    assert_field(rejected(call), field, rule)
    assert total(world, "ListVisits", listing) == before


@pytest.mark.parametrize("missing", ["session_id", "volunteer_id"])
def test_sign_up_names_the_missing_field(world, missing: str) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    p = kit.published(world["org"])
    fields = {
        "session_id": p.sessions[0].id,
        "volunteer_id": world["vol"].id,
        missing: "",
    }

    def call() -> Any:
        return kit.act.SignUp(pb.SignUpRequest(**fields), metadata=world["md"])

    assert_field(rejected(call), missing, f"{missing}.required")
    assert kit.get(p.id, kit.token(OWNER)).sessions[0].confirmed == 0


# -- the other calls that take values --------------------------------------------------


def test_check_in_code_must_be_six_digits(world) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    p = kit.started(world["org"])
    kit.sign_up(p.sessions[0].id, world["vol"].id, kit.token(OWNER))
    for code in ("12ab56", "12345", "1234567"):

        def call(c: str = code) -> Any:
            return kit.act.CheckIn(
                pb.CheckInRequest(
                    session_id=p.sessions[0].id, volunteer_id=world["vol"].id, code=c
                ),
                metadata=world["md"],
            )

        assert_field(rejected(call), "code", "code.format")
    listing = pb.ListAttendancesRequest(session_id=p.sessions[0].id)
    assert total(world, "ListAttendances", listing) == 0


@pytest.mark.parametrize(
    ("ended_at", "rule"), [("", "ended_at.required"), ("late", "ended_at.format")]
)
def test_close_attendance_end_time(world, ended_at: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]

    def call() -> Any:
        return kit.act.CloseAttendance(
            pb.CloseAttendanceRequest(
                session_id=str(uuid.uuid4()),
                volunteer_id=world["vol"].id,
                ended_at=ended_at,
            ),
            metadata=world["md"],
        )

    assert_field(rejected(call), "ended_at", rule)


def test_reasons_are_required_or_bounded(world) -> None:  # type: ignore[no-untyped-def]
    kit: Kit = world["kit"]
    submitted = kit.submitted(world["org"])

    def call() -> Any:
        return kit.act.ReturnProject(
            pb.ReturnProjectRequest(id=submitted.id, reason=" "), metadata=world["md"]
        )

    assert_field(rejected(call), "reason", "reason.required")
    draft = kit.draft(world["org"])

    def call() -> Any:
        return kit.act.CancelProject(
            pb.CancelProjectRequest(id=draft.id, reason="因" * 501),
            metadata=world["md"],
        )

    assert_field(rejected(call), "reason", "reason.max_length")
    token = world["kit"].token(OWNER)
    assert kit.get(submitted.id, token).status == pb.PROJECT_STATUS_SUBMITTED
    assert kit.get(draft.id, token).status == pb.PROJECT_STATUS_DRAFT


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"division_code": "61X"}, "query.division_code", "division_code.format"),
        (
            {"division_code": "61", "group_by": common.DIVISION_LEVEL_PROVINCE},
            "query.group_by",
            "group_by.below_node",
        ),
        ({"group_by": 9}, "query.group_by", "query.group_by.known"),
        (
            {"period": common.Period(start_month="2026-13")},
            "query.period.start_month",
            "period.month_format",
        ),
    ],
)
def test_summarize_names_the_field(world, query, field, rule) -> None:  # type: ignore[no-untyped-def]
    def call() -> Any:
        return world["kit"].act.Summarize(
            pb.SummarizeRequest(query=common.RollupQuery(**query)),
            metadata=auth(world["kit"].token("61", "province_admin")),
        )

    assert_field(rejected(call), field, rule)


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"division_code": "61X"}, "query.division_code", "division_code.format"),
        (
            {"division_code": "61", "group_by": common.DIVISION_LEVEL_PROVINCE},
            "query.group_by",
            "group_by.below_node",
        ),
        ({"group_by": 9}, "query.group_by", "query.group_by.known"),
        (
            {"period": common.Period(start_month="2026-13")},
            "query.period.start_month",
            "period.month_format",
        ),
        (
            {"period": common.Period(start_month="2026-03", end_month="2026-05")},
            "query.period",
            "period.stored",
        ),
        ({"by_month": True}, "query.period", "period.stored"),
    ],
)
def test_summarize_federated_names_the_field(world, query, field, rule) -> None:  # type: ignore[no-untyped-def]
    def call() -> Any:
        return world["kit"].act.SummarizeFederated(
            pb.SummarizeFederatedRequest(query=common.RollupQuery(**query)),
            metadata=auth(world["kit"].token("61", "province_admin")),
        )

    assert_field(rejected(call), field, rule)


def test_bad_page_token_and_status(world) -> None:  # type: ignore[no-untyped-def]
    act = world["kit"].act

    def call() -> Any:
        return act.ListProjects(
            pb.ListProjectsRequest(page=common.PageRequest(page_token="not-a-token")),
            metadata=world["md"],
        )

    assert_field(rejected(call), "page.page_token", "page.token")

    def call() -> Any:
        return act.ListProjects(pb.ListProjectsRequest(status=42), metadata=world["md"])

    assert_field(rejected(call), "status", "status.known")


# -- SetInsuranceCover: every field ---------------------------------------------------

COVER_CASES = [
    ("no-project", {"project_id": ""}, "project_id", "project_id.required"),
    ("project-not-an-id", {"project_id": "P-1"}, "project_id", "project_id.format"),
    ("no-insurer", {"insurer": " "}, "insurer", "insurer.required"),
    ("long-insurer", {"insurer": "险" * 101}, "insurer", "insurer.max_length"),
    ("insurer-cr", {"insurer": "人保\r财险"}, "insurer", "insurer.characters"),
    ("no-number", {"policy_number": ""}, "policy_number", "policy_number.required"),
    (
        "long-number",
        {"policy_number": "P" * 51},
        "policy_number",
        "policy_number.max_length",
    ),
    (
        "bare-cr",
        {"policy_number": "PEAC\r2026"},
        "policy_number",
        "policy_number.characters",
    ),
    (
        "nul-byte",
        {"policy_number": "PEAC\x002026"},
        "policy_number",
        "policy_number.characters",
    ),
    (
        "chinese-number",
        {"policy_number": "保单2026"},
        "policy_number",
        "policy_number.format",
    ),
    ("no-start", {"starts_on": ""}, "starts_on", "starts_on.required"),
    ("start-slashes", {"starts_on": "2026/12/01"}, "starts_on", "starts_on.format"),
    ("end-no-day", {"ends_on": "2026-02-30"}, "ends_on", "ends_on.format"),
    ("end-before-start", {"ends_on": "2026-11-30"}, "ends_on", "ends_on.after_start"),
]


def _cover_fields(project: str, **over: str) -> dict[str, str]:
    fields = {
        "project_id": project,
        "insurer": "中国人民财产保险",
        "policy_number": "PEAC2026001",
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
    }
    return {**fields, **over}


def _cover_of(world: dict[str, Any], project_id: str) -> Any:
    return world["kit"].act.GetInsuranceCover(
        pb.GetInsuranceCoverRequest(project_id=project_id), metadata=world["md"]
    )


@pytest.mark.parametrize(
    ("over", "field", "rule"), [pytest.param(*c[1:], id=c[0]) for c in COVER_CASES]
)
def test_set_insurance_cover_names_the_field_and_writes_nothing(
    world: dict[str, Any], over: dict[str, str], field: str, rule: str
) -> None:
    kit: Kit = world["kit"]
    p = kit.draft(world["org"], tok=kit.token(OWNER), service_field="emergency")
    request = pb.SetInsuranceCoverRequest(**_cover_fields(p.id, **over))

    def call() -> Any:
        return kit.act.SetInsuranceCover(request, metadata=world["md"])

    assert_field(rejected(call), field, rule)
    assert not _cover_of(world, p.id).HasField("cover")


def test_full_width_policy_number_is_stored_as_ascii(world: dict[str, Any]) -> None:
    kit: Kit = world["kit"]
    p = kit.draft(world["org"], tok=kit.token(OWNER))
    fields = _cover_fields(p.id, policy_number="ｐｅａｃ－２０２６－０Ｘ")
    got = kit.act.SetInsuranceCover(
        pb.SetInsuranceCoverRequest(**fields), metadata=world["md"]
    )
    assert got.cover.policy_number == "PEAC-2026-0X"
    assert _cover_of(world, p.id).cover.policy_number == "PEAC-2026-0X"


@pytest.mark.parametrize(
    "method",
    ["GetInsuranceCover", "ListInsuredVolunteers", "ExportInsuredVolunteers"],
)
@pytest.mark.parametrize(
    ("project_id", "rule"), [("", "project_id.required"), ("x", "project_id.format")]
)
def test_insurance_reads_name_the_project_field(
    world: dict[str, Any], method: str, project_id: str, rule: str
) -> None:
    request = getattr(pb, f"{method}Request")(project_id=project_id)

    def call() -> Any:
        return getattr(world["kit"].act, method)(request, metadata=world["md"])

    assert_field(rejected(call), "project_id", rule)


# -- training: every new RPC ----------------------------------------------------------


def _training_world(world: dict[str, Any]) -> dict[str, Any]:
    """A course of the owner and a two-hour session of it (made once)."""
    if "training" not in world:
        kit: Kit = world["kit"]
        course = kit.act.CreateCourse(
            pb.CreateCourseRequest(title="坏输入课程"), metadata=world["md"]
        ).course
        session = kit.act.CreateTrainingSession(
            pb.CreateTrainingSessionRequest(
                course_id=course.id,
                place="培训室",
                starts_at=when(-180),
                ends_at=when(-60),
            ),
            metadata=world["md"],
        ).session
        world["training"] = {"course": course.id, "session": session.id}
    return dict(world["training"])


COURSE, SESSION, VOLUNTEER = object(), object(), object()
TRAINING_CASES = [
    ("course-no-title", "CreateCourse", {"title": ""}, "title", "title.required"),
    (
        "course-long-title",
        "CreateCourse",
        {"title": "课" * 101},
        "title",
        "title.max_length",
    ),
    (
        "course-bad-division",
        "CreateCourse",
        {"title": "课", "division_code": "61011X"},
        "division_code",
        None,
    ),
    (
        "session-no-course",
        "CreateTrainingSession",
        {"course_id": "", "place": "室", "starts_at": at(-60), "ends_at": at(-30)},
        "course_id",
        "course_id.required",
    ),
    (
        "session-course-not-an-id",
        "CreateTrainingSession",
        {"course_id": "C1", "place": "室", "starts_at": at(-60), "ends_at": at(-30)},
        "course_id",
        "course_id.format",
    ),
    (
        "session-no-place",
        "CreateTrainingSession",
        {"course_id": COURSE, "place": "", "starts_at": at(-60), "ends_at": at(-30)},
        "place",
        "place.required",
    ),
    (
        "session-start-not-a-time",
        "CreateTrainingSession",
        {"course_id": COURSE, "place": "室", "starts_at": "明天", "ends_at": at(-30)},
        "starts_at",
        "starts_at.format",
    ),
    (
        "session-ends-first",
        "CreateTrainingSession",
        {"course_id": COURSE, "place": "室", "starts_at": at(-30), "ends_at": at(-60)},
        "ends_at",
        "ends_at.after_start",
    ),
    (
        "attendance-no-session",
        "RecordTrainingAttendance",
        {"training_session_id": "", "volunteer_id": VOLUNTEER},
        "training_session_id",
        "training_session_id.required",
    ),
    (
        "attendance-no-volunteer",
        "RecordTrainingAttendance",
        {"training_session_id": SESSION, "volunteer_id": " "},
        "volunteer_id",
        "volunteer_id.required",
    ),
    (
        "attendance-negative-hours",
        "RecordTrainingAttendance",
        {"training_session_id": SESSION, "volunteer_id": VOLUNTEER, "hours": -1},
        "hours",
        "hours.range",
    ),
    (
        "attendance-longer-than-session",
        "RecordTrainingAttendance",
        {"training_session_id": SESSION, "volunteer_id": VOLUNTEER, "hours": 2.5},
        "hours",
        "hours.range",
    ),
    (
        "attendances-no-session",
        "ListTrainingAttendances",
        {"training_session_id": ""},
        "training_session_id",
        "training_session_id.required",
    ),
    (
        "sessions-course-not-an-id",
        "ListTrainingSessions",
        {"course_id": "C1"},
        "course_id",
        "course_id.format",
    ),
]


def _training_counts(world: dict[str, Any]) -> tuple[int, int, int]:
    kit: Kit = world["kit"]
    md = world["md"]
    ids = _training_world(world)
    courses = kit.act.ListCourses(pb.ListCoursesRequest(page=PAGE), metadata=md)
    sessions = kit.act.ListTrainingSessions(
        pb.ListTrainingSessionsRequest(course_id=ids["course"], page=PAGE), metadata=md
    )
    attended = kit.act.ListTrainingAttendances(
        pb.ListTrainingAttendancesRequest(training_session_id=ids["session"]),
        metadata=md,
    )
    return (
        int(courses.page.total_size),
        int(sessions.page.total_size),
        int(attended.page.total_size),
    )


@pytest.mark.parametrize(
    ("method", "fields", "field", "rule"),
    [pytest.param(*c[1:], id=c[0]) for c in TRAINING_CASES],
)
def test_training_rpcs_name_the_field_and_write_nothing(
    world: dict[str, Any],
    method: str,
    fields: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    ids = _training_world(world)
    stand_in = {COURSE: ids["course"], SESSION: ids["session"]}
    stand_in[VOLUNTEER] = world["vol"].id
    values = {k: stand_in.get(v, v) for k, v in now(fields).items()}
    request = getattr(pb, f"{method}Request")(**values)
    before = _training_counts(world)

    def call() -> Any:
        return getattr(world["kit"].act, method)(request, metadata=world["md"])

    assert_field(rejected(call), field, rule)
    assert _training_counts(world) == before


def test_create_project_names_a_malformed_required_course(
    world: dict[str, Any],
) -> None:
    kit: Kit = world["kit"]
    req = kit.request(world["org"], required_course_id="C-1")

    def call() -> Any:
        return kit.act.CreateProject(req, metadata=world["md"])

    assert_field(rejected(call), "required_course_id", "required_course_id.format")
