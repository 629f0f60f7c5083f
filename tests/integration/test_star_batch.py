"""The star worker's set-wise batch (``StarCases.follow_hours_batch`` on
PostgreSQL) leaves exactly what applying the same events one at a time
leaves: ratings, year hours, requests opened, superseded and withdrawn,
stars lowered by corrections, refusals respected, tenant thresholds, outbox
events and rollups; redelivered events change nothing; a batch that fails
writes nothing."""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from services.commendation.application import CommendationApp
from services.commendation.usecases.ratings import HoursNews
from services.commendation.usecases.stars import StarCases
from services.common.config import load
from services.common.db import Database
from services.common.errors import InvalidArgument, Unavailable
from services.common.migrations import upgrade
from services.common.testing import create_database, drop_database

pytestmark = pytest.mark.integration
CONSUMER = "commendation.hours"
T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
# Two provinces, a county with its own thresholds, a township without one.
HOMES = ["610113001", "610113002", "610122001", "620102001", "620102003"]
OWN_RULES = "610122"  # thresholds 10/20/30/40/50 h, 1-5 stars at the county


@dataclasses.dataclass
class Side:
    url: str
    db: Database
    cases: StarCases

    def sql(self, statement: str, **params: Any) -> list[Any]:
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                got = conn.execute(text(statement), params)
                return list(got.all()) if got.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture
def sides() -> Iterator[tuple[Side, Side]]:
    made = []
    try:
        for prefix in ("zy_sbatch", "zy_sone"):
            url = create_database(prefix)
            svc = dataclasses.replace(
                load().service("commendation"), database_url=url, database_pool_size=2
            )
            upgrade(svc)
            db = Database(svc)
            made.append(Side(url, db, CommendationApp(db, clock=lambda: NOW).stars))
        yield made[0], made[1]
    finally:
        for side in made:
            side.db.dispose()
            drop_database(side.url)


def seed(side: Side, replica: dict[str, str]) -> None:
    for vid, home in replica.items():
        side.sql(
            "INSERT INTO volunteers VALUES (:v, :n, :d, 'verified', :at)",
            v=vid, n=number(vid), d=home, at=T0 - timedelta(days=400),
        )  # fmt: skip
    rules = {"stars.thresholds_hours": json.dumps([10, 20, 30, 40, 50])}
    rules["stars.approval_level"] = json.dumps({str(n): "county" for n in range(1, 6)})
    side.sql(
        "INSERT INTO policy_overrides VALUES (:c, CAST(:o AS json), :at)",
        c=OWN_RULES, o=json.dumps(rules), at=T0 - timedelta(days=1),
    )  # fmt: skip


def number(vid: str) -> str:
    return "ZY" + str(uuid.UUID(vid).int)[:12]


def news(vid: str, where: str, at: datetime, delta: str, total: str) -> HoursNews:
    return HoursNews(
        volunteer_id=vid, volunteer_number=number(vid), division_code=where,
        year=at.year, delta_hours=Decimal(delta), total_hours=Decimal(total),
        occurred_at=at,
    )  # fmt: skip


def wave(
    rng: random.Random, vids: list[str], home: dict[str, str],
    totals: dict[str, Decimal], start: datetime, corrections: bool,
    steps: tuple[int, ...],
) -> list[tuple[str, HoursNews]]:  # fmt: skip
    """Four events per volunteer in shuffled rounds; with ``corrections``
    some lower the total (a correction) and some arrive late (older)."""
    out = []
    at = start
    for _ in range(4):
        order = list(vids)
        rng.shuffle(order)
        for vid in order:
            at += timedelta(minutes=1)
            delta = Decimal(rng.choice(steps)) / Decimal(rng.choice([1, 4]))
            if corrections and rng.random() < 0.3:
                delta = -min(Decimal(rng.choice([100, 300, 600])), totals[vid])
            totals[vid] += delta
            when = at - timedelta(days=30) if rng.random() < 0.1 else at
            event = news(vid, home[vid], when, str(delta), str(totals[vid]))
            out.append((str(uuid.uuid4()), event))
    return out


def state(side: Side) -> dict[str, Any]:
    def rows(statement: str) -> Counter[tuple[Any, ...]]:
        return Counter(tuple(r) for r in side.sql(statement))

    return {
        "ratings": rows(
            "SELECT volunteer_id, volunteer_number, division_code, total_hours,"
            " total_as_of, stars, eligible_stars, continuous_years, updated_at"
            " FROM star_ratings"
        ),
        "years": rows("SELECT * FROM service_years"),
        "requests": rows(
            "SELECT volunteer_id, volunteer_number, division_code, stars,"
            " approval_level, approving_code, hours_at_request, status, reason,"
            " decided_by FROM star_requests"
        ),
        "changes": rows(
            "SELECT volunteer_id, division_code, from_stars, to_stars, kind, reason,"
            " actor FROM star_changes"
        ),
        "outbox": rows(
            "SELECT event_type, division_code, ((payload->'data')::jsonb"
            " - 'request_id')::text FROM outbox"
        ),
        "claims": rows("SELECT consumer, event_id FROM processed_events"),
        "rollup": rows(
            "SELECT division_code, period, stars_1, stars_2, stars_3, stars_4,"
            " stars_5 FROM commendation_rollup"
        ),
    }


def apply_both(
    batch: Side, one: Side, items: list[tuple[str, HoursNews]], size: int
) -> None:
    got = []
    for i in range(0, len(items), size):
        got += batch.cases.follow_hours_batch(CONSUMER, items[i : i + size])
    want = [one.cases.follow_hours(CONSUMER, e, n) for e, n in items]
    assert got == want


