"""hour_records partitioned by province (hours revision 0002): data written
in revision 0001's schema survives the upgrade exactly, the rollups come out
equal to the raw facts for every period, and a county's query reads only its
province's partition."""

from __future__ import annotations

import random
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope, ancestors
from services.common.testing import create_migrated_database, drop_database
from services.hours.models import ROLLUP_FIELDS
from services.hours.repository import Repository

pytestmark = pytest.mark.integration

PLACES = ["610113001", "610113002", "610103002", "620102001", "110101001", "610113"]
FIELDS = ["elderly_care", "medical", "not_a_rollup_field"]
MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02"]
RECORD_COLUMNS = (
    "id, source, source_id, event_id, volunteer_id, volunteer_number,"
    " division_code, organisation_id, organisation_name, service_field,"
    " activity_kind, content, started_at, ended_at, duration_seconds,"
    " service_day, month, rounding, rounded_hours, hours, capped_hours, note,"
    " status, status_reason, recorded_by, recorded_at, reviewed_by, reviewed_at"
)


@pytest.fixture(scope="module")
def hours_db(env: dict[str, str]) -> Iterator[tuple[Any, Engine]]:
    """A fresh hours database at revision 0001, its service config and an
    owner's engine."""
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_part", revision="0001")
    one = type(svc)(**{**svc.__dict__, "database_url": url})
    engine = create_engine(url)
    try:
        yield one, engine
    finally:
        engine.dispose()
        drop_database(url)


