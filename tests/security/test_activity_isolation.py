"""Tenant isolation for every ActivityService RPC, caller by caller, on the
real api role and the real worker's replica.

The owner is Yanta district (610113): its organisation sits at the county,
its volunteers, recipients and pairs in the township 大雁塔街道 (610113002).
Callers (as in registration's matrix):

    owner     610113     tenant_admin     sibling   610103     tenant_admin
    city      6101       tenant_admin     province  61         province_admin
    child     610113001  tenant_admin     noscope   ""         tenant_admin

* naming a division outside one's subtree is PERMISSION_DENIED;
* addressing another tenant's entity by id is NOT_FOUND, exactly as if the
  id did not exist; a child township never reads its county's projects;
* a refused write leaves nothing changed (checked with the owner's token).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as rpb

from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, editable, when
from tests.security.campaign_specs import CAMPAIGN_SPECS
from tests.security.matrix import (
    NF,
    OK,
    PD,
    Spec,
    caller_token,
    check_indistinguishable,
    check_isolation,
    federated_read,
    outcome,
    params,
    rpc_names,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, SIBLING, CITY, PROVINCE, CHILD = "610113", "610103", "6101", "61", "610113001"
TOWN = "610113002"
SCOPES = {
    "owner": OWNER,
    "sibling": SIBLING,
    "city": CITY,
    "province": PROVINCE,
    "child": CHILD,
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (*SCOPES, "noscope", "national")
SCOPED = dict(owner=OK, sibling=PD, city=OK, province=OK, child=PD, noscope=PD)
BY_ID = dict(owner=OK, sibling=NF, city=OK, province=OK, child=NF, noscope=PD)
NOBODY = {who: PD for who in CALLERS}  # the volunteer's own calls
PAGE = common.PageRequest(page_size=500)


@dataclass
class World:
    kit: Kit
    org: rpb.Organisation = None  # type: ignore[assignment]
    vol: rpb.Volunteer = None  # type: ignore[assignment]
    sib_org: rpb.Organisation = None  # type: ignore[assignment]
    sib_vol: rpb.Volunteer = None  # type: ignore[assignment]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def act(self) -> Any:
        return self.kit.act

    @property
    def own(self) -> list[tuple[str, str]]:
        return auth(self.kit.token(OWNER))

    @property
    def lead(self) -> list[tuple[str, str]]:
        return auth(self.kit.publisher(self.org))

    def caller(self, who: str) -> str:
        # Every caller with its default role (no per-call roles here).
        return caller_token(self.kit.token, SCOPES, who)

    # -- targets -----------------------------------------------------------------
    def draft(self, **over: Any) -> pb.Project:
        return self.kit.draft(self.org, **over)

    def status(self, p: pb.Project) -> int:
        return self.kit.get(p.id, self.kit.token(OWNER)).status

    def signed(self, approval: bool = False) -> tuple[pb.Project, pb.SignUp]:
        p = self.kit.published(self.org, leader_approval=approval)
        return p, self.kit.sign_up(p.sessions[0].id, self.vol.id, self.kit.token(OWNER))

    def started_signed(self) -> tuple[pb.Project, pb.SignUp]:
        p = self.kit.started(self.org)
        return p, self.kit.sign_up(p.sessions[0].id, self.vol.id, self.kit.token(OWNER))

    def checked_in(self) -> tuple[pb.Project, pb.SignUp]:
        p, s = self.started_signed()
        self.act.CheckIn(
            pb.CheckInRequest(session_id=s.session_id, volunteer_id=self.vol.id),
            metadata=self.lead,
        )
        return p, s

    def sign_ups(self, session_id: str) -> dict[str, int]:
        got = self.act.ListSignUps(
            pb.ListSignUpsRequest(session_id=session_id, page=PAGE), metadata=self.own
        ).sign_ups
        return {x.id: x.status for x in got}

    def attendances(self, session_id: str) -> list[pb.Attendance]:
        return list(
            self.act.ListAttendances(
                pb.ListAttendancesRequest(session_id=session_id, page=PAGE),
                metadata=self.own,
            ).attendances
        )

    def recipient(self, marker: str = "") -> pb.Recipient:
        return self.act.CreateRecipient(
            recipient_request(marker or uuid.uuid4().hex), metadata=self.own
        ).recipient

    def pair(self) -> pb.Pair:
        rec = self.recipient()
        return self.act.CreatePair(
            pb.CreatePairRequest(
                recipient_id=rec.id,
                volunteer_id=self.vol.id,
                organisation_id=self.org.id,
            ),
            metadata=self.own,
        ).pair

    def pairs_of(self, recipient_id: str) -> list[pb.Pair]:
        return list(
            self.act.ListPairs(
                pb.ListPairsRequest(recipient_id=recipient_id), metadata=self.own
            ).pairs
        )

    def visits_of(self, pair_id: str) -> list[pb.Visit]:
        return list(
            self.act.ListVisits(
                pb.ListVisitsRequest(pair_id=pair_id), metadata=self.own
            ).visits
        )


def recipient_request(marker: str) -> pb.CreateRecipientRequest:
    return pb.CreateRecipientRequest(
        division_code=TOWN,
        name="赵大爷",
        address="陕西省西安市雁塔区大雁塔街道某社区",
        pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
        needs=marker,
        consent=True,
    )


@pytest.fixture(scope="module")
def w(stub, stubs, token, worker, migrated) -> World:  # type: ignore[no-untyped-def]
    kit = Kit(stub, stubs("activity"), token, migrated)
    world = World(kit)
    world.org, world.sib_org = kit.org(OWNER), kit.org(SIBLING)
    (world.vol,) = kit.volunteers(TOWN)
    (world.sib_vol,) = kit.volunteers("610103002")
    return world


# -- one specification per RPC ---------------------------------------------------------


def project_call(method: str, request: Callable[..., Any], **extra: Any) -> Any:
    def act(w: World, p: pb.Project, tok: str) -> Any:
        return getattr(w.act, method)(request(id=p.id, **extra), metadata=auth(tok))

    return act


def now_status(expected: int) -> Callable[[World, pb.Project, Any], None]:
    def check(w: World, p: pb.Project, *_: Any) -> None:
        assert w.status(p) == expected

    return check


def transition(
    method: str,
    request: Any,
    prepare: Callable[[World], pb.Project],
    before: int,
    after: int,
    **extra: Any,
) -> Spec:
    return Spec(
        BY_ID,
        project_call(method, request, **extra),
        prepare=prepare,
        succeeded=now_status(after),
        unchanged=now_status(before),
    )


def _create(w: World, title: str, tok: str) -> Any:
    return w.act.CreateProject(w.kit.request(w.org, title=title), metadata=auth(tok))


def _titles(w: World) -> set[str]:
    got = w.act.ListProjects(
        pb.ListProjectsRequest(division_code=OWNER, page=PAGE), metadata=w.own
    ).projects
    return {p.title for p in got}


def _project_created(w: World, title: str, resp: Any) -> None:
    assert (resp.project.title, resp.project.division_code) == (title, OWNER)
    assert title in _titles(w)


def _no_project(w: World, title: str) -> None:
    assert title not in _titles(w)


def _update(w: World, p: pb.Project, tok: str) -> Any:
    req = w.kit.request(w.org, title="矩阵改名")
    return w.act.UpdateProject(
        pb.UpdateProjectRequest(id=p.id, **editable(req)), metadata=auth(tok)
    )


def _listed_projects(method: str, request: Any) -> Callable[[World, Any, str], Any]:
    def act(w: World, _: Any, tok: str) -> Any:
        return getattr(w.act, method)(
            request(division_code=OWNER, page=PAGE), metadata=auth(tok)
        )

    return act


def _contains_project(w: World, p: pb.Project, resp: Any) -> None:
    assert p.id in {x.id for x in resp.projects}
    # The owner's subtree, plus (open lists only) its ancestors' emergencies.
    for x in resp.projects:
        upward = x.emergency and OWNER.startswith(x.division_code)
        assert x.division_code.startswith(OWNER) or (
            upward and resp.DESCRIPTOR.name == "ListOpenProjectsResponse"
        )


def _sign_up(w: World, p: pb.Project, tok: str) -> Any:
    return w.act.SignUp(
        pb.SignUpRequest(session_id=p.sessions[0].id, volunteer_id=w.vol.id),
        metadata=auth(tok),
    )


def _sign_up_by_id(method: str, request: Any, **extra: Any) -> Any:
    def act(w: World, t: tuple[pb.Project, pb.SignUp], tok: str) -> Any:
        return getattr(w.act, method)(
            request(sign_up_id=t[1].id, **extra), metadata=auth(tok)
        )

    return act


def _sign_up_now(expected: int) -> Callable[..., None]:
    def check(w: World, t: tuple[pb.Project, pb.SignUp], *_: Any) -> None:
        assert w.sign_ups(t[1].session_id)[t[1].id] == expected

    return check


def _attendance_call(method: str, request: Any, **extra: Any) -> Any:
    def act(w: World, t: tuple[pb.Project, pb.SignUp], tok: str) -> Any:
        fields = {"session_id": t[1].session_id, "volunteer_id": w.vol.id, **extra}
        if method == "CloseAttendance":
            fields["ended_at"] = datetime.now(UTC).isoformat()
        return getattr(w.act, method)(request(**fields), metadata=auth(tok))

    return act


def _attended(closed: bool) -> Callable[..., None]:
    def check(w: World, t: tuple[pb.Project, pb.SignUp], *_: Any) -> None:
        rows = w.attendances(t[1].session_id)
        assert [bool(a.checked_out_at) for a in rows] == [closed]

    return check


def _own_attendance(method: str, request: Any) -> Any:
    """CheckInMe or CheckOutMe with the session's right code."""

    def act(w: World, t: tuple[pb.Project, pb.SignUp], tok: str) -> Any:
        code = w.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=t[1].session_id), metadata=w.lead
        ).code
        return getattr(w.act, method)(
            request(code=code, session_id=t[1].session_id), metadata=auth(tok)
        )

    return act


