"""``RecordCases.ingest_batch`` against ``ingest`` one event at a time: the
same input on two fresh hours databases gives the same records, refusals,
claimed events, and (once every pending record is approved in the same
order) the same rollups, presence rows and outbox events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.testing import create_migrated_database, drop_database
from services.hours.application import HoursApp
from services.hours.domain import Interval
from services.hours.models import (
    OUTBOX,
    PROCESSED,
    ROLLUP_TABLE,
    HourRecord,
    Presence,
)
from services.hours.usecases.records import BATCH_MAX, Draft

pytestmark = pytest.mark.integration

CONSUMER = "hours.attendance"
YANTA, BEILIN, WEIBIN = "610113005", "610103002", "610302001"  # Xi'an ×2, Baoji
ADMIN = Principal("t", "reviewer-61", "61", frozenset({"province_admin"}), 2**40)
SETTINGS_EVENT = str(uuid.uuid4())  # the same in both databases
# Columns that differ between the databases (fresh uuid4, the clock).
VOLATILE = {"id", "recorded_at", "reviewed_at"}


@pytest.fixture
def twins(env: dict[str, str]) -> Iterator[tuple[Database, Database]]:
    """Two migrated hours databases: one-at-a-time and batch."""
    svc = load().service("hours")
    urls: list[str] = []
    dbs: list[Database] = []
    try:
        for _ in range(2):
            urls.append(create_migrated_database(svc, "zy_hbatch"))
            one = type(svc)(**{**svc.__dict__, "database_url": urls[-1]})
            dbs.append(Database(one))
        yield dbs[0], dbs[1]
    finally:
        for db in dbs:
            db.dispose()
        for url in urls:
            drop_database(url)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC moment in March 2026 (China time is +8: all on that China day)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def draft(
    volunteer: str,
    code: str,
    start: datetime,
    minutes: int,
    *,
    kind: str = "service",
    field: str = "elderly_care",
    source_id: str = "",
    clipped: bool = False,
) -> Draft:
    end = start + timedelta(minutes=minutes)
    return Draft(
        source="attendance",
        source_id=source_id or str(uuid.uuid4()),
        volunteer_id=volunteer,
        volunteer_number="ZY610000099001",
        division_code=code,
        organisation_id="org-1",
        organisation_name="雁塔区志愿者协会",
        service_field=field,
        activity_kind=kind,
        content="敬老院陪伴",
        started_at=start,
        ended_at=end,
        interval=None if clipped else Interval(start, end),
        recorded_by="activity:leader",
        event_id=None,
    )


def events() -> list[tuple[str, Draft]]:
    """Accepted records and every refusal the worker stores, in one order."""
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    first = draft(a, YANTA, at(2, 1), 125)
    again = str(uuid.uuid4())
    items = [
        (str(uuid.uuid4()), first),
        (str(uuid.uuid4()), draft(a, YANTA, at(2, 2), 60)),  # overlaps first
        (str(uuid.uuid4()), draft(a, YANTA, at(2, 3, 5), 30)),  # touches: fine
        (str(uuid.uuid4()), draft(b, BEILIN, at(3, 0), 8 * 60, field="minors")),
        (str(uuid.uuid4()), draft(b, BEILIN, at(3, 8), 6 * 60, field="minors")),
        (str(uuid.uuid4()), draft(b, BEILIN, at(3, 14), 30)),  # over the cap
        (str(uuid.uuid4()), draft(c, WEIBIN, at(4, 1), 100, kind="donation")),
        (str(uuid.uuid4()), draft(c, WEIBIN, at(4, 3), 50, clipped=True)),
        (again, draft(c, WEIBIN, at(5, 1), 47)),  # half-hour policy at 6103
        (again, draft(c, WEIBIN, at(6, 1), 47)),  # the same event redelivered
        (str(uuid.uuid4()), first),  # the same check-out in a new event
        (str(uuid.uuid4()), draft(a, BEILIN, at(20, 1), 200, field="legal_aid")),
        # 20:00 UTC on 31 March is 1 April in China: April's rollups.
        (str(uuid.uuid4()), draft(c, YANTA, at(31, 20), 90)),
    ]
    # A busier month for one volunteer, across both townships.
    for day in range(7, 19):
        code = YANTA if day % 2 else BEILIN
        items.append((str(uuid.uuid4()), draft(a, code, at(day, 2), 30 + day * 7)))
    return items


def half_hour_at_baoji(app: HoursApp) -> None:
    app.policy.replicate(
        "hours.settings",
        SETTINGS_EVENT,
        "6103",
        {"hours.rounding": '"half_hour"'},
        datetime(2026, 1, 1, tzinfo=UTC),
    )


def shape(record: HourRecord | None) -> Any:
    if record is None:
        return None
    return (record.source_id, record.status, record.status_reason, record.hours)


def snapshot(db: Database) -> dict[str, Any]:
    """Everything ingesting and approving wrote, without per-run ids."""
    with db.session(ADMIN.scope) as s:
        records = s.execute(select(HourRecord).order_by(HourRecord.source_id))
        ids = {}
        rows = []
        for r in records.scalars():
            ids[r.id] = r.source_id
            rows.append(
                {
                    c.name: getattr(r, c.key)
                    for c in HourRecord.__table__.columns
                    if c.name not in VOLATILE
                }
            )
        rollups = [dict(m) for m in s.execute(select(ROLLUP_TABLE)).mappings()]
        presence = s.execute(
            select(
                Presence.division_code,
                Presence.month,
                Presence.service_field,
                Presence.volunteer_id,
                Presence.records,
            )
        ).all()
    with db.session(None) as s:
        processed = set(
            s.execute(select(PROCESSED.c.consumer, PROCESSED.c.event_id)).all()
        )
        outbox = []
        for row in s.execute(select(OUTBOX).order_by(OUTBOX.c.seq)).mappings():
            data = dict(row["payload"]["data"])
            data["record_id"] = ids[data["record_id"]]
            outbox.append((row["event_type"], row["division_code"], data))
    key = lambda m: (m["level"], m["division_code"], m["period"])  # noqa: E731
    return {
        "records": rows,
        "rollups": sorted(rollups, key=key),
        "presence": sorted(presence),
        "processed": processed,
        "outbox": outbox,
    }


def approve_all(app: HoursApp, db: Database) -> None:
    with db.session(ADMIN.scope) as s:
        pending = s.execute(
            select(HourRecord.id)
            .where(HourRecord.status == "pending")
            .order_by(HourRecord.source_id)
        ).scalars()
        ids = list(pending)
    for ident in ids:
        app.review.approve(ADMIN, ident)


# Six: the redelivery and the repeated check-out land in later batches than
# their first; all in one: every earlier record is the batch's own.
@pytest.mark.parametrize("size", [6, BATCH_MAX])
def test_a_batch_gives_what_one_at_a_time_gives(twins, size):
    single_db, batch_db = twins
    items = events()
    single, batch = HoursApp(single_db), HoursApp(batch_db)
    half_hour_at_baoji(single)
    half_hour_at_baoji(batch)

    one_by_one = [single.records.ingest(CONSUMER, e, d) for e, d in items]
    batched: list[HourRecord | None] = []
    for i in range(0, len(items), size):
        batched += batch.records.ingest_batch(CONSUMER, items[i : i + size])

    assert [shape(r) for r in batched] == [shape(r) for r in one_by_one]
    reasons = [r.status_reason for r in one_by_one if r and r.status == "rejected"]
    assert sorted(reasons) == [
        "daily_cap",
        "excluded_kind",
        "no_service_time",
        "overlap",
    ]
    assert [i for i, r in enumerate(one_by_one) if r is None] == [9, 10]
    capped = one_by_one[4]
    assert capped is not None and capped.hours == Decimal("4.00")
    assert one_by_one[8] is not None and one_by_one[8].hours == Decimal("1.00")

    before = snapshot(single_db)
    assert before == snapshot(batch_db)
    assert before["outbox"] == [] and before["rollups"] == []  # none while pending

    approve_all(single, single_db)
    approve_all(batch, batch_db)
    after = snapshot(single_db)
    assert after == snapshot(batch_db)
    assert len(after["outbox"]) == sum(
        1 for r in after["records"] if r["status"] == "approved"
    )
    province = [
        m for m in after["rollups"] if m["division_code"] == "61" and m["level"] == 2
    ]
    months = [m for m in province if len(m["period"]) == 7]
    assert sum(m["volunteers"] for m in months) == 4  # a, b, c (c: two months)


def test_a_failing_batch_writes_nothing(twins):
    db = twins[0]
    app = HoursApp(db)
    good = (str(uuid.uuid4()), draft("v-1", YANTA, at(2, 1), 60))
    bad = (str(uuid.uuid4()), draft("v-2", YANTA, at(2, 1), 60, source_id="x" * 65))
    with pytest.raises(Exception):  # noqa: B017,PT011 - the database's own error
        app.records.ingest_batch(CONSUMER, [good, bad])
    assert snapshot(db)["records"] == [] and snapshot(db)["processed"] == set()
    [record] = app.records.ingest_batch(CONSUMER, [good])
    assert record is not None and record.status == "pending"


def test_batch_limits_are_checked_before_any_work():
    cases = HoursApp(db=None).records  # type: ignore[arg-type] - never reached
    assert cases.ingest_batch(CONSUMER, []) == []
    mixed = [
        (str(uuid.uuid4()), draft("v", YANTA, at(2, 1), 60)),
        (str(uuid.uuid4()), draft("v", "620102001", at(3, 1), 60)),
    ]
    with pytest.raises(ValueError, match="one province"):
        cases.ingest_batch(CONSUMER, mixed)
    many = [(str(uuid.uuid4()), mixed[0][1])] * (BATCH_MAX + 1)
    with pytest.raises(ValueError, match="at most"):
        cases.ingest_batch(CONSUMER, many)


def test_a_neighbours_record_of_the_same_source_is_not_seen(twins):
    """The source check looks only inside the draft's own division: a
    record of another township with the same source id neither hides the
    new one nor is read; the batch answers as one at a time does."""
    single_db, batch_db = twins
    single, batch = HoursApp(single_db), HoursApp(batch_db)
    source = str(uuid.uuid4())
    beilin = (str(uuid.uuid4()), draft("v-n", BEILIN, at(2, 1), 60, source_id=source))
    yanta = (str(uuid.uuid4()), draft("v-y", YANTA, at(2, 1), 60, source_id=source))
    one_by_one = [single.records.ingest(CONSUMER, e, d) for e, d in (beilin, yanta)]
    # One batch (scope 6101): the batch sees Beilin's record, Yanta's draft
    # must not.
    batched = batch.records.ingest_batch(CONSUMER, [beilin, yanta])
    assert [shape(r) for r in batched] == [shape(r) for r in one_by_one]
    assert [r is not None and r.status for r in batched] == ["pending", "pending"]
    assert snapshot(single_db)["records"] == snapshot(batch_db)["records"]
