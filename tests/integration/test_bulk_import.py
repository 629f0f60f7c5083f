"""Bulk import of hour records (services/hours/bulk.py) against one record at
a time: the same rows on twin hours and commendation databases give the same
records, refusals, rollups (the hours served at service positions too),
presence rows, time-bank balances and star ratings; a second import adds
nothing; bad rows are reported by field and rule with nothing half-written
(a position unknown, a neighbour's or malformed too); a neighbouring county
can neither import into nor read another's records."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select, text

from services.commendation.application import CommendationApp
from services.commendation.events import hours as hours_news
from services.commendation.events import imported
from services.commendation.models import ServiceYear, StarRating, Volunteer
from services.common.auth import Principal
from services.common.bulk import BROKEN
from services.common.config import load
from services.common.db import Database
from services.common.errors import NotFound, ZhiyuanError
from services.common.keys import pii_cipher
from services.common.outbox import Envelope
from services.common.rollup import CST
from services.common.tenancy import Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours import bulk
from services.hours.application import HoursApp
from services.hours.models import (
    OUTBOX,
    POSITION_ROLLUP_TABLE,
    ROLLUP_TABLE,
    HourRecord,
    Presence,
)
from services.hours.registration_client import Registration
from services.registration import bulk as reg_bulk
from services.registration.application import RegistrationApp
from services.registration.idcard import make_id_number

pytestmark = pytest.mark.integration

COUNTY, NEIGHBOUR = "610113", "610103"  # Yanta, Beilin (Xi'an)
T1, T2, OTHER = "610113005", "610113006", "610103002"
ADMIN = Principal("t", "yanta-admin", COUNTY, frozenset({"tenant_admin"}), 2**40)
COMPARED = (
    "volunteer_id", "volunteer_number", "division_code", "service_field",
    "started_at", "ended_at", "duration_seconds", "service_day", "month",
    "rounded_hours", "hours", "capped_hours", "status", "note", "position_id",
)  # fmt: skip


def ids(n: int) -> list[str]:
    """ID numbers no other test of the session uses (random birth dates)."""
    rnd = random.Random(uuid.uuid4().int)
    out = []
    for _ in range(n):
        born = date(1960, 1, 1) + timedelta(days=rnd.randrange(15_000))
        out.append(make_id_number(COUNTY, born, rnd.randrange(1, 999)))
    return out


@pytest.fixture(scope="module")
def people(migrated: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Three verified volunteers of Yanta and one of Beilin, registered
    through registration's bulk import: number → (id, status)."""
    db = Database(load().service("registration"))
    numbers = ids(4)
    rows = [
        {"姓名": f"志愿者{i}", "身份证号": n, "手机号": f"1390000{i:04d}",
         "区划代码": T1 if i < 3 else OTHER, "服务领域": "养老助老"}
        for i, n in enumerate(numbers)
    ]  # fmt: skip
    try:
        report = reg_bulk.import_rows(
            db, Scope("6101"), rows, source=str(uuid.uuid4()), verified=True
        )
        assert (report.imported, report.rejected) == (4, 0), report.errors
        with db.session(Scope("6101")) as s:
            got = s.execute(
                text("SELECT volunteer_number, id, status, home_division_code"
                     " FROM volunteers WHERE request_id LIKE :k ORDER BY request_id"),
                {"k": "import/%"},
            ).tuples()  # fmt: skip
            mine = {n: (i, st, home) for n, i, st, home in got}
        found = reg_bulk.lookup(db, Scope("6101"), list(mine))
    finally:
        db.dispose()
    assert all(v[1] == "verified" for v in found.values())
    return found


@pytest.fixture(scope="module")
def places(migrated: dict[str, str]) -> dict[str, str]:
    """Two service positions registered in registration, as an office does:
    one of Yanta (``own``, at T1) and one of Beilin (``neighbour``)."""
    cfg = load()
    db = Database(cfg.service("registration"))
    city = Principal("c", "xian-admin", "6101", frozenset({"tenant_admin"}), 2**40)
    cases = RegistrationApp(db, pii_cipher(cfg), None).positions
    tag = uuid.uuid4().hex[:8]
    try:
        own = cases.create(city, f"雁塔站{tag}", "station", "", T1, "", "")
        theirs = cases.create(city, f"碑林站{tag}", "station", "", OTHER, "", "")
    finally:
        db.dispose()
    return {"own": own.id, "neighbour": theirs.id}


