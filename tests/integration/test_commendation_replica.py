"""Commendation's volunteer replica is one upsert: a volunteer registered and
verified at once (two queues, two workers) never collides on the primary key,
and an older event never overwrites a newer one, on PostgreSQL and on the
embedded SQLite."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.commendation.application import CommendationApp
from services.commendation.models import Volunteer
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_database, drop_database

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _db(url: str) -> Database:
    svc = dataclasses.replace(
        load().service("commendation"), database_url=url, database_pool_size=4
    )
    upgrade(svc)
    return Database(svc)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def db(request, tmp_path_factory) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "commendation.db"
        database = _db(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    url = create_database("zy_replica")
    database = _db(url)
    yield database
    database.dispose()
    drop_database(url)


def volunteer(ident: str, status: str, at: datetime) -> Volunteer:
    return Volunteer(
        id=ident,
        volunteer_number="ZY610000040001",
        division_code="610113003",
        status=status,
        changed_at=at,
    )


def replica(db: Database, ident: str) -> Volunteer:
    with db.session(Scope("610113003")) as s:
        return s.execute(select(Volunteer).where(Volunteer.id == ident)).scalar_one()


def test_registered_and_verified_at_once_both_apply(db):
    cases = CommendationApp(db).stars
    failures: list[BaseException] = []
    for _ in range(5):
        ident = str(uuid.uuid4())
        start = threading.Barrier(2)

        def apply(
            status: str,
            at: datetime,
            ident: str = ident,
            start: threading.Barrier = start,
        ) -> None:
            start.wait()
            try:
                cases.replicate_volunteer(
                    "commendation.volunteers",
                    str(uuid.uuid4()),
                    volunteer(ident, status, at),
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [
            threading.Thread(target=apply, args=("pending", T0)),
            threading.Thread(target=apply, args=("verified", T0 + timedelta(1))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not failures, failures
        assert replica(db, ident).status == "verified"


def test_an_older_event_does_not_overwrite_a_newer_one(db):
    cases = CommendationApp(db).stars
    ident = str(uuid.uuid4())
    newer = volunteer(ident, "verified", T0 + timedelta(hours=1))
    older = volunteer(ident, "pending", T0)
    assert cases.replicate_volunteer("commendation.volunteers", "e1", newer)
    assert cases.replicate_volunteer("commendation.volunteers", "e2", older)
    assert replica(db, ident).status == "verified"
    later = volunteer(ident, "rejected", T0 + timedelta(hours=2))
    later.division_code = "610113001"
    assert cases.replicate_volunteer("commendation.volunteers", "e3", later)
    with db.session(Scope("610113")) as s:
        row = s.execute(select(Volunteer).where(Volunteer.id == ident)).scalar_one()
    assert (row.status, row.division_code) == ("rejected", "610113001")
    # The same event again changes nothing (claimed).
    assert not cases.replicate_volunteer("commendation.volunteers", "e3", later)


def _news(ident: str, home: str, year: int, delta: str, total: str, at: datetime):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from services.commendation.usecases.ratings import HoursNews

    return HoursNews(
        volunteer_id=ident,
        volunteer_number="ZY610000050001",
        division_code=home,
        year=year,
        delta_hours=Decimal(delta),
        total_hours=Decimal(total),
        occurred_at=at,
    )


def _stars_state(db: Database, idents: list[str]) -> list[tuple]:  # type: ignore[type-arg]
    from services.commendation.models import ServiceYear, StarRating, StarRequest

    with db.session(Scope("61")) as s:
        ratings = s.execute(
            select(
                StarRating.volunteer_id, StarRating.total_hours,
                StarRating.eligible_stars, StarRating.continuous_years,
            ).where(StarRating.volunteer_id.in_(idents))
        ).all()  # fmt: skip
        years = s.execute(
            select(ServiceYear.volunteer_id, ServiceYear.year, ServiceYear.hours).where(
                ServiceYear.volunteer_id.in_(idents)
            )
        ).all()
        requests = s.execute(
            select(StarRequest.volunteer_id, StarRequest.stars, StarRequest.status)
            .where(StarRequest.volunteer_id.in_(idents))
        ).all()  # fmt: skip
    key = {ident: i for i, ident in enumerate(idents)}
    return sorted(
        [(key[r[0]], "rating", *r[1:]) for r in ratings]
        + [(key[y[0]], "year", *y[1:]) for y in years]
        + [(key[q[0]], "request", *q[1:]) for q in requests]
    )


def test_a_batch_of_hours_events_equals_them_one_at_a_time(db):
    """follow_hours_batch (the star worker's batch) gives what follow_hours
    gives one event at a time: totals, years, tiers, requests; a repeated
    event is applied once."""
    cases = CommendationApp(db).stars

    def events(idents: list[str]) -> list[tuple[str, Any]]:
        homes = ["610113003", "610116001", "610113003"]
        out, total = [], {i: 0 for i in idents}
        for n in range(12):
            ident = idents[n % 3]
            delta = 40 + 7 * n
            total[ident] += delta
            news = _news(ident, homes[n % 3], 2024 + n % 2, str(delta),
                         str(total[ident]), T0 + timedelta(minutes=n))  # fmt: skip
            out.append((str(uuid.uuid5(uuid.NAMESPACE_OID, f"{ident}-{n}")), news))
        return [*out, out[4]]  # one event delivered twice

    def registered(idents: list[str]) -> None:  # each one's home: homes[n % 3]
        homes = ["610113003", "610116001", "610113003"]
        for ident, home in zip(idents, homes, strict=True):
            v = volunteer(ident, "verified", T0)
            v.division_code = home
            assert cases.replicate_volunteer("t.volunteers", str(uuid.uuid4()), v)

    one = [str(uuid.uuid4()) for _ in range(3)]
    registered(one)
    single = [cases.follow_hours("t.stars", e, n) for e, n in events(one)]
    batched = [str(uuid.uuid4()) for _ in range(3)]
    registered(batched)
    answers = cases.follow_hours_batch("t.stars", events(batched))
    assert answers == single == [True] * 12 + [False]
    assert _stars_state(db, batched) == _stars_state(db, one)
    assert any(row[1] == "request" for row in _stars_state(db, one))
