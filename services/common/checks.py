"""Request checks every service shares: each raises INVALID_ARGUMENT naming
the field and the rule, before anything is read or written.

Example::

    title = text(req.title, "title", 200)
    volunteer_id = ident(req.volunteer_id, "volunteer_id")
    deadline = day(req.deadline, "deadline")
    start, end = utc_moment(req.start, "start"), moment(req.end, "end")
    first, last = period(req.start_month, req.end_month, "query.period")
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from services.common.errors import InvalidArgument

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def text(value: str, field: str, max_length: int, required: bool = True) -> str:
    """Trimmed text of at most ``max_length`` characters."""
    value = (value or "").strip()
    if required and not value:
        raise InvalidArgument.required(field)
    if len(value) > max_length:
        raise InvalidArgument.too_long(field, max_length)
    return value


def ident(value: str, field: str, required: bool = True) -> str:
    """A platform id (UUID); hyphenated, lower case; '' when optional and absent."""
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidArgument.required(field)
        return ""
    try:
        # uuid.UUID reads full-width and other Unicode digits as hex digits:
        # '１２…' would name the ASCII id instead of being refused.
        if not value.isascii():
            raise ValueError(value)
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(
            field, f"{field}.format", "must be a UUID", "须为 UUID 格式的编号"
        ) from None


def day(value: str, field: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    value = (value or "").strip()
    if not value:
        raise InvalidArgument.required(field)
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_day(field)
    except ValueError:
        return _bad_day(field)


def _bad_day(field: str) -> date:
    raise InvalidArgument(
        field,
        f"{field}.format",
        "must be a date written YYYY-MM-DD, e.g. 2026-12-31",
        "须为 YYYY-MM-DD 格式的日期，如 2026-12-31",
    )


def whole(value: int, field: str, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high`` inclusive."""
    if not low <= value <= high:
        raise InvalidArgument(
            field,
            f"{field}.range",
            f"must be a whole number from {low} to {high}",
            f"须为 {low} 到 {high} 之间的整数",
        )
    return value


def moment(value: str, field: str) -> datetime:
    """An RFC 3339 time with its offset, as written (a time without an
    offset is ambiguous, so it is refused)."""
    value = (value or "").strip()
    if not value:
        raise InvalidArgument.required(field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidArgument(
            field,
            f"{field}.format",
            "must be an RFC 3339 time with an offset, e.g. 2026-11-08T09:00:00+08:00",
            "须为带时区的 RFC 3339 时间，如 2026-11-08T09:00:00+08:00",
        )
    return parsed


def utc_moment(value: str, field: str) -> datetime:
    """:func:`moment` as UTC (what SQLite, which keeps no offsets, stores)."""
    return moment(value, field).astimezone(UTC)


def month(value: str, field: str) -> str:
    """A month written YYYY-MM, or '' for none."""
    if value and not _MONTH.match(value):
        raise InvalidArgument(
            field,
            "period.month_format",
            "months are written YYYY-MM",
            "月份格式应为 YYYY-MM",
        )
    return value


def period(start: str, end: str, prefix: str = "period") -> tuple[str, str]:
    """Two months (either may be '') that are in order; fields are named
    ``{prefix}.start_month`` and ``{prefix}.end_month``."""
    start = month(start, f"{prefix}.start_month")
    end = month(end, f"{prefix}.end_month")
    if start and end and end < start:
        raise InvalidArgument(
            f"{prefix}.end_month",
            "period.order",
            "the period must not end before it starts",
            "截止月份不能早于起始月份",
        )
    return start, end
