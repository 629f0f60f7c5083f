"""A volunteer's own pages on the real api role and the worker's replica:
finding the projects open to them (their area upward, the emergency
campaigns of their city and province), signing up with the waitlist's
position, withdrawing, and checking in and out by the leader's rotating code
(with and without the session), plus the leader's QR code of that code.

The volunteer lives in 大雁塔街道 (610113002), Yanta district (610113), Xi'an
(6101), Shaanxi (61). Tokens are those of the volunteer's own account: role
volunteer, scope the home township, claim ``vol`` the volunteer's id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.activity import domain, qr
from services.common.auth import TokenIssuer
from services.common.config import load
from services.common.rollup import CST
from services.common.testing import PRIVATE_PEM
from tests.helpers import auth
from tests.integration.test_activity_flow import (
    Kit,
    one_session,
    raw_rows,
    refused,
    rule,
    when,
)
from tests.integration.test_activity_flow import kit as kit  # noqa: F401

pytestmark = pytest.mark.integration
TOWN, COUNTY, CITY, PROVINCE = "610113002", "610113", "6101", "61"
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
PAGE = common.PageRequest(page_size=500)


def own(vol: rpb.Volunteer) -> list[tuple[str, str]]:
    """The metadata of the volunteer's own account."""
    value, _ = ISSUER.issue(
        subject=f"account-{vol.id}",
        username=vol.volunteer_number,
        scope_code=vol.home_division_code,
        roles=["volunteer"],
        volunteer_id=vol.id,
    )
    return auth(value)


def listed(kit: Kit, vol: rpb.Volunteer, **filters: Any) -> list[pb.Project]:
    return list(
        kit.act.ListMyProjects(
            pb.ListMyProjectsRequest(page=PAGE, **filters), metadata=own(vol)
        ).projects
    )


def org(kit: Kit, code: str) -> rpb.Organisation:
    return kit.orgs.get(code) or kit.org(code)


def sign_up(kit: Kit, vol: rpb.Volunteer, session_id: str) -> pb.SignUp:
    return kit.act.SignUpMe(
        pb.SignUpMeRequest(session_id=session_id), metadata=own(vol)
    ).sign_up


def my_sign_ups(kit: Kit, vol: rpb.Volunteer) -> list[pb.SignUp]:
    return list(
        kit.act.ListMySignUps(pb.ListMySignUpsRequest(), metadata=own(vol)).sign_ups
    )


def secret(kit: Kit, session_id: str) -> bytes:
    (row,) = raw_rows(
        kit.env, "SELECT secret FROM sessions WHERE id = :i", i=session_id
    )
    return bytes(row[0])


def field(err: grpc.RpcError) -> str:
    return str(dict(err.trailing_metadata() or ()).get("zhiyuan-field", ""))


# -- finding ---------------------------------------------------------------------------


def test_projects_open_to_me_are_my_area_upward_and_my_campaigns(kit: Kit) -> None:
    (vol,) = kit.volunteers(TOWN)
    mine = [
        kit.published(org(kit, TOWN)),
        kit.published(org(kit, COUNTY), service_field="elderly_care"),
        kit.published(org(kit, CITY), emergency=True, service_field="emergency"),
        kit.published(org(kit, PROVINCE), emergency=True, service_field="emergency"),
    ]
    not_mine = [
        kit.published(org(kit, "610113001")),  # another township of the county
        kit.published(org(kit, "610103")),  # the neighbour county: ordinary
        kit.published(org(kit, "6102"), emergency=True, service_field="emergency"),
        kit.draft(org(kit, COUNTY)),  # not published
    ]
    got = listed(kit, vol)
    ids = [p.id for p in got]
    assert {p.id for p in mine} <= set(ids)
    assert not {p.id for p in not_mine} & set(ids)
    assert all(TOWN.startswith(p.division_code) for p in got)
    # The office account that published a project is not shown to volunteers.
    assert {p.publisher for p in got} == {""}
    # Nearest first: the township's, the county's, the city's, the province's.
    near = [p.id for p in listed(kit, vol, near=TOWN) if p.id in {x.id for x in mine}]
    assert near == [p.id for p in mine]
    urgent = {p.id for p in listed(kit, vol, service_field="emergency")}
    assert {mine[2].id, mine[3].id} <= urgent and mine[1].id not in urgent
    assert mine[0].id not in urgent


def test_the_date_filter_keeps_projects_with_a_session_that_day(kit: Kit) -> None:
    (vol,) = kit.volunteers(TOWN)
    county = org(kit, COUNTY)
    later = kit.published(county, sessions=one_session(5, 2 * 1440, 2 * 1440 + 90))
    today = kit.published(county)
    start = datetime.fromisoformat(later.sessions[0].starts_at)
    day = start.astimezone(CST).date().isoformat()
    ids = {p.id for p in listed(kit, vol, date=day)}
    assert later.id in ids and today.id not in ids


@pytest.mark.parametrize(
    ("filters", "name"),
    [
        ({"date": "2026-13-01"}, "date"),
        ({"near": "61011"}, "near"),
        ({"service_field": "juggling"}, "service_field"),
    ],
)
def test_a_bad_filter_names_its_field(kit: Kit, filters: dict, name: str) -> None:
    (vol,) = kit.volunteers(TOWN)
    err = refused(lambda: listed(kit, vol, **filters))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field(err) == name


# -- signing up ------------------------------------------------------------------------


