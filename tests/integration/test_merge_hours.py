"""Hours follows a merge of duplicate registrations (issue 14) through its
use case, on PostgreSQL (the session's migrated database: the SECURITY
DEFINER move of records outside the survivor home's scope) and on the
embedded SQLite.

Merged: the merged volunteer's records (in the survivor's county and in
another city) and certificate point at the survivor, whose platform total
is then both volunteers' hours; presence folds in; rollups are untouched.
Its objection, complaint (replied and decided) and evaluation are the
survivor's, and its time bank too: the survivor's balance in each bank is
both balances. The same event again changes nothing; the revert restores
every row and balance. A correction of a moved record after the merge
adjusts the survivor's account, and its adjustment goes back with the
record.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours import cross_tenant
from services.hours.application import HoursApp
from services.hours.bank_repository import BankRepository
from services.hours.domain import Interval
from services.hours.models import (
    ROLLUP_TABLE,
    BankAccount,
    BankEntry,
    BankTransaction,
    Certificate,
    Complaint,
    Evaluation,
    HourRecord,
    Objection,
    Presence,
)
from services.hours.usecases.merges import Merge
from services.hours.usecases.records import Draft

pytestmark = pytest.mark.integration
HOME, AWAY = "610122001", "610302001"  # Lantian (the survivor's home), Baoji
ADMIN = Principal("t", "reviewer-61", "61", frozenset({"province_admin"}), 2**40)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def app(request, tmp_path_factory) -> Iterator[HoursApp]:  # type: ignore[no-untyped-def]
    request.getfixturevalue("migrated" if request.param == "postgresql" else "env")
    cfg = load()
    svc = dataclasses.replace(cfg.service("hours"), database_pool_size=2)
    url = None
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "hours.db"
        svc = dataclasses.replace(svc, database_url=f"sqlite:///{path}")
        upgrade(svc)
    else:
        # A database of its own: the suite's hours worker relays and
        # consumes the shared database's outbox, and its time-bank
        # reconciliation of these records races the merge (a known bug,
        # docs/open-work.md: it reconciles into the event's volunteer's
        # account, not the record's current one). These tests drive the
        # bank by hand and check exact balances.
        url = create_migrated_database(cfg.service("hours"), "zy_mergehours")
        svc = dataclasses.replace(svc, database_url=url)
    db = Database(svc)
    yield HoursApp(db)
    db.dispose()
    if url is not None:
        drop_database(url)


def approved(app: HoursApp, volunteer: str, number: str, code: str, day: int) -> str:
    start = datetime(2026, 3, day, 1, tzinfo=UTC)
    end = start + timedelta(minutes=120)
    record = app.records.ingest(
        "hours.attendance",
        str(uuid.uuid4()),
        Draft(
            source="attendance", source_id=str(uuid.uuid4()), volunteer_id=volunteer,
            volunteer_number=number, division_code=code, organisation_id="org-1",
            organisation_name="蓝田县志愿者协会", service_field="elderly_care",
            activity_kind="service", content="敬老院陪伴", started_at=start,
            ended_at=end, interval=Interval(start, end), recorded_by="test",
            event_id=None,
        ),
    )  # fmt: skip
    assert record is not None and record.status == "pending"
    app.review.approve(ADMIN, record.id)
    return str(record.id)


def _certificate(app: HoursApp, volunteer: str, number: str) -> str:
    cert = f"ZYC-T-{uuid.uuid4().hex[:12]}"
    with app.ctx.db.session(Scope(HOME)) as s:
        s.add(
            Certificate(
                number=cert, volunteer_id=volunteer, volunteer_number=number,
                name_masked="王**", id_type="resident", id_number_masked="6101**",
                hours=Decimal("2.00"), service_content="敬老院陪伴",
                issuer_name="蓝田县志愿者协会", person_in_charge="王主任",
                handler="李干事", contact="029-1", division_code=HOME,
                organisation_id="org-1", period_start="2026-03",
                period_end="2026-03", issued_on=date(2026, 4, 1), issued_by="t",
                issued_at=datetime(2026, 4, 1, tzinfo=UTC), status="valid",
                revoked_reason="", pdf=b"",
            )
        )  # fmt: skip
    return cert


def _state(app: HoursApp, ids: set[str], vols: tuple[str, str]) -> dict[str, Any]:
    """The volunteers' records, certificates, presence and totals, and every
    rollup row (as a province admin sees them)."""
    with app.ctx.db.session(ADMIN.scope) as s:
        records = {
            r.id: (r.volunteer_id, r.volunteer_number)
            for r in s.execute(
                select(HourRecord).where(HourRecord.id.in_(ids))
            ).scalars()
        }
        certs: dict[str, str] = {
            number: volunteer
            for number, volunteer in s.execute(
                select(Certificate.number, Certificate.volunteer_id).where(
                    Certificate.volunteer_id.in_(vols)
                )
            ).tuples()
        }
        presence = sorted(
            (p.volunteer_id, p.division_code, p.month, p.service_field, p.records)
            for p in s.execute(
                select(Presence).where(Presence.volunteer_id.in_(vols))
            ).scalars()
        )
        rollups = sorted(tuple(r) for r in s.execute(select(ROLLUP_TABLE)).all())
        totals = [cross_tenant.platform_total(s, v) for v in vols]
    return {
        "records": records, "certificates": certs, "presence": presence,
        "rollups": rollups, "totals": totals,
    }  # fmt: skip


def test_merge_repoints_hours_and_certificates_and_revert_restores(
    app: HoursApp,
) -> None:
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    s_no, m_no = "ZY61000000S", "ZY61000000M"
    ids = {
        approved(app, survivor, s_no, HOME, 2),
        approved(app, merged, m_no, HOME, 3),
        approved(app, merged, m_no, AWAY, 4),
    }
    cert = _certificate(app, merged, m_no)
    vols = (survivor, merged)
    before = _state(app, ids, vols)
    assert before["totals"] == [Decimal("2.00"), Decimal("4.00")]
    m = Merge(str(uuid.uuid4()), HOME, survivor, s_no, merged, m_no)
    merged_event = str(uuid.uuid4())

    assert app.merges.follow("hours.merge", merged_event, m, False)

    after = _state(app, ids, vols)
    assert set(after["records"].values()) == {(survivor, s_no)}
    assert after["certificates"] == {cert: survivor}
    assert after["totals"] == [Decimal("6.00"), Decimal("0")]
    assert after["rollups"] == before["rollups"]  # counted once, where served
    assert {p[0] for p in after["presence"]} == {survivor}
    assert sum(p[4] for p in after["presence"]) == 3
    # The same event again changes nothing.
    assert not app.merges.follow("hours.merge", merged_event, m, False)
    assert _state(app, ids, vols) == after

    assert app.merges.follow("hours.unmerge", str(uuid.uuid4()), m, True)

    assert _state(app, ids, vols) == before


CONDUCT: tuple[Any, ...] = (Objection, Complaint, Evaluation)


def conduct(app: HoursApp, volunteer: str, number: str, record: str, code: str) -> None:
    """An objection to the volunteer's record ``record`` (at ``code``),
    dismissed; a poor evaluation of it; a complaint about the volunteer,
    replied to and upheld."""
    at = datetime(2026, 4, 2, tzinfo=UTC)
    who = {"volunteer_id": volunteer, "volunteer_number": number}
    with app.ctx.db.session(ADMIN.scope) as s:
        s.add(
            Objection(
                id=str(uuid.uuid4()), record_id=record, division_code=code,
                reason="少记了半小时", status="dismissed", filed_at=at,
                resolved_by="t", resolved_at=at, resolution_note="核实无误",
                correction_id=None, **who,
            )
        )  # fmt: skip
        s.add(
            Evaluation(
                id=str(uuid.uuid4()), record_id=record, division_code=code,
                score=2, poor=True, comment="迟到", evaluator_scope=code[:6],
                evaluated_by="t", evaluated_at=at, replaced=0, superseded_at=None,
                **who,
            )
        )  # fmt: skip
        s.add(
            Complaint(
                id=str(uuid.uuid4()), division_code=code, record_id=record,
                organisation_id="", text="服务态度差", status="upheld",
                filed_by="t", filed_at=at, reply="下次注意", replied_at=at,
                decision_note="投诉成立", decided_by="t", decided_at=at, **who,
            )
        )  # fmt: skip


def deposit(app: HoursApp, record: str, code: str) -> None:
    """What the worker does after an approval or a correction event."""
    app.bank.reconcile("hours.timebank", str(uuid.uuid4()), record, code)


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def ledger(app: HoursApp, vols: tuple[str, str]) -> dict[str, Any]:
    """The volunteers' conduct rows, bank transactions, accounts, entries
    and balances per (volunteer, bank), read as a province admin reads
    them (balances through the bank's own repository)."""
    out: dict[str, Any] = {}
    with app.ctx.db.session(ADMIN.scope) as s:
        models: tuple[Any, ...] = (*CONDUCT, BankTransaction)
        for model in models:
            q = select(model).where(model.volunteer_id.in_(vols))
            out[model.__tablename__] = {
                r.id: _columns(r) for r in s.execute(q).scalars()
            }
        accounts = {
            a.id: (a.division_code, a.volunteer_id)
            for a in s.execute(
                select(BankAccount).where(BankAccount.volunteer_id.in_(vols))
            ).scalars()
        }
        out["accounts"] = accounts
        out["entries"] = {
            e.id: _columns(e)
            for e in s.execute(
                select(BankEntry).where(BankEntry.account_id.in_(list(accounts)))
            ).scalars()
        }
        repo = BankRepository(s, ADMIN.scope)
        out["balances"] = {
            (v, a.division_code): balance
            for v in vols
            for a, balance in repo.accounts(v, ADMIN.scope.code)
        }
    return out


def _legs(entries: dict[int, dict[str, Any]]) -> dict[int, tuple[Any, ...]]:
    return {
        i: (e["transaction_id"], e["division_code"], e["amount"])
        for i, e in entries.items()
    }


def _as(rows: dict[str, dict[str, Any]], **values: str) -> dict[str, Any]:
    return {i: {**r, **values} for i, r in rows.items()}


def test_merge_moves_bank_and_conduct_and_revert_restores(app: HoursApp) -> None:
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    s_no, m_no = "ZY61000000T", "ZY61000000N"
    own = approved(app, survivor, s_no, HOME, 10)
    home = approved(app, merged, m_no, HOME, 11)
    away = approved(app, merged, m_no, AWAY, 12)
    for record, code in ((own, HOME), (home, HOME), (away, AWAY)):
        deposit(app, record, code)
    app.bank.withdraw(ADMIN, merged, HOME[:6], 0.5, "理发服务", "")
    conduct(app, merged, m_no, home, HOME)
    conduct(app, survivor, s_no, own, HOME)
    vols = (survivor, merged)
    before = ledger(app, vols)
    two, half = Decimal("2.00"), Decimal("1.50")
    assert before["balances"] == {
        (survivor, HOME[:6]): two, (merged, HOME[:6]): half, (merged, AWAY[:6]): two,
    }  # fmt: skip
    for model in CONDUCT:
        assert len(before[model.__tablename__]) == 2
    m = Merge(str(uuid.uuid4()), HOME, survivor, s_no, merged, m_no)
    event = str(uuid.uuid4())

    assert app.merges.follow("hours.merge", event, m, False)

    after = ledger(app, vols)
    # Per bank, the survivor holds both balances; the merged holds nothing.
    assert after["balances"] == {
        (survivor, HOME[:6]): Decimal("3.50"), (survivor, AWAY[:6]): two,
        (merged, HOME[:6]): 0, (merged, AWAY[:6]): 0,
    }  # fmt: skip
    for model in CONDUCT:
        table = model.__tablename__
        assert after[table] == _as(
            before[table], volunteer_id=survivor, volunteer_number=s_no
        ), table
    transactions = before["timebank_transactions"]
    assert len(transactions) == 4  # three deposits and a withdrawal
    assert after["timebank_transactions"] == _as(transactions, volunteer_id=survivor)
    # Entries keep their transaction, bank and amount; only the account moves.
    assert _legs(after["entries"]) == _legs(before["entries"])
    # The same event again, or the same merge under another event, changes
    # nothing.
    assert not app.merges.follow("hours.merge", event, m, False)
    assert app.merges.follow("hours.merge", str(uuid.uuid4()), m, False)
    assert ledger(app, vols) == after

    assert app.merges.follow("hours.unmerge", str(uuid.uuid4()), m, True)

    assert ledger(app, vols) == before
    # A redelivered revert (another event id) moves nothing.
    assert app.merges.follow("hours.unmerge", str(uuid.uuid4()), m, True)
    assert ledger(app, vols) == before


def test_a_correction_after_the_merge_goes_back_with_its_record(
    app: HoursApp,
) -> None:
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    s_no, m_no = "ZY61000000U", "ZY61000000V"
    away = approved(app, merged, m_no, AWAY, 14)
    deposit(app, away, AWAY)
    vols = (survivor, merged)
    m = Merge(str(uuid.uuid4()), HOME, survivor, s_no, merged, m_no)
    assert app.merges.follow("hours.merge", str(uuid.uuid4()), m, False)
    assert ledger(app, vols)["balances"][(survivor, AWAY[:6])] == Decimal("2.00")
    # The record, now the survivor's, is cut to 1.25 h: the reconciliation
    # takes back only the difference (the deposit moved with the record).
    app.review.correct(ADMIN, away, 1.25, False, "核减")
    deposit(app, away, AWAY)
    assert ledger(app, vols)["balances"][(survivor, AWAY[:6])] == Decimal("1.25")

    assert app.merges.follow("hours.unmerge", str(uuid.uuid4()), m, True)

    back = ledger(app, vols)
    assert back["balances"] == {(merged, AWAY[:6]): Decimal("1.25")}
    assert {t["volunteer_id"] for t in back["timebank_transactions"].values()} == {
        merged
    }
    assert len(back["timebank_transactions"]) == 2  # the deposit, the adjustment
    # Reconciled again, the record's deposits are what its hours say.
    deposit(app, away, AWAY)
    assert ledger(app, vols) == back