def _no_attendance(w: World, t: tuple[pb.Project, pb.SignUp]) -> None:
    assert w.attendances(t[1].session_id) == []


def _summarized(w: World, _: Any, resp: Any) -> None:
    assert resp.rollup.total.division.code == OWNER
    assert resp.rollup.total.metrics["projects_published"] >= 1
    assert all(r.division.code.startswith(OWNER) for r in resp.rollup.rows)


def _recipient_created(w: World, marker: str, resp: Any) -> None:
    assert resp.recipient.division_code == TOWN and resp.recipient.needs == marker


def _no_recipient(w: World, marker: str) -> None:
    got = w.act.ListRecipients(
        pb.ListRecipientsRequest(division_code=OWNER, page=PAGE), metadata=w.own
    ).recipients
    assert marker not in {r.needs for r in got}


def _list_in(method: str, request: Any, attr: str) -> Callable[[World, Any, str], Any]:
    def act(w: World, _: Any, tok: str) -> Any:
        return getattr(w.act, method)(
            request(division_code=OWNER, page=PAGE), metadata=auth(tok)
        )

    return act


def _has(attr: str, key: Callable[[Any], str]) -> Callable[[World, Any, Any], None]:
    def check(w: World, target: Any, resp: Any) -> None:
        rows = getattr(resp, attr)
        assert key(target) in {x.id for x in rows}
        assert all(x.division_code.startswith(OWNER) for x in rows)

    return check


