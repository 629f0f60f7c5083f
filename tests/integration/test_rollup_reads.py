"""Summarize reads its rollup by index, O(children × periods), at a volume
where the planner's choice is real: a national-sized tree's rollup rows in a
throwaway hours database, the statements Summarize actually sends captured
and EXPLAIN ANALYZEd under the application role and a county's scope.

The other four services' rollups are the same kernel table and query: their
keys are checked to be the same (level, division_code, period) in C order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Level, Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours.models import ROLLUP
from services.hours.queries import HoursQueries

pytestmark = pytest.mark.integration

PROVINCES, CITIES, COUNTIES, TOWNSHIPS = 31, 10, 10, 15
PERIODS = ("2026-03", "2026", "all")


@pytest.fixture(scope="module")
def national(env: dict[str, str]) -> Iterator[Database]:
    """Rows for 31 × 10 × 10 × 15 townships and every ancestor, in a month,
    its year and all time (about 160k rows)."""
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_reads")
    one = type(svc)(**{**svc.__dict__, "database_url": url})
    db = Database(one)
    metrics = ", ".join(ROLLUP.metrics)
    values = ", ".join("1" for _ in ROLLUP.metrics)
    codes = f"""
      SELECT lpad((10 + p)::text, 2, '0') AS p, lpad(c::text, 2, '0') AS c,
             lpad(k::text, 2, '0') AS k, lpad(t::text, 3, '0') AS t
      FROM generate_series(1, {PROVINCES}) p, generate_series(1, {CITIES}) c,
           generate_series(1, {COUNTIES}) k, generate_series(1, {TOWNSHIPS}) t"""
    try:
        with db.engine.begin() as conn:  # the owner: a fixture, not a tenant
            conn.execute(
                text(
                    "INSERT INTO hours_rollup (level, division_code, period,"
                    f" {metrics})"
                    f" SELECT DISTINCT length(code), code, period, {values} FROM"
                    f" ({codes}) x, LATERAL (VALUES (p), (p || c), (p || c || k),"
                    " (p || c || k || t)) AS a(code),"
                    f" unnest(CAST(:periods AS text[])) AS period"
                ),
                {"periods": list(PERIODS)},
            )
            conn.execute(text("ANALYZE hours_rollup"))
        yield db
    finally:
        db.dispose()
        drop_database(url)


def _statements(db: Database, call: Any) -> list[tuple[str, Any]]:
    """The SELECTs on the rollup that ``call`` sends, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, many):  # type: ignore[no-untyped-def]
        if "hours_rollup" in statement and statement.lstrip().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def _plans(db: Database, scope: str, statements: list[tuple[str, Any]]) -> list[dict]:
    out = []
    with db.session(Scope(scope)) as s:
        raw = s.connection().connection.driver_connection
        for statement, parameters in statements:
            cur = raw.execute(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            )
            out.append(cur.fetchone()[0][0]["Plan"])
    return out


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize(
    ("node", "period"),
    [
        ("210305", ("2026-03", "2026-03")),
        ("2103", ("2026-01", "2026-12")),
        ("21", ("", "")),
    ],
    ids=["county-month", "city-year", "province-all-time"],
)
def test_summarize_reads_the_rollup_by_index_only(national, node, period) -> None:  # type: ignore[no-untyped-def]
    scope = node
    p = Principal("t", "t", scope, frozenset({"province_admin"}), 2**40)
    start, end = period
    statements = _statements(
        national,
        lambda: HoursQueries(national).summarize(p, node, None, start, end, False),
    )
    assert len(statements) == 2  # the children, and the node's total
    children = {Level.PROVINCE: CITIES, Level.CITY: COUNTIES, Level.COUNTY: TOWNSHIPS}
    for plan in _plans(national, scope, statements):
        nodes = list(_nodes(plan))
        kinds = {n["Node Type"] for n in nodes}
        assert "Seq Scan" not in kinds, json.dumps(plan, indent=1)
        scans = [n for n in nodes if n.get("Relation Name") == "hours_rollup"]
        assert scans and all(n["Index Name"] == "hours_rollup_pkey" for n in scans)
        # Rows looked at: the children's (or the node's) cells of every
        # stored period, never the province's or the nation's.
        touched = sum(
            n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans
        )
        assert touched <= children[Level(len(node))] * len(PERIODS), touched


def test_every_services_rollup_has_the_same_indexed_key(migrated) -> None:  # type: ignore[no-untyped-def]
    from services.catalog import SERVICES

    for name in SERVICES:
        db = Database(load().service(name))
        try:
            with db.engine.connect() as conn:
                index = conn.execute(
                    text(
                        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
                        " WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary"
                    ),
                    {"t": f"{name}_rollup"},
                ).scalar_one()
                collations = dict(
                    conn.execute(
                        text(
                            "SELECT column_name, collation_name FROM"
                            " information_schema.columns WHERE table_name = :t"
                            " AND column_name IN ('division_code', 'period')"
                        ),
                        {"t": f"{name}_rollup"},
                    ).all()
                )
        finally:
            db.dispose()
        assert re.search(r"btree \(level, division_code, period\)", index), index
        assert collations == {"division_code": "C", "period": "C"}, name
