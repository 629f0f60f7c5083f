"""Bulk registration of volunteers (services/registration/bulk.py) and both
bulk imports through the HTTP routes: the same rows registered one at a time
and in bulk give the same volunteers (numbers aside), rollups and events (a
``registration.volunteers.imported`` part read as the per-volunteer events
it stands for), and, delivered to every consumer (registration's feed,
activity's and commendation's replicas) twice, the same effects, once; an
import of a checked roll (``verified``) gives what registering and verifying
one at a time gives; a second import registers nobody twice; every bad
field is reported; a bare CR, full-width digits, a BOM and trailing blanks
are read or reported per row, never a 500; a neighbouring county can
neither import into nor read another's volunteers."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services.activity import replica as activity_replica
from services.activity.models import VolunteerReplica
from services.commendation import replica as commendation_replica
from services.commendation.application import CommendationApp
from services.commendation.events import volunteer as volunteer_news
from services.commendation.models import Volunteer as CommendationVolunteer
from services.common import volunteer_events
from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.divisions import name_of
from services.common.keys import pii_cipher
from services.common.outbox import Envelope
from services.common.tenancy import Scope, parent_of
from services.common.testing import create_migrated_database, drop_database
from services.gateway.app import create_app
from services.registration import bulk, feed
from services.registration.application import RegistrationApp
from services.registration.idcard import make_id_number
from services.registration.models import (
    OUTBOX,
    ROLLUP_TABLE,
    Division,
    FeedItem,
    Volunteer,
)

pytestmark = pytest.mark.integration

COUNTY, NEIGHBOUR = "610113", "610103"
T1, OTHER = "610113005", "610103002"
ADMIN = Principal("t", "yanta-admin", COUNTY, frozenset({"tenant_admin"}), 2**40)
HEADER = "姓名,身份证号,手机号,区划代码,服务领域"


def ids(n: int, born_after: date = date(1960, 1, 1)) -> list[str]:
    """``n`` distinct valid ID numbers of the county (1,000 drawn at random
    from ~15M would repeat one about once in thirty runs)."""
    rnd = random.Random(uuid.uuid4().int)
    # Never a birth date in the future (that is another rule's refusal).
    span = min(15_000, (date.today() - born_after).days)
    out: dict[str, None] = {}
    while len(out) < n:
        born = born_after + timedelta(days=rnd.randrange(span))
        out[make_id_number(COUNTY, born, rnd.randrange(1, 999))] = None
    return list(out)


@pytest.fixture
def twins(migrated: dict[str, str]) -> Iterator[tuple[Database, Database]]:
    """Two fresh registration databases with the division tree."""
    svc = load().service("registration")
    urls, dbs = [], []
    try:
        for _ in range(2):
            urls.append(create_migrated_database(svc, "zy_bulk_regi"))
            one = type(svc)(
                **{**svc.__dict__, "database_url": urls[-1], "database_pool_size": 2}
            )
            dbs.append(Database(one))
            with dbs[-1].session(None) as s:  # the few divisions the rows name
                for code in ("61", "6101", COUNTY, T1, NEIGHBOUR, OTHER):
                    s.add(Division(code=code, name=name_of(code), level=len(code),
                                   parent_code=parent_of(code),
                                   status="active"))  # fmt: skip
        yield dbs[0], dbs[1]
    finally:
        for db in dbs:
            db.dispose()
        for url in urls:
            drop_database(url)


def volunteers(db: Database) -> list[tuple[Any, ...]]:
    with db.session(Scope("61")) as s:
        return sorted(
            (v.id_hash, v.name_masked, v.id_number_masked, v.phone_masked, v.sex,
             v.birth_date, v.home_division_code, tuple(v.service_fields), v.status)
            for v in s.execute(select(Volunteer)).scalars()
        )  # fmt: skip


def rollup(db: Database) -> list[tuple[Any, ...]]:
    with db.session(Scope("61")) as s:
        return sorted(s.execute(select(ROLLUP_TABLE)).tuples())


def bodies(db: Database) -> list[dict[str, Any]]:
    """The outbox's events in the relay's order."""
    with db.session(None) as s:
        return list(
            s.execute(select(OUTBOX.c.payload).order_by(OUTBOX.c.seq)).scalars()
        )


def per_volunteer(db: Database) -> list[Envelope]:
    """Every event, an imported part as the per-volunteer events it stands for."""
    out: list[Envelope] = []
    for body in bodies(db):
        env = Envelope.from_body(body)
        if env.event_type == volunteer_events.EVENT:
            assert env.division_code == COUNTY  # the importer's scope
            out.extend(volunteer_events.expand(env))
        else:
            out.append(env)
    return out


def events(db: Database) -> list[tuple[Any, ...]]:
    return sorted(
        (e.event_type, e.division_code, e.data["home_division_code"],
         e.data["status"], e.data["birth_date"], tuple(e.data["service_fields"]),
         e.data["volunteer_number"])
        for e in per_volunteer(db)
    )  # fmt: skip


@pytest.fixture
def consumers(
    twins: tuple[Database, Database],
) -> Iterator[list[dict[str, Database]]]:
    """For each twin: its own database (the feed) and fresh activity and
    commendation databases (their replicas)."""
    made: list[tuple[str, Database]] = []
    out = []
    try:
        for reg in twins:
            dbs = {"registration": reg}
            for name in ("activity", "commendation"):
                svc = load().service(name)
                url = create_migrated_database(svc, f"zy_bulk_{name[:4]}")
                one = type(svc)(
                    **{**svc.__dict__, "database_url": url, "database_pool_size": 2}
                )
                dbs[name] = Database(one)
                made.append((url, dbs[name]))
            out.append(dbs)
        yield out
    finally:
        for url, db in made:
            db.dispose()
            drop_database(url)


def deliver(dbs: dict[str, Database]) -> None:
    """Every registration event in the outbox to each consumer, as the
    workers subscribe them (registration's feed, activity's and
    commendation's volunteer replicas), twice: redelivery changes nothing."""
    reg, act, com = dbs["registration"], dbs["activity"], dbs["commendation"]
    stars = CommendationApp(com).stars
    for body in bodies(reg) * 2:
        kind = body["event_type"]
        if kind == volunteer_events.EVENT:
            feed.record_imported(reg, body)
            activity_replica.apply_imported(act, "activity.replica.volunteer", body)
            commendation_replica.replicate_imported(
                com, "commendation.volunteers", body
            )
        else:
            env = Envelope.from_body(body)
            feed.record(reg, kind.removeprefix("registration."), body)
            activity_replica.apply(act, "activity.replica.volunteer", body)
            stars.replicate_volunteer(
                "commendation.volunteers", env.event_id, volunteer_news(env)
            )


def effects(dbs: dict[str, Database]) -> dict[str, list[tuple[Any, ...]]]:
    """What the consumers keep (ids and clocks aside: the twins draw their own)."""
    with dbs["registration"].session(Scope("61")) as s:
        items = sorted(
            s.execute(
                select(FeedItem.event_type, FeedItem.division_code, FeedItem.summary)
            ).tuples()
        )
    with dbs["activity"].session(Scope("61")) as s:
        replica = sorted(
            (v.volunteer_number, v.home_division_code, v.status, v.birth_date,
             tuple(v.service_fields))
            for v in s.execute(select(VolunteerReplica)).scalars()
        )  # fmt: skip
    with dbs["commendation"].session(Scope("61")) as s:
        stars = sorted(
            s.execute(
                select(
                    CommendationVolunteer.volunteer_number,
                    CommendationVolunteer.division_code,
                    CommendationVolunteer.status,
                )
            ).tuples()
        )
    return {"feed": items, "activity": replica, "commendation": stars}


def test_bulk_equals_one_at_a_time_and_a_second_import_adds_nothing(
    twins: tuple[Database, Database], consumers: list[dict[str, Database]]
) -> None:
    one, many = twins
    cipher = pii_cipher(load())
    numbers = ids(5)
    rows = [
        {"name": f"志愿者{i}", "id_number": n, "phone": f"1390000{i:04d}",
         "home_division_code": T1, "service_fields": "养老助老;minors"}
        for i, n in enumerate(numbers)
    ]  # fmt: skip
    app = RegistrationApp(one, cipher, None)
    for r in rows:
        app.people.register_volunteer(
            ADMIN, r["name"], r["id_number"], r["phone"], r["home_division_code"],
            ["elderly_care", "minors"], None, "",
        )  # fmt: skip
    source = str(uuid.uuid4())
    report = bulk.import_rows(many, Scope(COUNTY), rows, source=source, cipher=cipher)
    assert (report.rows, report.imported, report.rejected) == (5, 5, 0)
    assert volunteers(many) == volunteers(one)
    assert rollup(many) == rollup(one)
    assert events(many) == events(one)
    assert len(bodies(many)) == 1  # one part for the chunk's five
    for dbs in consumers:
        deliver(dbs)
    done = effects(consumers[1])
    assert done == effects(consumers[0])
    assert [len(v) for v in done.values()] == [5, 5, 5]
    again = bulk.import_rows(many, Scope(COUNTY), rows, source=source, cipher=cipher)
    assert (again.imported, again.duplicates) == (0, 5)
    other = bulk.import_rows(many, Scope(COUNTY), rows, source="x", cipher=cipher)
    assert other.imported == 0
    assert {e.rule for e in other.errors} == {"id_number.unique"}
    assert volunteers(many) == volunteers(one) and events(many) == events(one)


def test_a_checked_roll_reaches_every_consumer_as_registering_and_verifying(
    twins: tuple[Database, Database], consumers: list[dict[str, Database]]
) -> None:
    """``verified=True``: what registering and then verifying each volunteer
    one at a time gives, in the database and downstream; a chunk larger than
    a part is announced in bounded parts that together name each volunteer
    once."""
    one, many = twins
    cipher = pii_cipher(load())
    n = volunteer_events.PART_VOLUNTEERS + 2
    rows = [
        {"name": f"志愿者{i}", "id_number": num, "phone": f"139{i:08d}",
         "home_division_code": T1, "service_fields": ""}
        for i, num in enumerate(ids(n))
    ]  # fmt: skip
    app = RegistrationApp(one, cipher, None)
    for r in rows:
        vol = app.people.register_volunteer(
            ADMIN, r["name"], r["id_number"], r["phone"], r["home_division_code"],
            [], None, "",
        )  # fmt: skip
        app.people.review_volunteer(ADMIN, vol.id, True, "")
    report = bulk.import_rows(
        many, Scope(COUNTY), rows, source=str(uuid.uuid4()), cipher=cipher,
        verified=True,
    )  # fmt: skip
    assert (report.imported, report.rejected) == (n, 0)
    assert volunteers(many) == volunteers(one)
    assert rollup(many) == rollup(one)
    parts = [Envelope.from_body(b).data for b in bodies(many)]
    assert [(p["part"], p["parts"]) for p in parts] == [(1, 2), (2, 2)]
    assert len({p["chunk_id"] for p in parts}) == 1
    assert [len(p["volunteers"]) for p in parts] == [n - 2, 2]
    assert sorted(e.event_type for e in per_volunteer(many)) == sorted(
        e.event_type for e in per_volunteer(one)
    )
    for dbs in consumers:
        deliver(dbs)
    done = effects(consumers[1])
    assert done == effects(consumers[0])
    assert [len(v) for v in done.values()] == [2 * n, n, n]
    assert {v[2] for v in done["activity"]} == {"verified"}


def test_every_bad_field_is_reported_and_nothing_is_half_written(
    twins: tuple[Database, Database],
) -> None:
    db = twins[1]
    good_id, again_id = ids(2)
    child = ids(1, born_after=date.today() - timedelta(days=365 * 10))[0]
    good = {"name": "张三", "id_number": good_id, "phone": "13900000001",
            "home_division_code": T1}  # fmt: skip
    bad = [
        {**good, "name": ""},
        {**good, "id_number": good_id[:-1]},
        {**good, "id_number": good_id[:-1] + ("0" if good_id[-1] != "0" else "1")},
        {**good, "id_number": child},
        {**good, "id_number": again_id, "phone": "12345"},
        {**good, "id_number": again_id, "home_division_code": OTHER},
        {**good, "id_number": again_id, "home_division_code": "610113999"},
        {**good, "id_number": again_id, "service_fields": "juggling"},
        {**good},  # the same person again
    ]
    expected = [
        ("name", "name.required"), ("id_number", "id_number.length"),
        ("id_number", "id_number.checksum"), ("id_number", "guardian.required"),
        ("phone", "phone.format"), ("home_division_code", "home_division_code.scope"),
        ("home_division_code", "home_division_code.exists"),
        ("service_fields", "service_fields.known"),
        ("id_number", "id_number.repeated"),
    ]  # fmt: skip
    report = bulk.import_rows(
        db, Scope(COUNTY), [good, *bad], source="bad", cipher=pii_cipher(load())
    )
    got = [(e.row, e.field, e.rule) for e in report.errors]
    assert got == [(i, f, r) for i, (f, r) in enumerate(expected, start=3)]
    assert all(e.message_zh and e.message_en and e.label_zh for e in report.errors)
    assert (report.imported, report.rejected) == (1, len(bad))
    assert len(volunteers(db)) == 1
    assert len(events(db)) == 1


def ndjson(response: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line]


@pytest.fixture(scope="module")
def client(migrated: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def test_odd_bytes_through_http_are_read_or_reported_never_a_500(
    client: TestClient, token: Any
) -> None:
    auth = {"Authorization": f"Bearer {token(COUNTY)}", "content-type": "text/csv"}
    bare_cr = b"a\rb\n"
    for path in ("/api/v1/imports/volunteers", "/api/v1/imports/hours"):
        got = client.post(path, content=bare_cr, headers=auth)
        assert got.status_code == 400, got.text  # no such header
        assert got.json()["error"]["rule"] == "file.header"
    first, second = ids(2)
    full = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    wide, phone = first.translate(full), "13900000001".translate(full)
    body = (
        "\ufeff" + HEADER + "\r"  # a BOM; old Mac line ends (bare CR)
        f"王五 ,{wide},{phone} ,{T1} ,养老助老\r"
        f"赵六,{second},13900000002,{OTHER},\r"
        "\r"
        "钱七,123,139,610113005,\n"
    ).encode("utf-8")
    got = client.post("/api/v1/imports/volunteers", content=body, headers=auth)
    assert got.status_code == 200, got.text
    lines = ndjson(got)
    assert lines[0] == {"total": 4}
    done = lines[-1]
    assert (done["imported"], done["failed"]) == (1, 2), lines
    bad = {(x["row"], x["field"], x["rule"]) for x in lines if x.get("ok") is False}
    assert (3, "home_division_code", "home_division_code.scope") in bad
    assert {(5, "id_number", "id_number.length"), (5, "phone", "phone.format")} <= bad
    reg = Database(load().service("registration"))
    try:
        with reg.session(Scope(COUNTY)) as s:
            masked = s.execute(
                text("SELECT phone_masked FROM volunteers WHERE request_id LIKE :k"),
                {"k": f"import/{COUNTY}/%"},
            ).scalars().all()  # fmt: skip
        assert "139****0001" in masked
        with reg.session(Scope(NEIGHBOUR)) as s:  # the neighbour sees none of it
            assert not s.execute(
                text("SELECT 1 FROM volunteers WHERE request_id LIKE :k"),
                {"k": f"import/{COUNTY}/%"},
            ).first()
    finally:
        reg.dispose()
    hours = (
        "志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因\r"
        "ZY９９９９９９９９９９９９,610113005,协会,养老助老,陪伴,"
        "２０２５-０１-０１ ０９:００,2025-01-01 10:00,１,\r"
        "ZY610000000001,610113005,协会,养老助老,陪伴,2025-01-01,x,1,\n"
    ).encode()
    got = client.post("/api/v1/imports/hours", content=hours, headers=auth)
    assert got.status_code == 200, got.text
    rules = {(x["row"], x["rule"]) for x in ndjson(got) if x.get("ok") is False}
    # Read as ASCII (ZY999999999999, a number never issued), then looked up.
    assert (2, "volunteer_number.known") in rules, rules
    assert {(3, "session_start.format"), (3, "session_end.format")} <= rules
    neighbour = {
        "Authorization": f"Bearer {token(NEIGHBOUR)}",
        "content-type": "text/csv",
    }
    got = client.post("/api/v1/imports/volunteers", content=body, headers=neighbour)
    bad = {(x["row"], x["rule"]) for x in ndjson(got) if x.get("ok") is False}
    assert (2, "home_division_code.scope") in bad  # Yanta's row, refused


def test_chunks_in_flight_together_judge_rows_as_one_after_another(
    twins: tuple[Database, Database],
) -> None:
    """Chunks of three, two in the database at once: an ID number refused in
    one chunk (unknown home) is registered from the next; one registered in
    a chunk is refused in the next (``id_number.unique``), as chunk after
    chunk would; numbers follow the rows; each volunteer is in one part."""
    db = twins[1]
    a, b, c, d, e, f = ids(6)
    order = [a, b, c, c, a, d, e, f, d]
    rows = [
        {"name": f"志愿者{i}", "id_number": n, "phone": f"1390000{i:04d}",
         "home_division_code": "610113999" if i == 2 else T1}
        for i, n in enumerate(order)
    ]  # fmt: skip
    source = str(uuid.uuid4())
    report = bulk.import_rows(
        db, Scope(COUNTY), rows, source=source, cipher=pii_cipher(load()),
        chunk_size=3,
    )  # fmt: skip
    got = [(x.row - 2, x.rule) for x in report.errors]
    assert got == [
        (2, "home_division_code.exists"), (4, "id_number.unique"),
        (8, "id_number.unique"),
    ]  # fmt: skip
    assert report.imported == 6
    with db.session(Scope(COUNTY)) as s:
        kept = s.execute(
            select(Volunteer.request_id, Volunteer.volunteer_number, Volunteer.id)
            .where(Volunteer.request_id.like(f"import/{COUNTY}/{source}/%"))
        ).tuples().all()  # fmt: skip
    by_row = sorted((int(r.rsplit("/", 1)[1]) - 2, n, i) for r, n, i in kept)
    assert [r for r, _, _ in by_row] == [0, 1, 3, 5, 6, 7]
    assert [n for _, n, _ in by_row] == sorted(n for _, n, _ in by_row)
    named = [
        v["volunteer_id"]
        for body in bodies(db)
        for v in body["data"]["volunteers"]
        if body["event_type"] == volunteer_events.EVENT
    ]
    assert sorted(named) == sorted(i for _, _, i in by_row)
