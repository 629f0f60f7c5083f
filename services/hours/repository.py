"""Scoped data access for hours. A :class:`Repository` is built from a
session and a :class:`Scope`; every tenant query it issues filters by that
scope's prefix (and row-level security repeats the filter in PostgreSQL).
Another tenant's row and no row at all get the same NOT_FOUND."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from services.common.errors import NotFound
from services.common.paging import page_rows
from services.common.settings import effective_settings
from services.common.settings_replica import usable
from services.common.tenancy import Scope, ancestors
from services.hours.domain import Policy
from services.hours.models import (
    Certificate,
    Correction,
    HourRecord,
    PolicyNode,
)


def missing(field: str, kind_en: str, kind_zh: str, key: str) -> NotFound:
    err = NotFound.entity(kind_en, kind_zh, key)
    err.field, err.rule = field, f"{field}.exists"
    return err


def effective(record: HourRecord, corrections: Sequence[Correction]) -> Decimal:
    """Hours a record counts now: nothing once rejected; a reversal's delta
    brings a reversed record to zero."""
    if record.status == "rejected":
        return Decimal("0.00")
    return record.hours + sum((c.delta_hours for c in corrections), Decimal(0))


class Repository:
    def __init__(self, session: Session, scope: Scope):
        self.s = session
        self.scope = scope

    def _inside(self, column: Any, node: str | None = None) -> Any:
        scope = self.scope.narrow(node) if node else self.scope
        return column.like(scope.like_pattern)

    # -- records ---------------------------------------------------------------
    def record(self, ident: str, field: str = "id", lock: bool = False) -> HourRecord:
        q = select(HourRecord).where(
            HourRecord.id == ident, self._inside(HourRecord.division_code)
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing(field, "hour record", "时长记录", ident)
        return row

    def record_by_source(self, source: str, source_id: str) -> HourRecord | None:
        return self.s.execute(
            select(HourRecord).where(
                HourRecord.source == source,
                HourRecord.source_id == source_id,
                self._inside(HourRecord.division_code),
            )
        ).scalar_one_or_none()

    def records_query(self, node: str, volunteer_id: str, status: str | None) -> Any:
        q = select(HourRecord).where(self._inside(HourRecord.division_code, node))
        if volunteer_id:
            q = q.where(HourRecord.volunteer_id == volunteer_id)
        if status:
            q = q.where(HourRecord.status == status)
        return q

    def page(
        self, query: Any, order: Sequence[Any], size: int, offset: int
    ) -> tuple[list[Any], int]:
        return page_rows(self.s, query, order, size, offset)

    def corrections(self, record_ids: Sequence[str]) -> dict[str, list[Correction]]:
        out: dict[str, list[Correction]] = {i: [] for i in record_ids}
        if not record_ids:
            return out
        rows = self.s.execute(
            select(Correction)
            .where(
                Correction.record_id.in_(list(record_ids)),
                self._inside(Correction.division_code),
            )
            .order_by(Correction.created_at, Correction.id)
        ).scalars()
        for c in rows:
            out[c.record_id].append(c)
        return out

    def with_effective(
        self, records: Sequence[HourRecord]
    ) -> list[tuple[HourRecord, Decimal]]:
        fixes = self.corrections([r.id for r in records])
        return [(r, effective(r, fixes[r.id])) for r in records]

    # -- policy (replica of registration's overrides) ------------------------
    def policy(self, code: str) -> Policy:
        """The effective hour policy at ``code`` (its ancestors' overrides
        are readable under row security: they are its inherited policy)."""
        rows = self.s.execute(
            select(PolicyNode).where(PolicyNode.division_code.in_(ancestors(code)))
        ).scalars()
        overrides = {r.division_code: usable(r.overrides) for r in rows}
        return Policy.from_settings(effective_settings(code, overrides))

    # -- certificates ---------------------------------------------------------
    def certificate(self, number: str, lock: bool = False) -> Certificate:
        q = select(Certificate).where(
            Certificate.number == number, self._inside(Certificate.division_code)
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing("number", "certificate", "证明", number)
        return row

    def certificates_query(
        self, node: str, volunteer_id: str, status: str | None
    ) -> Any:
        """Certificates issued inside ``node`` (their issuing division), without
        the stored PDF: a list never needs the document."""
        q = (
            select(Certificate)
            .where(self._inside(Certificate.division_code, node))
            .options(defer(Certificate.pdf))
        )
        if volunteer_id:
            q = q.where(Certificate.volunteer_id == volunteer_id)
        if status:
            q = q.where(Certificate.status == status)
        return q
