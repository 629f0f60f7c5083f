"""Narrow questions about rows that the caller's scope hides.

A volunteer serves wherever they like, so overlap, the day's hours and the
platform total span tenants; the distinct-volunteer counters write ancestor
rows; and anyone may verify a certificate. In PostgreSQL each question is a
``SECURITY DEFINER`` function (migration 0001) that answers with a boolean,
a number or the certificate's public fields, never another tenant's rows.
SQLite (embedded mode, one tenant on a laptop) has no row security: the same
questions are plain queries there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.hours.models import Certificate, Correction, HourRecord

ACTIVE = ("pending", "approved")


def _pg(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def lock_volunteer(s: Session, volunteer_id: str) -> None:
    """Serialise this transaction with every other one writing the
    volunteer's hours, anywhere: overlap, caps and totals stay exact."""
    if _pg(s):
        s.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:v, 0))"),
            {"v": volunteer_id},
        )


def lock_volunteers(s: Session, volunteer_ids: Sequence[str]) -> None:
    """:func:`lock_volunteer` for many volunteers in one statement, taken in
    sorted order, so two batches wait for each other instead of deadlocking."""
    if _pg(s) and volunteer_ids:
        s.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(hashtextextended(v, 0)))"
                " FROM (SELECT v FROM unnest(CAST(:vs AS text[])) AS t(v)"
                ' ORDER BY v COLLATE "C") AS o'
            ),
            {"vs": sorted(set(volunteer_ids))},
        )


def _effective() -> Any:
    corrections = (
        select(func.coalesce(func.sum(Correction.delta_hours), 0))
        .where(Correction.record_id == HourRecord.id)
        .scalar_subquery()
    )
    return HourRecord.hours + corrections


def overlaps(
    s: Session, volunteer_id: str, start: datetime, end: datetime, exclude: str = ""
) -> bool:
    """Whether an active (pending or approved) record of the volunteer
    overlaps [start, end)."""
    if _pg(s):
        return bool(
            s.execute(
                text("SELECT hours_overlaps(:v, :a, :b, :x)"),
                {"v": volunteer_id, "a": start, "b": end, "x": exclude},
            ).scalar_one()
        )
    q = select(func.count()).where(
        HourRecord.volunteer_id == volunteer_id,
        HourRecord.status.in_(ACTIVE),
        HourRecord.id != exclude,
        HourRecord.started_at < end,
        HourRecord.ended_at > start,
    )
    return s.execute(q).scalar_one() > 0


def overlaps_many(
    s: Session, spans: Sequence[tuple[str, datetime, datetime]]
) -> list[bool]:
    """:func:`overlaps` for each ``(volunteer, start, end)``, in one round
    trip on PostgreSQL."""
    if not spans:
        return []
    if not _pg(s):
        return [overlaps(s, v, a, b) for v, a, b in spans]
    rows = s.execute(
        text(
            "SELECT hours_overlaps(t.v, t.a, t.b, '') FROM unnest("
            "CAST(:vs AS text[]), CAST(:as AS timestamptz[]),"
            " CAST(:bs AS timestamptz[])) WITH ORDINALITY AS t(v, a, b, n)"
            " ORDER BY t.n"
        ),
        {
            "vs": [v for v, _, _ in spans],
            "as": [a for _, a, _ in spans],
            "bs": [b for _, _, b in spans],
        },
    ).scalars()
    return [bool(x) for x in rows]


def day_totals(
    s: Session, days: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], Decimal]:
    """:func:`day_total` for each ``(volunteer, day)``, in one round trip on
    PostgreSQL."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    if not _pg(s):
        return {(v, d): day_total(s, v, d) for v, d in wanted}
    rows = s.execute(
        text(
            "SELECT hours_day_total(t.v, t.d, '') FROM unnest("
            "CAST(:vs AS text[]), CAST(:ds AS date[]))"
            " WITH ORDINALITY AS t(v, d, n) ORDER BY t.n"
        ),
        {"vs": [v for v, _ in wanted], "ds": [d for _, d in wanted]},
    ).scalars()
    return {key: Decimal(got) for key, got in zip(wanted, rows, strict=True)}


def day_total(s: Session, volunteer_id: str, day: date, exclude: str = "") -> Decimal:
    """Hours credited to the volunteer on a China-time day (active records)."""
    if _pg(s):
        got = s.execute(
            text("SELECT hours_day_total(:v, :d, :x)"),
            {"v": volunteer_id, "d": day, "x": exclude},
        ).scalar_one()
        return Decimal(got)
    q = select(func.coalesce(func.sum(_effective()), 0)).where(
        HourRecord.volunteer_id == volunteer_id,
        HourRecord.service_day == day,
        HourRecord.status.in_(ACTIVE),
        HourRecord.id != exclude,
    )
    return Decimal(str(s.execute(q).scalar_one()))


def platform_total(s: Session, volunteer_id: str) -> Decimal:
    """The volunteer's approved hours on the whole platform."""
    if _pg(s):
        got = s.execute(
            text("SELECT hours_volunteer_total(:v)"), {"v": volunteer_id}
        ).scalar_one()
        return Decimal(got)
    q = select(func.coalesce(func.sum(_effective()), 0)).where(
        HourRecord.volunteer_id == volunteer_id, HourRecord.status == "approved"
    )
    return Decimal(str(s.execute(q).scalar_one()))


def verify_certificate(s: Session, number: str) -> Mapping[str, Any] | None:
    """The public fields of a certificate, for a caller without a scope."""
    if _pg(s):
        row = (
            s.execute(text("SELECT * FROM hours_certificate_verify(:n)"), {"n": number})
            .mappings()
            .first()
        )
        return dict(row) if row else None
    cert = s.get(Certificate, number)
    if cert is None:
        return None
    return {
        "number": cert.number,
        "name_masked": cert.name_masked,
        "hours": cert.hours,
        "issuer_name": cert.issuer_name,
        "issued_on": cert.issued_on,
        "status": cert.status,
    }
