"""Recycling's pure rules: the bin lifecycle and what it does to the "bins
deployed" count, the booking lifecycle and pickup windows, and the month a
dated fact counts in (weights and items: :mod:`quantities`). No I/O, no
framework imports.

Dropping garments in a bin is a donation and earns no service hours; the
volunteers' sorting and transport shifts earn hours only through activity's
check-in and check-out. Nothing here (or anywhere in this service) creates
hours.

Example:
    >>> check_bin_transition("full", "deployed")
    'deployed'
    >>> deployed_delta("deployed", "retired")
    -1
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.roles import MANAGERS as MANAGERS
from services.common.roles import READERS as READERS

# -- roles -------------------------------------------------------------------
# Offices and team leaders run bins, collections, drives and bookings; any
# signed-in person may book a pickup in their own jurisdiction.
BOOKERS = (*READERS, "volunteer")

# -- bins ----------------------------------------------------------------------
BIN_TRANSITIONS: dict[str, frozenset[str]] = {
    "deployed": frozenset({"full", "maintenance", "retired"}),
    "full": frozenset({"deployed", "maintenance", "retired"}),
    "maintenance": frozenset({"deployed", "retired"}),
    "retired": frozenset(),
}
BIN_STATUSES = tuple(BIN_TRANSITIONS)


def check_bin_transition(current: str, target: str) -> str:
    """``target`` if a bin may move there from ``current`` (retired is final).

    Example:
        >>> check_bin_transition("retired", "deployed")
        Traceback (most recent call last):
        ...
        services.common.errors.FailedPrecondition: recycling bin cannot go from 'retired' to 'deployed' / 回收箱当前状态为 retired，不能变更为 deployed
    """  # noqa: E501
    if target not in BIN_TRANSITIONS.get(current, frozenset()):
        raise FailedPrecondition.transition("recycling bin", "回收箱", current, target)
    return target


def counts_as_deployed(status: str) -> bool:
    return status in BIN_STATUSES and status != "retired"


def deployed_delta(current: str, target: str) -> int:
    """What a change does to the "bins deployed" count: +1 when a bin comes
    into service, -1 when it retires, 0 otherwise. Summing the months gives
    the bins in service now.

    Example:
        >>> deployed_delta("", "deployed"), deployed_delta("full", "maintenance")
        (1, 0)
    """
    return int(counts_as_deployed(target)) - int(counts_as_deployed(current))


def emptied_status(current: str, changed_on: date, emptied_on: date) -> str:
    """A full bin is in service again once a collection emptied it; one
    dated before the bin filled up changes nothing.

    Example:
        >>> emptied_status("full", date(2026, 3, 1), date(2026, 3, 2))
        'deployed'
    """
    full = current == "full" and emptied_on >= changed_on
    return "deployed" if full else current


# -- bookings ---------------------------------------------------------------------
BOOKING_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"assigned", "cancelled"}),
    "assigned": frozenset({"collected", "cancelled"}),
    "collected": frozenset(),
    "cancelled": frozenset(),
}
BOOKING_STATUSES = tuple(BOOKING_TRANSITIONS)
MAX_WINDOW = timedelta(days=7)
MAX_AHEAD = timedelta(days=90)


def check_booking_transition(current: str, target: str) -> str:
    if target not in BOOKING_TRANSITIONS.get(current, frozenset()):
        raise FailedPrecondition.transition("pickup booking", "预约", current, target)
    return target


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    """A pickup window: in the future, ending after it starts, at most a
    week long and starting within 90 days."""
    if start <= now:
        raise InvalidArgument(
            "window_start",
            "window_start.future",
            "the pickup window must lie in the future",
            "预约上门时间须晚于当前时间",
        )
    if start > now + MAX_AHEAD:
        raise InvalidArgument(
            "window_start",
            "window_start.max_ahead",
            "the pickup window must start within 90 days",
            "预约时间须在 90 天以内",
        )
    if end <= start:
        raise InvalidArgument(
            "window_end",
            "window_end.after_start",
            "the window must end after it starts",
            "结束时间须晚于开始时间",
        )
    if end - start > MAX_WINDOW:
        raise InvalidArgument(
            "window_end",
            "window_end.max_duration",
            "the window lasts at most 7 days",
            "预约时段不能超过 7 天",
        )


# -- dates ----------------------------------------------------------------------------


def month_of_day(day: date) -> str:
    """The reporting month of a calendar day, 'YYYY-MM'."""
    return day.strftime("%Y-%m")
