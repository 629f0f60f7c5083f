"""Roles, references to another tenant's entities, the emergency exception
and row-level security underneath the repository."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from zhiyuan.activity.v1 import activity_pb2 as pb

from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Scope
from tests.helpers import auth
from tests.integration.test_activity_flow import (
    Kit,
    editable,
    one_session,
    raw_rows,
    refused,
    rule,
    when,
)

pytestmark = pytest.mark.integration
PD, NF = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


@pytest.fixture(scope="module")
def world(kit: Kit) -> dict[str, Any]:
    (vol,) = kit.volunteers("610113002")
    (sib_vol,) = kit.volunteers("610103002")
    return {
        "org": kit.org("610113"),
        "sib_org": kit.org("610103"),
        "city_org": kit.org("6101"),
        "vol": vol,
        "sib_vol": sib_vol,
    }


def status_of(kit: Kit, project_id: str) -> int:
    return kit.get(project_id, kit.token("610113")).status


@pytest.mark.parametrize("rpc", ["ApproveProject", "ReturnProject"])
@pytest.mark.parametrize("role", ["reviewer", "tenant_admin"])
def test_nobody_reviews_their_own_project(kit: Kit, world, rpc: str, role: str) -> None:  # type: ignore[no-untyped-def]
    publisher = kit.token(
        "610113", "org_leader", role, username="self-reviewer", org=world["org"].id
    )
    p = kit.draft(world["org"], tok=publisher)
    kit.act.SubmitProject(pb.SubmitProjectRequest(id=p.id), metadata=auth(publisher))
    request = getattr(pb, f"{rpc}Request")(id=p.id)
    if rpc == "ReturnProject":
        request.reason = "自己退回自己"
    err = refused(lambda: getattr(kit.act, rpc)(request, metadata=auth(publisher)))
    assert err.code() == PD and rule(err) == "review.own_project"
    assert status_of(kit, p.id) == pb.PROJECT_STATUS_SUBMITTED


@pytest.mark.parametrize(
    ("scope", "code"), [("610103", NF), ("610113001", NF), ("6101", None)]
)
def test_reviewer_needs_the_project_in_scope(kit: Kit, world, scope, code) -> None:  # type: ignore[no-untyped-def]
    p = kit.submitted(world["org"])
    tok = kit.token(scope, "reviewer", username=f"reviewer-{scope}-x")
    call = lambda: kit.act.ApproveProject(  # noqa: E731
        pb.ApproveProjectRequest(id=p.id), metadata=auth(tok)
    )
    if code is None:
        assert call().project.status == pb.PROJECT_STATUS_APPROVED
    else:
        assert refused(call).code() == code
        assert status_of(kit, p.id) == pb.PROJECT_STATUS_SUBMITTED


def test_org_leader_cannot_review_and_volunteer_role_cannot_manage(
    kit: Kit, world
) -> None:  # type: ignore[no-untyped-def]
    p = kit.submitted(world["org"])
    leader = auth(kit.token("610113", "org_leader", username="another-leader"))
    err = refused(
        lambda: kit.act.ApproveProject(
            pb.ApproveProjectRequest(id=p.id), metadata=leader
        )
    )
    assert err.code() == PD
    volunteer = auth(kit.token("610113", "volunteer"))
    calls = [
        lambda: kit.act.CreateProject(kit.request(world["org"]), metadata=volunteer),
        lambda: kit.act.SubmitProject(
            pb.SubmitProjectRequest(id=p.id), metadata=volunteer
        ),
        lambda: kit.act.ListSignUps(
            pb.ListSignUpsRequest(session_id=p.sessions[0].id), metadata=volunteer
        ),
        lambda: kit.act.ListRecipients(pb.ListRecipientsRequest(), metadata=volunteer),
    ]
    for call in calls:
        assert refused(call).code() == PD
    # Volunteers may see what they can join.
    assert kit.get(p.id, kit.token("610113", "volunteer")).id == p.id


# -- references to another tenant's entities -------------------------------------------


def test_owner_cannot_sign_up_or_pair_another_tenants_volunteer(
    kit: Kit, world
) -> None:  # type: ignore[no-untyped-def]
    owner = kit.token("610113")
    p = kit.published(world["org"])
    err = refused(lambda: kit.sign_up(p.sessions[0].id, world["sib_vol"].id, owner))
    assert err.code() == NF and "610103" not in err.details()
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code="610113002",
            name="周大爷",
            address="陕西省西安市雁塔区某社区",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=auth(owner),
    ).recipient
    for vol, org in (
        (world["sib_vol"], world["org"]),
        (world["vol"], world["sib_org"]),
    ):
        err = refused(
            lambda v=vol, o=org: kit.act.CreatePair(
                pb.CreatePairRequest(
                    recipient_id=rec.id, volunteer_id=v.id, organisation_id=o.id
                ),
                metadata=auth(owner),
            )
        )
        assert err.code() == NF
    assert not kit.act.ListPairs(
        pb.ListPairsRequest(recipient_id=rec.id), metadata=auth(owner)
    ).pairs


def test_project_for_another_tenants_organisation_is_refused(kit: Kit, world) -> None:  # type: ignore[no-untyped-def]
    title = f"越界项目-{uuid.uuid4().hex[:6]}"
    err = refused(
        lambda: kit.act.CreateProject(
            kit.request(world["sib_org"], title=title),
            metadata=auth(kit.token("610113")),
        )
    )
    assert err.code() == NF
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "organisation_id"


def test_another_tenants_sign_up_is_indistinguishable_from_a_missing_one(
    kit: Kit, world
) -> None:  # type: ignore[no-untyped-def]
    p = kit.published(world["org"])
    row = kit.sign_up(p.sessions[0].id, world["vol"].id, kit.token("610113"))
    md = auth(kit.token("610103"))
    missing = str(uuid.uuid4())
    errors = [
        refused(
            lambda i=ident: kit.act.WithdrawSignUp(
                pb.WithdrawSignUpRequest(sign_up_id=i), metadata=md
            )
        )
        for ident in (row.id, missing)
    ]
    assert errors[0].code() == errors[1].code() == NF
    assert errors[0].details().replace(row.id, "ID") == errors[1].details().replace(
        missing, "ID"
    )


def test_emergency_campaigns_are_read_only_from_below(kit: Kit, world) -> None:  # type: ignore[no-untyped-def]
    p = kit.started(world["city_org"], emergency=True, service_field="emergency")
    county = auth(kit.token("610113"))
    assert kit.act.GetProject(pb.GetProjectRequest(id=p.id), metadata=county).project
    for call in (
        lambda: kit.act.CancelProject(
            pb.CancelProjectRequest(id=p.id), metadata=county
        ),
        lambda: kit.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=p.sessions[0].id), metadata=county
        ),
    ):
        assert refused(call).code() == NF
    # Without a code, only the campaign's own leaders check volunteers in.
    kit.sign_up(p.sessions[0].id, world["vol"].id, kit.token("610113"))
    err = refused(
        lambda: kit.act.CheckIn(
            pb.CheckInRequest(
                session_id=p.sessions[0].id, volunteer_id=world["vol"].id
            ),
            metadata=county,
        )
    )
    assert err.code() == PD
    # A township's regular project is never visible to a child of its parent.
    regular = kit.published(world["org"])
    err = refused(
        lambda: kit.act.GetProject(
            pb.GetProjectRequest(id=regular.id), metadata=auth(kit.token("610113001"))
        )
    )
    assert err.code() == NF


# -- row-level security underneath the repository ------------------------------------


def test_row_security_holds_without_the_repository_filter(kit: Kit, world) -> None:  # type: ignore[no-untyped-def]
    own = kit.published(world["org"])
    emergency = kit.published(
        world["city_org"], emergency=True, service_field="emergency"
    )
    regular_city = kit.published(world["city_org"])
    db = Database(load().service("activity"))
    try:

        def visible(scope: str | None) -> set[str]:
            with db.session(Scope(scope) if scope else None) as s:
                rows = s.execute(text("SELECT id FROM projects")).scalars()
                return set(rows)

        ids = {own.id, emergency.id, regular_city.id}
        assert visible("610103") & ids == {emergency.id}
        assert visible("610113") & ids == {own.id, emergency.id}
        assert visible("6101") & ids == ids
        assert visible(None) == set()  # no scope, no rows
        with db.session(Scope("610113")) as s:
            # Reading an ancestor's campaign is allowed; changing it is not.
            changed = s.execute(
                text("UPDATE projects SET title = 'x' WHERE id = :i RETURNING id"),
                {"i": emergency.id},
            ).all()
        assert changed == []
        refused_insert = pytest.raises(DBAPIError, match="row-level security")
        with refused_insert, db.session(Scope("610113")) as s:
            s.execute(
                text(
                    "INSERT INTO recipients (id, division_code, name_enc,"
                    " name_masked, phone_masked, address_enc, address_masked,"
                    " pairing_mode, needs, consent_at, consent_recorded_by,"
                    " created_at) VALUES (:i, '610103', '', '', '', '', '',"
                    " 'one_to_one', '', now(), 'x', now())"
                ),
                {"i": str(uuid.uuid4())},
            )
        assert kit.get(emergency.id, kit.token("6101")).title == emergency.title
    finally:
        db.dispose()


# -- an org_leader acts for its own organisation only ------------------------------


def _org_rows(kit: Kit, table: str, org_id: str) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE organisation_id = :o"  # noqa: S608
    return int(raw_rows(kit.env, sql, o=org_id)[0][0])


def _denied(call: Any, field: str = "organisation_id", why: str = "") -> None:
    err = refused(call)
    assert err.code() == PD, err.details()
    md = dict(err.trailing_metadata() or ())
    assert md.get("zhiyuan-field") == field
    assert rule(err) == (why or "organisation.own")
    assert md.get("zhiyuan-message-zh-bin", b"").decode().strip()


@pytest.fixture(scope="module")
def two(kit: Kit) -> dict[str, Any]:
    """Two organisations of one county and the leader of the first."""
    a, b = kit.org("610113"), kit.org("610113")
    leader = kit.token("610113", "org_leader", username="leader-of-a", org=a.id)
    return {"a": a, "b": b, "leader": auth(leader)}


def test_org_leader_publishes_for_its_own_organisation_only(
    kit: Kit, two: dict[str, Any]
) -> None:
    md = two["leader"]
    before = _org_rows(kit, "projects", two["b"].id)
    _denied(lambda: kit.act.CreateProject(kit.request(two["b"]), metadata=md))
    assert _org_rows(kit, "projects", two["b"].id) == before
    own = kit.act.CreateProject(kit.request(two["a"]), metadata=md).project
    assert own.organisation_id == two["a"].id
    kit.act.SubmitProject(pb.SubmitProjectRequest(id=own.id), metadata=md)


def test_org_leader_cannot_run_another_organisations_project(
    kit: Kit, two: dict[str, Any]
) -> None:
    md, b = two["leader"], two["b"]
    draft = kit.draft(b)
    req = kit.request(b)
    _denied(
        lambda: kit.act.UpdateProject(
            pb.UpdateProjectRequest(id=draft.id, **editable(req)), metadata=md
        )
    )
    _denied(
        lambda: kit.act.SubmitProject(pb.SubmitProjectRequest(id=draft.id), metadata=md)
    )
    assert status_of(kit, draft.id) == pb.PROJECT_STATUS_DRAFT
    assert kit.get(draft.id, kit.token("610113")).title == draft.title
    approved = kit.approved(b)
    _denied(
        lambda: kit.act.PublishProject(
            pb.PublishProjectRequest(id=approved.id), metadata=md
        )
    )
    assert status_of(kit, approved.id) == pb.PROJECT_STATUS_APPROVED
    published = kit.published(b, leader_approval=True)
    for rpc, request in (
        ("StartProject", pb.StartProjectRequest(id=published.id)),
        ("CancelProject", pb.CancelProjectRequest(id=published.id, reason="不是我的")),
    ):
        _denied(lambda r=rpc, q=request: getattr(kit.act, r)(q, metadata=md))
    assert status_of(kit, published.id) == pb.PROJECT_STATUS_RECRUITING


def test_org_leader_cannot_decide_sign_ups_or_attendance_of_another_organisation(
    kit: Kit, two: dict[str, Any]
) -> None:
    md, b = two["leader"], two["b"]
    (vol,) = kit.volunteers("610113002")
    p = kit.started(b, sessions=one_session(5), leader_approval=True)
    session = p.sessions[0].id
    row = kit.sign_up(session, vol.id, kit.token("610113"))
    assert row.status == pb.SIGN_UP_STATUS_PENDING
    _denied(
        lambda: kit.act.ApproveSignUp(
            pb.ApproveSignUpRequest(sign_up_id=row.id), metadata=md
        )
    )
    _denied(
        lambda: kit.act.RejectSignUp(
            pb.RejectSignUpRequest(sign_up_id=row.id, reason="不是我的"), metadata=md
        )
    )
    own = auth(kit.publisher(b))
    kit.act.ApproveSignUp(pb.ApproveSignUpRequest(sign_up_id=row.id), metadata=own)
    ref = {"session_id": session, "volunteer_id": vol.id}
    _denied(lambda: kit.act.CheckIn(pb.CheckInRequest(**ref), metadata=md))
    _denied(
        lambda: kit.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=session), metadata=md
        )
    )
    assert _org_rows_attendance(kit, session) == 0
    kit.act.CheckIn(pb.CheckInRequest(**ref), metadata=own)
    _denied(lambda: kit.act.CheckOut(pb.CheckOutRequest(**ref), metadata=md))
    _denied(
        lambda: kit.act.CloseAttendance(
            pb.CloseAttendanceRequest(**ref, ended_at=when(0)), metadata=md
        )
    )
    open_rows = raw_rows(
        kit.env,
        "SELECT count(*) FROM attendances"
        " WHERE session_id = :s AND checked_out_at IS NULL",
        s=session,
    )
    assert open_rows[0][0] == 1
    _denied(
        lambda: kit.act.CompleteProject(pb.CompleteProjectRequest(id=p.id), metadata=md)
    )
    assert status_of(kit, p.id) == pb.PROJECT_STATUS_IN_PROGRESS


def _org_rows_attendance(kit: Kit, session: str) -> int:
    sql = "SELECT count(*) FROM attendances WHERE session_id = :s"
    return int(raw_rows(kit.env, sql, s=session)[0][0])


def test_org_leader_token_without_organisation_is_refused(
    kit: Kit, two: dict[str, Any]
) -> None:
    unbound = auth(kit.token("610113", "org_leader", username="unbound-leader"))
    before = _org_rows(kit, "projects", two["a"].id)
    _denied(
        lambda: kit.act.CreateProject(kit.request(two["a"]), metadata=unbound),
        why="organisation.bound",
    )
    assert _org_rows(kit, "projects", two["a"].id) == before
    draft = kit.draft(two["a"])
    _denied(
        lambda: kit.act.SubmitProject(
            pb.SubmitProjectRequest(id=draft.id), metadata=unbound
        ),
        why="organisation.bound",
    )
    assert status_of(kit, draft.id) == pb.PROJECT_STATUS_DRAFT


def test_org_leader_pairs_and_logs_visits_for_its_own_organisation_only(
    kit: Kit, two: dict[str, Any]
) -> None:
    md, owner = two["leader"], auth(kit.token("610113"))
    vol, other_vol = kit.volunteers("610113002", 2)
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code="610113002",
            name="赵奶奶",
            address="陕西省西安市雁塔区小寨路社区",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=owner,
    ).recipient

    def pair(org: Any, metadata: Any, who: Any = vol) -> Any:
        return kit.act.CreatePair(
            pb.CreatePairRequest(
                recipient_id=rec.id, volunteer_id=who.id, organisation_id=org.id
            ),
            metadata=metadata,
        ).pair

    _denied(lambda: pair(two["b"], md))
    assert _org_rows(kit, "pairs", two["b"].id) == 0
    theirs = pair(two["b"], owner)
    visit = dict(started_at=when(-60), ended_at=when(-5))
    _denied(
        lambda: kit.act.LogVisit(
            pb.LogVisitRequest(pair_id=theirs.id, **visit), metadata=md
        )
    )
    sql = "SELECT count(*) FROM visits WHERE pair_id = :p"
    assert raw_rows(kit.env, sql, p=theirs.id)[0][0] == 0
    mine = pair(two["a"], md, other_vol)
    kit.act.LogVisit(pb.LogVisitRequest(pair_id=mine.id, **visit), metadata=md)
    assert raw_rows(kit.env, sql, p=mine.id)[0][0] == 1
