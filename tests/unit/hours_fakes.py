"""Hours' repositories in memory, for the fast use-case tier.

:class:`FakeStore` holds the rows of every tenant; :class:`FakeRepository`
is the view of it one unit of work gets (filtered by that unit's scope, as
the SQL one is), and stands in for both :class:`~services.hours.repository.
Repository` and :class:`~services.hours.bank_repository.BankRepository`.
The cross-tenant questions (overlap, the day's hours, the platform total,
verification) see every tenant, as PostgreSQL's ``SECURITY DEFINER``
functions do. :class:`TransactionalFakeUoW` is the kernel's
:class:`FakeUnitOfWork` that also puts the rows back as they were when a
unit raises, as a rolled-back transaction would. Only what the use cases
call is here: a method a use case starts calling fails with AttributeError,
not silently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from services.common.settings import effective_settings
from services.common.settings_replica import usable
from services.common.tenancy import Scope, ancestors
from services.hours.cross_tenant import ACTIVE
from services.hours.domain import Policy
from services.hours.models import (
    BankAccount,
    BankEntry,
    BankTransaction,
    Certificate,
    Complaint,
    Correction,
    Evaluation,
    HourRecord,
    Objection,
    Seal,
)
from services.hours.repository import effective, missing


class FakeStore:
    def __init__(self) -> None:
        self.rows: list[Any] = []  # records, corrections, certificates, ledger
        self.claimed: set[tuple[str, str]] = set()
        self.overrides: dict[str, tuple[dict[str, str], datetime]] = {}
        self.serials: dict[tuple[str, int], int] = {}
        # What the use cases counted: (record's division, month, metric).
        self.rollup: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        self.locked: list[str] = []  # volunteers locked, in order

    def of(self, kind: type) -> list[Any]:
        return [r for r in self.rows if isinstance(r, kind)]

    def set_policy(self, code: str, **settings: Any) -> None:
        """Overrides at ``code`` as registration replicates them (JSON)."""
        values = {k: json.dumps(v) for k, v in settings.items()}
        self.overrides[code] = (values, datetime(2000, 1, 1, tzinfo=UTC))

    # -- what a rolled-back transaction restores --
    def snapshot(self) -> Any:
        columns = [
            (o, {a.key: getattr(o, a.key) for a in inspect(o).mapper.column_attrs})
            for o in self.rows
        ]
        return (
            columns, list(self.rows), set(self.claimed), dict(self.overrides),
            dict(self.serials), dict(self.rollup), list(self.locked),
        )  # fmt: skip

    def restore(self, saved: Any) -> None:
        columns, rows, claimed, overrides, serials, rollup, locked = saved
        for o, values in columns:
            for key, value in values.items():
                setattr(o, key, value)
        self.rows, self.claimed, self.overrides = rows, claimed, overrides
        self.serials, self.locked = serials, locked
        self.rollup = defaultdict(Decimal, rollup)


class FakeRepository:
    def __init__(self, store: FakeStore, scope: Scope | None):
        self.store, self.scope = store, scope

    def within(self, code: str) -> FakeRepository:
        return FakeRepository(self.store, Scope(code))

    def _inside(self, code: str, node: str | None = None) -> bool:
        assert self.scope is not None, "a scoped read needs a scope"
        scope = self.scope.narrow(node) if node else self.scope
        return scope.contains(code)

    def add(self, row: Any) -> None:
        if isinstance(row, BankEntry) and row.id is None:
            row.id = len(self.store.of(BankEntry)) + 1
        self.store.rows.append(row)

    def flush(self) -> None:
        pass

    def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.store.claimed:
            return False
        self.store.claimed.add((consumer, event_id))
        return True

    def claim_many(self, consumer: str, event_ids: Sequence[str]) -> set[str]:
        return {e for e in dict.fromkeys(event_ids) if self.claim(consumer, e)}

    # -- the volunteer across tenants ----------------------------------------
    def lock_volunteer(self, volunteer_id: str) -> None:
        self.store.locked.append(volunteer_id)

    def lock_volunteers(self, volunteer_ids: Sequence[str]) -> None:
        for volunteer_id in sorted(set(volunteer_ids)):
            self.lock_volunteer(volunteer_id)

    def _active(self, volunteer_id: str, exclude: str = "") -> list[HourRecord]:
        return [
            r
            for r in self.store.of(HourRecord)
            if r.volunteer_id == volunteer_id and r.status in ACTIVE and r.id != exclude
        ]

    def _effective(self, record: HourRecord) -> Decimal:
        fixes = [c for c in self.store.of(Correction) if c.record_id == record.id]
        return effective(record, fixes)

    def overlaps(self, volunteer_id: str, start: datetime, end: datetime) -> bool:
        return any(
            r.started_at < end and r.ended_at > start
            for r in self._active(volunteer_id)
        )

    def overlaps_many(
        self, spans: Sequence[tuple[str, datetime, datetime]]
    ) -> list[bool]:
        return [self.overlaps(v, a, b) for v, a, b in spans]

    def day_totals(
        self, days: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], Decimal]:
        return {(v, d): self.day_total(v, d) for v, d in set(days)}

    def day_total(self, volunteer_id: str, day: date, exclude: str = "") -> Decimal:
        return sum(
            (
                self._effective(r)
                for r in self._active(volunteer_id, exclude)
                if r.service_day == day
            ),
            Decimal(0),
        )

    def platform_total(self, volunteer_id: str) -> Decimal:
        return sum(
            (
                self._effective(r)
                for r in self._active(volunteer_id)
                if r.status == "approved"
            ),
            Decimal(0),
        )

    def verify_certificate(self, number: str) -> Mapping[str, Any] | None:
        for c in self.store.of(Certificate):
            if c.number == number:
                return {
                    "number": c.number, "name_masked": c.name_masked,
                    "hours": c.hours, "issuer_name": c.issuer_name,
                    "issued_on": c.issued_on, "status": c.status,
                }  # fmt: skip
        return None

    # -- rollups: kept at the record's own division (rollups.py expands) -----
    def count_approved(self, record: HourRecord, amount: Decimal, sign: int) -> None:
        key = (record.division_code, record.month)
        self.store.rollup[(*key, "hours")] += amount * sign
        self.store.rollup[(*key, "records")] += sign

    def amend_counted(self, record: HourRecord, delta: Decimal) -> None:
        self.store.rollup[(record.division_code, record.month, "hours")] += delta

    # -- records -------------------------------------------------------------
    def record(self, ident: str, field: str = "id", lock: bool = False) -> HourRecord:
        for r in self.store.of(HourRecord):
            if r.id == ident and self._inside(r.division_code):
                return r  # type: ignore[no-any-return]
        raise missing(field, "hour record", "时长记录", ident)

    def record_of_locked_volunteer(self, ident: str) -> HourRecord:
        record = self.record(ident)
        self.lock_volunteer(record.volunteer_id)
        return record

    def record_by_source(self, source: str, source_id: str) -> HourRecord | None:
        for r in self.store.of(HourRecord):
            if (r.source, r.source_id) == (source, source_id) and self._inside(
                r.division_code
            ):
                return r  # type: ignore[no-any-return]
        return None

    def records_by_source(
        self, sources: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], HourRecord]:
        found = {key: self.record_by_source(*key) for key in set(sources)}
        return {key: r for key, r in found.items() if r is not None}

    def corrections(self, record_ids: Sequence[str]) -> dict[str, list[Correction]]:
        out: dict[str, list[Correction]] = {i: [] for i in record_ids}
        for c in self.store.of(Correction):
            if c.record_id in out and self._inside(c.division_code):
                out[c.record_id].append(c)
        return out

    def with_effective(
        self, records: Sequence[HourRecord]
    ) -> list[tuple[HourRecord, Decimal]]:
        fixes = self.corrections([r.id for r in records])
        return [(r, effective(r, fixes[r.id])) for r in records]

    def approved(
        self, volunteer_id: str, node: str, org_id: str, start: str, end: str
    ) -> list[HourRecord]:
        found = [
            r
            for r in self.store.of(HourRecord)
            if self._inside(r.division_code, node)
            and r.volunteer_id == volunteer_id
            and r.status == "approved"
            and (not org_id or r.organisation_id == org_id)
            and (not start or r.month >= start)
            and (not end or r.month <= end)
        ]
        return sorted(found, key=lambda r: r.started_at)

    # -- a volunteer's own rows, in every tenant (as own_rows' functions) ------
    def own_records(
        self, volunteer_id: str, status: str | None, limit: int = 0, offset: int = 0
    ) -> tuple[list[HourRecord], int]:
        found = [
            r
            for r in self.store.of(HourRecord)
            if r.volunteer_id == volunteer_id and (not status or r.status == status)
        ]
        found.sort(key=lambda r: (r.started_at, r.id), reverse=True)
        return (found[offset : offset + limit] if limit else found), len(found)

    def own_record(self, volunteer_id: str, ident: str, field: str) -> HourRecord:
        for r in self.store.of(HourRecord):
            if r.id == ident and r.volunteer_id == volunteer_id:
                return r  # type: ignore[no-any-return]
        raise missing(field, "hour record", "时长记录", ident)

    def own_with_effective(
        self, volunteer_id: str, records: Sequence[HourRecord]
    ) -> list[tuple[HourRecord, Decimal]]:
        assert all(r.volunteer_id == volunteer_id for r in records)
        return [(r, self._effective(r)) for r in records]

    def own_objections(self, volunteer_id: str) -> list[Objection]:
        return [o for o in self.store.of(Objection) if o.volunteer_id == volunteer_id]

    def file_objection(
        self, ident: str, volunteer_id: str, record_id: str, reason: str, at: datetime
    ) -> Objection:
        record = self.own_record(volunteer_id, record_id, "record_id")
        row = Objection(
            id=ident, record_id=record.id, division_code=record.division_code,
            volunteer_id=volunteer_id, volunteer_number=record.volunteer_number,
            reason=reason, status="open", filed_at=at, resolved_by=None,
            resolved_at=None, resolution_note="", correction_id=None,
        )  # fmt: skip
        self.add(row)
        return row

    def own_certificate(self, volunteer_id: str, number: str) -> Certificate:
        for c in self.store.of(Certificate):
            if c.number == number and c.volunteer_id == volunteer_id:
                return c  # type: ignore[no-any-return]
        raise missing("number", "certificate", "证明", number)

    def own_complaints(self, volunteer_id: str) -> list[Complaint]:
        found = [c for c in self.store.of(Complaint) if c.volunteer_id == volunteer_id]
        return sorted(found, key=lambda c: (c.filed_at, c.id))

    def reply_to_complaint(
        self, ident: str, volunteer_id: str, reply: str, at: datetime
    ) -> Complaint | None:
        for c in self.own_complaints(volunteer_id):
            if c.id == ident and c.status == "open":
                c.reply, c.replied_at, c.status = reply, at, "replied"
                return c
        return None

    # -- evaluations and complaints, in scope ------------------------------------
    def evaluation(self, record_id: str, lock: bool = False) -> Evaluation | None:
        for e in self.store.of(Evaluation):
            if (
                e.record_id == record_id
                and e.superseded_at is None
                and self._inside(e.division_code)
            ):
                return e  # type: ignore[no-any-return]
        return None

    def served_in(
        self, volunteer_id: str, node: str, org_id: str = ""
    ) -> HourRecord | None:
        for r in self.store.of(HourRecord):
            if (
                r.volunteer_id == volunteer_id
                and self._inside(r.division_code, node)
                and (not org_id or r.organisation_id == org_id)
            ):
                return r  # type: ignore[no-any-return]
        return None

    def complaint(self, ident: str, lock: bool = False) -> Complaint:
        for c in self.store.of(Complaint):
            if c.id == ident and self._inside(c.division_code):
                return c  # type: ignore[no-any-return]
        raise missing("id", "complaint", "投诉", ident)

    # -- objections, in the office of the record's division --------------------
    def objection(self, ident: str, lock: bool = False) -> Objection:
        for o in self.store.of(Objection):
            if o.id == ident and self._inside(o.division_code):
                return o  # type: ignore[no-any-return]
        raise missing("id", "objection", "异议", ident)

    def latest_correction(self, record_id: str, since: datetime) -> Correction | None:
        found = [
            c
            for c in self.store.of(Correction)
            if c.record_id == record_id
            and c.created_at >= since
            and self._inside(c.division_code)
        ]
        return max(found, key=lambda c: (c.created_at, c.id), default=None)

    # -- policy ----------------------------------------------------------------
    def policy(self, code: str) -> Policy:
        overrides = {
            a: usable(self.store.overrides[a][0])
            for a in ancestors(code)
            if a in self.store.overrides
        }
        return Policy.from_settings(effective_settings(code, overrides))

    def policies(self, codes: Iterable[str]) -> dict[str, Policy]:
        return {code: self.policy(code) for code in set(codes)}

    def replace_policy(
        self, code: str, overrides: dict[str, str], changed_at: datetime
    ) -> bool:
        held = self.store.overrides.get(code)
        if held is not None and held[1] > changed_at:
            return False
        self.store.overrides[code] = (dict(overrides), changed_at)
        return True

    # -- certificates ----------------------------------------------------------
    def certificate(self, number: str, lock: bool = False) -> Certificate:
        for c in self.store.of(Certificate):
            if c.number == number and self._inside(c.division_code):
                return c  # type: ignore[no-any-return]
        raise missing("number", "certificate", "证明", number)

    def seal(self, code: str, org_id: str, lock: bool = False) -> Seal | None:
        for x in self.store.of(Seal):
            if (x.division_code, x.organisation_id) == (code, org_id) and self._inside(
                code
            ):
                return x  # type: ignore[no-any-return]
        return None

    def seal_for(self, code: str, org_id: str) -> Seal | None:
        chain = ancestors(code)
        found = [
            x
            for x in self.store.of(Seal)
            if x.division_code in chain and x.organisation_id in {org_id, ""}
        ]
        found.sort(key=lambda x: (x.organisation_id == "", -len(x.division_code)))
        return found[0] if found else None

    def next_certificate_serial(self, province: str, year: int) -> int:
        key = (province, year)
        self.store.serials[key] = self.store.serials.get(key, 0) + 1
        return self.store.serials[key]

    # -- the time bank ---------------------------------------------------------
    def ensure_account(
        self, bank: str, volunteer_id: str, created_at: datetime
    ) -> BankAccount:
        kind = "volunteer" if volunteer_id else "bank"
        for a in self.store.of(BankAccount):
            if (a.division_code, a.kind, a.volunteer_id) == (bank, kind, volunteer_id):
                return a  # type: ignore[no-any-return]
        account = BankAccount(
            id=f"acct-{bank}-{volunteer_id or 'bank'}", division_code=bank,
            kind=kind, volunteer_id=volunteer_id, created_at=created_at,
        )  # fmt: skip
        self.add(account)
        return account

    def account(self, bank: str, volunteer_id: str, lock: bool = False) -> BankAccount:
        kind = "volunteer" if volunteer_id else "bank"
        for a in self.store.of(BankAccount):
            if (
                (a.division_code, a.kind, a.volunteer_id) == (bank, kind, volunteer_id)
                and self._inside(a.division_code)
            ):  # fmt: skip
                return a  # type: ignore[no-any-return]
        raise missing("volunteer_id", "time-bank account", "时间银行账户", bank)

    def balance(self, account_id: str) -> Decimal:
        return sum(
            (e.amount for e in self.store.of(BankEntry) if e.account_id == account_id),
            Decimal(0),
        )

    def posted(self, record_id: str, account_id: str) -> Decimal:
        txs = {t.id for t in self.store.of(BankTransaction) if t.record_id == record_id}
        return sum(
            (
                e.amount
                for e in self.store.of(BankEntry)
                if e.transaction_id in txs and e.account_id == account_id
            ),
            Decimal(0),
        )

    def _transactions(self) -> list[BankTransaction]:
        return [
            t for t in self.store.of(BankTransaction) if self._inside(t.division_code)
        ]

    def transaction_by_key(self, key: str) -> BankTransaction | None:
        return next((t for t in self._transactions() if t.request_key == key), None)

    def deposit_for(self, record_id: str) -> BankTransaction | None:
        return next(
            (
                t
                for t in self._transactions()
                if t.record_id == record_id and t.kind == "deposit"
            ),
            None,
        )

    def entries(self, tx_ids: Sequence[str]) -> dict[str, list[tuple[str, Decimal]]]:
        out: dict[str, list[tuple[str, Decimal]]] = {i: [] for i in tx_ids}
        accounts = {a.id: a for a in self.store.of(BankAccount)}
        for e in self.store.of(BankEntry):
            if e.transaction_id in out and self._inside(e.division_code):
                acc = accounts[e.account_id]
                label = (
                    f"volunteer:{acc.volunteer_id}"
                    if acc.kind == "volunteer"
                    else f"bank:{acc.division_code}"
                )
                out[e.transaction_id].append((label, e.amount))
        return out