def _create_pair(w: World, rec: pb.Recipient, tok: str) -> Any:
    return w.act.CreatePair(
        pb.CreatePairRequest(
            recipient_id=rec.id, volunteer_id=w.vol.id, organisation_id=w.org.id
        ),
        metadata=auth(tok),
    )


def _log_visit(w: World, pair: pb.Pair, tok: str) -> Any:
    return w.act.LogVisit(
        pb.LogVisitRequest(pair_id=pair.id, started_at=when(-60), ended_at=when(-10)),
        metadata=auth(tok),
    )


def _visit(w: World) -> pb.Visit:
    pair = w.pair()
    return _log_visit(w, pair, w.kit.token(OWNER)).visit


def _cover_request(p: pb.Project, number: str) -> pb.SetInsuranceCoverRequest:
    today = datetime.now(UTC).date()
    return pb.SetInsuranceCoverRequest(
        project_id=p.id,
        insurer="中国人民财产保险",
        policy_number=number,
        starts_on=today.replace(day=1).isoformat(),
        ends_on=today.replace(year=today.year + 1).isoformat(),
    )


def _cover_of(w: World, p: pb.Project) -> str:
    got = w.act.GetInsuranceCover(
        pb.GetInsuranceCoverRequest(project_id=p.id), metadata=w.own
    )
    return got.cover.policy_number if got.HasField("cover") else ""


def _insured(w: World) -> tuple[pb.Project, pb.SignUp]:
    p, s = w.signed()
    w.act.SetInsuranceCover(_cover_request(p, "PEAC-MATRIX-1"), metadata=w.own)
    return p, s


def _insured_csv(w: World, t: tuple[pb.Project, pb.SignUp], r: Any) -> None:
    text = r.csv.decode("utf-8-sig")
    assert text.startswith("姓名,证件类型,证件号码,志愿者编号")
    assert w.vol.volunteer_number in text and "PEAC-MATRIX-1" in text


def _course(w: World, marker: str = "") -> pb.Course:
    return w.act.CreateCourse(
        pb.CreateCourseRequest(
            division_code=OWNER, title=marker or f"矩阵课程-{uuid.uuid4().hex[:8]}"
        ),
        metadata=w.own,
    ).course


def _course_titles(w: World) -> set[str]:
    got = w.act.ListCourses(
        pb.ListCoursesRequest(division_code=OWNER, page=PAGE), metadata=w.own
    ).courses
    return {c.title for c in got}


def _menu_has(w: World, course: pb.Course, resp: Any) -> None:
    # The owner's subtree's courses and its ancestors' (the menu), nothing else.
    assert course.id in {c.id for c in resp.courses}
    for c in resp.courses:
        assert c.division_code.startswith(OWNER) or OWNER.startswith(c.division_code)


