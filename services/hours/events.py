"""Consumed events → drafts of hour records and settings replicas.

Payloads follow docs/events.md. A payload missing a field or carrying a bad
one raises :class:`ValueError`: the worker's handler then retries once and
dead-letters the message, where an operator can see it (a guess here would
credit hours nobody recorded).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import times
from services.common.outbox import Envelope
from services.common.tenancy import validate_code
from services.hours.domain import Interval, counted_interval
from services.hours.usecases.records import Draft

VISIT_CONTENT = "结对帮扶走访"


def _text(
    data: dict[str, Any], key: str, max_length: int, required: bool = True
) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"event field {key!r} must be a non-empty string")
    if len(value) > max_length:
        raise ValueError(f"event field {key!r} is longer than {max_length}")
    return value.strip()


def _optional_time(data: dict[str, Any], key: str) -> datetime | None:
    return _time(data, key) if data.get(key) else None


def _time(data: dict[str, Any], key: str) -> datetime:
    raw = data.get(key)
    if not isinstance(raw, str):
        raise ValueError(f"event field {key!r} must be an RFC 3339 time")
    return times.parse(raw)


def _common(env: Envelope, source: str, source_id: str) -> dict[str, Any]:
    d = env.data
    return dict(
        source=source,
        source_id=source_id,
        volunteer_id=_text(d, "volunteer_id", 36),
        volunteer_number=_text(d, "volunteer_number", 20, required=False),
        division_code=validate_code(_text(d, "division_code", 12)),
        organisation_id=_text(d, "organisation_id", 36, required=False),
        organisation_name=_text(d, "organisation_name", 200, required=False),
        service_field=_text(d, "service_field", 40, required=False),
        recorded_by=f"activity:{d.get('closed_by') or 'system'}"[:100],
        event_id=env.event_id,
    )


def attendance(env: Envelope) -> Draft:
    """activity.attendance.checked_out → the check-in/out within its session."""
    d = env.data
    checked_in, checked_out = _time(d, "checked_in_at"), _time(d, "checked_out_at")
    return Draft(
        **_common(env, "attendance", _text(d, "attendance_id", 64)),
        activity_kind=_text(d, "kind", 20),
        content=_text(d, "project_title", 200, required=False) or "志愿服务活动",
        started_at=checked_in,
        ended_at=checked_out,
        interval=counted_interval(
            checked_in,
            checked_out,
            _optional_time(d, "session_start"),
            _optional_time(d, "session_end"),
        ),
    )


def visit(env: Envelope) -> Draft:
    """activity.visit.logged → a pairing visit, from its start to its end."""
    d = env.data
    start, end = _time(d, "started_at"), _time(d, "ended_at")
    return Draft(
        **_common(env, "visit", _text(d, "visit_id", 64)),
        activity_kind="visit",
        # The visit's note may describe the household helped: not copied.
        content=VISIT_CONTENT,
        started_at=start,
        ended_at=end,
        interval=Interval(start, end) if end > start else None,
    )