def test_sign_up_waitlist_position_withdraw_and_my_sign_ups(kit: Kit) -> None:
    a, b, c = kit.volunteers(TOWN, 3)
    p = kit.published(org(kit, COUNTY), sessions=one_session(1))
    session = p.sessions[0]
    first = sign_up(kit, a, session.id)
    assert (first.status, first.waitlist_position) == (pb.SIGN_UP_STATUS_CONFIRMED, 0)
    second, third = sign_up(kit, b, session.id), sign_up(kit, c, session.id)
    assert (second.status, second.waitlist_position) == (
        pb.SIGN_UP_STATUS_WAITLISTED,
        1,
    )
    assert (third.volunteer_id, third.waitlist_position) == (c.id, 2)
    err = refused(lambda: sign_up(kit, b, session.id))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS and field(err) == "session_id"

    (listed_c,) = my_sign_ups(kit, c)
    assert (listed_c.id, listed_c.waitlist_position) == (third.id, 2)
    assert listed_c.project_title == p.title
    assert datetime.fromisoformat(listed_c.session_starts_at) == (
        datetime.fromisoformat(session.starts_at)
    )
    detail = kit.act.GetMyProject(pb.GetMyProjectRequest(id=p.id), metadata=own(c))
    assert (detail.project.title, detail.project.publisher) == (p.title, "")
    assert [x.id for x in detail.my_sign_ups] == [third.id]
    assert detail.my_sign_ups[0].waitlist_position == 2
    assert (detail.sessions[0].confirmed, detail.sessions[0].waitlisted) == (1, 2)

    out = kit.act.WithdrawMe(pb.WithdrawMeRequest(id=first.id), metadata=own(a))
    assert out.sign_up.status == pb.SIGN_UP_STATUS_WITHDRAWN
    (moved,) = my_sign_ups(kit, b)
    assert (moved.status, moved.waitlist_position) == (pb.SIGN_UP_STATUS_CONFIRMED, 0)
    assert my_sign_ups(kit, c)[0].waitlist_position == 1


def test_a_pending_volunteer_is_told_to_await_verification(kit: Kit) -> None:
    pending = kit.register(TOWN)
    kit.replicated("volunteers", [pending.id], status="pending")
    p = kit.published(org(kit, COUNTY))
    err = refused(lambda: sign_up(kit, pending, p.sessions[0].id))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rule(err) == "eligibility.verified"
    assert "awaiting your office's verification" in (err.details() or "")
    assert my_sign_ups(kit, pending) == []


# -- check-in and check-out by the code -----------------------------------------------


def test_check_in_and_out_by_the_code_with_and_without_the_session(kit: Kit) -> None:
    a, b = kit.volunteers(TOWN, 2)
    county = org(kit, COUNTY)
    leader = auth(kit.publisher(county))
    p = kit.started(
        county, sessions=one_session(5, start=-60, end=30), recruit_ends_at=when(20)
    )
    sid = p.sessions[0].id
    for vol in (a, b):
        sign_up(kit, vol, sid)

    def code() -> str:
        return kit.act.GetCheckInCode(
            pb.GetCheckInCodeRequest(session_id=sid), metadata=leader
        ).code

    came = kit.act.CheckInMe(pb.CheckInMeRequest(code=code()), metadata=own(a))
    assert (came.attendance.session_id, came.attendance.volunteer_id) == (sid, a.id)
    came = kit.act.CheckInMe(
        pb.CheckInMeRequest(code=code(), session_id=sid), metadata=own(b)
    )
    assert came.attendance.volunteer_id == b.id

    wrong = f"{(int(code()) + 500_000) % 10**6:06d}"
    # Three windows ago: not this window's code nor the one before.
    key = secret(kit, sid)
    window = domain.code_window(datetime.now(UTC))
    expired = domain.checkin_code(key, window - 3)
    assert not domain.code_accepted(key, expired, datetime.now(UTC))
    for bad, session in ((wrong, ""), (expired, sid)):
        err = refused(
            lambda c=bad, s=session: kit.act.CheckOutMe(
                pb.CheckOutMeRequest(code=c, session_id=s), metadata=own(a)
            )
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (field(err), rule(err)) == ("code", "code.mismatch")
        assert "wrong or has expired" in (err.details() or "")
    open_rows = kit.act.ListAttendances(
        pb.ListAttendancesRequest(session_id=sid), metadata=leader
    ).attendances
    assert [x.checked_out_at for x in open_rows] == ["", ""]

    left = kit.act.CheckOutMe(pb.CheckOutMeRequest(code=code()), metadata=own(a))
    assert left.attendance.checked_out_at and left.attendance.closed_by == "volunteer"
    left = kit.act.CheckOutMe(
        pb.CheckOutMeRequest(code=code(), session_id=sid), metadata=own(b)
    )
    assert left.attendance.checked_out_at
    err = refused(
        lambda: kit.act.CheckOutMe(pb.CheckOutMeRequest(code=code()), metadata=own(a))
    )
    assert rule(err) == "attendance.none_under_way"


def test_the_leaders_qr_code_carries_the_check_in_address(kit: Kit) -> None:
    county = org(kit, COUNTY)
    p = kit.started(county)
    sid = p.sessions[0].id
    before = datetime.now(UTC)
    got = kit.act.GetCheckInQrCode(
        pb.GetCheckInQrCodeRequest(session_id=sid), metadata=auth(kit.publisher(county))
    )
    public = str(load().get("gateway.public_url", "")).rstrip("/")
    assert got.url == f"{public}/m/#/check-in?session={sid}&code={got.code}"
    assert got.svg == qr.svg(got.url) and got.svg.startswith(b"<svg")
    assert domain.code_accepted(secret(kit, sid), got.code, datetime.now(UTC))
    assert datetime.fromisoformat(got.valid_until) > before
