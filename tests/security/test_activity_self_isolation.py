"""A volunteer's own pages reach that volunteer only: real requests on the
real api role with real ids harvested from other volunteers' calls.

The attacker and the victim both live in 大雁塔街道 (610113002, Yanta); the
neighbour lives in Beilin (610103002). Every refused call is NOT_FOUND
exactly as an unknown id (or PERMISSION_DENIED / UNAUTHENTICATED for a token
that is no volunteer's own), and nothing is written: each test reads the
victim's rows back through the office's own calls afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.common.auth import TokenIssuer, generate_keypair
from services.common.testing import PRIVATE_PEM
from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, one_session, when
from tests.security.matrix import (
    NF,
    PD,
    check_indistinguishable,
    national_token,
    outcome,
)

pytestmark = pytest.mark.integration
TOWN, COUNTY, NEIGHBOUR, CITY = "610113002", "610113", "610103", "6101"
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
FORGER = TokenIssuer(generate_keypair()[0], "zhiyuan", "zhiyuan")
PAGE = common.PageRequest(page_size=500)


def own_token(vol: rpb.Volunteer, issuer: TokenIssuer = ISSUER) -> str:
    value, _ = issuer.issue(
        subject=f"account-{vol.id}",
        username=vol.volunteer_number,
        scope_code=vol.home_division_code,
        roles=["volunteer"],
        volunteer_id=vol.id,
    )
    return value


@dataclass
class World:
    kit: Kit
    attacker: rpb.Volunteer
    victim: rpb.Volunteer
    neighbour: rpb.Volunteer

    @property
    def act(self) -> Any:
        return self.kit.act

    def me(self, vol: rpb.Volunteer | None = None) -> list[tuple[str, str]]:
        return auth(own_token(vol or self.attacker))

    def org(self, code: str) -> rpb.Organisation:
        return self.kit.orgs.get(code) or self.kit.org(code)

    def leader(self, code: str) -> list[tuple[str, str]]:
        return auth(self.kit.publisher(self.org(code)))

    def sign_up(self, vol: rpb.Volunteer, session_id: str) -> pb.SignUp:
        return self.act.SignUpMe(
            pb.SignUpMeRequest(session_id=session_id), metadata=self.me(vol)
        ).sign_up

    def queue(self, session_id: str) -> dict[str, int]:
        """The session's sign-ups, read by the province (sees every one)."""
        got = self.act.ListSignUps(
            pb.ListSignUpsRequest(session_id=session_id, page=PAGE),
            metadata=auth(self.kit.token("61", "province_admin")),
        ).sign_ups
        return {x.id: x.status for x in got}

    def attendances(self, session_id: str) -> list[pb.Attendance]:
        return list(
            self.act.ListAttendances(
                pb.ListAttendancesRequest(session_id=session_id, page=PAGE),
                metadata=auth(self.kit.token("61", "province_admin")),
            ).attendances
        )

    def code(self, code: str, session_id: str) -> str:
        return self.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=session_id),
            metadata=self.leader(code),
        ).code


@pytest.fixture(scope="module")
def w(stub, stubs, token, worker, migrated) -> World:  # type: ignore[no-untyped-def]
    kit = Kit(stub, stubs("activity"), token, migrated)
    attacker, victim = kit.volunteers(TOWN, 2)
    (neighbour,) = kit.volunteers("610103002")
    return World(kit, attacker, victim, neighbour)


def harvested(w: World) -> dict[str, pb.SignUp]:
    """Real sign-ups of others: the victim's in the county's project, the
    neighbour's in Beilin's, the victim's in the city's (parent) campaign."""
    county = w.kit.published(w.org(COUNTY), sessions=one_session(5))
    beilin = w.kit.published(w.org(NEIGHBOUR), sessions=one_session(5))
    city = w.kit.published(w.org(CITY), emergency=True, service_field="emergency")
    return {
        "same township": w.sign_up(w.victim, county.sessions[0].id),
        "neighbour county": w.sign_up(w.neighbour, beilin.sessions[0].id),
        "parent campaign": w.sign_up(w.victim, city.sessions[0].id),
    }


def test_withdrawing_anothers_sign_up_is_not_found_and_changes_nothing(
    w: World,
) -> None:
    theirs = harvested(w)
    before = {k: w.queue(s.session_id) for k, s in theirs.items()}

    def withdraw(ident: str) -> Any:
        return w.act.WithdrawMe(pb.WithdrawMeRequest(id=ident), metadata=w.me())

    for row in theirs.values():
        check_indistinguishable(withdraw, row.id, str(uuid.uuid4()))
    assert {k: w.queue(s.session_id) for k, s in theirs.items()} == before
    assert all(
        before[k][s.id] == pb.SIGN_UP_STATUS_CONFIRMED for k, s in theirs.items()
    )