def review(side: Side, approve: list[str], refuse: list[str]) -> None:
    """A reviewer approves or refuses the volunteers' pending requests
    (the same decisions on both sides)."""
    for vid in approve:
        side.sql(
            "UPDATE star_ratings r SET stars = q.stars FROM star_requests q"
            " WHERE q.volunteer_id = r.volunteer_id AND q.status = 'pending'"
            " AND r.volunteer_id = :v",
            v=vid,
        )
        side.sql(
            "UPDATE star_requests SET status = 'approved', decided_by = 'r'"
            " WHERE volunteer_id = :v AND status = 'pending'",
            v=vid,
        )
    for vid in refuse:
        side.sql(
            "UPDATE star_requests SET status = 'rejected', decided_by = 'r'"
            " WHERE volunteer_id = :v AND status = 'pending'",
            v=vid,
        )


def test_a_batch_leaves_what_one_event_at_a_time_leaves(sides) -> None:  # type: ignore[no-untyped-def]
    batch, one = sides
    rng = random.Random(20260601)
    vids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(40)]
    home = {v: HOMES[i % len(HOMES)] for i, v in enumerate(vids)}
    for side in sides:
        seed(side, home)
    totals = {v: Decimal(0) for v in vids}

    first = wave(rng, vids, home, totals, T0, False, steps=(5, 40, 150, 300))
    first.insert(30, first[3])  # a redelivery inside a batch
    apply_both(batch, one, first, size=25)
    assert state(batch) == state(one)
    assert Counter(r[7] for r in state(one)["requests"].elements())["pending"] > 10

    pending = sorted({r[0] for r in state(one)["requests"] if r[7] == "pending"})
    for side in sides:
        review(side, approve=pending[::3], refuse=pending[1::3])
    # Smaller steps: refused volunteers gain hours within the refused tier.
    later = T0 + timedelta(days=40)
    second = wave(rng, vids, home, totals, later, True, steps=(1, 5, 40))
    second = first[:7] + second  # redelivered from the first wave
    apply_both(batch, one, second, size=50)
    after = state(one)
    assert state(batch) == after
    kinds = Counter(r[7] for r in after["requests"].elements())
    assert kinds["superseded"] and kinds["withdrawn"] and kinds["rejected"]
    assert any(r[4] == "lowered_by_correction" for r in after["changes"])
    assert len(after["claims"]) == len({e for e, _ in first + second})


def test_a_failed_batch_writes_nothing_and_its_events_pass_alone(sides) -> None:  # type: ignore[no-untyped-def]
    batch, _ = sides
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    seed(batch, {good: "610113001"})
    batch.sql(
        "INSERT INTO volunteers VALUES (:v, 'ZY1', '61011', 'verified', :at)",
        v=bad, at=T0,
    )  # fmt: skip
    items = [
        (str(uuid.uuid4()), news(good, "610113001", T0, "120", "120")),
        (str(uuid.uuid4()), news(bad, "610113001", T0, "120", "120")),
    ]
    with pytest.raises(InvalidArgument):
        batch.cases.follow_hours_batch(CONSUMER, items)
    assert state(batch)["claims"] == Counter()
    assert batch.cases.follow_hours_batch(CONSUMER, items[:1]) == [True]
    with pytest.raises(InvalidArgument):
        batch.cases.follow_hours_batch(CONSUMER, items[1:])
    assert len(state(batch)["claims"]) == 1


def test_an_event_before_its_volunteers_replica_waits_for_it(sides) -> None:  # type: ignore[no-untyped-def]
    """Hours that reach commendation before the volunteer's registration
    would be filed under the place of service, where the home's reads never
    see them: the batch fails with nothing written (Unavailable: retried),
    the others pass alone, and once the replica arrives the waiting event
    lands under the home."""
    batch, one = sides
    known, early = str(uuid.uuid4()), str(uuid.uuid4())
    seed(batch, {known: "610113001"})
    seed(one, {known: "610113001"})
    place, home = "610116001", "610113003"  # served in one county, lives in another
    items = [
        (str(uuid.uuid4()), news(known, "610113001", T0, "120", "120")),
        (str(uuid.uuid4()), news(early, place, T0, "120", "120")),
    ]
    with pytest.raises(Unavailable) as err:
        batch.cases.follow_hours_batch(CONSUMER, items)
    assert err.value.rule == "volunteer.replica"
    assert state(batch)["claims"] == Counter()
    assert state(batch)["ratings"] == Counter()
    assert batch.cases.follow_hours_batch(CONSUMER, items[:1]) == [True]
    for side in sides:  # alone, on both paths (set-wise and one at a time)
        with pytest.raises(Unavailable):
            side.cases.follow_hours_batch(CONSUMER, items[1:])
        with pytest.raises(Unavailable):
            side.cases.follow_hours(CONSUMER, *items[1])
    assert len(state(batch)["claims"]) == 1
    assert not batch.sql("SELECT 1 FROM star_ratings WHERE volunteer_id = :v", v=early)
    for side in sides:  # the registration arrives
        side.sql(
            "INSERT INTO volunteers VALUES (:v, :n, :d, 'verified', :at)",
            v=early, n=number(early), d=home, at=T0,
        )  # fmt: skip
    assert batch.cases.follow_hours_batch(CONSUMER, items[1:]) == [True]
    assert one.cases.follow_hours(CONSUMER, *items[1])
    for side in sides:
        got = side.sql(
            "SELECT division_code, total_hours FROM star_ratings"
            " WHERE volunteer_id = :v",
            v=early,
        )  # fmt: skip
        assert [tuple(r) for r in got] == [(home, Decimal("120.00"))]
