"""The time bank (时间银行): a double-entry ledger kept apart from service
hours. Each bank (a county) issues hours to its volunteers' accounts when
their service is approved, and takes them back when they exchange them for
a service. Every transaction's entries sum to zero; a volunteer's balance
never goes below zero.

Deposits follow the record: the worker reconciles a record's deposits with
its effective hours after each ``hours.record.approved`` or
``hours.record.corrected`` event, so the order in which the two arrive does
not matter and a redelivery posts nothing twice.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from services.common.auth import Principal
from services.common.tenancy import Scope
from services.hours import domain
from services.hours import validation as v
from services.hours.bank_repository import BankRepository
from services.hours.models import BankEntry, BankTransaction
from services.hours.repository import effective
from services.hours.usecases.base import Context

MAX_WITHDRAWAL = Decimal(10_000)


class TimeBankCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def reconcile(
        self, consumer: str, event_id: str, record_id: str, code: str
    ) -> None:
        """Bring the deposits of a record to its effective hours × ratio."""
        bank = domain.bank_code(code)
        with self.ctx.uow(Scope(bank)) as work:
            repo = self.ctx.bank(work)
            if not repo.claim(consumer, event_id):
                return
            # Under the volunteer's lock: a merge committing between reading
            # the record and reading what is posted would have the deposit
            # posted again, into the merged volunteer's account.
            record = repo.record_of_locked_volunteer(record_id)
            account = repo.ensure_account(bank, record.volunteer_id, self.ctx.clock())
            repo.ensure_account(bank, "", self.ctx.clock())
            posted = repo.posted(record.id, account.id)
            first = repo.deposit_for(record.id)
            ratio = first.ratio if first and first.ratio is not None else None
            ratio = repo.policy(code).deposit_ratio if ratio is None else ratio
            now = effective(record, repo.corrections([record.id])[record.id])
            diff = domain.deposit_amount(now, ratio) - posted
            if diff > 0:
                kind = "adjustment" if first else "deposit"
                entries = domain.deposit(bank, record.volunteer_id, diff)
                note = f"服务时长 {now} 小时 × {ratio}"
            elif diff < 0:
                balance = repo.balance(account.id)
                entries, short = domain.clawback(
                    bank, record.volunteer_id, -diff, balance
                )
                kind, note = "adjustment", f"时长更正后收回 {-diff} 小时"
                if short:
                    note += f"（另 {short} 小时已兑换，余额不足未收回）"
            else:
                return
            if entries:
                self._post(repo, bank, record.volunteer_id, kind, entries,
                           record.id, ratio, note, "system",
                           f"{consumer}/{event_id}")  # fmt: skip

    def withdraw(
        self,
        p: Principal,
        volunteer_id: str,
        code: str,
        amount: float,
        service: str,
        request_id: str,
    ) -> tuple[BankTransaction, list[domain.Entry], Decimal]:
        """Exchange banked hours for a service; never more than the balance."""
        p.require_any(*domain.WRITERS)
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        code = p.scope.require(v.text(code, "division_code", 12), "division_code")
        hours = v.amount(amount, "hours", MAX_WITHDRAWAL)
        service = v.text(service, "service", 200)
        request_id = v.text(request_id, "request_id", 64, required=False)
        key = f"withdraw/{p.subject}/{request_id or uuid.uuid4()}"
        try:
            with self.ctx.uow(p) as work:
                repo = self.ctx.bank(work)
                earlier = repo.transaction_by_key(key) if request_id else None
                if earlier is not None:
                    return self._replay(repo, earlier)
                account = repo.account(code, volunteer_id, lock=True)
                balance = repo.balance(account.id)
                entries = domain.withdrawal(code, volunteer_id, hours, balance)
                tx = self._post(repo, code, volunteer_id, "withdrawal", entries,
                                "", None, service, p.username, key)  # fmt: skip
                return tx, entries, balance - hours
        except IntegrityError:
            with self.ctx.uow(p) as work:  # the same client raced itself
                repo = self.ctx.bank(work)
                earlier = repo.transaction_by_key(key)
                if earlier is None:
                    raise
                return self._replay(repo, earlier)

    def _replay(
        self, repo: BankRepository, tx: BankTransaction
    ) -> tuple[BankTransaction, list[domain.Entry], Decimal]:
        legs = [domain.Entry(a, m) for a, m in repo.entries([tx.id])[tx.id]]
        account = repo.account(tx.division_code, tx.volunteer_id)
        return tx, legs, repo.balance(account.id)

    def _post(
        self,
        repo: BankRepository,
        bank: str,
        volunteer_id: str,
        kind: str,
        entries: list[domain.Entry],
        record_id: str,
        ratio: Decimal | None,
        description: str,
        actor: str,
        key: str,
    ) -> BankTransaction:
        domain.check_balanced(entries)
        at_bank = repo.within(bank)
        accounts = {
            domain.bank_account(bank): at_bank.account(bank, "").id,
            domain.volunteer_account(volunteer_id): at_bank.account(
                bank, volunteer_id
            ).id,
        }
        tx = BankTransaction(
            id=str(uuid.uuid4()), division_code=bank, kind=kind,
            volunteer_id=volunteer_id, record_id=record_id, ratio=ratio,
            description=description, actor=actor, request_key=key,
            created_at=self.ctx.clock(),
        )  # fmt: skip
        repo.add(tx)
        repo.flush()
        for e in entries:
            repo.add(
                BankEntry(
                    transaction_id=tx.id,
                    account_id=accounts[e.account],
                    division_code=bank,
                    amount=e.amount,
                )
            )
        repo.flush()
        return tx