def test_the_nation_neither_reads_nor_withdraws_a_sign_up(w: World) -> None:
    """The national account (scope CN) is refused the sign-up calls naming
    real sign-ups (scope.national), and nothing changes."""
    theirs = harvested(w)
    before = {k: w.queue(s.session_id) for k, s in theirs.items()}
    nation = auth(national_token())
    for row in theirs.values():
        for call in (
            lambda i=row.id: w.act.WithdrawMe(
                pb.WithdrawMeRequest(id=i), metadata=nation
            ),
            lambda: w.act.ListMySignUps(pb.ListMySignUpsRequest(), metadata=nation),
        ):
            status, err = outcome(call)
            assert status == PD
            assert dict(err.trailing_metadata())["zhiyuan-rule"] == "scope.national"
    assert {k: w.queue(s.session_id) for k, s in theirs.items()} == before


def test_anothers_sign_ups_are_never_read(w: World) -> None:
    theirs = harvested(w)
    p = w.kit.published(w.org(COUNTY))
    mine = w.sign_up(w.attacker, p.sessions[0].id)
    w.sign_up(w.victim, p.sessions[0].id)
    listed = w.act.ListMySignUps(pb.ListMySignUpsRequest(), metadata=w.me()).sign_ups
    assert mine.id in {x.id for x in listed}
    assert all(x.volunteer_id == w.attacker.id for x in listed)
    assert not {x.id for x in listed} & {x.id for x in theirs.values()}
    detail = w.act.GetMyProject(pb.GetMyProjectRequest(id=p.id), metadata=w.me())
    assert [x.id for x in detail.my_sign_ups] == [mine.id]
    # The neighbour county's project itself is not the attacker's to read.
    beilin = theirs["neighbour county"].project_id
    check_indistinguishable(
        lambda ident: w.act.GetMyProject(
            pb.GetMyProjectRequest(id=ident), metadata=w.me()
        ),
        beilin,
        str(uuid.uuid4()),
    )


def test_signing_up_for_a_session_not_open_to_me_is_not_found(w: World) -> None:
    beilin = w.kit.published(w.org(NEIGHBOUR))
    other_town = w.kit.published(w.org("610113001"))
    draft = w.kit.draft(w.org(COUNTY))
    for p in (beilin, other_town, draft):
        session = p.sessions[0].id
        before = w.queue(session)
        check_indistinguishable(
            lambda ident: w.sign_up(w.attacker, ident), session, str(uuid.uuid4())
        )
        assert w.queue(session) == before


def test_checking_in_for_another_countys_session_is_refused(w: World) -> None:
    beilin = w.kit.started(
        w.org(NEIGHBOUR), sessions=one_session(5, -60, 30), recruit_ends_at=when(20)
    )
    session = beilin.sessions[0].id
    w.sign_up(w.neighbour, session)
    code = w.code(NEIGHBOUR, session)

    def check_in(ident: str) -> Any:
        return w.act.CheckInMe(
            pb.CheckInMeRequest(code=code, session_id=ident), metadata=w.me()
        )

    check_indistinguishable(check_in, session, str(uuid.uuid4()))
    # Without the session, the code finds none of the attacker's own sessions.
    status, err = outcome(
        lambda: w.act.CheckInMe(pb.CheckInMeRequest(code=code), metadata=w.me())
    )
    assert status == grpc.StatusCode.FAILED_PRECONDITION, err
    assert w.attendances(session) == []
    # The neighbour's own check-in with the same code works: the code was right.
    came = w.act.CheckInMe(
        pb.CheckInMeRequest(code=w.code(NEIGHBOUR, session)),
        metadata=w.me(w.neighbour),
    )
    assert came.attendance.volunteer_id == w.neighbour.id
    status, _ = outcome(
        lambda: w.act.CheckOutMe(
            pb.CheckOutMeRequest(code=w.code(NEIGHBOUR, session), session_id=session),
            metadata=w.me(),
        )
    )
    assert status == NF
    assert [a.checked_out_at for a in w.attendances(session)] == [""]


