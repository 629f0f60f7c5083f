"""Rollup bookkeeping for approved hours, in the transaction of the change.

Hours and records are plain sums (the kernel's :class:`Rollup`). Distinct
volunteers are not: a volunteer counts once per (division, month, field)
however many records they have there. The presence rows say where the
volunteer newly appears (or vanishes); those divisions are always the
record's own and a run of its nearest ancestors, so two kernel bumps give
exactly that run: +1 from the record's division up, -1 from just above the
run up.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from services.common.rollup import month_of
from services.common.tenancy import ancestors
from services.hours.cross_tenant import presence_add
from services.hours.models import ROLLUP, ROLLUP_FIELDS, HourRecord


def _field(record: HourRecord) -> str | None:
    # A field without rollup columns (newer than this schema) still counts
    # in the totals.
    return record.service_field if record.service_field in ROLLUP_FIELDS else None


def count(s: Session, record: HourRecord, amount: Decimal, sign: int) -> None:
    """Count an approved record in (``sign=1``) or, reversed, out of (-1)."""
    field = _field(record)
    deltas = {"hours": float(amount) * sign, "records": float(sign)}
    if field:
        deltas[f"hours_{field}"] = deltas["hours"]
        deltas[f"records_{field}"] = deltas["records"]
    ROLLUP.bump(s, record.division_code, record.month, **deltas)
    codes = ancestors(record.division_code)
    for key, metric in [("", "volunteers")] + (
        [(field, f"volunteers_{field}")] if field else []
    ):
        flipped = presence_add(s, codes, record.month, key, record.volunteer_id, sign)
        if flipped:
            ROLLUP.bump(s, codes[-1], record.month, **{metric: float(sign)})
        if 0 < flipped < len(codes):
            ROLLUP.bump(s, codes[-flipped - 1], record.month, **{metric: -float(sign)})


def amend(s: Session, record: HourRecord, delta: Decimal) -> None:
    """An amendment changes the hours only: the record and the volunteer
    still count."""
    field = _field(record)
    deltas = {"hours": float(delta)}
    if field:
        deltas[f"hours_{field}"] = float(delta)
    ROLLUP.bump(s, record.division_code, record.month, **deltas)


def apply_approved(
    session: Session,
    records: Select[Any] | str,
    params: Mapping[str, Any] | None = None,
    sign: int = 1,
) -> None:
    """Count a set of approved records in (``sign=1``) or out of (-1) every
    hours rollup, as approving them one by one would.

    ``records`` selects rows with the columns volunteer_id, division_code,
    service_field, hours and served_at (or month, 'YYYY-MM' China time).

    Example::

        apply_approved(s, "SELECT volunteer_id, division_code, service_field,"
                          " hours, started_at AS served_at FROM staging")
    """
    query = text(records) if isinstance(records, str) else records
    for row in session.execute(query, dict(params or {})).mappings():
        month = row.get("month") or month_of(row["served_at"])
        fact = SimpleNamespace(
            volunteer_id=row["volunteer_id"],
            division_code=row["division_code"],
            service_field=row["service_field"],
            month=month,
        )
        count(session, fact, Decimal(str(row["hours"])), sign)  # type: ignore[arg-type]