def _training_request(course: pb.Course) -> pb.CreateTrainingSessionRequest:
    return pb.CreateTrainingSessionRequest(
        course_id=course.id,
        division_code=OWNER,
        place="雁塔区红十字会",
        starts_at=when(-180),
        ends_at=when(-60),
    )


def _training(w: World) -> pb.TrainingSession:
    return w.act.CreateTrainingSession(
        _training_request(_course(w)), metadata=w.own
    ).session


def _sessions_of(w: World, course_id: str) -> list[str]:
    got = w.act.ListTrainingSessions(
        pb.ListTrainingSessionsRequest(course_id=course_id, page=PAGE),
        metadata=w.own,
    ).sessions
    return [x.id for x in got]


def _trained(w: World, session_id: str) -> list[str]:
    got = w.act.ListTrainingAttendances(
        pb.ListTrainingAttendancesRequest(training_session_id=session_id, page=PAGE),
        metadata=w.own,
    ).attendances
    return [x.volunteer_id for x in got]


def _training_attended(w: World) -> pb.TrainingSession:
    session = _training(w)
    w.act.RecordTrainingAttendance(
        pb.RecordTrainingAttendanceRequest(
            training_session_id=session.id, volunteer_id=w.vol.id
        ),
        metadata=w.own,
    )
    return session


def _imported_training(w: World) -> list[str]:
    """The source session ids of the volunteer's imported training."""
    got = w.act.ListTrainingOf(
        pb.ListTrainingOfRequest(volunteer_id=w.vol.id, include_undated=True),
        metadata=w.own,
    ).attendances
    return [x.source_session_id for x in got if x.imported]


def _record_training(w: World, session: pb.TrainingSession, tok: str) -> Any:
    return w.act.RecordTrainingAttendance(
        pb.RecordTrainingAttendanceRequest(
            training_session_id=session.id, volunteer_id=w.vol.id, hours=1
        ),
        metadata=auth(tok),
    )


