"""Scoped data access for hours: every statement its use cases make. A
:class:`Repository` is built from the session of a unit of work and its
:class:`Scope` (``None``: the system context, which sees no tenant rows
and asks only the cross-tenant questions); every tenant query it issues filters by that
scope's prefix (and row-level security repeats the filter in PostgreSQL).
Another tenant's row and no row at all get the same NOT_FOUND. Where
PostgreSQL and SQLite differ, :mod:`.cross_tenant` and the kernel's
``upsertable_insert`` decide, never a use case."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

from sqlalchemy import select
from sqlalchemy.orm import defer

from services.common import outbox, settings_replica
from services.common.db import SessionRepository, upsertable_insert
from services.common.errors import NotFound
from services.common.paging import page_rows
from services.common.settings import effective_settings
from services.common.settings_replica import usable
from services.common.tenancy import Scope, ancestors
from services.hours import cross_tenant, own_rows, rollups
from services.hours.domain import Policy
from services.hours.models import (
    PROCESSED,
    Certificate,
    CertificateCounter,
    Complaint,
    Correction,
    Evaluation,
    HourRecord,
    Objection,
    PolicyNode,
    Seal,
)

# Not found, named by the request's field (kept under this name for callers).
missing = NotFound.named_by


def effective(record: HourRecord, corrections: Sequence[Correction]) -> Decimal:
    """Hours a record counts now: nothing once rejected; a reversal's delta
    brings a reversed record to zero."""
    if record.status == "rejected":
        return Decimal("0.00")
    return record.hours + sum((c.delta_hours for c in corrections), Decimal(0))


class Repository(SessionRepository[Scope | None]):
    def within(self, code: str) -> Self:
        """The same transaction seen from ``code`` (a node inside this
        scope): a batch's rows are each read where they belong."""
        return type(self)(self.s, Scope(code))

    def _inside(self, column: Any, node: str | None = None) -> Any:
        assert self.scope is not None, "a scoped read needs a scope"
        scope = self.scope.narrow(node) if node else self.scope
        return column.like(scope.like_pattern)

    def claim(self, consumer: str, event_id: str) -> bool:
        """Whether this consumer handles the event now (False: done before)."""
        return outbox.claim(self.s, PROCESSED, consumer, event_id)

    def claim_many(self, consumer: str, event_ids: Sequence[str]) -> set[str]:
        """The events of ``event_ids`` this consumer handles now."""
        return outbox.claim_many(self.s, PROCESSED, consumer, event_ids)

    # -- the volunteer across tenants (see cross_tenant) -----------------------
    def lock_volunteer(self, volunteer_id: str) -> None:
        """Serialise with every transaction writing the volunteer's hours."""
        cross_tenant.lock_volunteer(self.s, volunteer_id)

    def lock_volunteers(self, volunteer_ids: Sequence[str]) -> None:
        """:meth:`lock_volunteer` for a batch's volunteers, in one order."""
        cross_tenant.lock_volunteers(self.s, volunteer_ids)

    def overlaps(self, volunteer_id: str, start: datetime, end: datetime) -> bool:
        return cross_tenant.overlaps(self.s, volunteer_id, start, end)

    def overlaps_many(
        self, spans: Sequence[tuple[str, datetime, datetime]]
    ) -> list[bool]:
        """:meth:`overlaps` for each ``(volunteer, start, end)``."""
        return cross_tenant.overlaps_many(self.s, spans)

    def day_total(self, volunteer_id: str, day: date, exclude: str = "") -> Decimal:
        return cross_tenant.day_total(self.s, volunteer_id, day, exclude)

    def day_totals(
        self, days: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], Decimal]:
        """:meth:`day_total` for each ``(volunteer, day)``."""
        return cross_tenant.day_totals(self.s, days)

    def platform_total(self, volunteer_id: str) -> Decimal:
        return cross_tenant.platform_total(self.s, volunteer_id)

    def verify_certificate(self, number: str) -> Mapping[str, Any] | None:
        return cross_tenant.verify_certificate(self.s, number)

    # -- a volunteer's own rows, wherever kept (see own_rows) ------------------
    def own_records(
        self, volunteer_id: str, status: str | None, limit: int = 0, offset: int = 0
    ) -> tuple[list[HourRecord], int]:
        """A page of the volunteer's records (``limit`` 0: all), newest
        first, and their number."""
        return own_rows.records(self.s, volunteer_id, status, limit, offset)

    def own_record(self, volunteer_id: str, ident: str, field: str) -> HourRecord:
        """One of the volunteer's records; another's is NOT_FOUND like none."""
        row = own_rows.record(self.s, volunteer_id, ident)
        if row is None:
            raise missing(field, "hour record", "时长记录", ident)
        return row

    def own_with_effective(
        self, volunteer_id: str, records: Sequence[HourRecord]
    ) -> list[tuple[HourRecord, Decimal]]:
        fixes = own_rows.corrections(self.s, volunteer_id, [r.id for r in records])
        return [(r, effective(r, fixes[r.id])) for r in records]

    def own_objections(self, volunteer_id: str) -> list[Objection]:
        return own_rows.objections(self.s, volunteer_id)

    def file_objection(
        self, ident: str, volunteer_id: str, record_id: str, reason: str, at: datetime
    ) -> Objection:
        """An open objection to the volunteer's own record, under the
        record's division."""
        row = own_rows.file_objection(
            self.s, ident, volunteer_id, record_id, reason, at
        )
        if row is None:
            raise missing("record_id", "hour record", "时长记录", record_id)
        return row

    def own_evaluations(
        self, volunteer_id: str, record_ids: Sequence[str]
    ) -> list[Evaluation]:
        return own_rows.evaluations(self.s, volunteer_id, record_ids)

    def own_complaints(self, volunteer_id: str) -> list[Complaint]:
        return own_rows.complaints(self.s, volunteer_id)

    def reply_to_complaint(
        self, ident: str, volunteer_id: str, reply: str, at: datetime
    ) -> Complaint | None:
        """The volunteer's reply to its own open complaint (None: no such
        open complaint of theirs)."""
        return own_rows.reply_to_complaint(self.s, ident, volunteer_id, reply, at)

    def own_certificates(self, volunteer_id: str) -> list[Certificate]:
        return own_rows.certificates(self.s, volunteer_id)

    def own_certificate(self, volunteer_id: str, number: str) -> Certificate:
        """One of the volunteer's certificates, with its PDF."""
        found = own_rows.certificates(self.s, volunteer_id, number)
        if not found:
            raise missing("number", "certificate", "证明", number)
        return found[0]

    def own_bank_balance(self, volunteer_id: str) -> Decimal:
        return own_rows.bank_balance(self.s, volunteer_id)

    # -- rollups (sums and distinct volunteers, see rollups) -------------------
    def count_approved(self, record: HourRecord, amount: Decimal, sign: int) -> None:
        """Count an approved record in (``sign=1``) or, reversed, out (-1)."""
        rollups.count(self.s, record, amount, sign)

    def amend_counted(self, record: HourRecord, delta: Decimal) -> None:
        """An amendment of a counted record: its hours change, not its count."""
        rollups.amend(self.s, record, delta)

    # -- records ---------------------------------------------------------------
    def record(self, ident: str, field: str = "id", lock: bool = False) -> HourRecord:
        q = select(HourRecord).where(
            HourRecord.id == ident, self._inside(HourRecord.division_code)
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing(field, "hour record", "时长记录", ident)
        return row

    def record_of_locked_volunteer(self, ident: str) -> HourRecord:
        """The record, read again until its volunteer's lock is held.

        A merge re-points records under both volunteers' locks
        (``hours_merge_volunteer``): once the record's current volunteer is
        locked here, a merge either committed before (the record read names
        the survivor) or waits for this transaction, so what is read of the
        volunteer's accounts belongs to the record's volunteer."""
        held: set[str] = set()
        while True:
            q = select(HourRecord).where(
                HourRecord.id == ident, self._inside(HourRecord.division_code)
            )
            row = self.s.execute(
                q.execution_options(populate_existing=True)
            ).scalar_one_or_none()
            if row is None:
                raise missing("id", "hour record", "时长记录", ident)
            if row.volunteer_id in held:
                return row
            self.lock_volunteer(row.volunteer_id)
            held.add(row.volunteer_id)

    def record_by_source(self, source: str, source_id: str) -> HourRecord | None:
        return self.s.execute(
            select(HourRecord).where(
                HourRecord.source == source,
                HourRecord.source_id == source_id,
                self._inside(HourRecord.division_code),
            )
        ).scalar_one_or_none()

    def records_by_source(
        self, sources: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], HourRecord]:
        """:meth:`record_by_source` for many ``(source, source_id)`` keys in
        one query: the ones found inside the scope."""
        if not sources:
            return {}
        wanted = set(sources)
        rows = self.s.execute(
            select(HourRecord).where(
                HourRecord.source_id.in_(sorted({i for _, i in wanted})),
                HourRecord.source.in_(sorted({k for k, _ in wanted})),
                self._inside(HourRecord.division_code),
            )
        ).scalars()
        return {
            (r.source, r.source_id): r
            for r in rows
            if (r.source, r.source_id) in wanted
        }

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

    def approved(
        self, volunteer_id: str, node: str, org_id: str, start: str, end: str
    ) -> list[HourRecord]:
        """The volunteer's approved records inside ``node``, of ``org_id``
        (any when empty) in the months ``start`` to ``end`` (open when
        empty), in the order they started."""
        q = self.records_query(node, volunteer_id, "approved")
        if org_id:
            q = q.where(HourRecord.organisation_id == org_id)
        if start:
            q = q.where(HourRecord.month >= start)
        if end:
            q = q.where(HourRecord.month <= end)
        return list(self.s.execute(q.order_by(HourRecord.started_at)).scalars())

    def with_effective(
        self, records: Sequence[HourRecord]
    ) -> list[tuple[HourRecord, Decimal]]:
        fixes = self.corrections([r.id for r in records])
        return [(r, effective(r, fixes[r.id])) for r in records]

    # -- objections, in the office of the record's division ------------------
    def objection(self, ident: str, lock: bool = False) -> Objection:
        q = select(Objection).where(
            Objection.id == ident, self._inside(Objection.division_code)
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing("id", "objection", "异议", ident)
        return row

    def objections_query(self, node: str, status: str | None) -> Any:
        q = select(Objection).where(self._inside(Objection.division_code, node))
        return q.where(Objection.status == status) if status else q

    def latest_correction(self, record_id: str, since: datetime) -> Correction | None:
        """The record's newest correction made at or after ``since``."""
        return self.s.execute(
            select(Correction)
            .where(
                Correction.record_id == record_id,
                Correction.created_at >= since,
                self._inside(Correction.division_code),
            )
            .order_by(Correction.created_at.desc(), Correction.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    # -- evaluations, under the record's division -----------------------------
    def evaluation(self, record_id: str, lock: bool = False) -> Evaluation | None:
        """The record's current evaluation, if any."""
        q = select(Evaluation).where(
            Evaluation.record_id == record_id,
            Evaluation.superseded_at.is_(None),
            self._inside(Evaluation.division_code),
        )
        return self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()

    def evaluations(self, record_ids: Sequence[str]) -> dict[str, Evaluation]:
        """The current evaluations of ``record_ids`` in scope, by record."""
        if not record_ids:
            return {}
        rows = self.s.execute(
            select(Evaluation).where(
                Evaluation.record_id.in_(list(record_ids)),
                Evaluation.superseded_at.is_(None),
                self._inside(Evaluation.division_code),
            )
        ).scalars()
        return {e.record_id: e for e in rows}

    # -- complaints, in the office that filed them ----------------------------
    def served_in(
        self, volunteer_id: str, node: str, org_id: str = ""
    ) -> HourRecord | None:
        """One of the volunteer's records inside ``node``, of ``org_id``
        when given (None: it served nowhere there, or is unknown)."""
        q = self.records_query(node, volunteer_id, None)
        if org_id:
            q = q.where(HourRecord.organisation_id == org_id)
        return self.s.execute(q.limit(1)).scalars().first()

    def complaint(self, ident: str, lock: bool = False) -> Complaint:
        q = select(Complaint).where(
            Complaint.id == ident, self._inside(Complaint.division_code)
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing("id", "complaint", "投诉", ident)
        return row

    def complaints_query(self, node: str, status: str | None, volunteer_id: str) -> Any:
        q = select(Complaint).where(self._inside(Complaint.division_code, node))
        if volunteer_id:
            q = q.where(Complaint.volunteer_id == volunteer_id)
        return q.where(Complaint.status == status) if status else q

    # -- policy (replica of registration's overrides) ------------------------
    def policy(self, code: str) -> Policy:
        """The effective hour policy at ``code`` (its ancestors' overrides
        are readable under row security: they are its inherited policy)."""
        rows = self.s.execute(
            select(PolicyNode).where(PolicyNode.division_code.in_(ancestors(code)))
        ).scalars()
        overrides = {r.division_code: usable(r.overrides) for r in rows}
        return Policy.from_settings(effective_settings(code, overrides))

    def policies(self, codes: Iterable[str]) -> dict[str, Policy]:
        """:meth:`policy` at each of ``codes``, in one query."""
        wanted = set(codes)
        nodes = sorted({a for code in wanted for a in ancestors(code)})
        if not nodes:
            return {}
        rows = self.s.execute(
            select(PolicyNode).where(PolicyNode.division_code.in_(nodes))
        ).scalars()
        overrides = {r.division_code: usable(r.overrides) for r in rows}
        return {
            code: Policy.from_settings(
                effective_settings(
                    code, {a: overrides[a] for a in ancestors(code) if a in overrides}
                )
            )
            for code in wanted
        }

    def replace_policy(
        self, code: str, overrides: dict[str, str], changed_at: datetime
    ) -> bool:
        """Replace the node's overrides; False when the replica is newer."""
        return settings_replica.replace(self.s, PolicyNode, code, overrides, changed_at)

    # -- certificates ---------------------------------------------------------
    def certificate(self, number: str, lock: bool = False) -> Certificate:
        q = select(Certificate).where(
            Certificate.number == number, self._inside(Certificate.division_code)
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing("number", "certificate", "证明", number)
        return row

    def seal(self, code: str, org_id: str, lock: bool = False) -> Seal | None:
        """The seal kept at ``code`` (inside the scope) for ``org_id``
        ('' the office's)."""
        q = select(Seal).where(
            Seal.division_code == code,
            Seal.organisation_id == org_id,
            self._inside(Seal.division_code),
        )
        return self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()

    def seal_for(self, code: str, org_id: str) -> Seal | None:
        """The seal a certificate issued at ``code`` carries: the
        organisation's (``org_id``) at the nearest node up the tree, else
        the office's at the nearest node (row security lets a node read its
        ancestors' seals)."""
        chain = ancestors(code)
        rows = list(
            self.s.execute(
                select(Seal).where(
                    Seal.division_code.in_(chain),
                    Seal.organisation_id.in_({org_id, ""}),
                )
            ).scalars()
        )
        rows.sort(key=lambda r: (r.organisation_id == "", -len(r.division_code)))
        return rows[0] if rows else None

    def next_certificate_serial(self, province: str, year: int) -> int:
        """The province's next certificate serial of the year (from 1)."""
        stmt = (
            upsertable_insert(self.s, CertificateCounter)
            .values(province=province, year=year, value=1)
            .on_conflict_do_update(
                index_elements=["province", "year"],
                set_={"value": CertificateCounter.value + 1},
            )
            .returning(CertificateCounter.value)
        )
        return int(self.s.execute(stmt).scalar_one())

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
