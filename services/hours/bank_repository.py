"""Scoped data access for the time bank: accounts, balances (the sum of an
account's entries, never a stored figure) and statements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from services.common.db import upsertable_insert
from services.hours.models import BankAccount, BankEntry, BankTransaction
from services.hours.repository import Repository, missing


class BankRepository(Repository):
    def accounts(
        self, volunteer_id: str, node: str
    ) -> list[tuple[BankAccount, Decimal]]:
        """The volunteer's accounts in banks inside ``node``, with balances."""
        q = (
            select(BankAccount, func.coalesce(func.sum(BankEntry.amount), 0))
            .outerjoin(BankEntry, BankEntry.account_id == BankAccount.id)
            .where(
                BankAccount.kind == "volunteer",
                BankAccount.volunteer_id == volunteer_id,
                self._inside(BankAccount.division_code, node),
            )
            .group_by(BankAccount.id)
            .order_by(BankAccount.division_code)
        )
        return [(a, Decimal(str(b))) for a, b in self.s.execute(q).tuples()]

    def account(self, bank: str, volunteer_id: str, lock: bool = False) -> BankAccount:
        kind = "volunteer" if volunteer_id else "bank"
        q = select(BankAccount).where(
            BankAccount.division_code == bank,
            BankAccount.kind == kind,
            BankAccount.volunteer_id == volunteer_id,
            self._inside(BankAccount.division_code),
        )
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing("volunteer_id", "time-bank account", "时间银行账户", bank)
        return row

    def ensure_account(
        self, bank: str, volunteer_id: str, created_at: datetime
    ) -> BankAccount:
        """The account (the bank's own when ``volunteer_id`` is empty),
        created on first use and locked for this transaction."""
        self.s.execute(
            upsertable_insert(self.s, BankAccount)
            .values(
                id=str(uuid.uuid4()),
                division_code=bank,
                kind="volunteer" if volunteer_id else "bank",
                volunteer_id=volunteer_id,
                created_at=created_at,
            )
            .on_conflict_do_nothing()
        )
        return self.account(bank, volunteer_id, lock=True)

    def balance(self, account_id: str) -> Decimal:
        got = self.s.execute(
            select(func.coalesce(func.sum(BankEntry.amount), 0)).where(
                BankEntry.account_id == account_id
            )
        ).scalar_one()
        return Decimal(str(got))

    def posted(self, record_id: str, account_id: str) -> Decimal:
        """What a record's transactions have put in an account so far."""
        got = self.s.execute(
            select(func.coalesce(func.sum(BankEntry.amount), 0))
            .join(BankTransaction, BankTransaction.id == BankEntry.transaction_id)
            .where(
                BankTransaction.record_id == record_id,
                BankEntry.account_id == account_id,
            )
        ).scalar_one()
        return Decimal(str(got))

    def transaction_by_key(self, key: str) -> BankTransaction | None:
        return self.s.execute(
            select(BankTransaction).where(
                BankTransaction.request_key == key,
                self._inside(BankTransaction.division_code),
            )
        ).scalar_one_or_none()

    def deposit_for(self, record_id: str) -> BankTransaction | None:
        return self.s.execute(
            select(BankTransaction).where(
                BankTransaction.record_id == record_id,
                BankTransaction.kind == "deposit",
                self._inside(BankTransaction.division_code),
            )
        ).scalar_one_or_none()

    def transactions_query(self, volunteer_id: str, node: str) -> Any:
        return select(BankTransaction).where(
            BankTransaction.volunteer_id == volunteer_id,
            self._inside(BankTransaction.division_code, node),
        )

    def entries(self, tx_ids: Sequence[str]) -> dict[str, list[tuple[str, Decimal]]]:
        """Each transaction's legs as (account label, amount)."""
        out: dict[str, list[tuple[str, Decimal]]] = {i: [] for i in tx_ids}
        if not tx_ids:
            return out
        q = (
            select(BankEntry, BankAccount)
            .join(BankAccount, BankAccount.id == BankEntry.account_id)
            .where(
                BankEntry.transaction_id.in_(list(tx_ids)),
                self._inside(BankEntry.division_code),
            )
            .order_by(BankEntry.id)
        )
        for entry, acc in self.s.execute(q).tuples():
            label = (
                f"volunteer:{acc.volunteer_id}"
                if acc.kind == "volunteer"
                else f"bank:{acc.division_code}"
            )
            out[entry.transaction_id].append((label, entry.amount))
        return out