def at_positions(scope: Scope, ids: Sequence[str]) -> dict[str, str]:
    """Registration's positions, as the bulk import asks them."""
    db = Database(load().service("registration"))
    try:
        return reg_bulk.lookup_positions(db, scope, ids)
    finally:
        db.dispose()


@pytest.fixture
def twins(migrated: dict[str, str]) -> Iterator[dict[str, Database]]:
    """Fresh hours and commendation databases: one-at-a-time and bulk."""
    cfg = load()
    made: dict[str, Database] = {}
    urls = []
    try:
        for service in ("hours", "commendation"):
            svc = cfg.service(service)
            for side in ("one", "bulk"):
                urls.append(create_migrated_database(svc, f"zy_bulk_{service[:4]}"))
                one = type(svc)(**{**svc.__dict__, "database_url": urls[-1]})
                one = type(svc)(**{**one.__dict__, "database_pool_size": 2})
                made[f"{service}_{side}"] = Database(one)
        yield made
    finally:
        for db in made.values():
            db.dispose()
        for url in urls:
            drop_database(url)


class Directory:
    """Registration's answers for the one-at-a-time path (GetVolunteer,
    GetPosition as Yanta's office)."""

    remote = None  # rows name no organisation by id

    def __init__(
        self, people: dict[str, tuple[str, str]], places: dict[str, str] | None = None
    ):
        self.by_id = {vid: (number, st) for number, (vid, st) in people.items()}
        self.places = (
            at_positions(Scope(COUNTY), list(places.values())) if places else {}
        )

    def volunteer(self, volunteer_id: str) -> tuple[str, str]:
        return self.by_id[volunteer_id]

    def position(self, position_id: str) -> str:
        if position_id not in self.places:
            raise NotFound.entity("service position", "服务阵地", position_id)
        return self.places[position_id]


def registration(
    people: dict[str, tuple[str, str]], places: dict[str, str] | None = None
) -> Registration:
    """The :class:`Directory` in the registration client's place."""
    return cast(Registration, Directory(people, places))


def china(day: int, hour: int, minute: int = 0) -> str:
    return f"2025-03-{day:02d} {hour:02d}:{minute:02d}"


def register(people: dict[str, tuple[str, str]], position: str) -> list[dict[str, str]]:
    """Rows that cover overlap (in file), the daily cap, a field, a
    duplicate row, rounding by the policy (a blank hours cell), a volunteer
    busy enough for a star, and service at ``position`` (whole hours: a
    sum of them is exact in the rollup's floating point either way) beside
    rows that name none, a refused and a capped one among them."""
    a, b, c = sorted(n for n, (vid, _) in people.items())[:3]

    def row(vol: str, code: str, start: str, end: str, hours: str = "",
            field: str = "养老助老", at: str = "") -> dict[str, str]:  # fmt: skip
        return {
            "志愿者编号": vol, "区划代码": code, "组织名称": "雁塔区志愿者协会",
            "服务领域": field, "服务内容": "敬老院陪伴", "开始时间": start,
            "结束时间": end, "时长": hours, "补录原因": "纸质登记补录",
            "服务阵地编号": at,
        }  # fmt: skip

    rows = [
        row(a, T1, china(1, 9), china(1, 11), "2", at=position),
        row(a, T1, china(1, 10), china(1, 12), "2", at=position),  # overlaps
        row(b, T2, china(2, 6), china(2, 14), "8", "未成年人保护", at=position),
        row(b, T2, china(2, 14), china(2, 20), "6", at=position),  # 4 of 6: cap
        row(b, T2, china(2, 20), china(2, 21), "1"),  # the cap is reached
        row(c, T1, china(3, 9), china(3, 10, 47)),  # policy: exact, 1.78
        row(c, T1, china(3, 9), china(3, 10, 47)),  # the same row again
    ]
    for day in range(5, 20):  # 15 × 10 h: a tier for the first volunteer
        code, at = (T1, position) if day % 2 else (T2, "")
        rows.append(row(a, code, china(day, 8), china(day, 18), "10", at=at))
    return rows


def moment(value: str) -> str:
    return datetime.fromisoformat(value).replace(tzinfo=CST).isoformat()


