"""The embedded SQLite's move of a merged volunteer's objections,
complaints, evaluations and time bank (migration 0011 does it in
PostgreSQL, where the reasons are written down): rows keyed by the
volunteer re-pointed, the bank's volunteer-leg entries moved into the
survivor's account in the same bank (opened where missing), the
transactions re-pointed; the revert moves back what moved and what follows
a moved record since, and closes the accounts the merge opened if empty.

Example (inside the merge's transaction)::

    moved = merge_rows(s, survivor, survivor_number, merged, now)
    ...
    unmerge_rows(s, row, now)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from services.hours.models import (
    BankAccount,
    BankEntry,
    BankTransaction,
    Complaint,
    Evaluation,
    Objection,
    VolunteerMerge,
)

CONDUCT: tuple[tuple[str, Any], ...] = (
    ("objection_ids", Objection),
    ("complaint_ids", Complaint),
    ("evaluation_ids", Evaluation),
)


def merge_rows(
    s: Session, survivor: str, survivor_number: str, merged: str, now: datetime
) -> dict[str, list[Any]]:
    """Move ``merged``'s conduct rows and bank to ``survivor``; what moved,
    by ``hours_merges`` column."""
    moved: dict[str, list[Any]] = {}
    for column, model in CONDUCT:
        ids = sorted(
            s.execute(select(model.id).where(model.volunteer_id == merged)).scalars()
        )
        s.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(volunteer_id=survivor, volunteer_number=survivor_number)
        )
        moved[column] = ids
    opened, entries = [], []
    for theirs in _accounts(s, merged):
        mine = _account(s, theirs.division_code, survivor)
        if mine is None:
            mine = _open(s, theirs.division_code, survivor, now)
            opened.append(mine.id)
        ids = list(
            s.execute(
                select(BankEntry.id).where(BankEntry.account_id == theirs.id)
            ).scalars()
        )
        s.execute(
            update(BankEntry).where(BankEntry.id.in_(ids)).values(account_id=mine.id)
        )
        entries += ids
    txs = sorted(
        s.execute(
            select(BankTransaction.id).where(BankTransaction.volunteer_id == merged)
        ).scalars()
    )
    s.execute(
        update(BankTransaction)
        .where(BankTransaction.id.in_(txs))
        .values(volunteer_id=survivor)
    )
    moved["bank_transaction_ids"] = txs
    moved["bank_entry_ids"] = sorted(entries)
    moved["bank_account_ids"] = opened
    return moved


def unmerge_rows(s: Session, row: VolunteerMerge, now: datetime) -> None:
    """Point back what ``row`` moved, and what names a moved record since."""
    records = list(row.record_ids)
    for column, model in CONDUCT:
        s.execute(
            update(model)
            .where(
                model.volunteer_id == row.survivor_id,
                _follows(model, getattr(row, column), records),
            )
            .values(volunteer_id=row.merged_id, volunteer_number=row.merged_number)
        )
    back = list(
        s.execute(
            select(BankTransaction.id).where(
                BankTransaction.volunteer_id == row.survivor_id,
                _follows(BankTransaction, row.bank_transaction_ids, records),
            )
        ).scalars()
    )
    s.execute(
        update(BankTransaction)
        .where(BankTransaction.id.in_(back))
        .values(volunteer_id=row.merged_id)
    )
    for mine in _accounts(s, row.survivor_id):
        ids = list(
            s.execute(
                select(BankEntry.id).where(
                    BankEntry.account_id == mine.id,
                    or_(
                        BankEntry.id.in_(row.bank_entry_ids),
                        BankEntry.transaction_id.in_(back),
                    ),
                )
            ).scalars()
        )
        if not ids:
            continue
        theirs = _account(s, mine.division_code, row.merged_id)
        if theirs is None:
            theirs = _open(s, mine.division_code, row.merged_id, now)
        s.execute(
            update(BankEntry).where(BankEntry.id.in_(ids)).values(account_id=theirs.id)
        )
    s.flush()
    used = select(BankEntry.account_id).where(
        BankEntry.account_id.in_(row.bank_account_ids)
    )
    s.execute(
        delete(BankAccount).where(
            BankAccount.id.in_(row.bank_account_ids), BankAccount.id.not_in(used)
        )
    )


def _follows(model: Any, ids: Sequence[str], records: Sequence[str]) -> Any:
    return or_(model.id.in_(list(ids)), model.record_id.in_(list(records)))


def _accounts(s: Session, volunteer: str) -> list[BankAccount]:
    return list(
        s.execute(
            select(BankAccount)
            .where(
                BankAccount.kind == "volunteer", BankAccount.volunteer_id == volunteer
            )
            .order_by(BankAccount.division_code)
        ).scalars()
    )


def _account(s: Session, bank: str, volunteer: str) -> BankAccount | None:
    return s.execute(
        select(BankAccount).where(
            BankAccount.division_code == bank,
            BankAccount.kind == "volunteer",
            BankAccount.volunteer_id == volunteer,
        )
    ).scalar_one_or_none()


def _open(s: Session, bank: str, volunteer: str, now: datetime) -> BankAccount:
    account = BankAccount(
        id=str(uuid.uuid4()), division_code=bank, kind="volunteer",
        volunteer_id=volunteer, created_at=now,
    )  # fmt: skip
    s.add(account)
    s.flush()
    return account
