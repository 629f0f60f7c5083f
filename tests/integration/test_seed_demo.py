"""``zhiyuan seed`` at a small size, on databases and a vhost of its own (so
no other test's facts mix in): the living province arrives through the real
paths (bulk imports, the workers the seed runs for the duration, the review
use cases), so the rollups show approved hours and stars at every level; a
second run adds nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from services.common.config import Config, load
from services.common.testing import (
    create_migrated_database,
    create_vhost,
    delete_vhost,
    drop_database,
    platform_env,
)
from services.seed import province, stars
from services.seed.driver import seed

pytestmark = pytest.mark.integration
SERVICES = ("registration", "activity", "hours", "recycling", "commendation")
# 20 registered one by one, 60 imported: one per star tier, the rest now and then
VOLUNTEERS = 80
# Tables a second run may legitimately touch: relays mark events sent and
# purge them; claims are the workers' own.
BOOKKEEPING = {"outbox", "processed_events", "alembic_version"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, dict]]:
    urls = {
        name: create_migrated_database(load().service(name), f"zy_test_seed_{name[:4]}")
        for name in SERVICES
    }
    vhost = create_vhost()
    values = platform_env(tmp_path_factory.mktemp("seed"), urls, vhost)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        cfg = load()
        seed(cfg, "61", volunteers=VOLUNTEERS, handmade=20)
        yield cfg, urls
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        delete_vhost(vhost)
        for url in urls.values():
            drop_database(url)


def rows(url: str, sql: str, **params: Any) -> list[Any]:
    """As the database owner: the facts as they are, no row security."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def counts(urls: dict[str, str]) -> dict[str, int]:
    """Rows of every domain table of every service."""
    out = {}
    for name, url in urls.items():
        tables = rows(
            url,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT LIKE '%_rollup%'",
        )
        for (table,) in tables:
            if table not in BOOKKEEPING:
                out[f"{name}.{table}"] = rows(url, f'SELECT count(*) FROM "{table}"')[
                    0
                ][0]
    return out


def test_imported_hours_are_approved_and_rolled_up(demo) -> None:  # type: ignore[no-untyped-def]
    _, urls = demo
    imported = rows(
        urls["hours"],
        "SELECT count(*), count(DISTINCT division_code), count(DISTINCT service_field),"
        " min(service_day), max(service_day), sum(hours) FROM hour_records"
        " WHERE recorded_by = :actor AND status = 'approved'",
        actor=province.ACTOR,
    )[0]
    n, places, fields, first, last, total = imported
    assert n > 1000 and places > 10 and fields >= 5
    assert (last - first).days >= 365
    rolled = rows(
        urls["hours"],
        "SELECT hours FROM hours_rollup WHERE division_code = '61' AND period = 'all'",
    )
    assert rolled and float(rolled[0][0]) >= float(total)


def test_stars_at_every_level_rated_by_the_worker_and_approved(demo) -> None:  # type: ignore[no-untyped-def]
    _, urls = demo
    ratings = rows(urls["commendation"], "SELECT eligible_stars FROM star_ratings")
    eligible = {s for (s,) in ratings}
    assert {1, 2, 3, 4, 5} <= eligible
    pending = rows(
        urls["commendation"], "SELECT id FROM star_requests WHERE status = 'pending'"
    )
    assert all(not stars._chosen(i) for (i,) in pending)
    approved = rows(
        urls["commendation"],
        "SELECT count(*) FROM star_ratings WHERE stars > 0",
    )[0][0]
    assert approved >= 3
    rolled = rows(
        urls["commendation"],
        "SELECT stars_1 + stars_2 + stars_3 + stars_4 + stars_5"
        " FROM commendation_rollup WHERE division_code = '61' AND period = 'all'",
    )
    assert rolled == [(approved,)]


def test_service_positions_of_every_kind_are_seeded_and_counted(demo) -> None:  # type: ignore[no-untyped-def]
    _, urls = demo
    kinds = dict(
        rows(urls["registration"], "SELECT kind, count(*) FROM positions GROUP BY 1")
    )
    assert set(kinds) == {"guidance_centre", "street_centre", "station", "base"}
    assert kinds["station"] > kinds["street_centre"] >= kinds["guidance_centre"]
    levels = rows(
        urls["registration"],
        "SELECT DISTINCT base_level FROM positions WHERE kind = 'base'",
    )
    assert {lv for (lv,) in levels} == {"district", "city", "province", "national"}
    rolled = rows(
        urls["registration"],
        "SELECT positions_guidance_centre, positions_street_centre,"
        " positions_station, positions_base FROM registration_position_rollup"
        " WHERE level = 2 AND division_code = '61' AND period = 'all'",
    )
    assert rolled == [
        tuple(
            float(kinds[k])
            for k in ("guidance_centre", "street_centre", "station", "base")
        )
    ]


def test_the_winter_campaign_is_seeded_with_tagged_facts(demo) -> None:  # type: ignore[no-untyped-def]
    _, urls = demo
    ((cid, code, groups),) = rows(
        urls["activity"],
        "SELECT id, division_code, target_groups::text FROM campaigns"
        " WHERE title = '寒冬送温暖'",
    )
    assert code == "61" and "dibao" in groups
    tagged = rows(
        urls["activity"],
        "SELECT (SELECT count(*) FROM projects WHERE campaign_id = :c),"
        " (SELECT count(*) FROM visits WHERE campaign_id = :c)",
        c=cid,
    )
    assert tagged[0][0] >= 1 and tagged[0][1] >= 1
    pickups = rows(
        urls["recycling"],
        "SELECT (SELECT count(*) FROM bookings WHERE campaign_id = :c"
        " AND status = 'collected'),"
        " (SELECT count(*) FROM drives WHERE campaign_id = :c)",
        c=cid,
    )
    assert pickups == [(3, 1)]


def test_a_second_run_adds_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    cfg, urls = demo
    before = counts(urls)
    seed(cfg, "61", volunteers=VOLUNTEERS, handmade=20)
    assert counts(urls) == before
