"""A volunteer's own use cases (signing up, withdrawing, checking in and out
by the leader's code) in memory, on the same fakes as
``test_activity_usecases``: the volunteer is the token's (claim ``vol``),
the home division the token's scope, and whatever is not the volunteer's
own or open to them is NOT_FOUND with nothing written."""

from __future__ import annotations

import uuid

import pytest

from services.activity import models as m
from services.activity.application import ActivityApp
from services.activity.usecases.attendance import GUESSES
from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.pii import PiiCipher
from tests.unit.activity_fakes import FakeRepository, FakeStore, unit_of_work
from tests.unit.test_activity_usecases import (
    ADMIN,
    CITY,
    CITY_ORG,
    COUNTY,
    MAY,
    NOW,
    ORG,
    SIBLING,
    STREET,
    Kit,
    first_session,
    org,
    recruiting,
    volunteer,
    who,
    wrong_code,
)

BEILIN_ORG = "org-beilin"
BEILIN_ADMIN = who(SIBLING, "tenant_admin", subject="beilin")


@pytest.fixture
def kit() -> Kit:
    """test_activity_usecases' world: Yanta's and Xi'an's organisations."""
    store = FakeStore()
    store.put(org(ORG, COUNTY), org(CITY_ORG, CITY))
    uow = unit_of_work(store, NOW)
    app = ActivityApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        PiiCipher(bytes(32)),
        uow.clock,
        uow=uow,
        repository=lambda work: FakeRepository(store, work.scope),  # type: ignore[arg-type,return-value]
    )
    return Kit(store, uow, app)


def me(ident: str, home: str = STREET) -> Principal:
    """The token of volunteer ``ident``'s own account."""
    return Principal(
        f"acct-{ident}", f"N-{ident}", home, frozenset({"volunteer"}), 0,
        volunteer_id=ident,
    )  # fmt: skip


def fresh(kit: Kit, n: int) -> list[str]:
    """``n`` new verified volunteers of the street (own guess counters)."""
    ids = [f"v-{uuid.uuid4().hex[:8]}" for _ in range(n)]
    kit.store.put(*(volunteer(i) for i in ids))
    return ids


def started(kit: Kit, view_id: str) -> None:
    kit.app.projects.start_project(ADMIN, view_id)
    kit.at(MAY[0], minutes=5)


def test_signing_up_places_then_waitlists_with_the_position(kit: Kit) -> None:
    a, b, c = fresh(kit, 3)
    sid = first_session(recruiting(kit, MAY, capacity=1))
    assert kit.app.own.sign_up(me(a), sid)[0].status == "confirmed"
    row, place = kit.app.own.sign_up(me(b), sid)
    assert (row.status, place, row.volunteer_id) == ("waitlisted", 1, b)
    assert kit.app.own.sign_up(me(c), sid)[1] == 2
    assert row.created_by == f"N-{b}" and row.volunteer_division_code == STREET
    with pytest.raises(AlreadyExists) as err:
        kit.app.own.sign_up(me(b), sid)
    assert (err.value.field, err.value.rule) == ("session_id", "sign_up.unique")


def test_a_neighbour_countys_session_is_not_found_and_nothing_is_written(
    kit: Kit,
) -> None:
    (a,) = fresh(kit, 1)
    kit.store.put(org(BEILIN_ORG, SIBLING))
    view = recruiting(kit, MAY, by=BEILIN_ADMIN, organisation=BEILIN_ORG)
    with pytest.raises(NotFound) as theirs:
        kit.app.own.sign_up(me(a), first_session(view))
    with pytest.raises(NotFound) as unknown:
        kit.app.own.sign_up(me(a), str(uuid.uuid4()))
    assert (theirs.value.field, theirs.value.rule) == (
        unknown.value.field,
        unknown.value.rule,
    )
    assert kit.store.of(m.SignUp) == []


def test_a_pending_or_unknown_volunteer_is_told_to_await_verification(
    kit: Kit,
) -> None:
    kit.store.put(volunteer("pending-one", status="pending"))
    sid = first_session(recruiting(kit, MAY))
    for ident in ("pending-one", "not-replicated-yet"):
        with pytest.raises(FailedPrecondition) as err:
            kit.app.own.sign_up(me(ident), sid)
        assert err.value.rule == "eligibility.verified"
        assert "awaiting your office's verification" in err.value.message_en
        assert err.value.message_zh
    assert kit.store.of(m.SignUp) == []


def test_an_office_account_has_no_own_pages(kit: Kit) -> None:
    sid = first_session(recruiting(kit, MAY))
    office = who(STREET, "volunteer", "tenant_admin")  # no vol claim
    for call in (
        lambda: kit.app.own.sign_up(ADMIN, sid),
        lambda: kit.app.own.sign_up(office, sid),
        lambda: kit.app.own.check_in(office, "123456", sid),
    ):
        with pytest.raises(PermissionDenied) as err:
            call()
        assert err.value.rule == "volunteer.own"
    assert kit.store.of(m.SignUp) == []