def test_a_session_open_to_me_gives_no_hold_on_anothers_place(w: World) -> None:
    # The county's (a parent's) running session: open to the attacker, who
    # has no place in it; the victim is checked in there.
    p = w.kit.started(
        w.org(COUNTY), sessions=one_session(1, -60, 30), recruit_ends_at=when(20)
    )
    session = p.sessions[0].id
    theirs = w.sign_up(w.victim, session)
    w.act.CheckInMe(
        pb.CheckInMeRequest(code=w.code(COUNTY, session)), metadata=w.me(w.victim)
    )
    for method, request in (
        (w.act.CheckInMe, pb.CheckInMeRequest),
        (w.act.CheckOutMe, pb.CheckOutMeRequest),
    ):
        for session_id in (session, ""):
            status, err = outcome(
                lambda m=method, r=request, s=session_id: m(
                    r(code=w.code(COUNTY, session), session_id=s), metadata=w.me()
                )
            )
            assert status == grpc.StatusCode.FAILED_PRECONDITION, err
    status, _ = outcome(
        lambda: w.act.WithdrawMe(pb.WithdrawMeRequest(id=theirs.id), metadata=w.me())
    )
    assert status == NF
    (row,) = w.attendances(session)
    assert (row.volunteer_id, row.checked_out_at) == (w.victim.id, "")
    assert w.queue(session) == {theirs.id: pb.SIGN_UP_STATUS_CONFIRMED}


def test_a_parents_unpublished_project_is_not_found(w: World) -> None:
    draft = w.kit.draft(w.org(CITY))
    check_indistinguishable(
        lambda ident: w.act.GetMyProject(
            pb.GetMyProjectRequest(id=ident), metadata=w.me()
        ),
        draft.id,
        str(uuid.uuid4()),
    )


OFFICE_TOKENS: dict[str, Callable[[World], str]] = {
    "tenant admin": lambda w: w.kit.token(COUNTY),
    "township admin": lambda w: w.kit.token(TOWN),
    "org leader": lambda w: w.kit.publisher(w.org(COUNTY)),
    "volunteer role without vol": lambda w: w.kit.token(TOWN, "volunteer"),
}


@pytest.mark.parametrize("who", OFFICE_TOKENS)
def test_an_office_token_has_no_own_pages(w: World, who: str) -> None:
    tok = auth(OFFICE_TOKENS[who](w))
    p = w.kit.started(
        w.org(COUNTY), sessions=one_session(5, -60, 30), recruit_ends_at=when(20)
    )
    session = p.sessions[0].id
    theirs = w.sign_up(w.victim, session)
    code = w.code(COUNTY, session)
    calls = {
        "ListMyProjects": lambda: w.act.ListMyProjects(
            pb.ListMyProjectsRequest(), metadata=tok
        ),
        "GetMyProject": lambda: w.act.GetMyProject(
            pb.GetMyProjectRequest(id=p.id), metadata=tok
        ),
        "SignUpMe": lambda: w.act.SignUpMe(
            pb.SignUpMeRequest(session_id=session), metadata=tok
        ),
        "WithdrawMe": lambda: w.act.WithdrawMe(
            pb.WithdrawMeRequest(id=theirs.id), metadata=tok
        ),
        "ListMySignUps": lambda: w.act.ListMySignUps(
            pb.ListMySignUpsRequest(), metadata=tok
        ),
        "CheckInMe": lambda: w.act.CheckInMe(
            pb.CheckInMeRequest(code=code, session_id=session), metadata=tok
        ),
        "ListMyTraining": lambda: w.act.ListMyTraining(
            pb.ListMyTrainingRequest(), metadata=tok
        ),
    }
    for name, call in calls.items():
        status, err = outcome(call)
        assert status == PD, (name, status)
        assert "Traceback" not in err.details()
    assert w.queue(session) == {theirs.id: pb.SIGN_UP_STATUS_CONFIRMED}
    assert w.attendances(session) == []


def test_a_forged_vol_claim_is_unauthenticated(w: World) -> None:
    p = w.kit.started(
        w.org(COUNTY), sessions=one_session(5, -60, 30), recruit_ends_at=when(20)
    )
    session = p.sessions[0].id
    theirs = w.sign_up(w.victim, session)
    forged = auth(own_token(w.victim, FORGER))
    code = w.code(COUNTY, session)
    for call in (
        lambda: w.act.ListMySignUps(pb.ListMySignUpsRequest(), metadata=forged),
        lambda: w.act.WithdrawMe(pb.WithdrawMeRequest(id=theirs.id), metadata=forged),
        lambda: w.act.CheckInMe(pb.CheckInMeRequest(code=code), metadata=forged),
    ):
        status, err = outcome(call)
        assert status == grpc.StatusCode.UNAUTHENTICATED
        assert "Traceback" not in err.details()
    assert w.queue(session) == {theirs.id: pb.SIGN_UP_STATUS_CONFIRMED}
    assert w.attendances(session) == []
