"""Activity's pure rules: the lifecycle table, reach, eligibility, the
rotating check-in code and the attendance windows."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from services.activity import domain
from services.activity.replica import newer_status
from services.common.errors import FailedPrecondition, InvalidArgument

# The lifecycle as the issue states it, written out independently of the code.
LEGAL = {
    ("draft", "submitted"),
    ("draft", "cancelled"),
    ("submitted", "approved"),
    ("submitted", "returned"),
    ("returned", "submitted"),
    ("returned", "cancelled"),
    ("approved", "recruiting"),
    ("approved", "cancelled"),
    ("recruiting", "in_progress"),
    ("recruiting", "cancelled"),
    ("in_progress", "completed"),
    ("in_progress", "cancelled"),
}
STATES = [
    "draft",
    "submitted",
    "approved",
    "returned",
    "recruiting",
    "in_progress",
    "completed",
    "cancelled",
]
PAIRS = list(itertools.product(STATES, STATES))


def test_the_states_are_exactly_the_issues() -> None:
    assert set(domain.STATUSES) == set(STATES)


@pytest.mark.parametrize(
    ("current", "target"), [p for p in PAIRS if p in LEGAL], ids="->".join
)
def test_legal_transition(current: str, target: str) -> None:
    assert domain.check_transition(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"), [p for p in PAIRS if p not in LEGAL], ids="->".join
)
def test_illegal_transition_is_a_failed_precondition(current: str, target: str) -> None:
    with pytest.raises(FailedPrecondition) as err:
        domain.check_transition(current, target)
    assert err.value.rule == "state.transition"
    assert current in err.value.message_en and target in err.value.message_en


@pytest.mark.parametrize("state", STATES)
def test_only_drafts_and_returned_projects_are_editable(state: str) -> None:
    if state in ("draft", "returned"):
        domain.check_editable(state)
    else:
        with pytest.raises(FailedPrecondition):
            domain.check_editable(state)


@pytest.mark.parametrize(
    ("scope", "division", "emergency", "status", "expected"),
    [
        ("610113", "610113", False, "draft", "own"),
        ("6101", "610113002", False, "recruiting", "own"),
        ("610113", "61", True, "recruiting", "emergency"),
        ("610113001", "6101", True, "in_progress", "emergency"),
        ("610113", "6101", True, "completed", ""),  # closed campaigns stay up
        ("610113", "6101", False, "recruiting", ""),  # not an emergency
        ("610113", "610103", True, "recruiting", ""),  # a sibling, not an ancestor
        ("610113001", "610113", False, "recruiting", ""),  # never upward
    ],
)
def test_reach(scope, division, emergency, status, expected) -> None:  # type: ignore[no-untyped-def]
    assert domain.reach(scope, division, emergency, status) == expected


# -- places ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confirmed", "capacity", "approval", "place"),
    [
        (0, 1, False, "confirmed"),
        (1, 1, False, "waitlisted"),
        (4, 5, False, "confirmed"),
        (5, 5, False, "waitlisted"),
        (0, 5, True, "pending"),
        (5, 5, True, "pending"),
    ],
)
def test_place_for(confirmed, capacity, approval, place) -> None:  # type: ignore[no-untyped-def]
    assert domain.place_for(confirmed, capacity, approval) == place


def test_promotions_take_the_head_of_the_waitlist() -> None:
    assert domain.promotions(["a", "b", "c"], confirmed=4, capacity=5) == ["a"]
    assert domain.promotions(["a", "b"], confirmed=0, capacity=5) == ["a", "b"]
    assert domain.promotions(["a"], confirmed=5, capacity=5) == []
    assert domain.promotions(["a"], confirmed=6, capacity=5) == []  # never negative


# -- eligibility ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2008, 3, 1), date(2026, 2, 28), 17),
        (date(2008, 3, 1), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # a leap-day birthday
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(1990, 12, 31), date(1991, 12, 30), 0),
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert domain.age_on(birth, on) == age


ON = date(2026, 11, 8)


@pytest.mark.parametrize("status", ["pending", "rejected", ""])
def test_only_verified_volunteers_are_eligible(status: str) -> None:
    with pytest.raises(FailedPrecondition) as err:
        domain.check_eligible(status, date(1990, 1, 1), [], 0, [], ON)
    assert (err.value.field, err.value.rule) == ("volunteer_id", "eligibility.verified")


def test_minimum_age_is_inclusive_on_the_birthday() -> None:
    domain.check_eligible("verified", date(2008, 11, 8), [], 18, [], ON)
    with pytest.raises(FailedPrecondition) as err:
        domain.check_eligible("verified", date(2008, 11, 9), [], 18, [], ON)
    assert err.value.rule == "eligibility.min_age"


def test_unknown_birth_date_fails_a_minimum_age_but_not_no_minimum() -> None:
    domain.check_eligible("verified", None, [], 0, [], ON)
    with pytest.raises(FailedPrecondition):
        domain.check_eligible("verified", None, [], 14, [], ON)


def test_every_required_skill_is_needed() -> None:
    have = ["medical", "elderly_care"]
    domain.check_eligible("verified", date(1990, 1, 1), have, 0, ["medical"], ON)
    with pytest.raises(FailedPrecondition) as err:
        domain.check_eligible(
            "verified", date(1990, 1, 1), have, 0, ["medical", "legal_aid"], ON
        )
    assert err.value.rule == "eligibility.skills" and "legal_aid" in str(err.value)


# -- the rotating code -------------------------------------------------------------

SECRET = bytes(range(32))
T0 = datetime(2026, 11, 8, 1, 0, 0, tzinfo=UTC)  # a window boundary


def reference_code(secret: bytes, unix: int) -> str:
    """HOTP-style truncation of HMAC-SHA256 over the 60 s counter, written
    out here independently of the code under test."""
    mac = hmac.new(secret, (unix // 60).to_bytes(8, "big"), hashlib.sha256).digest()
    o = mac[31] & 15
    return str((int.from_bytes(mac[o : o + 4], "big") & 0x7FFFFFFF) % 10**6).zfill(6)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_code_matches_the_reference_and_has_six_digits() -> None:
    for offset in range(0, 3600, 61):
        code = domain.checkin_code(SECRET, domain.code_window(at(offset)))
        assert code == reference_code(SECRET, int(at(offset).timestamp()))
        assert len(code) == 6 and code.isdigit()


def test_code_is_the_same_within_a_window_and_changes_at_its_end() -> None:
    first = domain.checkin_code(SECRET, domain.code_window(at(0)))
    assert domain.checkin_code(SECRET, domain.code_window(at(59.999))) == first
    assert domain.checkin_code(SECRET, domain.code_window(at(60))) != first


@pytest.mark.parametrize(
    ("read_at", "used_at", "accepted"),
    [
        (0, 0, True),
        (0, 59, True),
        (0, 60, True),  # the previous window is still accepted
        (0, 119, True),
        (0, 120, False),  # two windows later: expired
        (60, 59, False),  # a code from the future is never accepted
        (0, -1, False),
    ],
)
def test_current_and_previous_window_accepted(read_at, used_at, accepted) -> None:  # type: ignore[no-untyped-def]
    code = domain.checkin_code(SECRET, domain.code_window(at(read_at)))
    assert domain.code_accepted(SECRET, code, at(used_at)) is accepted


def test_another_sessions_code_is_refused() -> None:
    other = bytes(32)
    code = domain.checkin_code(other, domain.code_window(at(0)))
    assert code != domain.checkin_code(SECRET, domain.code_window(at(0)))
    assert not domain.code_accepted(SECRET, code, at(0))


# -- attendance windows -------------------------------------------------------------

START, END = at(3 * 3600), at(6 * 3600)


@pytest.mark.parametrize(
    ("moment", "ok"),
    [
        (START - timedelta(hours=2), True),
        (START - timedelta(hours=2, seconds=1), False),
        (END, True),
        (END + timedelta(seconds=1), False),
    ],
)
def test_check_in_window(moment: datetime, ok: bool) -> None:
    if ok:
        domain.check_in_allowed(moment, START, END)
    else:
        with pytest.raises(FailedPrecondition):
            domain.check_in_allowed(moment, START, END)


@pytest.mark.parametrize(
    ("moment", "ok"),
    [
        (START, True),
        (START - timedelta(seconds=1), False),  # before the check-in itself
        (END + timedelta(hours=2), True),
        (END + timedelta(hours=2, seconds=1), False),
    ],
)
def test_check_out_window(moment: datetime, ok: bool) -> None:
    if ok:
        domain.check_out_allowed(moment, START, END)
    else:
        with pytest.raises(FailedPrecondition):
            domain.check_out_allowed(moment, START, END)


def test_a_late_close_lies_between_check_in_and_session_end() -> None:
    domain.check_close(END, START, END)
    for bad in (END + timedelta(seconds=1), START - timedelta(seconds=1)):
        with pytest.raises(InvalidArgument) as err:
            domain.check_close(bad, START, END)
        assert err.value.field == "ended_at"


# -- the replica's order of statuses ------------------------------------------------


@pytest.mark.parametrize(
    ("current", "incoming", "applies"),
    [
        (None, "pending", True),
        ("pending", "verified", True),
        ("pending", "rejected", True),
        ("verified", "pending", False),  # a late `registered` after `verified`
        ("rejected", "pending", False),
        ("verified", "verified", True),
    ],
)
def test_replica_status_only_moves_forward(current, incoming, applies) -> None:  # type: ignore[no-untyped-def]
    assert newer_status(current, incoming) is applies


def test_wrong_codes_are_limited_per_key_and_window():
    from datetime import UTC, datetime, timedelta

    from services.activity.domain import CodeGuesses

    guesses = CodeGuesses(limit=3, window=timedelta(minutes=10))
    t0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for i in range(3):
        assert guesses.allowed("s1/v1", t0 + timedelta(seconds=i))
        guesses.missed("s1/v1", t0 + timedelta(seconds=i))
    assert not guesses.allowed("s1/v1", t0 + timedelta(minutes=1))
    assert guesses.allowed("s1/v2", t0 + timedelta(minutes=1))  # others unaffected
    assert guesses.allowed("s1/v1", t0 + timedelta(minutes=10, seconds=3))