SPECS: dict[str, Spec] = {
    "CreateProject": Spec(
        BY_ID,
        _create,
        prepare=lambda w: f"矩阵项目-{uuid.uuid4().hex[:8]}",
        succeeded=_project_created,
        unchanged=_no_project,
    ),
    "UpdateProject": Spec(
        BY_ID,
        _update,
        prepare=World.draft,
        succeeded=lambda w, p, r: (
            w.kit.get(p.id, w.kit.token(OWNER)).title == "矩阵改名"
            or pytest.fail("not renamed")
        ),
        unchanged=lambda w, p: (
            w.kit.get(p.id, w.kit.token(OWNER)).title == p.title
            or pytest.fail("renamed")
        ),
    ),
    "GetProject": Spec(
        BY_ID,
        project_call("GetProject", pb.GetProjectRequest),
        prepare=World.draft,
        succeeded=lambda w, p, r: r.project.id == p.id or pytest.fail("wrong project"),
    ),
    "ListProjects": Spec(
        SCOPED,
        _listed_projects("ListProjects", pb.ListProjectsRequest),
        prepare=World.draft,
        succeeded=_contains_project,
    ),
    "ListOpenProjects": Spec(
        SCOPED,
        _listed_projects("ListOpenProjects", pb.ListOpenProjectsRequest),
        prepare=lambda w: w.kit.published(w.org),
        succeeded=_contains_project,
    ),
    "SubmitProject": transition(
        "SubmitProject",
        pb.SubmitProjectRequest,
        World.draft,
        pb.PROJECT_STATUS_DRAFT,
        pb.PROJECT_STATUS_SUBMITTED,
    ),
    "ApproveProject": transition(
        "ApproveProject",
        pb.ApproveProjectRequest,
        lambda w: w.kit.submitted(w.org),
        pb.PROJECT_STATUS_SUBMITTED,
        pb.PROJECT_STATUS_APPROVED,
    ),
    "ReturnProject": transition(
        "ReturnProject",
        pb.ReturnProjectRequest,
        lambda w: w.kit.submitted(w.org),
        pb.PROJECT_STATUS_SUBMITTED,
        pb.PROJECT_STATUS_RETURNED,
        reason="请补充安全预案",
    ),
    "PublishProject": transition(
        "PublishProject",
        pb.PublishProjectRequest,
        lambda w: w.kit.approved(w.org),
        pb.PROJECT_STATUS_APPROVED,
        pb.PROJECT_STATUS_RECRUITING,
    ),
    "StartProject": transition(
        "StartProject",
        pb.StartProjectRequest,
        lambda w: w.kit.published(w.org),
        pb.PROJECT_STATUS_RECRUITING,
        pb.PROJECT_STATUS_IN_PROGRESS,
    ),
    "CompleteProject": transition(
        "CompleteProject",
        pb.CompleteProjectRequest,
        lambda w: w.kit.started(w.org),
        pb.PROJECT_STATUS_IN_PROGRESS,
        pb.PROJECT_STATUS_COMPLETED,
    ),
    "CancelProject": transition(
        "CancelProject",
        pb.CancelProjectRequest,
        World.draft,
        pb.PROJECT_STATUS_DRAFT,
        pb.PROJECT_STATUS_CANCELLED,
    ),
    "SignUp": Spec(
        BY_ID,
        _sign_up,
        prepare=lambda w: w.kit.published(w.org),
        succeeded=lambda w, p, r: (
            r.sign_up.status == pb.SIGN_UP_STATUS_CONFIRMED
            or pytest.fail("not confirmed")
        ),
        unchanged=lambda w, p: (
            w.sign_ups(p.sessions[0].id) == {} or pytest.fail("signed up")
        ),
    ),
    "WithdrawSignUp": Spec(
        BY_ID,
        _sign_up_by_id("WithdrawSignUp", pb.WithdrawSignUpRequest),
        prepare=World.signed,
        succeeded=_sign_up_now(pb.SIGN_UP_STATUS_WITHDRAWN),
        unchanged=_sign_up_now(pb.SIGN_UP_STATUS_CONFIRMED),
    ),
    "ApproveSignUp": Spec(
        BY_ID,
        _sign_up_by_id("ApproveSignUp", pb.ApproveSignUpRequest),
        prepare=lambda w: w.signed(approval=True),
        succeeded=_sign_up_now(pb.SIGN_UP_STATUS_CONFIRMED),
        unchanged=_sign_up_now(pb.SIGN_UP_STATUS_PENDING),
    ),
    "RejectSignUp": Spec(
        BY_ID,
        _sign_up_by_id("RejectSignUp", pb.RejectSignUpRequest, reason="名额已满"),
        prepare=lambda w: w.signed(approval=True),
        succeeded=_sign_up_now(pb.SIGN_UP_STATUS_REJECTED),
        unchanged=_sign_up_now(pb.SIGN_UP_STATUS_PENDING),
    ),
    "ListSignUps": Spec(
        BY_ID,
        lambda w, t, tok: w.act.ListSignUps(
            pb.ListSignUpsRequest(session_id=t[1].session_id), metadata=auth(tok)
        ),
        prepare=World.signed,
        succeeded=lambda w, t, r: (
            [x.id for x in r.sign_ups] == [t[1].id] or pytest.fail("wrong sign-ups")
        ),
    ),
    "GetCheckInCode": Spec(
        BY_ID,
        lambda w, p, tok: w.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=p.sessions[0].id), metadata=auth(tok)
        ),
        prepare=lambda w: w.kit.started(w.org),
        succeeded=lambda w, p, r: (
            (len(r.code) == 6 and r.code.isdigit()) or pytest.fail("not a code")
        ),
    ),
    "CheckIn": Spec(
        BY_ID,
        _attendance_call("CheckIn", pb.CheckInRequest),
        prepare=World.started_signed,
        succeeded=_attended(False),
        unchanged=_no_attendance,
    ),
    "CheckOut": Spec(
        BY_ID,
        _attendance_call("CheckOut", pb.CheckOutRequest),
        prepare=World.checked_in,
        succeeded=_attended(True),
        unchanged=_attended(False),
    ),
    "CloseAttendance": Spec(
        BY_ID,
        _attendance_call("CloseAttendance", pb.CloseAttendanceRequest),
        prepare=World.checked_in,
        succeeded=_attended(True),
        unchanged=_attended(False),
    ),
    "ListAttendances": Spec(
        BY_ID,
        lambda w, t, tok: w.act.ListAttendances(
            pb.ListAttendancesRequest(session_id=t[1].session_id), metadata=auth(tok)
        ),
        prepare=World.checked_in,
        succeeded=lambda w, t, r: (
            [a.volunteer_id for a in r.attendances] == [w.vol.id]
            or pytest.fail("wrong attendances")
        ),
    ),
    "CreateRecipient": Spec(
        SCOPED,
        lambda w, marker, tok: w.act.CreateRecipient(
            recipient_request(marker), metadata=auth(tok)
        ),
        prepare=lambda w: f"矩阵-{uuid.uuid4().hex[:8]}",
        succeeded=_recipient_created,
        unchanged=_no_recipient,
    ),
    "ListRecipients": Spec(
        SCOPED,
        _list_in("ListRecipients", pb.ListRecipientsRequest, "recipients"),
        prepare=World.recipient,
        succeeded=_has("recipients", lambda r: r.id),
    ),
    "CreatePair": Spec(
        BY_ID,
        _create_pair,
        prepare=World.recipient,
        succeeded=lambda w, rec, r: (
            [p.id for p in w.pairs_of(rec.id)] == [r.pair.id] or pytest.fail("no pair")
        ),
        unchanged=lambda w, rec: w.pairs_of(rec.id) == [] or pytest.fail("paired"),
    ),
    "ListPairs": Spec(
        SCOPED,
        _list_in("ListPairs", pb.ListPairsRequest, "pairs"),
        prepare=World.pair,
        succeeded=_has("pairs", lambda p: p.id),
    ),
    "LogVisit": Spec(
        BY_ID,
        _log_visit,
        prepare=World.pair,
        succeeded=lambda w, pair, r: (
            [v.id for v in w.visits_of(pair.id)] == [r.visit.id]
            or pytest.fail("no visit")
        ),
        unchanged=lambda w, pair: w.visits_of(pair.id) == [] or pytest.fail("a visit"),
    ),
    "ListVisits": Spec(
        SCOPED,
        _list_in("ListVisits", pb.ListVisitsRequest, "visits"),
        prepare=_visit,
        succeeded=_has("visits", lambda v: v.id),
    ),
    "Summarize": Spec(
        SCOPED,
        lambda w, _, tok: w.act.Summarize(
            pb.SummarizeRequest(query=common.RollupQuery(division_code=OWNER)),
            metadata=auth(tok),
        ),
        prepare=lambda w: w.kit.published(w.org),
        succeeded=_summarized,
    ),
    "SummarizeFederated": Spec(
        SCOPED,
        lambda w, _, tok: w.act.SummarizeFederated(
            pb.SummarizeFederatedRequest(query=common.RollupQuery(division_code=OWNER)),
            metadata=auth(tok),
        ),
        succeeded=federated_read(OWNER, "projects_published"),
    ),
    "GetCheckInQrCode": Spec(
        BY_ID,
        lambda w, p, tok: w.act.GetCheckInQrCode(
            pb.GetCheckInQrCodeRequest(session_id=p.sessions[0].id), metadata=auth(tok)
        ),
        prepare=lambda w: w.kit.started(w.org),
        succeeded=lambda w, p, r: (
            (r.svg.startswith(b"<svg") and f"session={p.sessions[0].id}" in r.url)
            or pytest.fail("not the session's QR code")
        ),
    ),
    "SetInsuranceCover": Spec(
        BY_ID,
        lambda w, p, tok: w.act.SetInsuranceCover(
            _cover_request(p, "PEAC-MATRIX-2"), metadata=auth(tok)
        ),
        prepare=World.draft,
        succeeded=lambda w, p, r: (
            _cover_of(w, p) == "PEAC-MATRIX-2" or pytest.fail("no cover")
        ),
        unchanged=lambda w, p: _cover_of(w, p) == "" or pytest.fail("a cover"),
    ),
    "GetInsuranceCover": Spec(
        BY_ID,
        lambda w, t, tok: w.act.GetInsuranceCover(
            pb.GetInsuranceCoverRequest(project_id=t[0].id), metadata=auth(tok)
        ),
        prepare=_insured,
        succeeded=lambda w, t, r: (
            (r.cover.policy_number, r.status.covered_volunteers) == ("PEAC-MATRIX-1", 1)
            or pytest.fail("not the project's cover")
        ),
    ),
    "ListInsuredVolunteers": Spec(
        BY_ID,
        lambda w, t, tok: w.act.ListInsuredVolunteers(
            pb.ListInsuredVolunteersRequest(project_id=t[0].id), metadata=auth(tok)
        ),
        prepare=World.signed,
        succeeded=lambda w, t, r: (
            [x.volunteer_id for x in r.volunteers] == [w.vol.id]
            or pytest.fail("wrong volunteers")
        ),
    ),
    "ExportInsuredVolunteers": Spec(
        BY_ID,
        lambda w, t, tok: w.act.ExportInsuredVolunteers(
            pb.ExportInsuredVolunteersRequest(project_id=t[0].id), metadata=auth(tok)
        ),
        prepare=_insured,
        succeeded=_insured_csv,
    ),
    "CreateCourse": Spec(
        SCOPED,
        lambda w, marker, tok: w.act.CreateCourse(
            pb.CreateCourseRequest(division_code=OWNER, title=marker),
            metadata=auth(tok),
        ),
        prepare=lambda w: f"矩阵课程-{uuid.uuid4().hex[:8]}",
        succeeded=lambda w, marker, r: (
            (r.course.division_code == OWNER and marker in _course_titles(w))
            or pytest.fail("no course")
        ),
        unchanged=lambda w, marker: (
            marker not in _course_titles(w) or pytest.fail("a course")
        ),
    ),
    "ListCourses": Spec(
        SCOPED,
        _list_in("ListCourses", pb.ListCoursesRequest, "courses"),
        prepare=_course,
        succeeded=_menu_has,
    ),
    "CreateTrainingSession": Spec(
        SCOPED,
        lambda w, course, tok: w.act.CreateTrainingSession(
            _training_request(course), metadata=auth(tok)
        ),
        prepare=_course,
        succeeded=lambda w, course, r: (
            _sessions_of(w, course.id) == [r.session.id] or pytest.fail("no session")
        ),
        unchanged=lambda w, course: (
            _sessions_of(w, course.id) == [] or pytest.fail("a session")
        ),
    ),
    "ListTrainingSessions": Spec(
        SCOPED,
        _list_in("ListTrainingSessions", pb.ListTrainingSessionsRequest, "sessions"),
        prepare=_training,
        succeeded=_has("sessions", lambda x: x.id),
    ),
    "RecordTrainingAttendance": Spec(
        BY_ID,
        _record_training,
        prepare=_training,
        succeeded=lambda w, session, r: (
            _trained(w, session.id) == [w.vol.id] or pytest.fail("not recorded")
        ),
        unchanged=lambda w, session: (
            _trained(w, session.id) == [] or pytest.fail("recorded")
        ),
    ),
    "ListTrainingAttendances": Spec(
        BY_ID,
        lambda w, session, tok: w.act.ListTrainingAttendances(
            pb.ListTrainingAttendancesRequest(training_session_id=session.id),
            metadata=auth(tok),
        ),
        prepare=_training_attended,
        succeeded=lambda w, session, r: (
            [x.volunteer_id for x in r.attendances] == [w.vol.id]
            or pytest.fail("wrong attendance")
        ),
    ),
    # A certificate's training lines (hours asks as the caller): only a
    # volunteer at home in the caller's subtree.
    "ListTrainingOf": Spec(
        BY_ID,
        lambda w, session, tok: w.act.ListTrainingOf(
            pb.ListTrainingOfRequest(volunteer_id=w.vol.id), metadata=auth(tok)
        ),
        prepare=_training_attended,
        succeeded=lambda w, session, r: (
            (
                r.volunteer_id == w.vol.id
                and r.attendances
                and {x.volunteer_id for x in r.attendances} == {w.vol.id}
            )
            or pytest.fail("wrong training")
        ),
    ),
    # Training transferred in from another platform (the record import):
    # only for a volunteer at home in the caller's subtree, the whole batch
    # refused otherwise.
    "ImportTraining": Spec(
        BY_ID,
        lambda w, source, tok: w.act.ImportTraining(
            pb.ImportTrainingRequest(
                entries=[
                    pb.ImportedTrainingEntry(
                        volunteer_id=w.vol.id,
                        course_title="心肺复苏",
                        hours=1,
                        issuer_platform="matrix-platform",
                        source_session_id=source,
                    )
                ]
            ),
            metadata=auth(tok),
        ),  # fmt: skip
        prepare=lambda w: f"matrix-{uuid.uuid4().hex[:8]}",
        succeeded=lambda w, source, r: (
            (r.imported == 1 and source in _imported_training(w))
            or pytest.fail("not imported")
        ),
        unchanged=lambda w, source: (
            source not in _imported_training(w) or pytest.fail("imported")
        ),
    ),
    "ListMyTraining": Spec(
        NOBODY,
        lambda w, _, tok: w.act.ListMyTraining(
            pb.ListMyTrainingRequest(), metadata=auth(tok)
        ),
    ),
    # A volunteer's own pages: an office account, whatever its scope, has none
    # (tests/security/test_activity_self_isolation.py tries volunteers).
    "ListMyProjects": Spec(
        NOBODY,
        lambda w, _, tok: w.act.ListMyProjects(
            pb.ListMyProjectsRequest(), metadata=auth(tok)
        ),
    ),
    "GetMyProject": Spec(
        NOBODY,
        project_call("GetMyProject", pb.GetMyProjectRequest),
        prepare=lambda w: w.kit.published(w.org),
    ),
    "SignUpMe": Spec(
        NOBODY,
        lambda w, p, tok: w.act.SignUpMe(
            pb.SignUpMeRequest(session_id=p.sessions[0].id), metadata=auth(tok)
        ),
        prepare=lambda w: w.kit.published(w.org),
        unchanged=lambda w, p: (
            w.sign_ups(p.sessions[0].id) == {} or pytest.fail("signed up")
        ),
    ),
    "WithdrawMe": Spec(
        NOBODY,
        lambda w, t, tok: w.act.WithdrawMe(
            pb.WithdrawMeRequest(id=t[1].id), metadata=auth(tok)
        ),
        prepare=World.signed,
        unchanged=_sign_up_now(pb.SIGN_UP_STATUS_CONFIRMED),
    ),
    "ListMySignUps": Spec(
        NOBODY,
        lambda w, _, tok: w.act.ListMySignUps(
            pb.ListMySignUpsRequest(), metadata=auth(tok)
        ),
    ),
    "CheckInMe": Spec(
        NOBODY,
        _own_attendance("CheckInMe", pb.CheckInMeRequest),
        prepare=World.started_signed,
        unchanged=_no_attendance,
    ),
    "CheckOutMe": Spec(
        NOBODY,
        _own_attendance("CheckOutMe", pb.CheckOutMeRequest),
        prepare=World.checked_in,
        unchanged=_attended(False),
    ),
    **CAMPAIGN_SPECS,
}

