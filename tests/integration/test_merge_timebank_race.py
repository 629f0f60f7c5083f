"""A time-bank reconciliation racing a merge of duplicate registrations
(issue 14; the race the full suite found on 2026-12-07).

The reconciliation of an approved record reads the record's volunteer and
then what is posted for the record in that volunteer's account. A merge
re-points the record and the merged volunteer's bank entries to the
survivor. If the merge commits between the two reads, the hours used to be
deposited into the merged volunteer's account (or, for a record already
deposited, deposited a second time).

Here the merge is left open in one transaction while the reconciliation
runs in a thread: the reconciliation must wait for the merge, and once the
merge commits, deposit the record's hours exactly once, into the survivor's
account. PostgreSQL only: the embedded SQLite has one writer at a time, so
the two cannot interleave there.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import func, select

from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours.application import HoursApp
from services.hours.models import BankAccount, BankEntry, BankTransaction
from services.hours.usecases.merges import Merge, _merge_pg
from tests.integration.test_merge_hours import approved

pytestmark = pytest.mark.integration
HOME = "610122001"
BANK = HOME[:6]


@pytest.fixture(scope="module")
def app(migrated) -> Iterator[tuple[HoursApp, str]]:  # type: ignore[no-untyped-def]
    cfg = load()
    # A database of its own: the suite's hours worker would reconcile the
    # approvals below itself.
    url = create_migrated_database(cfg.service("hours"), "zy_mergerace")
    svc = dataclasses.replace(
        cfg.service("hours"), database_url=url, database_pool_size=3
    )
    db = Database(svc)
    yield HoursApp(db), url
    db.dispose()
    drop_database(url)


def _posted(app: HoursApp, record: str) -> dict[str, Decimal]:
    """What is posted for ``record``, by the volunteer whose account holds it."""
    with app.ctx.db.session(Scope(BANK)) as s:
        rows = s.execute(
            select(BankAccount.volunteer_id, func.sum(BankEntry.amount))
            .join(BankEntry, BankEntry.account_id == BankAccount.id)
            .join(BankTransaction, BankTransaction.id == BankEntry.transaction_id)
            .where(BankTransaction.record_id == record, BankAccount.kind == "volunteer")
            .group_by(BankAccount.volunteer_id)
        ).tuples()
        return {v: Decimal(str(a)) for v, a in rows}


def _lock_waiters(url: str) -> list[str]:
    """The wait events of this database's backends waiting for a lock."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT wait_event FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ]


def test_reconciliation_waits_for_a_merge_and_deposits_once_to_the_survivor(
    app: tuple[HoursApp, str],
) -> None:
    hours, url = app
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    record = approved(hours, merged, "ZY61000000R", HOME, 9)
    assert _posted(hours, record) == {}
    m = Merge(str(uuid.uuid4()), HOME, survivor, "ZY61000000S", merged, "ZY61000000R")

    merging = hours.ctx.db.session(Scope(HOME))
    s = merging.__enter__()
    done: list[BaseException | None] = []
    try:
        _merge_pg(s, m, datetime.now(UTC))  # re-pointed, not yet committed

        def reconcile() -> None:
            try:
                hours.bank.reconcile("hours.timebank", str(uuid.uuid4()), record, HOME)
                done.append(None)
            except BaseException as exc:  # reported by the main thread
                done.append(exc)

        worker = threading.Thread(target=reconcile, daemon=True)
        worker.start()
        deadline = time.monotonic() + 30
        while not _lock_waiters(url) and not done:
            assert time.monotonic() < deadline, "the reconciliation never waited"
            time.sleep(0.05)
        assert not done, f"the reconciliation did not wait for the merge: {done}"
        # It waits on the volunteer's lock, before reading any account.
        assert _lock_waiters(url) == ["advisory"]
    finally:
        merging.__exit__(None, None, None)  # the merge commits
    worker.join(timeout=30)
    assert done == [None]
    # Two hours at the default ratio of one, once, in the survivor's account.
    assert _posted(hours, record) == {survivor: Decimal("2.00")}

    # A reconciliation again (a redelivery or a correction event) posts
    # nothing more, and the merged volunteer's account holds nothing.
    hours.bank.reconcile("hours.timebank", str(uuid.uuid4()), record, HOME)
    assert _posted(hours, record) == {survivor: Decimal("2.00")}