def _records(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for n in range(240):
        month = rng.choice(MONTHS)
        start = datetime.fromisoformat(f"{month}-10T02:00:00+00:00") + timedelta(
            days=rng.randrange(10), minutes=n
        )
        hours = Decimal(rng.randrange(25, 400)) / 100
        out.append(
            {
                "id": str(uuid.uuid4()), "source": "attendance",
                "source_id": f"att-{n}", "event_id": None,
                "volunteer_id": f"vol-{rng.randrange(40)}",
                "volunteer_number": f"N{n:08d}", "division_code": rng.choice(PLACES),
                "organisation_id": "org", "organisation_name": "队",
                "service_field": rng.choice(FIELDS), "activity_kind": "service",
                "content": "服务", "started_at": start,
                "ended_at": start + timedelta(hours=1), "duration_seconds": 3600,
                "service_day": date.fromisoformat(f"{month}-15"), "month": month,
                "rounding": "none", "rounded_hours": hours, "hours": hours,
                "capped_hours": Decimal(0), "note": "",
                "status": rng.choice(["approved", "approved", "pending", "reversed"]),
                "status_reason": "", "recorded_by": "t",
                "recorded_at": datetime(2026, 3, 1, tzinfo=UTC),
                "reviewed_by": None, "reviewed_at": None,
            }
        )  # fmt: skip
    return out


def _old_rollups(records: list[dict[str, Any]], amends: dict[str, Decimal]) -> list:
    """The 0001 rollup rows the live path would have written: per ancestor and
    month, sums of effective hours and distinct volunteers per month."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        if r["status"] != "approved":
            continue
        h = r["hours"] + amends.get(r["id"], Decimal(0))
        fields = [""] + (
            [r["service_field"]] if r["service_field"] in ROLLUP_FIELDS else []
        )
        for code in ancestors(r["division_code"]):
            cell = cells.setdefault((code, r["month"]), defaultdict(Decimal))
            for f in fields:
                sfx = f"_{f}" if f else ""
                cell[f"hours{sfx}"] += h
                cell[f"records{sfx}"] += 1
                cell.setdefault(f"people{sfx}", set()).add(r["volunteer_id"])
    rows = []
    for (code, month), cell in cells.items():
        values = {"division_code": code, "month": month}
        for f in ["", *ROLLUP_FIELDS]:
            sfx = f"_{f}" if f else ""
            values[f"hours{sfx}"] = float(cell.get(f"hours{sfx}", 0))
            values[f"records{sfx}"] = float(cell.get(f"records{sfx}", 0))
            values[f"volunteers{sfx}"] = float(len(cell.get(f"people{sfx}", ())))
        rows.append(values)
    return rows


def _expected(records: list[dict[str, Any]], amends: dict[str, Decimal]) -> dict:
    """(level, code, period) → metrics, by brute force over the facts."""
    cells: dict[tuple[int, str, str], dict[str, Any]] = {}
    for r in records:
        if r["status"] != "approved":
            continue
        h = r["hours"] + amends.get(r["id"], Decimal(0))
        fields = [""] + (
            [r["service_field"]] if r["service_field"] in ROLLUP_FIELDS else []
        )
        for code in ancestors(r["division_code"]):
            for period in (r["month"], r["month"][:4], "all"):
                cell = cells.setdefault((len(code), code, period), {})
                for f in fields:
                    sfx = f"_{f}" if f else ""
                    cell[f"hours{sfx}"] = cell.get(f"hours{sfx}", 0) + float(h)
                    cell[f"records{sfx}"] = cell.get(f"records{sfx}", 0) + 1
                    cell.setdefault(f"volunteers{sfx}", set()).add(r["volunteer_id"])
    return {
        k: {m: (len(v) if isinstance(v, set) else v) for m, v in cell.items()}
        for k, cell in cells.items()
    }


def test_data_of_0001_survives_the_upgrade_exactly(hours_db) -> None:  # type: ignore[no-untyped-def]
    svc, engine = hours_db
    rng = random.Random(20261204)
    records = _records(rng)
    amends = {
        r["id"]: Decimal(rng.randrange(-20, 20)) / 100
        for r in records
        if r["status"] == "approved" and rng.random() < 0.2
    }
    marks = ", ".join(f":{c.strip()}" for c in RECORD_COLUMNS.split(","))
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO hour_records ({RECORD_COLUMNS}) VALUES ({marks})"),
            records,
        )
        conn.execute(
            text(
                "INSERT INTO hour_corrections (id, record_id, division_code, kind,"
                " previous_hours, new_hours, delta_hours, reason, actor, created_at)"
                " SELECT :id, id, division_code, 'amend', hours, hours + :d, :d, 'r',"
                " 't', now() FROM hour_records WHERE id = :rid"
            ),
            [
                {"id": str(uuid.uuid4()), "rid": rid, "d": d}
                for rid, d in amends.items()
            ],
        )
        old = _old_rollups(records, amends)
        cols = ", ".join(old[0])
        conn.execute(
            text(
                f"INSERT INTO hours_rollup ({cols})"
                f" VALUES ({', '.join(':' + c for c in old[0])})"
            ),
            old,
        )
        before = conn.execute(
            text(f"SELECT {RECORD_COLUMNS} FROM hour_records ORDER BY id")
        ).all()
        fixes = conn.execute(text("SELECT * FROM hour_corrections ORDER BY id")).all()

    upgrade(svc)

    with engine.connect() as conn:
        assert (
            conn.execute(
                text(f"SELECT {RECORD_COLUMNS} FROM hour_records ORDER BY id")
            ).all()
            == before
        )
        assert (
            conn.execute(text("SELECT * FROM hour_corrections ORDER BY id")).all()
            == fixes
        )
        parts = dict(
            conn.execute(
                text(
                    "SELECT tableoid::regclass::text, count(*)"
                    " FROM hour_records GROUP BY 1"
                )
            ).all()
        )
        assert parts == {
            f"hour_records_{p}": sum(r["division_code"][:2] == p for r in records)
            for p in {c[:2] for c in PLACES}
        }
        stored = {
            (row["level"], row["division_code"], row["period"]): row
            for row in conn.execute(text("SELECT * FROM hours_rollup")).mappings()
        }
    expected = _expected(records, amends)
    assert set(expected) <= set(stored)
    for key, metrics in expected.items():
        for metric, value in metrics.items():
            assert stored[key][metric] == pytest.approx(value), (key, metric)


def _scanned(plan: str) -> set[str]:
    return set(re.findall(r" on (hour_records\w*)", plan))


def _plan(db: Database, scope: str, sql: str) -> str:
    with db.session(Scope(scope)) as s:
        return "\n".join(s.execute(text(sql)).scalars())


def test_a_countys_query_reads_only_its_provinces_partition(hours_db) -> None:  # type: ignore[no-untyped-def]
    svc, _ = hours_db
    upgrade(svc)
    db = Database(svc)
    try:
        # The repository's own query for a county, compiled with its values.
        with db.session(Scope("610113")) as s:
            q = Repository(s, Scope("610113")).records_query("610113", "", "approved")
            sql = str(q.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = _plan(db, "610113", f"EXPLAIN (COSTS OFF) {sql}")
        scanned = _scanned(plan)
        assert scanned == {"hour_records_61"}, plan
        # Row security alone (no filter of the query's own) prunes at run time.
        plan = _plan(
            db, "610113",
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)"
            " SELECT count(*) FROM hour_records",
        )  # fmt: skip
        scanned = _scanned(plan)
        assert scanned == {"hour_records_61"}, plan
        assert "Subplans Removed" in plan, plan
    finally:
        db.dispose()