SPECS = with_national(SPECS)
MATRIX = params(SPECS, CALLERS)


def test_every_rpc_is_in_the_matrix() -> None:
    assert rpc_names(pb, "ActivityService") == set(SPECS)


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    # A NOT_FOUND refusal does not reveal where the entity lives: here only
    # the owner's county is checked, not the township (TOWN).
    check_isolation(w, SPECS[rpc], rpc, who, caller=w.caller, not_revealed=(OWNER,))


# -- a sign-up belongs to the project's tenant --------------------------------------


def _one_place(w: World, org: rpb.Organisation, **over: Any) -> pb.Project:
    one = pb.SessionSpec(starts_at=when(-10), ends_at=when(120), capacity=1)
    return w.kit.published(org, sessions=[one], **over)


def _withdraw(w: World, ident: str, tok: str) -> Any:
    return w.act.WithdrawSignUp(
        pb.WithdrawSignUpRequest(sign_up_id=ident), metadata=auth(tok)
    )


def test_own_volunteers_sign_up_in_another_tenants_project_is_not_found(
    w: World,
) -> None:
    # The province signs Yanta's volunteer (the place) and Beilin's (the
    # waitlist) up for a Beilin project: the sign-up is Beilin's to manage.
    prov = w.caller("province")
    p = _one_place(w, w.sib_org)
    session = p.sessions[0].id
    mine = w.kit.sign_up(session, w.vol.id, prov)
    theirs = w.kit.sign_up(session, w.sib_vol.id, prov)
    assert theirs.status == pb.SIGN_UP_STATUS_WAITLISTED
    queue = {mine.id: pb.SIGN_UP_STATUS_CONFIRMED, theirs.id: theirs.status}

    def sign_ups() -> dict[str, int]:
        got = w.act.ListSignUps(
            pb.ListSignUpsRequest(session_id=session, page=PAGE),
            metadata=auth(prov),
        ).sign_ups
        return {x.id: x.status for x in got}

    own = w.caller("owner")
    # Refused like an id that exists nowhere: no promoted Beilin volunteer.
    check_indistinguishable(
        lambda ident: _withdraw(w, ident, own), mine.id, str(uuid.uuid4())
    )
    assert sign_ups() == queue
    # Closed, it is still NOT_FOUND, not "the project is closed" (409).
    w.act.CancelProject(
        pb.CancelProjectRequest(id=p.id, reason="天气"),
        metadata=auth(w.kit.publisher(w.sib_org)),
    )
    check_indistinguishable(
        lambda ident: _withdraw(w, ident, own), mine.id, str(uuid.uuid4())
    )
    assert sign_ups() == queue


