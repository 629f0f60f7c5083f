"""Hours' rollups after a random workload (approvals one by one and set-wise,
amendments, reversals, across townships, months, a year's turn and fields)
equal GROUP BY / COUNT(DISTINCT) over the raw facts, for random nodes,
levels and periods; no read scans presence or facts."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.rollup import month_of
from services.common.tenancy import Level, Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours import rollups
from services.hours.application import HoursApp
from services.hours.domain import Interval
from services.hours.models import ROLLUP_FIELDS
from services.hours.queries import HoursQueries
from services.hours.usecases.records import Draft

pytestmark = pytest.mark.integration

PLACES = [
    "610113001", "610113002", "610103002", "610302001", "610113",
    "620102001", "620102003",
]  # fmt: skip
FIELDS = ["elderly_care", "minors", "medical", "a_field_without_columns"]
MONTHS = [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
VOLUNTEERS = [str(uuid.uuid4()) for _ in range(14)]


def admin(code: str) -> Principal:
    return Principal(
        "t", f"reviewer-{code}", code, frozenset({"province_admin"}), 2**40
    )


@pytest.fixture(scope="module")
def db(env: dict[str, str]) -> Iterator[Database]:
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_distinct")
    one = type(svc)(**{**svc.__dict__, "database_url": url})
    database = Database(one)
    try:
        yield database
    finally:
        database.dispose()
        drop_database(url)


@pytest.fixture(scope="module")
def loaded(db: Database) -> Database:
    """The database after the random workload, once for the module."""
    _workload(db)
    return db


def _draft(rng: random.Random, n: int) -> Draft:
    year, month = rng.choice(MONTHS)
    # One slot per draft: no overlaps, no daily caps, whoever serves.
    start = datetime(year, month, 1 + n % 27, 1, tzinfo=UTC) + timedelta(
        minutes=(n // 27) * 61
    )
    end = start + timedelta(minutes=rng.choice([30, 45, 60]))
    return Draft(
        source="attendance", source_id=f"att-{n}",
        volunteer_id=rng.choice(VOLUNTEERS), volunteer_number="ZY610000099001",
        division_code=rng.choice(PLACES), organisation_id="org-1",
        organisation_name="志愿者协会", service_field=rng.choice(FIELDS),
        activity_kind="service", content="服务", started_at=start, ended_at=end,
        interval=Interval(start, end), recorded_by="activity:leader", event_id=None,
    )  # fmt: skip


def _bulk(db: Database, rng: random.Random, province: str) -> list[dict[str, Any]]:
    """Approved records written set-wise, as the bulk import does."""
    rows = []
    for n in range(60):
        year, month = rng.choice(MONTHS)
        start = datetime(year, month, 28, 14, tzinfo=UTC) + timedelta(minutes=n)
        rows.append(
            {
                "id": str(uuid.uuid4()), "source_id": f"bulk-{province}-{n}",
                "volunteer_id": rng.choice(VOLUNTEERS),
                "division_code": rng.choice([p for p in PLACES if p[:2] == province]),
                "service_field": rng.choice(FIELDS), "started_at": start,
                "ended_at": start + timedelta(seconds=30),
                "month": month_of(start), "hours": Decimal(rng.randrange(1, 300)) / 100,
            }
        )  # fmt: skip
    with db.session(Scope(province)) as s:
        s.execute(
            text(
                "INSERT INTO hour_records (id, source, source_id, volunteer_id,"
                " volunteer_number, division_code, organisation_id,"
                " organisation_name, service_field, activity_kind, content,"
                " started_at, ended_at, duration_seconds, service_day, month,"
                " rounding, rounded_hours, hours, capped_hours, note, status,"
                " status_reason, recorded_by, recorded_at) VALUES (:id, 'import',"
                " :source_id, :volunteer_id, 'N', :division_code, '', '',"
                " :service_field, 'service', '', :started_at, :ended_at, 30,"
                " CAST(:started_at AS date), :month, 'manual', :hours, :hours, 0,"
                " '', 'approved', '', 't', now())"
            ),
            rows,
        )
        rollups.apply_approved(
            s,
            "SELECT volunteer_id, division_code, service_field, hours,"
            " started_at AS served_at FROM hour_records WHERE source = 'import'"
            " AND division_code >= :p AND division_code < :p || '~'",
            {"p": province},
        )
    return rows


def _workload(db: Database) -> None:
    rng = random.Random(4242)
    app = HoursApp(db)
    records = [
        app.records.ingest("hours.attendance", str(uuid.uuid4()), _draft(rng, n))
        for n in range(140)
    ]
    approved = []
    for r in records:
        if r is not None and r.status == "pending" and rng.random() < 0.85:
            app.review.approve(admin(r.division_code[:2]), r.id)
            approved.append(r)
    for r in rng.sample(approved, 30):
        p = admin(r.division_code[:2])
        if rng.random() < 0.5 or r.hours <= Decimal("0.25"):
            app.review.correct(p, r.id, None, True, "撤销")
        else:
            app.review.correct(p, r.id, float(r.hours) - 0.25, False, "更正")
    for province in ("61", "62"):
        bulk = _bulk(db, rng, province)
        # Reverse a third of the bulk set-wise: it may remove volunteers.
        gone = [r["id"] for r in rng.sample(bulk, 20)]
        with db.session(Scope(province)) as s:
            rollups.apply_approved(
                s,
                "SELECT volunteer_id, division_code, service_field, hours, month"
                " FROM hour_records WHERE id = ANY(:ids)",
                {"ids": gone},
                sign=-1,
            )
            s.execute(
                text(
                    "UPDATE hour_records SET status = 'reversed' WHERE id = ANY(:ids)"
                ),
                {"ids": gone},
            )


def _raw(db: Database, node: str, width: int, months: tuple[str, str]) -> dict:
    """code → metrics by GROUP BY / COUNT(DISTINCT) over the raw facts."""
    fields = ", ".join(
        f"sum(h) FILTER (WHERE f = '{f}') AS hours_{f},"
        f" count(*) FILTER (WHERE f = '{f}') AS records_{f},"
        f" count(DISTINCT v) FILTER (WHERE f = '{f}') AS volunteers_{f}"
        for f in ROLLUP_FIELDS
    )
    sql = (
        "WITH facts AS (SELECT substr(r.division_code, 1, :w) AS code,"
        " r.volunteer_id AS v, r.service_field AS f, r.hours + coalesce((SELECT"
        " sum(c.delta_hours) FROM hour_corrections c WHERE c.record_id = r.id), 0)"
        " AS h FROM hour_records r WHERE r.status = 'approved'"
        " AND r.division_code LIKE :node || '%' AND length(r.division_code) >= :w"
        " AND r.month BETWEEN :a AND :b)"
        " SELECT code, sum(h) AS hours, count(*) AS records,"
        f" count(DISTINCT v) AS volunteers, {fields} FROM facts GROUP BY code"
    )
    with db.session(Scope(node[:2])) as s:
        rows = s.execute(
            text(sql), {"w": width, "node": node, "a": months[0], "b": months[1]}
        ).mappings()
        return {
            r["code"]: {k: float(v or 0) for k, v in r.items() if k != "code"}
            for r in rows
        }


def _check(got: dict[str, float], want: dict[str, float] | None, where: Any) -> None:
    want = want or {}
    for metric, value in got.items():
        assert value == pytest.approx(want.get(metric, 0.0), abs=1e-6), (where, metric)


def test_summaries_equal_the_raw_facts_after_a_random_workload(
    loaded: Database,
) -> None:
    db = loaded
    queries = HoursQueries(db)
    rng = random.Random(7)
    periods = [("", ""), ("2025-01", "2025-12"), ("2026-01", "2026-12"),
               ("2025-12", "2025-12"), ("2026-02", "2026-02")]  # fmt: skip
    nodes = ["61", "62", "6101", "610113", "6201", "620102", "6103"]
    cases = [(n, p) for n in nodes for p in periods]
    for node, (start, end) in rng.sample(cases, 24):
        level = Level(len(node))
        below = [lv for lv in Level if lv.width > level.width]
        group = rng.choice(below[:2])
        got = queries.summarize(admin(node[:2]), node, group, start, end, False)
        months = (start or "0000-00", end or "9999-99")
        want = _raw(db, node, group.width, months)
        assert {c for c, _, _ in got.rows} == {
            c for c, m in want.items() if m["records"]
        }
        for code, _, metrics in got.rows:
            _check(metrics, want.get(code), (node, start, end, code))
        _check(
            got.total, _raw(db, node, len(node), months).get(node), (node, start, end)
        )


def test_months_of_a_year_and_their_total(loaded: Database) -> None:
    db = loaded
    got = HoursQueries(db).summarize(
        admin("61"), "6101", None, "2026-01", "2026-12", True
    )
    assert got.rows
    for code, month, metrics in got.rows:
        _check(
            metrics, _raw(db, code, len(code), (month, month)).get(code), (code, month)
        )
    _check(got.total, _raw(db, "6101", 4, ("2026-01", "2026-12")).get("6101"), "total")


def test_a_range_without_kept_distinct_counts_is_refused(db: Database) -> None:
    with pytest.raises(InvalidArgument) as refused:
        HoursQueries(db).summarize(admin("61"), "61", None, "2025-12", "2026-01", False)
    assert refused.value.field == "query.period"
    assert refused.value.rule == "period.stored"
    assert "去重" in refused.value.message_zh
