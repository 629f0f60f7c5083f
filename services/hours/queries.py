"""Hours' read side: records, totals, policy, statistics and the time-bank
statements, each confined to the caller's scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from services.common.auth import Principal
from services.common.db import Database
from services.common.federation_read import Links, summarize_federated
from services.common.paging import Page, next_token, page_bounds
from services.common.rollup_query import RollupResult, summarize_joined
from services.common.tenancy import Level
from services.hours import cross_tenant, domain
from services.hours import validation as v
from services.hours.bank_repository import BankRepository as Repository
from services.hours.models import (
    POSITION_ROLLUP,
    POSITION_ROLLUP_TABLE,
    ROLLUP,
    ROLLUP_TABLE,
    BankTransaction,
    Certificate,
    Complaint,
    Correction,
    Evaluation,
    HourRecord,
    Objection,
)
from services.hours.own_queries import OwnQueries
from services.hours.registration_client import Registration
from services.hours.repository import missing


@dataclass
class Totals:
    volunteer_id: str
    volunteer_number: str
    division_code: str
    counts: dict[str, int]
    hours: dict[str, Decimal]  # approved | pending
    by_field: dict[str, Decimal]
    platform_total: Decimal


class HoursQueries:
    def __init__(self, db: Database, registration: Registration | None = None):
        self.db = db
        # Whose totals the caller may see is registration's answer.
        self.registration = registration
        # A volunteer's own reads ("my service").
        self.own = OwnQueries(db)

    def _node(self, p: Principal, code: str) -> str:
        p.require_any(*domain.READERS)
        return p.scope.require(code or p.scope.code, "division_code")

    def records(
        self,
        p: Principal,
        code: str,
        volunteer_id: str,
        status: str | None,
        size: int,
        token: str,
    ) -> Page:
        node = self._node(p, code)
        volunteer_id = v.ident(volunteer_id, "volunteer_id", required=False)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            q = repo.records_query(node, volunteer_id, status)
            order = (HourRecord.started_at.desc(), HourRecord.id)
            items, total = repo.page(q, order, size, offset)
            return Page(
                repo.with_effective(items), next_token(offset, size, total), total
            )

    def record(
        self, p: Principal, ident: str
    ) -> tuple[HourRecord, list[Correction], Decimal, Evaluation | None]:
        """The record, its corrections, the hours it counts now and its
        current evaluation."""
        p.require_any(*domain.READERS)
        ident = v.ident(ident, "id")
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            rec = repo.record(ident)
            fixes = repo.corrections([rec.id])[rec.id]
            found = repo.evaluation(rec.id)
            return rec, fixes, repo.with_effective([rec])[0][1], found

    def totals(self, p: Principal, volunteer_id: str, code: str) -> Totals:
        """A volunteer's hours in the subtree ``code`` (the caller's scope
        when empty), and their platform total, for a volunteer whose home
        lies in the caller's scope (registration answers, as the caller).
        Any other volunteer is NOT_FOUND exactly like an unknown id, even
        one with hours recorded here: the platform total would reveal
        hours recorded in other tenants. A volunteer of the caller's with no
        hours in the subtree gets zeros."""
        node = self._node(p, code)
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        if self.registration is None:
            raise RuntimeError("totals need the registration client")
        number, _ = self.registration.volunteer(volunteer_id)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            records = list(
                s.execute(repo.records_query(node, volunteer_id, None)).scalars()
            )
            counts: dict[str, int] = defaultdict(int)
            amounts: dict[str, Decimal] = defaultdict(Decimal)
            by_field: dict[str, Decimal] = defaultdict(Decimal)
            for rec, h in repo.with_effective(records):
                counts[rec.status] += 1
                amounts[rec.status] += h
                if rec.status == "approved":
                    by_field[rec.service_field] += h
            everywhere = cross_tenant.platform_total(s, volunteer_id)
            return Totals(
                volunteer_id, number, node, dict(counts),
                dict(amounts), dict(by_field), everywhere,
            )  # fmt: skip

    def policy(self, p: Principal, code: str) -> tuple[str, domain.Policy]:
        node = self._node(p, code)
        with self.db.session(p.scope) as s:
            return node, Repository(s, p.scope).policy(node)

    def summarize(
        self,
        p: Principal,
        code: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> RollupResult:
        """Rows for the children (or a deeper level) of a node, and its total;
        volunteers counted once over the period, not once a month (kept at
        write time for each month, calendar year and all time)."""
        return summarize_joined(
            self.db, p,
            [(ROLLUP, ROLLUP_TABLE), (POSITION_ROLLUP, POSITION_ROLLUP_TABLE)],
            (code, group_by, start, end, by_month), domain.READERS,
        )  # fmt: skip

    def summarize_federated(
        self,
        p: Principal,
        code: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> tuple[RollupResult, Links]:
        """What downstream releases forwarded of ``hours_rollup`` (issue 15),
        beside this release's own :meth:`summarize`."""
        query = (code, group_by, start, end, by_month)
        return summarize_federated(self.db, p, ROLLUP, query, domain.READERS)

    def balances(self, p: Principal, volunteer_id: str, code: str):  # type: ignore[no-untyped-def]
        node = self._node(p, code)
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        with self.db.session(p.scope) as s:
            found = Repository(s, p.scope).accounts(volunteer_id, node)
        if not found:
            raise missing(
                "volunteer_id", "time-bank account", "时间银行账户", volunteer_id
            )
        return found

    def certificates(
        self,
        p: Principal,
        code: str,
        volunteer_id: str,
        status: str | None,
        size: int,
        token: str,
    ) -> Page:
        """Certificates issued in the subtree ``code`` (default: the caller's
        scope), optionally of one volunteer and one status, newest first."""
        node = self._node(p, code)
        volunteer_id = v.ident(volunteer_id, "volunteer_id", required=False)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            q = repo.certificates_query(node, volunteer_id, status)
            order = (Certificate.issued_at.desc(), Certificate.number.desc())
            items, total = repo.page(q, order, size, offset)
            return Page(items, next_token(offset, size, total), total)

    def objections(
        self, p: Principal, code: str, status: str | None, size: int, token: str
    ) -> Page:
        """The office's queue: objections to records in the subtree ``code``
        (default: the caller's scope), optionally of one status, oldest
        first."""
        node = self._node(p, code)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            q = repo.objections_query(node, status)
            order = (Objection.filed_at, Objection.id)
            items, total = repo.page(q, order, size, offset)
            return Page(items, next_token(offset, size, total), total)

    def complaints(
        self,
        p: Principal,
        code: str,
        status: str | None,
        volunteer_id: str,
        size: int,
        token: str,
    ) -> Page:
        """The office's queue: complaints kept in the subtree ``code``
        (default: the caller's scope), optionally of one status and one
        volunteer, oldest first."""
        node = self._node(p, code)
        volunteer_id = v.ident(volunteer_id, "volunteer_id", required=False)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            q = repo.complaints_query(node, status, volunteer_id)
            order = (Complaint.filed_at, Complaint.id)
            items, total = repo.page(q, order, size, offset)
            return Page(items, next_token(offset, size, total), total)

    def transactions(
        self, p: Principal, volunteer_id: str, code: str, size: int, token: str
    ) -> Page:
        node = self._node(p, code)
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            q = repo.transactions_query(volunteer_id, node)
            order = (BankTransaction.created_at.desc(), BankTransaction.id)
            items, total = repo.page(q, order, size, offset)
            legs = repo.entries([t.id for t in items])
            return Page(
                items, next_token(offset, size, total), total, {"entries": legs}
            )