def one_at_a_time(
    dbs: dict[str, Database],
    people: dict[str, tuple[str, str]],
    rows: list[dict[str, str]],
    places: dict[str, str],
) -> list[tuple[int, str]]:
    """Each row through RecordHonourHours (naming its position, if any) then
    ApproveRecord, and each approval's event through the time bank and the
    stars."""
    app = HoursApp(dbs["hours_one"], registration(people, places))
    refused = []
    seen = set()
    for number, r in enumerate(rows, start=2):
        key = (r["志愿者编号"], r["开始时间"], r["结束时间"])
        if key in seen:
            continue  # a repeated row is a duplicate, not a record
        seen.add(key)
        vid = people[r["志愿者编号"]][0]
        field = {"养老助老": "elderly_care", "未成年人保护": "minors"}[r["服务领域"]]
        start, end = moment(r["开始时间"]), moment(r["结束时间"])
        amount = float(r["时长"]) if r["时长"] else bulk.domain.hours(
            (datetime.fromisoformat(end) - datetime.fromisoformat(start)).seconds / 3600
        )  # fmt: skip
        try:
            record, _ = app.records.record_honour(
                ADMIN, vid, r["区划代码"], "", r["组织名称"], field, r["服务内容"],
                start, end, float(amount), r["补录原因"],
                position_id=r["服务阵地编号"],
            )  # fmt: skip
        except ZhiyuanError as err:  # the refusal is compared
            refused.append((number, err.rule or ""))
            continue
        app.review.approve(ADMIN, record.id)
    with dbs["hours_one"].session(None) as s:
        payloads = s.execute(select(OUTBOX.c.payload).order_by(OUTBOX.c.seq)).scalars()
        envs = [Envelope.from_body(p) for p in payloads]
    stars = CommendationApp(dbs["commendation_one"]).stars
    for env in envs:
        data = env.data
        app.bank.reconcile("hours.timebank.approved", env.event_id, data["record_id"],
                           data["division_code"])  # fmt: skip
        stars.follow_hours("commendation.hours", env.event_id, hours_news(env, "hours"))
    return refused


def known(people: dict[str, tuple[str, str]]):  # type: ignore[no-untyped-def]
    """Registration's directory, as the bulk import asks it."""
    return lambda scope, numbers: {n: people[n] for n in numbers if n in people}


def in_bulk(dbs: dict[str, Database], people, rows, source: str):  # type: ignore[no-untyped-def]
    report = bulk.import_rows(
        dbs["hours_bulk"], Scope(COUNTY), rows, source=source, chunk_size=5,
        volunteers=known(people), positions=at_positions,
    )  # fmt: skip
    feed(dbs)
    return report


def feed(dbs: dict[str, Database]) -> None:
    """The bulk events to their consumers, twice (a redelivery)."""
    with dbs["hours_bulk"].session(None) as s:
        payloads = s.execute(select(OUTBOX.c.payload).order_by(OUTBOX.c.seq)).scalars()
        envs = [Envelope.from_body(p) for p in payloads]
    stars = CommendationApp(dbs["commendation_bulk"]).stars
    for _ in range(2):
        for env in envs:
            assert env.event_type == bulk.EVENT
            bulk.deposit_imported(dbs["hours_bulk"], "hours.timebank.imported",
                                  env.event_id, env.data)  # fmt: skip
            # The worker's path, in slices of three to cross slice edges.
            stars.follow_imported("commendation.hours", imported(env), slice_size=3)


