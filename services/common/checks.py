"""Request checks every service shares: each raises INVALID_ARGUMENT naming
the field and the rule, before anything is read or written.

Example::

    title = text(req.title, "title", 200)
    volunteer_id = ident(req.volunteer_id, "volunteer_id")
    deadline = day(req.deadline, "deadline")
"""

from __future__ import annotations

import uuid
from datetime import date

from services.common.errors import InvalidArgument


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
