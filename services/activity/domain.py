"""Activity's pure rules: the project lifecycle, places and the waitlist,
eligibility, the rotating check-in code and attendance windows. No I/O, no
framework imports, so every rule is unit-testable.

Example:
    >>> place_for(confirmed=3, capacity=3, needs_approval=False)
    'waitlisted'
    >>> promotions(["a", "b", "c"], confirmed=1, capacity=3)
    ['a', 'b']
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.roles import MANAGERS as MANAGERS
from services.common.roles import READERS as READERS
from services.common.roles import REVIEWERS as REVIEWERS

T = TypeVar("T")

# -- roles -----------------------------------------------------------------
# The kernel's groups (services.common.roles), named where they are used here.

# -- the project lifecycle ---------------------------------------------------
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted", "cancelled"}),
    "submitted": frozenset({"approved", "returned"}),
    "returned": frozenset({"submitted", "cancelled"}),
    "approved": frozenset({"recruiting", "cancelled"}),
    "recruiting": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
STATUSES = tuple(TRANSITIONS)
EDITABLE = frozenset({"draft", "returned"})
# Volunteers may sign up while recruiting; emergency campaigns keep recruiting
# while they run.
OPEN = frozenset({"recruiting", "in_progress"})


def check_transition(current: str, target: str) -> str:
    """``target`` if a project may move there from ``current``.

    Example:
        >>> check_transition("draft", "submitted")
        'submitted'
    """
    if target not in TRANSITIONS.get(current, frozenset()):
        raise FailedPrecondition.transition("project", "项目", current, target)
    return target


def check_editable(current: str) -> None:
    if current not in EDITABLE:
        raise FailedPrecondition(
            f"a {current} project cannot be edited; only drafts and returned ones",
            f"项目当前状态为 {current}，只有草稿或被退回的项目可以修改",
            rule="project.editable",
        )


def reach(scope_code: str, division: str, emergency: bool, status: str) -> str:
    """How a caller at ``scope_code`` reaches a project: ``"own"`` inside its
    subtree, ``"emergency"`` for an open emergency campaign of an ancestor,
    ``""`` not at all.

    Example:
        >>> reach("610113", "61", True, "recruiting"), reach("610113", "61", False, "recruiting")
        ('emergency', '')
    """  # noqa: E501
    if division.startswith(scope_code):
        return "own"
    if emergency and status in OPEN and scope_code.startswith(division):
        return "emergency"
    return ""


# -- places and the waitlist ---------------------------------------------------
def place_for(confirmed: int, capacity: int, needs_approval: bool) -> str:
    """Where a new sign-up lands: pending approval, a place, or the waitlist."""
    if needs_approval:
        return "pending"
    return "confirmed" if confirmed < capacity else "waitlisted"


def promotions(waitlist: Sequence[T], confirmed: int, capacity: int) -> list[T]:
    """The head of the waitlist (oldest first) that fits the free places."""
    return list(waitlist[: max(0, capacity - confirmed)])


# -- eligibility -------------------------------------------------------------------
def age_on(birth: date, day: date) -> int:
    """Whole years of age on ``day``.

    Example:
        >>> age_on(date(2008, 3, 1), date(2026, 2, 28)), age_on(date(2008, 3, 1), date(2026, 3, 1))
        (17, 18)
    """  # noqa: E501
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_eligible(
    status: str,
    birth: date | None,
    fields: Iterable[str],
    min_age: int,
    required: Iterable[str],
    on: date,
) -> None:
    """Refuse a volunteer the project may not take (FAILED_PRECONDITION)."""
    if status != "verified":
        raise _ineligible(
            "verified",
            "only verified volunteers can sign up",
            "只有已审核通过的志愿者才能报名",
        )
    if min_age and (birth is None or age_on(birth, on) < min_age):
        raise _ineligible(
            "min_age",
            f"the project needs volunteers aged {min_age}+",
            f"该项目要求志愿者年满 {min_age} 周岁",
        )
    missing = sorted(set(required) - set(fields))
    if missing:
        raise _ineligible(
            "skills",
            f"missing required skills: {', '.join(missing)}",
            f"缺少项目要求的服务技能：{'、'.join(missing)}",
        )


def _ineligible(rule: str, en: str, zh: str) -> FailedPrecondition:
    return FailedPrecondition(en, zh, field="volunteer_id", rule=f"eligibility.{rule}")


# -- the rotating check-in code ----------------------------------------------------
WINDOW_SECONDS = 60


def code_window(moment: datetime) -> int:
    return int(moment.timestamp()) // WINDOW_SECONDS


def checkin_code(secret: bytes, window: int) -> str:
    """Six digits: HMAC-SHA256 over the window number, truncated as in HOTP
    (RFC 4226), so every digit is uniformly distributed."""
    digest = hmac.new(secret, window.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def code_accepted(secret: bytes, code: str, moment: datetime) -> bool:
    """The current and the previous window's code are accepted: a code read
    off the screen just before it rotates still works."""
    now = code_window(moment)
    # Compare every candidate (no early exit) in constant time.
    results = [
        hmac.compare_digest(checkin_code(secret, w), code) for w in (now, now - 1)
    ]
    return any(results)


class CodeGuesses:
    """Wrong check-in codes per session within a sliding window: after
    ``limit`` misses in ``window`` further attempts are refused until the
    window passes, so six digits cannot be guessed by retrying fast.

    Kept in the api process: with N replicas a guesser gets N × ``limit``
    tries per window, still a negligible chance against 10^6 codes.
    """

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=10)):
        self.limit, self.window = limit, window
        self._misses: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> list[datetime]:
        kept = [t for t in self._misses.get(key, []) if now - t < self.window]
        self._misses[key] = kept
        return kept

    def allowed(self, key: str, now: datetime) -> bool:
        with self._lock:
            return len(self._recent(key, now)) < self.limit

    def missed(self, key: str, now: datetime) -> None:
        with self._lock:
            self._recent(key, now).append(now)


# -- attendance windows -------------------------------------------------------------
GRACE = timedelta(hours=2)


def check_in_allowed(now: datetime, start: datetime, end: datetime) -> None:
    if not start - GRACE <= now <= end:
        raise FailedPrecondition(
            "check-in opens 2 hours before the session and closes at its end",
            "签到时间为活动开始前 2 小时至活动结束",
            rule="attendance.check_in_window",
        )


def check_out_allowed(now: datetime, checked_in: datetime, end: datetime) -> None:
    if not checked_in <= now <= end + GRACE:
        raise FailedPrecondition(
            "check-out closes 2 hours after the session; the leader closes later ones",
            "签退须在活动结束后 2 小时内完成，逾期由负责人补签退",
            rule="attendance.check_out_window",
        )


def check_close(ended: datetime, checked_in: datetime, session_end: datetime) -> None:
    if not checked_in <= ended <= session_end:
        raise InvalidArgument(
            "ended_at",
            "ended_at.within_session",
            "must lie between the check-in and the session end",
            "结束时间须在签到时间与活动结束时间之间",
        )