def test_withdrawing_frees_the_place_and_anothers_sign_up_is_not_found(
    kit: Kit,
) -> None:
    a, b = fresh(kit, 2)
    sid = first_session(recruiting(kit, MAY, capacity=1))
    mine, _ = kit.app.own.sign_up(me(a), sid)
    theirs, _ = kit.app.own.sign_up(me(b), sid)
    with pytest.raises(NotFound) as err:
        kit.app.own.withdraw(me(b), mine.id)
    assert err.value.field == "id"
    assert (mine.status, theirs.status) == ("confirmed", "waitlisted")
    assert kit.app.own.withdraw(me(a), mine.id).status == "withdrawn"
    assert theirs.status == "confirmed"  # moved up


def test_check_in_and_out_by_the_code_with_or_without_the_session(kit: Kit) -> None:
    a, b = fresh(kit, 2)
    view = recruiting(kit, MAY, capacity=2)
    sid = first_session(view)
    kit.app.own.sign_up(me(a), sid)
    kit.app.own.sign_up(me(b), sid)
    started(kit, view.project.id)
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    assert kit.app.own.check_in(me(a), code, "").session_id == sid
    assert kit.app.own.check_in(me(b), code, sid).volunteer_id == b
    kit.at(MAY[1], minutes=30)
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    out = kit.app.own.check_out(me(a), f" {code} ", "")
    assert (out.closed_by, out.checked_out_at) == ("volunteer", kit.uow.now)
    assert kit.uow.events[-1][0] == "activity.attendance.checked_out"
    with pytest.raises(FailedPrecondition) as err:  # nothing left to leave
        kit.app.own.check_out(me(a), code, "")
    assert err.value.rule == "attendance.none_under_way"


def test_a_wrong_or_malformed_code_names_the_code_and_writes_nothing(
    kit: Kit,
) -> None:
    (a,) = fresh(kit, 1)
    view = recruiting(kit, MAY)
    sid = first_session(view)
    kit.app.own.sign_up(me(a), sid)
    started(kit, view.project.id)
    wrong = wrong_code(kit, sid)
    for session in ("", sid):
        with pytest.raises(InvalidArgument) as err:
            kit.app.own.check_in(me(a), wrong, session)
        assert (err.value.field, err.value.rule) == ("code", "code.mismatch")
        assert err.value.message_en and err.value.message_zh
    for bad, rule in (("12ab56", "code.format"), ("", "code.required")):
        with pytest.raises(InvalidArgument) as err:
            kit.app.own.check_in(me(a), bad, sid)
        assert (err.value.field, err.value.rule) == ("code", rule)
    assert kit.store.of(m.Attendance) == []


def test_guessing_without_a_session_is_cut_off(kit: Kit) -> None:
    (a,) = fresh(kit, 1)
    view = recruiting(kit, MAY)
    sid = first_session(view)
    kit.app.own.sign_up(me(a), sid)
    started(kit, view.project.id)
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    for _ in range(GUESSES.limit):
        with pytest.raises(InvalidArgument):
            kit.app.own.check_in(me(a), wrong_code(kit, sid), "")
    with pytest.raises(FailedPrecondition) as err:  # even the right code
        kit.app.own.check_in(me(a), code, "")
    assert err.value.rule == "code.attempts"
    assert kit.store.of(m.Attendance) == []


def test_no_session_under_way_is_said_plainly(kit: Kit) -> None:
    (a,) = fresh(kit, 1)
    sid = first_session(recruiting(kit, MAY))
    kit.app.own.sign_up(me(a), sid)  # recruiting, not yet started
    with pytest.raises(FailedPrecondition) as err:
        kit.app.own.check_in(me(a), "123456", "")
    assert (err.value.field, err.value.rule) == ("code", "attendance.none_under_way")
    assert kit.store.of(m.Attendance) == []


def test_another_countys_running_session_is_not_found_by_id(kit: Kit) -> None:
    (a,) = fresh(kit, 1)
    kit.store.put(org(BEILIN_ORG, SIBLING))
    view = recruiting(kit, MAY, by=BEILIN_ADMIN, organisation=BEILIN_ORG)
    sid = first_session(view)
    kit.app.projects.start_project(BEILIN_ADMIN, view.project.id)
    kit.at(MAY[0], minutes=5)
    code, _, _ = kit.app.attendance.checkin_code(BEILIN_ADMIN, sid)
    with pytest.raises(NotFound) as err:
        kit.app.own.check_in(me(a), code, sid)
    assert err.value.field == "session_id"
    assert kit.store.of(m.Attendance) == []
