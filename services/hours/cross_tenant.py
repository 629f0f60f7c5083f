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

from collections.abc import Mapping
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