def state(dbs: dict[str, Database], side: str) -> dict[str, Any]:
    hours, comm = dbs[f"hours_{side}"], dbs[f"commendation_{side}"]
    with hours.session(Scope("61")) as s:
        records = sorted(
            tuple(str(getattr(r, c)) for c in COMPARED)
            for r in s.execute(select(HourRecord)).scalars()
        )
        rollup = sorted(tuple(row) for row in s.execute(select(ROLLUP_TABLE)).tuples())
        positions = sorted(
            tuple(row) for row in s.execute(select(POSITION_ROLLUP_TABLE)).tuples()
        )
        presence = sorted(
            (p.division_code, p.month, p.service_field, p.volunteer_id, p.records)
            for p in s.execute(select(Presence)).scalars()
        )
        balances = sorted(
            s.execute(text(
                "SELECT a.division_code, a.volunteer_id, sum(e.amount)"
                " FROM timebank_accounts a JOIN timebank_entries e"
                " ON e.account_id = a.id GROUP BY 1, 2"
            )).tuples()
        )  # fmt: skip
    with comm.session(Scope("61")) as s:
        ratings = sorted(
            (r.volunteer_id, r.total_hours, r.eligible_stars, r.stars)
            for r in s.execute(select(StarRating)).scalars()
        )
        years = sorted(
            (y.volunteer_id, y.year, y.hours)
            for y in s.execute(select(ServiceYear)).scalars()
        )
        requests = sorted(
            s.execute(text(
                "SELECT volunteer_id, stars FROM star_requests WHERE status = 'pending'"
            )).tuples()
        )  # fmt: skip
    return {
        "records": records, "rollup": rollup, "positions": positions,
        "presence": presence,
        "balances": balances, "ratings": ratings, "years": years,
        "requests": requests,
    }  # fmt: skip


def test_bulk_equals_one_at_a_time_and_a_second_import_adds_nothing(
    twins: dict[str, Database],
    people: dict[str, tuple[str, str]],
    places: dict[str, str],
) -> None:
    rows = register(people, places["own"])
    for side in ("one", "bulk"):  # commendation's replica of the volunteers
        for number, (vid, status) in people.items():
            CommendationApp(twins[f"commendation_{side}"]).stars.replicate_volunteer(
                "commendation.volunteers", str(uuid.uuid4()),
                Volunteer(id=vid, volunteer_number=number, division_code=T1,
                          status=status, changed_at=datetime.now(CST)),
            )  # fmt: skip
    refused = one_at_a_time(twins, people, rows, places)
    source = str(uuid.uuid4())
    report = in_bulk(twins, people, rows, source)
    assert sorted((e.row, e.rule) for e in report.errors) == sorted(refused)
    assert [e.row for e in report.errors] == [3, 6]
    assert (report.rows, report.duplicates) == (len(rows), 1)
    assert report.imported == len(rows) - 3
    one, many = state(twins, "one"), state(twins, "bulk")
    assert one["balances"] and one["ratings"] and one["rollup"]
    # At the position: rows 2, 4 and 5 (2 h, 8 h, 4 of 6 h) and the odd days'
    # 8 × 10 h in March, counted where the service was (T1, T2) and up the tree.
    assert ("610113", "2025-03", 94.0) in {(c, p, h) for _, c, p, h in one["positions"]}
    assert any(r[2] > 0 for r in one["ratings"])  # a tier was reached
    for key in one:
        assert many[key] == one[key], key
    with twins["hours_bulk"].session(Scope(COUNTY)) as s:  # the blank hours cell
        rounding = s.execute(text(
            "SELECT rounding FROM hour_records WHERE duration_seconds = 6420"
        )).scalar_one()  # fmt: skip
    assert rounding == "exact"  # the policy's, where one at a time says manual
    again = in_bulk(twins, people, rows, source)
    assert (again.imported, again.duplicates) == (0, len(rows) - 2)
    assert state(twins, "bulk") == many
    other = in_bulk(twins, people, rows, str(uuid.uuid4()))  # the same rows
    assert other.imported == 0
    assert state(twins, "bulk") == many


