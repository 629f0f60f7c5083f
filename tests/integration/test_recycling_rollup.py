"""The Shaanxi seed on PostgreSQL (a database of its own, so no other test's
facts mix in): the province's rollup reads exactly the programme's reported
figures, every city equals the sum of its counties, and at every level and
month the rollup equals the raw facts of the subtree, counted straight from
the tables."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Level
from services.common.testing import create_migrated_database, drop_database
from services.recycling.models import ROLLUP
from services.recycling.queries import RecyclingQueries
from services.seed.recycling import seed

pytestmark = pytest.mark.integration
PROVINCE = Principal("t", "t", "61", frozenset({"province_admin"}), 0)
CST = "AT TIME ZONE 'Asia/Shanghai'"
# Every raw fact as (division, month, metric, amount): what the rollup counts.
FACTS = f"""
SELECT division_code, to_char(collected_on, 'YYYY-MM'), m.metric, m.amount
FROM collections, LATERAL (VALUES ('events', 1), ('kg_textiles', textiles_kg),
  ('kg_books', books_kg), ('kg_other', other_kg),
  ('kg_total', textiles_kg + books_kg + other_kg)) AS m(metric, amount)
UNION ALL
SELECT division_code, to_char(deployed_on, 'YYYY-MM'), 'bins_deployed', 1 FROM bins
UNION ALL
SELECT division_code, to_char(changed_on, 'YYYY-MM'), 'bins_deployed', -1
FROM bin_status_changes WHERE to_status = 'retired'
UNION ALL
SELECT division_code, to_char(held_on, 'YYYY-MM'), m.metric, m.amount
FROM drives, LATERAL (VALUES ('drives', 1), ('items_garments', garments),
  ('items_books', books), ('items_other', other_items),
  ('households', recipient_households)) AS m(metric, amount)
UNION ALL
SELECT division_code, to_char(created_at {CST}, 'YYYY-MM'), 'bookings', 1
FROM bookings
UNION ALL
SELECT division_code, to_char(collected_on, 'YYYY-MM'), m.metric, m.amount
FROM bookings, LATERAL (VALUES ('bookings_collected', 1), ('kg_textiles', textiles_kg),
  ('kg_books', books_kg), ('kg_other', other_kg),
  ('kg_total', textiles_kg + books_kg + other_kg)) AS m(metric, amount)
WHERE status = 'collected'
"""


@pytest.fixture(scope="module")
def seeded(env: dict[str, str]) -> Iterator[tuple[RecyclingQueries, str]]:
    url = create_migrated_database(load().service("recycling"), "zy_test_recy_seed")
    cfg = load(env={**os.environ, "RECYCLING_DATABASE_URL": url})
    db = Database(cfg.service("recycling"))
    try:
        seed(cfg, province="61")
        yield RecyclingQueries(db), url
    finally:
        db.dispose()
        drop_database(url)


def raw(url: str, sql: str, **params: Any) -> list[Any]:
    """As the database owner: no row security, the facts as they are."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def facts(url: str) -> list[tuple[str, str, str, float]]:
    return [(c, m, k, float(a)) for c, m, k, a in raw(url, FACTS)]


def rows(q: RecyclingQueries, node: str, level: Level, by_month: bool = False):  # type: ignore[no-untyped-def]
    return q.summarize(PROVINCE, node, level, "", "", by_month).rows


def test_the_province_reads_exactly_the_reported_figures(seeded) -> None:  # type: ignore[no-untyped-def]
    q, _ = seeded
    total = q.summarize(PROVINCE, "61", None, "", "", False).total
    # 1,394 events, 945 tonnes, 650 bins, 128 drives, 21,482 garments.
    assert total["events"] == 1394.0
    assert total["kg_total"] == 945_000.0
    assert total["kg_textiles"] + total["kg_books"] + total["kg_other"] == 945_000.0
    assert total["bins_deployed"] == 650.0
    assert total["drives"] == 128.0
    assert total["items_garments"] == 21_482.0
    assert (total["bookings"], total["bookings_collected"]) == (40.0, 16.0)


def test_every_city_is_the_sum_of_its_counties(seeded) -> None:  # type: ignore[no-untyped-def]
    q, _ = seeded
    cities = {code: m for code, _, m in rows(q, "61", Level.CITY)}
    counties = rows(q, "61", Level.COUNTY)
    assert len(cities) == 10 and len(counties) > 50
    for city, metrics in cities.items():
        mine = [m for code, _, m in counties if code.startswith(city)]
        assert mine, city
        for name in ROLLUP.metrics:
            assert metrics[name] == sum(m[name] for m in mine), (city, name)
    province = q.summarize(PROVINCE, "61", None, "", "", False).total
    for name in ROLLUP.metrics:
        assert province[name] == sum(m[name] for m in cities.values()), name


@pytest.mark.parametrize("level", [Level.CITY, Level.COUNTY, Level.TOWNSHIP])
def test_the_rollup_at_every_node_is_the_raw_facts_of_its_subtree(seeded, level):  # type: ignore[no-untyped-def]
    q, url = seeded
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for code, _, metric, amount in facts(url):
        if len(code) >= level.width:
            expected[(code[: level.width], metric)] += amount
    got = rows(q, "61", level)
    assert {code for code, _, _ in got} == {c for c, _ in expected}
    for code, _, metrics in got:
        for name in ROLLUP.metrics:
            assert metrics[name] == expected.get((code, name), 0.0), (code, name)


def test_a_countys_months_are_its_raw_facts(seeded) -> None:  # type: ignore[no-untyped-def]
    """Yanta (610113) month by month, against the facts of its townships."""
    q, url = seeded
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for code, month, metric, amount in facts(url):
        if code.startswith("610113"):
            expected[(month, metric)] += amount
    cells = rows(q, "6101", Level.COUNTY, by_month=True)
    mine = [(month, m) for code, month, m in cells if code == "610113"]
    assert {month for month, _ in mine} == {month for month, _ in expected}
    for month, metrics in mine:
        for name in ROLLUP.metrics:
            assert metrics[name] == expected.get((month, name), 0.0), (month, name)
    # And plainly: the county's events are a count of its collections.
    (count,) = raw(
        url, "SELECT count(*) FROM collections WHERE division_code LIKE '610113%'"
    )[0]
    total = q.summarize(PROVINCE, "610113", None, "", "", False).total
    assert total["events"] == count > 0
    (in_service,) = raw(
        url,
        "SELECT count(*) FROM bins WHERE division_code LIKE '610113%'"
        " AND status <> 'retired'",
    )[0]
    assert total["bins_deployed"] == in_service > 0


def test_the_seed_is_idempotent(seeded, capsys) -> None:  # type: ignore[no-untyped-def]
    q, url = seeded
    before = q.summarize(PROVINCE, "61", None, "", "", False).total
    cfg = load(env={**os.environ, "RECYCLING_DATABASE_URL": url})
    seed(cfg, province="61")
    assert "already present" in capsys.readouterr().out
    assert q.summarize(PROVINCE, "61", None, "", "", False).total == before
    (bins,) = raw(url, "SELECT count(*) FROM bins")[0]
    assert bins == 668  # 650 in service and 18 retired, written once
