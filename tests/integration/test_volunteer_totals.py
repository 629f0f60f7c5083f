"""Each volunteer's platform total kept at write time (hours revision 0010,
``hours_volunteer_totals``) always equals the sum it replaced: the
effective hours (corrections included) of the volunteer's approved records,
after every path that changes them (approval, rejection, amendment,
reversal, a merge and its revert, the bulk import, a delete), and after the
migration fills it from a database that already holds history."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours import bulk
from services.hours.application import HoursApp
from services.hours.domain import Interval
from services.hours.usecases.merges import Merge
from services.hours.usecases.records import Draft

pytestmark = pytest.mark.integration
HOME, AWAY = "610122001", "610302001"  # Lantian (Xi'an), Baoji
ADMIN = Principal("t", "reviewer-61", "61", frozenset({"province_admin"}), 2**40)
SUMMED = (
    "SELECT r.volunteer_id, sum(r.hours + coalesce((SELECT sum(c.delta_hours)"
    " FROM hour_corrections c WHERE c.record_id = r.id), 0))"
    " FROM hour_records r WHERE r.status = 'approved' GROUP BY 1"
)


@pytest.fixture
def app(migrated: dict[str, str]) -> Iterator[HoursApp]:
    """A fresh hours database at head: nothing of other tests in it."""
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_totals")
    db = Database(dataclasses.replace(svc, database_url=url, database_pool_size=2))
    try:
        yield HoursApp(db)
    finally:
        db.dispose()
        drop_database(url)


def kept_and_summed(db: Database) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The kept totals and the sums over the records (zeros dropped: a
    volunteer whose hours all went keeps a row of 0)."""
    with db._factory() as s:
        kept = dict(
            s.execute(text("SELECT volunteer_id, hours FROM hours_volunteer_totals"))
            .tuples()
            .all()
        )
        summed = dict(s.execute(text(SUMMED)).tuples().all())
    return (
        {v: Decimal(h) for v, h in kept.items() if h != 0},
        {v: Decimal(h) for v, h in summed.items() if h != 0},
    )


def pending(app: HoursApp, volunteer: str, code: str, at: datetime) -> str:
    end = at + timedelta(minutes=90)
    record = app.records.ingest(
        "hours.attendance",
        str(uuid.uuid4()),
        Draft(
            source="attendance", source_id=str(uuid.uuid4()), volunteer_id=volunteer,
            volunteer_number="ZY" + volunteer[:12].replace("-", "0"),
            division_code=code, organisation_id="org-1", organisation_name="协会",
            service_field="elderly_care", activity_kind="service", content="陪伴",
            started_at=at, ended_at=end, interval=Interval(at, end),
            recorded_by="test", event_id=None,
        ),
    )  # fmt: skip
    assert record is not None
    return str(record.id)