def test_every_bad_field_is_reported_and_nothing_is_half_written(
    twins: dict[str, Database], people: dict[str, tuple[str, str]]
) -> None:
    a = sorted(people)[0]
    good = {
        "volunteer_number": a, "division_code": T1, "organisation_name": "协会",
        "service_field": "elderly_care", "content": "陪伴",
        "session_start": "2025-04-01 09:00", "session_end": "2025-04-01 10:00",
        "hours": "1", "reason": "",
    }  # fmt: skip
    bad = [
        {**good, "volunteer_number": "ZY61"},
        {**good, "volunteer_number": "ZY619999999999"},
        {**good, "division_code": "61011"},
        {**good, "division_code": "610113999"},
        {**good, "division_code": OTHER},
        {**good, "organisation_name": ""},
        {**good, "service_field": "juggling"},
        {**good, "content": "x" * 201},
        {**good, "session_start": "yesterday"},
        {**good, "session_start": "2025-02-30 09:00"},  # the template's form
        {**good, "session_end": "2025-04-01 08:00"},
        {**good, "session_end": "2025-04-03 10:00"},
        {
            **good,
            "session_start": "2099-01-01 09:00",
            "session_end": "2099-01-01 10:00",
        },
        {**good, "hours": "abc"},
        {**good, "hours": "-1"},
        {**good, "hours": "5"},
        {BROKEN: "new-line character seen in unquoted field"},
    ]
    expected = [
        ("volunteer_number", "volunteer_number.format"),
        ("volunteer_number", "volunteer_number.known"),
        ("division_code", "division_code.width"),
        ("division_code", "division_code.known"),
        ("division_code", "division_code.scope"),
        ("organisation_name", "organisation_name.required"),
        ("service_field", "service_field.known"),
        ("content", "content.max_length"),
        ("session_start", "session_start.format"),
        ("session_start", "session_start.format"),
        ("session_end", "session_end.after_start"),
        ("session_end", "session_end.max_duration"),
        ("session_end", "session_end.past"),
        ("hours", "hours.positive"),
        ("hours", "hours.positive"),
        ("hours", "hours.max"),
        ("file", "file.format"),
    ]
    report = bulk.import_rows(
        twins["hours_bulk"], Scope(COUNTY), [good, *bad], source="bad-file",
        volunteers=known(people),
    )  # fmt: skip
    got = [(e.row, e.field, e.rule) for e in report.errors]
    assert got == [(i, f, r) for i, (f, r) in enumerate(expected, start=3)]
    assert all(e.message_zh and e.message_en and e.label_zh for e in report.errors)
    assert (report.imported, report.rejected) == (1, len(bad))
    with twins["hours_bulk"].session(Scope("61")) as s:
        assert s.execute(text("SELECT count(*) FROM hour_records")).scalar_one() == 1


def test_a_position_unknown_a_neighbours_or_malformed_is_refused(
    twins: dict[str, Database],
    people: dict[str, tuple[str, str]],
    places: dict[str, str],
) -> None:
    """Each refused row names a session of its own, so that without the
    check it would have been imported; the good row's position is written
    upper case and stored as registration keeps it."""
    a = sorted(people)[0]
    db = twins["hours_bulk"]

    def row(day: int, position: str) -> dict[str, str]:
        return {
            "volunteer_number": a, "division_code": T1, "organisation_name": "协会",
            "service_field": "elderly_care", "content": "陪伴",
            "session_start": f"2025-04-{day:02d} 09:00",
            "session_end": f"2025-04-{day:02d} 11:00", "hours": "2",
            "position_id": position,
        }  # fmt: skip

    rows = [
        row(1, places["own"].upper()),
        row(2, str(uuid.uuid4())),  # registered nowhere
        row(3, places["neighbour"]),  # Beilin's: outside Yanta
        row(4, "雁塔站-12"),  # not an id
    ]
    report = bulk.import_rows(
        db, Scope(COUNTY), rows, source="positions", volunteers=known(people),
        positions=at_positions,
    )  # fmt: skip
    assert [(e.row, e.field, e.rule) for e in report.errors] == [
        (3, "position_id", "position_id.known"),
        (4, "position_id", "position_id.known"),
        (5, "position_id", "position_id.format"),
    ]
    assert all(e.message_zh and e.message_en for e in report.errors)
    assert {e.label_zh for e in report.errors} == {"服务阵地编号"}
    assert (report.imported, report.rejected) == (1, 3)
    with db.session(Scope("61")) as s:
        written = s.execute(
            text("SELECT service_day, position_id FROM hour_records")
        ).all()
        rollup = s.execute(text(
            "SELECT period, position_hours FROM hours_position_rollup"
            " WHERE division_code = :c ORDER BY period"
        ), {"c": COUNTY}).all()  # fmt: skip
        records = s.execute(text(
            "SELECT records FROM hours_rollup WHERE division_code = :c"
            " AND period = 'all'"
        ), {"c": COUNTY}).scalar_one()  # fmt: skip
        presence = s.execute(text("SELECT count(*) FROM hours_presence")).scalar()
    assert [(str(d), p) for d, p in written] == [("2025-04-01", places["own"])]
    assert [tuple(r) for r in rollup] == [("2025", 2.0), ("2025-04", 2.0), ("all", 2.0)]
    assert (records, presence) == (1, 1)
    # Registration answers a neighbour's office none of Yanta's positions.
    assert at_positions(Scope(NEIGHBOUR), [places["own"]]) == {}
    assert at_positions(Scope(COUNTY), list(places.values())) == {places["own"]: T1}


