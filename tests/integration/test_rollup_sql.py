"""The bulk import's set-wise rollups (``rollups.apply_imported``: sums per
division and month, distinct counts worked out per division) against the
one path the rest of hours uses (``rollups.apply_approved``): the same
random records, in the same random chunks, on twin databases, leave the
same rollup cells and the same presence rows.

The records are built to reach every case of the distinct counts: a
volunteer serving in one township or in several (across counties and
cities), months in two years, the same month again in a later chunk, a
field with rollup columns and one without, and a volunteer seen only in a
later chunk."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from services.common.config import load
from services.common.db import Database
from services.common.testing import create_migrated_database, drop_database
from services.hours import rollups
from services.hours.models import ROLLUP_TABLE, Presence

pytestmark = pytest.mark.integration

TOWNSHIPS = ("610113005", "610113006", "610103002", "610402001", "620102001")
FIELDS = ("elderly_care", "minors", "environment", "not_a_rollup_field")
MONTHS = ("2024-11", "2024-12", "2025-01", "2025-02", "2025-03")


@pytest.fixture
def twins(migrated: dict[str, str]) -> Iterator[tuple[Database, Database]]:
    svc = load().service("hours")
    urls = [create_migrated_database(svc, "zy_rollsql") for _ in range(2)]
    dbs = [
        Database(dataclasses.replace(svc, database_url=u, database_pool_size=1))
        for u in urls
    ]
    try:
        yield dbs[0], dbs[1]
    finally:
        for db in dbs:
            db.dispose()
        for u in urls:
            drop_database(u)


def records(rng: random.Random, n: int) -> list[dict[str, Any]]:
    people = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(9)]
    homes = {v: rng.choice(TOWNSHIPS) for v in people}
    out = []
    for i in range(n):
        v = people[min(int(rng.expovariate(0.4)), len(people) - 1)]
        # Two in three records at home, the rest anywhere.
        code = homes[v] if rng.random() < 0.66 else rng.choice(TOWNSHIPS)
        out.append({
            "volunteer_id": v, "division_code": code,
            "service_field": rng.choice(FIELDS),
            "hours": Decimal(rng.randint(1, 40)) / 4, "month": rng.choice(MONTHS),
            "n": i,
        })  # fmt: skip
    return out


def state(db: Database) -> tuple[list[Any], list[Any]]:
    with db._factory() as s:  # as the owner: every tenant's cells
        cells = sorted(tuple(r) for r in s.execute(select(ROLLUP_TABLE)).tuples())
        presence = sorted(
            (p.volunteer_id, p.division_code, p.month, p.service_field, p.records)
            for p in s.execute(select(Presence)).scalars()
        )
    return cells, presence


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_import_rollups_equal_the_one_by_one_path(
    twins: tuple[Database, Database], seed: int
) -> None:
    python_db, sql_db = twins
    rng = random.Random(seed)
    rows = records(rng, 400)
    chunks, at = [], 0
    while at < len(rows):
        size = rng.choice((1, 3, 17, 60, 120))
        chunks.append(rows[at : at + size])
        at += size
    for chunk in chunks:
        with python_db._factory() as s, s.begin():
            rollups.apply_approved(s, chunk)
        with sql_db._factory() as s, s.begin():
            rollups.lock_all(s)
            before = rollups.present(s, sorted({r["volunteer_id"] for r in chunk}))
            touched = rollups.apply_imported(
                s,
                [(r["volunteer_id"], r["division_code"], r["month"],
                  r["service_field"], r["hours"]) for r in chunk],
                before,
            )  # fmt: skip
        assert touched == len(
            {(r["volunteer_id"], r["division_code"], r["month"], r["service_field"])
             for r in chunk}
        )  # fmt: skip
    expected, got = state(python_db), state(sql_db)
    assert expected[0], "the Python path wrote no rollup cell"
    assert any(c[5] > 0 for c in expected[0])  # distinct volunteers counted
    assert got[1] == expected[1]  # presence rows
    assert got[0] == expected[0]  # every cell, every metric