def test_every_path_keeps_the_total_equal_to_the_sum(app: HoursApp) -> None:
    db = app.ctx.db
    rng = random.Random(20261206)
    people = [str(uuid.uuid4()) for _ in range(4)]
    approved: dict[str, Decimal] = {}  # record → the hours it counts
    day = datetime(2026, 1, 1, 1, tzinfo=UTC)
    steps = []
    for step in range(60):  # a random walk over the paths that move hours
        day += timedelta(hours=5)
        who = rng.choice(people)
        kind = rng.choice(("approve", "approve", "reject", "amend", "reverse"))
        lower = [r for r, h in approved.items() if h > Decimal("0.25")]
        if kind == "amend" and lower:
            rid = rng.choice(lower)
            wanted = approved[rid] - Decimal("0.25")
            app.review.correct(ADMIN, rid, float(wanted), False, "核减")
            approved[rid] = wanted
        elif kind == "reverse" and approved:
            rid = rng.choice(sorted(approved))
            app.review.correct(ADMIN, rid, None, True, "撤销")
            del approved[rid]
        else:
            rid = pending(app, who, rng.choice((HOME, AWAY)), day)
            if kind == "reject":
                app.review.reject(ADMIN, rid, "不符")
            else:
                kind = "approve"
                approved[rid] = app.review.approve(ADMIN, rid)[1]
        steps.append(kind)
        kept, summed = kept_and_summed(db)
        assert kept == summed, (step, kind)
    assert {"approve", "reject", "amend", "reverse"} <= set(steps)
    assert summed  # hours were counted
    # A merge moves the merged volunteer's hours to the survivor; the
    # revert moves them back.
    survivor, merged = people[0], people[1]
    before = kept_and_summed(db)[0]
    m = Merge(str(uuid.uuid4()), HOME, survivor, "ZYS", merged, "ZYM")
    assert app.merges.follow("hours.merge", str(uuid.uuid4()), m, False)
    kept, summed = kept_and_summed(db)
    assert kept == summed and merged not in kept
    both = before.get(survivor, Decimal(0)) + before.get(merged, Decimal(0))
    assert kept[survivor] == both
    assert app.merges.follow("hours.unmerge", str(uuid.uuid4()), m, True)
    assert kept_and_summed(db)[0] == before
    # The bulk import (COPY) counts its rows; a delete takes them away.
    directory = {"ZY610122000001": (people[2], "verified")}
    report = bulk.import_rows(
        db, Scope("610122"), [{
            "volunteer_number": "ZY610122000001", "division_code": HOME,
            "organisation_name": "协会", "service_field": "elderly_care",
            "content": "陪伴", "session_start": "2025-05-01 08:00",
            "session_end": "2025-05-01 11:00", "hours": "3",
        }],
        source="totals", volunteers=lambda _, ns: {n: directory[n] for n in ns},
    )  # fmt: skip
    assert report.imported == 1
    kept, summed = kept_and_summed(db)
    assert kept == summed
    assert kept[people[2]] == before.get(people[2], Decimal(0)) + 3
    with db._factory() as s, s.begin():
        gone = s.execute(
            text("DELETE FROM hour_records r WHERE r.volunteer_id = :v AND NOT"
                 " EXISTS (SELECT 1 FROM hour_corrections c WHERE c.record_id = r.id)"
                 " AND r.status = 'approved' RETURNING r.id"),
            {"v": people[3]},
        ).all()  # fmt: skip
    assert gone
    kept, summed = kept_and_summed(db)
    assert kept == summed


def test_the_migration_fills_the_totals_from_the_history(
    migrated: dict[str, str],
) -> None:
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_totals_mig", revision="0009")
    one = dataclasses.replace(svc, database_url=url, database_pool_size=1)
    engine = create_engine(url)
    try:
        db = Database(one)
        app = HoursApp(db)
        people = [str(uuid.uuid4()) for _ in range(3)]
        at = datetime(2026, 2, 1, 1, tzinfo=UTC)
        for i, who in enumerate(people * 3):
            rid = pending(app, who, HOME, at + timedelta(hours=3 * i))
            if i % 4:  # 0, 4 and 8 stay pending, one of each volunteer
                app.review.approve(ADMIN, rid)
                if i % 4 == 1:
                    app.review.correct(ADMIN, rid, 1.0, False, "核减")
        db.dispose()
        with engine.connect() as conn:
            summed = dict(conn.execute(text(SUMMED)).tuples().all())
        assert len(summed) == 3 and all(h > 0 for h in summed.values())
        upgrade(one)
        with engine.connect() as conn:
            kept = dict(
                conn.execute(text("SELECT * FROM hours_volunteer_totals"))
                .tuples()
                .all()
            )
            via = {
                v: conn.execute(
                    text("SELECT hours_volunteer_total(:v)"), {"v": v}
                ).scalar_one()
                for v in people
            }
        assert kept == summed
        assert via == summed
    finally:
        engine.dispose()
        drop_database(url)
