"""Consumed events → what commendation applies. A malformed event raises
``ValueError``: the kernel's handler retries once, then dead-letters it."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from services.commendation import conduct
from services.commendation.models import Volunteer
from services.commendation.usecases.moves import Move
from services.commendation.usecases.ratings import HoursNews
from services.commendation.usecases.rerate import TIER_KEYS, RerateOrder
from services.common import times
from services.common.outbox import Envelope
from services.common.rollup import month_of
from services.common.tenancy import validate_code


def _text(data: dict[str, Any], key: str, max_length: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ValueError(f"event field {key!r} must be a string of 1-{max_length}")
    return value.strip()


def _hours(data: dict[str, Any], key: str) -> Decimal:
    value = data.get(key)
    try:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (TypeError, InvalidOperation):
        raise ValueError(f"event field {key!r} must be a number") from None


def hours(env: Envelope, delta_key: str) -> HoursNews:
    """hours.record.approved (``hours``) or .corrected (``delta_hours``)."""
    d = env.data
    when = times.parse(env.occurred_at)
    month = d.get("service_month") or month_of(when)
    if not isinstance(month, str) or len(month) != 7:
        raise ValueError("event field 'service_month' must be YYYY-MM")
    return HoursNews(
        volunteer_id=_text(d, "volunteer_id", 36),
        volunteer_number=_text(d, "volunteer_number", 20),
        division_code=validate_code(_text(d, "division_code", 12)),
        year=int(month[:4]),
        delta_hours=_hours(d, delta_key),
        total_hours=_hours(d, "volunteer_total_hours"),
        occurred_at=when,
    )


def imported(env: Envelope) -> list[tuple[str, HoursNews]]:
    """hours.records.imported: (claim id, news) per volunteer and service
    year; the claim id is derived from the event, volunteer and year, so a
    redelivered (or half-applied) event applies each part once."""
    when = times.parse(env.occurred_at)
    out = []
    for entry in env.data.get("volunteers") or []:
        years = entry.get("years")
        if not isinstance(years, dict) or not years:
            raise ValueError("event field 'years' must map years to hours")
        for year in sorted(years):
            if not (isinstance(year, str) and len(year) == 4 and year.isdigit()):
                raise ValueError("event field 'years' must be keyed by YYYY")
            news = HoursNews(
                volunteer_id=_text(entry, "volunteer_id", 36),
                volunteer_number=_text(entry, "volunteer_number", 20),
                division_code=validate_code(_text(entry, "division_code", 12)),
                year=int(year),
                delta_hours=_hours(years, year),
                total_hours=_hours(entry, "volunteer_total_hours"),
                occurred_at=when,
            )
            key = f"{env.event_id}/{news.volunteer_id}/{year}"
            out.append((str(uuid.uuid5(_IMPORT_CLAIMS, key)), news))
    return out


_IMPORT_CLAIMS = uuid.UUID("7f1d8a2e-3c4b-4e5f-9a6b-1c2d3e4f5a6b")


def volunteer(env: Envelope) -> Volunteer:
    """registration.volunteer.registered / .verified / .rejected."""
    d = env.data
    return Volunteer(
        id=_text(d, "volunteer_id", 36),
        volunteer_number=_text(d, "volunteer_number", 20),
        division_code=validate_code(_text(d, "home_division_code", 12)),
        status=_text(d, "status", 12),
        changed_at=times.parse(env.occurred_at),
    )


def transfer(env: Envelope) -> Move:
    """registration.volunteer.transferred: the old and the new home."""
    d = env.data
    return Move(
        volunteer_id=_text(d, "volunteer_id", 36),
        volunteer_number=_text(d, "volunteer_number", 20),
        from_code=validate_code(_text(d, "from_division_code", 12)),
        to_code=validate_code(_text(d, "to_division_code", 12)),
        status=_text(d, "status", 12),
        occurred_at=times.parse(env.occurred_at),
    )


def rerate(env: Envelope) -> RerateOrder:
    """commendation.stars.rerate_requested (this worker's own order)."""
    d = env.data
    keys = d.get("keys")
    if keys is not None and (
        not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
    ):
        raise ValueError("event field 'keys' must be a list of setting keys")
    after = d.get("after") or ""
    if not isinstance(after, str) or len(after) > 36:
        raise ValueError("event field 'after' must be a volunteer id")
    return RerateOrder(
        division_code=validate_code(_text(d, "division_code", 12)),
        # A key this version does not rate by changes nothing; none known
        # (a newer producer's keys only) re-rates under every key.
        keys=None if keys is None else tuple(k for k in TIER_KEYS if k in keys),
        after=after,
    )


def evaluation(env: Envelope) -> conduct.EvaluationNews:
    """hours.record.evaluated: the record's current evaluation and what the
    policy in force at the record's division blocks when it is poor."""
    d = env.data
    score, replaced, blocks = d.get("score"), d.get("replaced", 0), d.get("poor_blocks")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValueError("event field 'score' must be a whole number 1-5")
    if isinstance(replaced, bool) or not isinstance(replaced, int) or replaced < 0:
        raise ValueError("event field 'replaced' must be a count")
    if not isinstance(d.get("poor"), bool):
        raise ValueError("event field 'poor' must be true or false")
    if blocks is None:
        blocks = []
    if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
        raise ValueError("event field 'poor_blocks' must be a list of names")
    return conduct.EvaluationNews(
        record_id=_text(d, "record_id", 36),
        volunteer_id=_text(d, "volunteer_id", 36),
        volunteer_number=_text(d, "volunteer_number", 20),
        division_code=validate_code(_text(d, "division_code", 12)),
        score=score,
        poor=d["poor"],
        poor_blocks=tuple(sorted(b for b in blocks if b in conduct.BLOCKABLE)),
        replaced=replaced,
        occurred_at=times.parse(env.occurred_at),
    )


def complaint(env: Envelope) -> conduct.ComplaintNews:
    """hours.complaint.filed / .replied / .decided."""
    d = env.data
    status = _text(d, "status", 12)
    if status not in conduct.COMPLAINT_RANK:
        raise ValueError("event field 'status' must be a complaint status")
    return conduct.ComplaintNews(
        complaint_id=_text(d, "complaint_id", 36),
        volunteer_id=_text(d, "volunteer_id", 36),
        volunteer_number=_text(d, "volunteer_number", 20),
        division_code=validate_code(_text(d, "division_code", 12)),
        status=status,
        occurred_at=times.parse(env.occurred_at),
    )
