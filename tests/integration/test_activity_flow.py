"""Activity through real gRPC, with the replica filled by the real worker
from registration's real events. The ``Kit`` here is shared by the other
activity test modules."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.common.testing import wait_for
from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration
ORG, TEAM = rpb.ORGANISATION_KIND_ORGANISATION, rpb.ORGANISATION_KIND_TEAM
# The fields the default tenant policy insures (insurance.required_fields).
INSURED = ("emergency", "large_events")


def when(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def refused(fn: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert "Traceback" not in (err.value.details() or "")
    return err.value


def rule(err: grpc.RpcError) -> str:
    return str(dict(err.trailing_metadata() or ()).get("zhiyuan-rule", ""))


def raw_rows(env: dict[str, str], sql: str, **params: Any) -> list[Any]:
    """Rows of activity's own database read as its owner (tests only)."""
    engine = create_engine(env["ACTIVITY_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


@dataclass
class Kit:
    reg: Any  # registration's stub
    act: Any  # activity's stub
    token: Callable[..., str]
    env: dict[str, str]
    # The organisation org() last made at each division code.
    orgs: dict[str, rpb.Organisation] = field(default_factory=dict)

    # -- registration's side, waited for in the replica ----------------------------
    def org(self, code: str, kind: int = ORG, parent: str = "") -> rpb.Organisation:
        org = self.reg.CreateOrganisation(
            rpb.CreateOrganisationRequest(
                name=f"测试志愿服务组织-{uuid.uuid4().hex[:6]}",
                kind=kind,
                division_code=code,
                parent_id=parent,
            ),
            metadata=auth(self.token(code[:6] if len(code) > 6 else code)),
        ).organisation
        self.replicated("organisations", [org.id])
        self.orgs[code] = org
        return org

    def register(
        self, home: str, born: date = date(1990, 5, 17), fields: tuple[str, ...] = ()
    ) -> rpb.Volunteer:
        return self.reg.RegisterVolunteer(
            rpb.RegisterVolunteerRequest(
                name="李志愿",
                id_number=new_id_number(home[:6], born),
                phone=new_phone(),
                home_division_code=home,
                service_fields=list(fields),
            ),
            metadata=auth(self.token(home[:6])),
        ).volunteer

    def verify(self, vol: rpb.Volunteer) -> None:
        self.reg.VerifyVolunteer(
            rpb.VerifyVolunteerRequest(id=vol.id),
            metadata=auth(self.token(vol.home_division_code[:6])),
        )

    def volunteers(self, home: str, n: int = 1, **kw: Any) -> list[rpb.Volunteer]:
        """``n`` verified volunteers, once the worker has replicated them."""
        vols = [self.register(home, **kw) for _ in range(n)]
        for vol in vols:
            self.verify(vol)
        self.replicated("volunteers", [v.id for v in vols], status="verified")
        return vols

    def replicated(self, table: str, ids: list[str], status: str = "") -> None:
        sql = f"SELECT count(*) FROM {table} WHERE id = ANY(:ids)"  # noqa: S608
        if status:
            sql += " AND status = :status"
        wait_for(
            lambda: raw_rows(self.env, sql, ids=ids, status=status)[0][0] == len(ids),
            timeout=30,
            what=f"{len(ids)} {table} in activity's replica",
        )

    # -- activity's side -------------------------------------------------------------
    def publisher(self, where: str | rpb.Organisation) -> str:
        """An org_leader of ``where``: an organisation, or a division code
        naming the organisation org() last made there (token claim org)."""
        org = self.orgs.get(where) if isinstance(where, str) else where
        code = where if isinstance(where, str) else where.division_code
        return self.token(
            code[:6],
            "org_leader",
            username=f"leader-{code[:6]}",
            org=org.id if org else "",
        )

    def reviewer(self, code: str) -> str:
        return self.token(code[:6], "reviewer", username=f"reviewer-{code[:6]}")

    def request(self, org: rpb.Organisation, **over: Any) -> pb.CreateProjectRequest:
        fields: dict[str, Any] = dict(
            organisation_id=org.id,
            title=f"测试项目-{uuid.uuid4().hex[:6]}",
            description="",
            place="大雁塔北广场",
            service_field="civilisation",
            kind=pb.PROJECT_KIND_SERVICE,
            sessions=[
                pb.SessionSpec(starts_at=when(-10), ends_at=when(120), capacity=5)
            ],
            recruit_starts_at=when(-60),
            recruit_ends_at=when(60),
            eligibility=pb.Eligibility(min_age=0),
        )
        fields.update(over)
        return pb.CreateProjectRequest(**fields)

    def draft(self, org: rpb.Organisation, tok: str = "", **over: Any) -> pb.Project:
        tok = tok or self.publisher(org)
        return self.act.CreateProject(
            self.request(org, **over), metadata=auth(tok)
        ).project

    def submitted(self, org: rpb.Organisation, **over: Any) -> pb.Project:
        p = self.draft(org, **over)
        md = auth(self.publisher(org))
        return self.act.SubmitProject(
            pb.SubmitProjectRequest(id=p.id), metadata=md
        ).project

    def approved(self, org: rpb.Organisation, **over: Any) -> pb.Project:
        p = self.submitted(org, **over)
        md = auth(self.reviewer(org.division_code))
        return self.act.ApproveProject(
            pb.ApproveProjectRequest(id=p.id), metadata=md
        ).project

    def insure(self, p: pb.Project, tok: str, days: int = 400) -> pb.InsuranceCover:
        """A cover from a month ago to ``days`` ahead, recorded with ``tok``
        (the default policy asks one of emergency and large-event projects
        before recruiting)."""
        today = datetime.now(UTC).date()
        return self.act.SetInsuranceCover(
            pb.SetInsuranceCoverRequest(
                project_id=p.id,
                insurer="中国人民财产保险",
                policy_number=f"PEAC{uuid.uuid4().hex[:10].upper()}",
                starts_on=(today - timedelta(days=30)).isoformat(),
                ends_on=(today + timedelta(days=days)).isoformat(),
            ),
            metadata=auth(tok),
        ).cover

    def published(self, org: rpb.Organisation, **over: Any) -> pb.Project:
        p = self.approved(org, **over)
        md = auth(self.publisher(org))
        if p.service_field in INSURED:
            self.insure(p, self.publisher(org))
        return self.act.PublishProject(
            pb.PublishProjectRequest(id=p.id), metadata=md
        ).project

    def started(self, org: rpb.Organisation, **over: Any) -> pb.Project:
        p = self.published(org, **over)
        md = auth(self.publisher(org))
        return self.act.StartProject(
            pb.StartProjectRequest(id=p.id), metadata=md
        ).project

    def sign_up(self, session: str, vol: str, tok: str) -> pb.SignUp:
        return self.act.SignUp(
            pb.SignUpRequest(session_id=session, volunteer_id=vol), metadata=auth(tok)
        ).sign_up

    def get(self, project_id: str, tok: str) -> pb.Project:
        return self.act.GetProject(
            pb.GetProjectRequest(id=project_id), metadata=auth(tok)
        ).project


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


def editable(req: pb.CreateProjectRequest) -> dict[str, Any]:
    """A create request's fields as an update request's (no organisation)."""
    names = [f.name for f in req.DESCRIPTOR.fields if f.name != "organisation_id"]
    return {name: getattr(req, name) for name in names}


def one_session(capacity: int, start: float = -10, end: float = 120) -> Any:
    return [pb.SessionSpec(starts_at=when(start), ends_at=when(end), capacity=capacity)]


# -- the lifecycle ---------------------------------------------------------------------


def test_draft_review_and_publication(kit: Kit) -> None:
    org = kit.org("610113")
    md = auth(kit.publisher("610113"))
    p = kit.draft(org)
    assert (p.status, p.division_code, p.publisher) == (
        pb.PROJECT_STATUS_DRAFT,
        "610113",
        "leader-610113",
    )
    req = kit.request(org, title="改过的标题", sessions=one_session(1))
    edited = kit.act.UpdateProject(
        pb.UpdateProjectRequest(id=p.id, **editable(req)), metadata=md
    ).project
    assert edited.title == "改过的标题" and [s.capacity for s in edited.sessions] == [1]
    kit.act.SubmitProject(pb.SubmitProjectRequest(id=p.id), metadata=md)
    err = refused(
        lambda: kit.act.UpdateProject(
            pb.UpdateProjectRequest(id=p.id, **editable(req)), metadata=md
        )
    )
    assert rule(err) == "project.editable"
    # The publisher's own subject, even holding the reviewer role, may not review.
    own = auth(kit.token("610113", "reviewer", username="leader-610113"))
    err = refused(
        lambda: kit.act.ApproveProject(pb.ApproveProjectRequest(id=p.id), metadata=own)
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rule(err) == "review.own_project"
    approved = kit.act.ApproveProject(
        pb.ApproveProjectRequest(id=p.id), metadata=auth(kit.reviewer("610113"))
    ).project
    assert approved.status == pb.PROJECT_STATUS_APPROVED
    err = refused(
        lambda: kit.act.SubmitProject(pb.SubmitProjectRequest(id=p.id), metadata=md)
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rule(err) == "state.transition"
    published = kit.act.PublishProject(
        pb.PublishProjectRequest(id=p.id), metadata=md
    ).project
    assert published.status == pb.PROJECT_STATUS_RECRUITING and published.published_at


def test_returned_project_is_edited_and_resubmitted(kit: Kit) -> None:
    org = kit.org("610113")
    md = auth(kit.publisher("610113"))
    p = kit.submitted(org)
    returned = kit.act.ReturnProject(
        pb.ReturnProjectRequest(id=p.id, reason="地点不明确"),
        metadata=auth(kit.reviewer("610113")),
    ).project
    assert returned.status == pb.PROJECT_STATUS_RETURNED
    assert returned.comment == "地点不明确"
    req = kit.request(org, place="大雁塔北广场东侧音乐喷泉入口")
    edited = kit.act.UpdateProject(
        pb.UpdateProjectRequest(id=p.id, **editable(req)), metadata=md
    ).project
    assert edited.place == "大雁塔北广场东侧音乐喷泉入口"
    again = kit.act.SubmitProject(pb.SubmitProjectRequest(id=p.id), metadata=md)
    assert again.project.status == pb.PROJECT_STATUS_SUBMITTED


def test_capacity_waitlist_attendance_and_completion(kit: Kit) -> None:
    org = kit.org("610113")
    first, second = kit.volunteers("610113002", 2)
    leader, admin = auth(kit.publisher("610113")), kit.token("610113")
    p = kit.published(org, sessions=one_session(1))
    session = p.sessions[0].id
    a = kit.sign_up(session, first.id, admin)
    b = kit.sign_up(session, second.id, admin)
    assert (a.status, b.status) == (
        pb.SIGN_UP_STATUS_CONFIRMED,
        pb.SIGN_UP_STATUS_WAITLISTED,
    )
    err = refused(lambda: kit.sign_up(session, first.id, admin))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    out = kit.act.WithdrawSignUp(
        pb.WithdrawSignUpRequest(sign_up_id=a.id), metadata=leader
    )
    assert out.sign_up.status == pb.SIGN_UP_STATUS_WITHDRAWN
    assert [(x.id, x.status) for x in out.promoted] == [
        (b.id, pb.SIGN_UP_STATUS_CONFIRMED)
    ]
    counts = kit.get(p.id, admin).sessions[0]
    assert (counts.confirmed, counts.waitlisted) == (1, 0)

    kit.act.StartProject(pb.StartProjectRequest(id=p.id), metadata=leader)
    kiosk = auth(kit.token("610113", "volunteer", username="kiosk"))

    def code() -> str:
        return kit.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=session), metadata=leader
        ).code

    def call(method: Any, request: Any, c: str, md: Any = kiosk) -> Any:
        return method(
            request(session_id=session, volunteer_id=second.id, code=c), metadata=md
        ).attendance

    err = refused(lambda: call(kit.act.CheckIn, pb.CheckInRequest, "", kiosk))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # no code: leaders only
    att = call(kit.act.CheckIn, pb.CheckInRequest, code())
    assert att.checked_in_at and not att.checked_out_at
    err = refused(lambda: call(kit.act.CheckIn, pb.CheckInRequest, code()))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    wrong = f"{(int(code()) + 500_000) % 10**6:06d}"
    err = refused(lambda: call(kit.act.CheckOut, pb.CheckOutRequest, wrong))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rule(err) == "code.mismatch"
    err = refused(
        lambda: kit.act.CompleteProject(
            pb.CompleteProjectRequest(id=p.id), metadata=leader
        )
    )
    assert rule(err) == "project.open_attendance"
    att = call(kit.act.CheckOut, pb.CheckOutRequest, code())
    assert att.checked_out_at and att.closed_by == "volunteer"
    err = refused(lambda: call(kit.act.CheckOut, pb.CheckOutRequest, "", leader))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    err = refused(
        lambda: kit.act.WithdrawSignUp(
            pb.WithdrawSignUpRequest(sign_up_id=b.id), metadata=leader
        )
    )
    assert rule(err) == "sign_up.attended"
    done = kit.act.CompleteProject(pb.CompleteProjectRequest(id=p.id), metadata=leader)
    assert done.project.status == pb.PROJECT_STATUS_COMPLETED
    err = refused(
        lambda: kit.act.CancelProject(pb.CancelProjectRequest(id=p.id), metadata=leader)
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_leader_closes_a_forgotten_check_out(kit: Kit) -> None:
    org = kit.org("610113")
    (vol,) = kit.volunteers("610113002")
    leader = auth(kit.publisher("610113"))
    p = kit.started(
        org, sessions=one_session(5, start=-60, end=30), recruit_ends_at=when(20)
    )
    session = p.sessions[0]
    kit.sign_up(session.id, vol.id, kit.token("610113"))
    kit.act.CheckIn(
        pb.CheckInRequest(session_id=session.id, volunteer_id=vol.id), metadata=leader
    )

    def close(ended: str) -> pb.Attendance:
        return kit.act.CloseAttendance(
            pb.CloseAttendanceRequest(
                session_id=session.id, volunteer_id=vol.id, ended_at=ended
            ),
            metadata=leader,
        ).attendance

    after_end = (
        datetime.fromisoformat(session.ends_at) + timedelta(seconds=1)
    ).isoformat()
    err = refused(lambda: close(after_end))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "ended_at"
    # The session ends in 30 minutes: service not yet done is not recorded.
    err = refused(lambda: close(session.ends_at))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    ended = datetime.now(UTC).isoformat()
    att = close(ended)
    assert att.closed_by == "leader"
    assert datetime.fromisoformat(att.checked_out_at) == datetime.fromisoformat(ended)
    err = refused(lambda: close(ended))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_leader_approval_places_or_rejects(kit: Kit) -> None:
    org = kit.org("610113")
    vols = kit.volunteers("610113002", 3)
    leader, admin = auth(kit.publisher("610113")), kit.token("610113")
    p = kit.published(org, sessions=one_session(1), leader_approval=True)
    session = p.sessions[0].id
    rows = [kit.sign_up(session, v.id, admin) for v in vols]
    assert {r.status for r in rows} == {pb.SIGN_UP_STATUS_PENDING}

    def approve(row: pb.SignUp) -> pb.SignUp:
        return kit.act.ApproveSignUp(
            pb.ApproveSignUpRequest(sign_up_id=row.id), metadata=leader
        ).sign_up

    assert approve(rows[1]).status == pb.SIGN_UP_STATUS_CONFIRMED
    assert approve(rows[0]).status == pb.SIGN_UP_STATUS_WAITLISTED  # full
    err = refused(lambda: approve(rows[0]))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    err = refused(
        lambda: kit.act.RejectSignUp(
            pb.RejectSignUpRequest(sign_up_id=rows[2].id), metadata=leader
        )
    )
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "reason"
    rejected = kit.act.RejectSignUp(
        pb.RejectSignUpRequest(sign_up_id=rows[2].id, reason="人数已满"),
        metadata=leader,
    ).sign_up
    assert (rejected.status, rejected.reason) == (
        pb.SIGN_UP_STATUS_REJECTED,
        "人数已满",
    )
    # A rejected sign-up is history: the volunteer may sign up again.
    again = kit.sign_up(session, vols[2].id, admin)
    assert again.status == pb.SIGN_UP_STATUS_PENDING and again.id != rejected.id


# -- eligibility from the replica ------------------------------------------------------


def test_replica_follows_registrations_events(kit: Kit) -> None:
    org = kit.org("610113")
    admin = kit.token("610113")
    p = kit.published(org, eligibility=pb.Eligibility(min_age=16))
    session = p.sessions[0].id
    pending = kit.register("610113002")
    kit.replicated("volunteers", [pending.id], status="pending")
    err = refused(lambda: kit.sign_up(session, pending.id, admin))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rule(err) == "eligibility.verified"
    kit.verify(pending)
    row = wait_for(
        lambda: kit.sign_up(session, pending.id, admin),
        timeout=30,
        what="sign-up after the verified event reached the replica",
    )
    assert row.status == pb.SIGN_UP_STATUS_CONFIRMED
    young = kit.volunteers(
        "610113002", born=date.today().replace(year=date.today().year - 15, day=1)
    )[0]
    err = refused(lambda: kit.sign_up(session, young.id, admin))
    assert rule(err) == "eligibility.min_age"


def test_required_skills(kit: Kit) -> None:
    org = kit.org("610113")
    medic, other = (
        kit.volunteers("610113002", fields=("medical",))[0],
        kit.volunteers("610113002", fields=("elderly_care",))[0],
    )
    admin = kit.token("610113")
    p = kit.published(org, eligibility=pb.Eligibility(required_skills=["medical"]))
    assert kit.sign_up(p.sessions[0].id, medic.id, admin).status == (
        pb.SIGN_UP_STATUS_CONFIRMED
    )
    err = refused(lambda: kit.sign_up(p.sessions[0].id, other.id, admin))
    assert rule(err) == "eligibility.skills"


# -- emergency campaigns ---------------------------------------------------------------


def test_emergency_campaign_is_open_to_the_subtree_and_joined_without_approval(
    kit: Kit,
) -> None:
    city = kit.org("6101")
    (mine,) = kit.volunteers("610113002")
    (theirs,) = kit.volunteers("610103002")
    p = kit.published(city, emergency=True, service_field="emergency")
    county, sibling = kit.token("610113"), kit.token("610103")
    township = kit.token("610113002")

    def open_ids(tok: str, node: str = "") -> set[str]:
        got = kit.act.ListOpenProjects(
            pb.ListOpenProjectsRequest(
                division_code=node, page=common.PageRequest(page_size=500)
            ),
            metadata=auth(tok),
        ).projects
        return {x.id for x in got}

    assert p.id in open_ids(county) and p.id in open_ids(township)
    assert p.id in open_ids(sibling)  # Beilin lies in Xi'an too
    assert p.id not in open_ids(kit.token("6102"))  # Tongchuan does not
    assert kit.get(p.id, township).emergency
    row = kit.sign_up(p.sessions[0].id, mine.id, county)
    assert row.status == pb.SIGN_UP_STATUS_CONFIRMED
    kit.sign_up(p.sessions[0].id, theirs.id, sibling)

    # Each county sees its own volunteers' sign-ups, the city sees all.
    def listed(tok: str) -> set[str]:
        got = kit.act.ListSignUps(
            pb.ListSignUpsRequest(session_id=p.sessions[0].id), metadata=auth(tok)
        ).sign_ups
        return {x.volunteer_id for x in got}

    assert listed(county) == {mine.id}
    assert listed(sibling) == {theirs.id}
    assert listed(kit.token("6101")) == {mine.id, theirs.id}
    # A county cannot sign up another county's volunteer, nor run the campaign.
    err = refused(lambda: kit.sign_up(p.sessions[0].id, theirs.id, county))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = refused(
        lambda: kit.act.StartProject(
            pb.StartProjectRequest(id=p.id), metadata=auth(county)
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_emergency_needs_a_province_or_city_organisation(kit: Kit) -> None:
    org = kit.org("610113")
    err = refused(lambda: kit.draft(org, emergency=True))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "emergency"


# -- pairing ---------------------------------------------------------------------------


def test_pairing_one_to_one_and_many_to_one_with_visits(kit: Kit) -> None:
    org = kit.org("610116")
    a, b, c = kit.volunteers("610116001", 3)
    md = auth(kit.publisher("610116"))

    def recipient(mode: int) -> pb.Recipient:
        return kit.act.CreateRecipient(
            pb.CreateRecipientRequest(
                division_code="610116001",
                name="王秀兰",
                phone="13891230001",
                address="陕西省西安市长安区韦曲街道南街社区3号楼",
                pairing_mode=mode,
                needs="独居老人，每周探访",
                consent=True,
            ),
            metadata=md,
        ).recipient

    def pair(rec: str, vol: str) -> pb.Pair:
        return kit.act.CreatePair(
            pb.CreatePairRequest(
                recipient_id=rec, volunteer_id=vol, organisation_id=org.id
            ),
            metadata=md,
        ).pair

    one = recipient(pb.PAIRING_MODE_ONE_TO_ONE)
    assert (one.name, one.phone, one.address) == (
        "王**",
        "138****0001",
        "陕西省西安市****",
    )
    assert one.consent_at
    first = pair(one.id, a.id)
    assert first.organisation_name == org.name and first.division_code == "610116001"
    err = refused(lambda: pair(one.id, b.id))
    assert rule(err) == "pairing.one_to_one"
    many = recipient(pb.PAIRING_MODE_MANY_TO_ONE)
    pair(many.id, b.id)
    pair(many.id, c.id)
    err = refused(lambda: pair(many.id, c.id))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    listed = kit.act.ListPairs(
        pb.ListPairsRequest(recipient_id=many.id), metadata=md
    ).pairs
    assert {x.volunteer_id for x in listed} == {b.id, c.id}
    visit = kit.act.LogVisit(
        pb.LogVisitRequest(
            pair_id=first.id, started_at=when(-90), ended_at=when(-30), note="送米面油"
        ),
        metadata=md,
    ).visit
    assert visit.volunteer_id == a.id and visit.note == "送米面油"
    visits = kit.act.ListVisits(pb.ListVisitsRequest(pair_id=first.id), metadata=md)
    assert [v.id for v in visits.visits] == [visit.id]
    # The stored name and address are ciphertext, not the text.
    stored = raw_rows(
        kit.env, "SELECT name_enc, address_enc FROM recipients WHERE id = :i", i=one.id
    )[0]
    assert "王秀兰".encode() not in bytes(stored[0])
    assert "韦曲".encode() not in bytes(stored[1])


def test_unverified_volunteer_cannot_be_paired(kit: Kit) -> None:
    org = kit.org("610116")
    pending = kit.register("610116001")
    kit.replicated("volunteers", [pending.id], status="pending")
    md = auth(kit.publisher("610116"))
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code="610116001",
            name="李建国",
            address="陕西省西安市长安区郭杜街道周家庄村",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=md,
    ).recipient
    err = refused(
        lambda: kit.act.CreatePair(
            pb.CreatePairRequest(
                recipient_id=rec.id, volunteer_id=pending.id, organisation_id=org.id
            ),
            metadata=md,
        )
    )
    assert rule(err) == "eligibility.verified"


def test_guessing_check_in_codes_is_cut_off(kit: Kit) -> None:
    org = kit.org("610113")
    (vol,) = kit.volunteers("610113002")
    leader = auth(kit.publisher("610113"))
    p = kit.started(
        org, sessions=one_session(5, start=-60, end=30), recruit_ends_at=when(20)
    )
    session = p.sessions[0]
    kit.sign_up(session.id, vol.id, kit.token("610113"))
    kiosk = auth(kit.token("610113", "volunteer", username="kiosk"))

    def check_in(c: str) -> Any:
        return kit.act.CheckIn(
            pb.CheckInRequest(session_id=session.id, volunteer_id=vol.id, code=c),
            metadata=kiosk,
        )

    right = kit.act.GetCheckInCode(
        pb.GetCheckInCodeRequest(session_id=session.id), metadata=leader
    ).code
    wrong = f"{(int(right) + 500_000) % 10**6:06d}"
    for _ in range(5):
        assert rule(refused(lambda: check_in(wrong))) == "code.mismatch"
    # Even the right code is refused now: guessing has been cut off.
    err = refused(lambda: check_in(right))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rule(err) == "code.attempts"
    # The leader can still check the volunteer in directly.
    att = kit.act.CheckIn(
        pb.CheckInRequest(session_id=session.id, volunteer_id=vol.id), metadata=leader
    ).attendance
    assert att.checked_in_at
