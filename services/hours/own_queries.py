"""A volunteer's own read side ("my service"): its records (with their
evaluations), totals, complaints and certificates, for a volunteer's own
account only (the token's ``vol`` claim). Records are kept where the
service was done, often outside the home scope the token carries: they
are read by the volunteer's id through :mod:`.own_rows`, in a session
under the caller's own scope, never a wider one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.common import outbox
from services.common.auth import Principal
from services.common.db import Database
from services.common.paging import Page, next_token, page_bounds
from services.common.roles import own_volunteer
from services.common.rollup import CST
from services.hours.models import Certificate, Complaint, Objection
from services.hours.repository import Repository


@dataclass(frozen=True)
class OwnTotals:
    year: int
    hours_this_year: Decimal
    hours_total: Decimal
    pending_hours: Decimal
    records_total: int
    time_bank_balance: Decimal


class OwnQueries:
    def __init__(self, db: Database, clock: Callable[[], datetime] = outbox.now):
        self.db, self.clock = db, clock

    def records(self, p: Principal, status: str | None, size: int, token: str) -> Page:
        """A page of the caller's records, newest first, with the hours each
        counts now."""
        volunteer_id = own_volunteer(p)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            items, total = repo.own_records(volunteer_id, status, size, offset)
            rated = repo.own_evaluations(volunteer_id, [r.id for r in items])
            return Page(
                repo.own_with_effective(volunteer_id, items),
                next_token(offset, size, total),
                total,
                {"evaluations": rated},
            )

    def totals(self, p: Principal) -> OwnTotals:
        """The caller's approved hours this year (China time; a record
        counts in the year of its service month) and overall, pending hours,
        every record, and the balance in every time bank."""
        volunteer_id = own_volunteer(p)
        year = self.clock().astimezone(CST).year
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            records, _ = repo.own_records(volunteer_id, None)
            sums: dict[str, Decimal] = defaultdict(Decimal)
            for rec, h in repo.own_with_effective(volunteer_id, records):
                sums[rec.status] += h
                if rec.status == "approved" and rec.month.startswith(f"{year}-"):
                    sums["this_year"] += h
            return OwnTotals(
                year=year,
                hours_this_year=sums["this_year"],
                hours_total=sums["approved"],
                pending_hours=sums["pending"],
                records_total=len(records),
                time_bank_balance=repo.own_bank_balance(volunteer_id),
            )

    def objections(self, p: Principal, status: str | None) -> list[Objection]:
        """The caller's objections wherever the records are, newest first."""
        volunteer_id = own_volunteer(p)
        with self.db.session(p.scope) as s:
            found = Repository(s, p.scope).own_objections(volunteer_id)
        return [o for o in reversed(found) if not status or o.status == status]

    def complaints(self, p: Principal, status: str | None) -> list[Complaint]:
        """The complaints about the caller wherever filed, newest first."""
        volunteer_id = own_volunteer(p)
        with self.db.session(p.scope) as s:
            found = Repository(s, p.scope).own_complaints(volunteer_id)
        return [c for c in reversed(found) if not status or c.status == status]

    def certificates(self, p: Principal) -> list[Certificate]:
        """The caller's certificates wherever issued, newest first, without
        their PDFs."""
        volunteer_id = own_volunteer(p)
        with self.db.session(p.scope) as s:
            return Repository(s, p.scope).own_certificates(volunteer_id)