def test_a_neighbouring_county_cannot_import_into_or_read_another(
    twins: dict[str, Database], people: dict[str, tuple[str, str]]
) -> None:
    a = sorted(people)[0]
    row = {
        "volunteer_number": a, "division_code": T1, "organisation_name": "协会",
        "service_field": "elderly_care", "content": "陪伴",
        "session_start": "2025-05-01 09:00", "session_end": "2025-05-01 10:00",
        "hours": "1",
    }  # fmt: skip
    db = twins["hours_bulk"]
    report = bulk.import_rows(
        db, Scope(NEIGHBOUR), [row], source="neighbour",
        volunteers=lambda scope, numbers: {n: people[n] for n in numbers},
    )  # fmt: skip
    assert [(e.field, e.rule) for e in report.errors] == [
        ("division_code", "division_code.scope")
    ]
    ok = bulk.import_rows(
        db, Scope(COUNTY), [row], source="own",
        volunteers=lambda scope, numbers: {n: people[n] for n in numbers},
    )  # fmt: skip
    assert ok.imported == 1
    with db.session(Scope(NEIGHBOUR)) as s:
        assert s.execute(text("SELECT count(*) FROM hour_records")).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM hours_rollup")).scalar_one() == 0
    with db.session(Scope(COUNTY)) as s:
        assert s.execute(text("SELECT count(*) FROM hour_records")).scalar_one() == 1
    # Registration's directory answers only volunteers homed in the scope.
    reg = Database(load().service("registration"))
    try:
        assert reg_bulk.lookup(reg, Scope(NEIGHBOUR), [a]) == {}
        assert reg_bulk.lookup(reg, Scope(COUNTY), [a])[a][1] == "verified"
    finally:
        reg.dispose()


def test_records_in_another_province_count_for_overlap_duplicates_and_the_cap(
    twins: dict[str, Database], people: dict[str, tuple[str, str]]
) -> None:
    """A volunteer's record filed in another province (Gansu here) is seen
    by an import into Shaanxi: the same session is a duplicate, an
    overlapping one is refused, and the day's hours there count towards
    the daily cap; the event's platform total includes them. A pending
    record in a third province (Shanxi) is seen too."""
    a = sorted(people)[0]
    db = twins["hours_bulk"]

    def row(code: str, start: str, end: str, hours: str) -> dict[str, str]:
        return {
            "volunteer_number": a, "division_code": code,
            "organisation_name": "协会", "service_field": "elderly_care",
            "content": "陪伴", "session_start": start, "session_end": end,
            "hours": hours,
        }  # fmt: skip

    gansu = bulk.import_rows(
        db, Scope("62"),
        [row("620102001", "2025-06-01 06:00", "2025-06-01 14:00", "8")],
        source="gansu", volunteers=known(people),
    )  # fmt: skip
    assert gansu.imported == 1
    # And one pending in Shanxi, entered one at a time and not yet reviewed:
    # no presence row says where it is.
    shanxi = Principal("t", "shanxi-admin", "14", frozenset({"tenant_admin"}), 2**40)
    pending, _ = HoursApp(db, registration(people)).records.record_honour(
        shanxi, people[a][0], "140105001", "", "协会", "elderly_care", "陪伴",
        moment("2025-06-01 21:00"), moment("2025-06-01 22:00"), 1.0, "补录",
    )  # fmt: skip
    assert pending.status == "pending"
    shaanxi = bulk.import_rows(
        db, Scope(COUNTY), [
            row(T1, "2025-06-01 06:00", "2025-06-01 14:00", "8"),  # the same
            row(T1, "2025-06-01 13:00", "2025-06-01 15:00", "2"),  # overlaps
            row(T1, "2025-06-01 15:00", "2025-06-01 21:00", "6"),  # 3 of 6
            row(T1, "2025-06-01 21:30", "2025-06-01 22:30", "1"),  # the pending
        ],
        source="shaanxi", volunteers=known(people),
    )  # fmt: skip
    assert shaanxi.duplicates == 1
    assert [(e.row, e.rule) for e in shaanxi.errors] == [
        (3, "record.overlap"),
        (5, "record.overlap"),
    ]
    assert shaanxi.imported == 1
    with db._factory() as s:
        capped = s.execute(text(
            "SELECT hours, capped_hours FROM hour_records"
            " WHERE division_code = :t AND service_day = '2025-06-01'"
        ), {"t": T1}).one()  # fmt: skip
        totals = [
            v["volunteer_total_hours"]
            for (p,) in s.execute(select(OUTBOX.c.payload)).tuples()
            for v in Envelope.from_body(p).data["volunteers"]
        ]
    assert (capped[0], capped[1]) == (3, 3)  # the default cap is 12 a day
    assert totals == [8.0, 11.0]  # approved hours only


