"""Bulk imports analyse what they grow (services.common.bulk.refresh_statistics):
autovacuum may be off, and a table the planner believes empty is read by
sequential scans (the national scale run stalled 18 minutes on one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.common.bulk import refresh_statistics
from services.common.config import load
from services.common.testing import create_migrated_database, drop_database

pytestmark = pytest.mark.integration


@pytest.fixture
def owner(migrated: dict[str, str]) -> Iterator[Engine]:
    url = create_migrated_database(load().service("hours"), "zy_stats")
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(url)


def _grow(engine: Engine, table: str, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO {table} SELECT g FROM generate_series(1, {rows}) g")
        )
        # The counters reach the shared statistics when the backend goes idle.
        conn.execute(text("SELECT pg_stat_force_next_flush()"))


def _analysed(engine: Engine, table: str) -> tuple[bool, float]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT t.last_analyze IS NOT NULL, c.reltuples"
                 " FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid"
                 " WHERE c.relname = :n"),
            {"n": table},
        ).one()  # fmt: skip
    return bool(row[0]), float(row[1])


def test_grown_leaves_are_analysed_once_and_small_or_other_tables_are_not(
    owner: Engine,
) -> None:
    with owner.begin() as conn:
        conn.execute(text("CREATE TABLE grown_big (id int)"))
        conn.execute(text("CREATE TABLE grown_small (id int)"))
        conn.execute(text("CREATE TABLE other_big (id int)"))
        conn.execute(text("CREATE TABLE grown_p (id int) PARTITION BY RANGE (id)"))
        conn.execute(text("CREATE TABLE grown_p_1 PARTITION OF grown_p"
                          " FOR VALUES FROM (1) TO (100000)"))  # fmt: skip
    _grow(owner, "grown_big", 6_000)
    _grow(owner, "grown_small", 10)
    _grow(owner, "other_big", 6_000)
    _grow(owner, "grown_p", 6_000)

    with Session(owner) as s, s.begin():
        done = refresh_statistics(s, ["grown%"])
    # Leaves only: the partitioned parent is not a table ANALYZE should
    # recurse through per chunk; its partition is analysed.
    assert done == ["grown_big", "grown_p_1"]
    assert _analysed(owner, "grown_big") == (True, 6_000.0)
    assert _analysed(owner, "grown_p_1") == (True, 6_000.0)
    assert _analysed(owner, "grown_small")[0] is False
    assert _analysed(owner, "other_big")[0] is False

    # Fresh statistics: nothing to do until the table grows past 10% more
    # than the floor.
    with Session(owner) as s, s.begin():
        assert refresh_statistics(s, ["grown%"]) == []
    _grow(owner, "grown_big", 5_000)  # 5,000 < 5,000 + 600
    with Session(owner) as s, s.begin():
        assert refresh_statistics(s, ["grown%"]) == []
    _grow(owner, "grown_big", 700)
    with Session(owner) as s, s.begin():
        assert refresh_statistics(s, ["grown%"]) == ["grown_big"]
    assert _analysed(owner, "grown_big") == (True, 11_700.0)