def test_project_tenant_withdraws_and_sees_whom_it_promoted(w: World) -> None:
    prov = w.caller("province")
    p = _one_place(w, w.sib_org)
    session = p.sessions[0].id
    mine = w.kit.sign_up(session, w.vol.id, prov)
    theirs = w.kit.sign_up(session, w.sib_vol.id, prov)
    got = _withdraw(w, mine.id, w.caller("sibling"))
    assert got.sign_up.status == pb.SIGN_UP_STATUS_WITHDRAWN
    assert [x.id for x in got.promoted] == [theirs.id]


def test_withdraw_from_an_ancestors_campaign_names_no_other_tenants_volunteer(
    w: World,
) -> None:
    # Xi'an's emergency campaign: Yanta withdraws its own volunteer; Beilin's
    # volunteer moves up, but Yanta's answer does not name them.
    city = w.kit.org(CITY)
    p = _one_place(w, city, emergency=True, service_field="emergency")
    session = p.sessions[0].id
    mine = w.kit.sign_up(session, w.vol.id, w.caller("owner"))
    theirs = w.kit.sign_up(session, w.sib_vol.id, w.caller("sibling"))
    assert theirs.status == pb.SIGN_UP_STATUS_WAITLISTED
    got = _withdraw(w, mine.id, w.caller("owner"))
    assert got.sign_up.status == pb.SIGN_UP_STATUS_WITHDRAWN
    assert list(got.promoted) == []
    status, _ = outcome(lambda: _withdraw(w, theirs.id, w.caller("owner")))
    assert status == NF  # Beilin's sign-up stays out of Yanta's reach
    listed = w.act.ListSignUps(
        pb.ListSignUpsRequest(session_id=session, page=PAGE),
        metadata=auth(w.caller("city")),
    ).sign_ups
    assert {x.id: x.status for x in listed}[theirs.id] == (pb.SIGN_UP_STATUS_CONFIRMED)