def test_a_chunk_reads_the_days_around_its_rows_and_the_whole_total(
    twins: dict[str, Database], people: dict[str, tuple[str, str]]
) -> None:
    """A chunk reads only the records starting within a day of its rows'
    service days (bulk._windows), yet: a session on file that crosses
    midnight into the row's day overlaps it, a row crossing midnight
    overlaps a session on file early the next day, the day's hours on file
    count towards the cap however long ago they were filed, and the
    event's platform total holds the volunteer's whole history, a
    correction of a month-old record included."""
    a = sorted(people)[1]
    db = twins["hours_bulk"]

    def row(start: str, end: str, hours: str) -> dict[str, str]:
        return {
            "volunteer_number": a, "division_code": T1,
            "organisation_name": "协会", "service_field": "elderly_care",
            "content": "陪伴", "session_start": start, "session_end": end,
            "hours": hours,
        }  # fmt: skip

    history = bulk.import_rows(
        db, Scope(COUNTY), [
            row("2025-05-01 08:00", "2025-05-01 18:00", "10"),  # a month before
            row("2025-06-01 23:00", "2025-06-02 02:00", "3"),  # into 06-02
            row("2025-06-04 00:30", "2025-06-04 01:30", "1"),
            row("2025-06-02 08:00", "2025-06-02 16:00", "8"),
        ],
        source="history", volunteers=known(people),
    )  # fmt: skip
    assert (history.imported, history.rejected) == (4, 0), history.errors
    with db._factory() as s:
        may = s.execute(text(
            "SELECT id FROM hour_records WHERE service_day = '2025-05-01'"
        )).scalar_one()  # fmt: skip
    HoursApp(db, registration(people)).review.correct(ADMIN, may, 7.0, False, "核减")
    chunk = bulk.import_rows(
        db, Scope(COUNTY), [
            row("2025-06-02 01:00", "2025-06-02 03:00", "2"),  # overlaps 23:00-02:00
            row("2025-06-03 23:30", "2025-06-04 01:00", "1.5"),  # overlaps 00:30
            row("2025-06-02 16:00", "2025-06-02 22:00", "6"),  # 2 h on file: 4 of 6
            row("2025-06-10 09:00", "2025-06-10 10:00", "1"),  # nothing near
        ],
        source="chunk", volunteers=known(people),
    )  # fmt: skip
    assert [(e.row, e.rule) for e in chunk.errors] == [
        (2, "record.overlap"),
        (3, "record.overlap"),
    ]
    assert chunk.imported == 2
    with db._factory() as s:
        capped = s.execute(text(
            "SELECT hours, capped_hours FROM hour_records"
            " WHERE service_day = '2025-06-02' AND started_at = :t"
        ), {"t": moment("2025-06-02 16:00")}).one()  # fmt: skip
        events = [
            Envelope.from_body(p).data
            for (p,) in s.execute(select(OUTBOX.c.payload).order_by(OUTBOX.c.seq))
        ]
        whole = s.execute(
            text("SELECT hours_volunteer_total(:v)"), {"v": people[a][0]}
        ).scalar_one()
    # 2025-06-02 holds 8 h on file (the session from the night before is
    # 06-01's): the default cap of 12 credits 4 of the 6.
    assert (capped[0], capped[1]) == (4, 2)
    totals = [
        v["volunteer_total_hours"]
        for e in events if e.get("chunk_id")
        for v in e["volunteers"]
    ]  # fmt: skip
    # The history's 10 + 3 + 1 + 8; then less the correction's 3 and plus
    # the chunk's 4 + 1.
    assert totals == [22.0, 24.0] and float(whole) == 24.0
