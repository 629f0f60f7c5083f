"""Bulk registration of volunteers (services/registration/bulk.py) and both
bulk imports through the HTTP routes: the same rows registered one at a time
and in bulk give the same volunteers (numbers aside), rollups and events; a
second import registers nobody twice; every bad field is reported; a bare
CR, full-width digits, a BOM and trailing blanks are read or reported
per row, never a 500; a neighbouring county can neither import into nor read
another's volunteers."""

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

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.divisions import name_of
from services.common.keys import pii_cipher
from services.common.tenancy import Scope, parent_of
from services.common.testing import create_migrated_database, drop_database
from services.gateway.app import create_app
from services.registration import bulk
from services.registration.application import RegistrationApp
from services.registration.idcard import make_id_number
from services.registration.models import OUTBOX, ROLLUP_TABLE, Division, Volunteer

pytestmark = pytest.mark.integration

COUNTY, NEIGHBOUR = "610113", "610103"
T1, OTHER = "610113005", "610103002"
ADMIN = Principal("t", "yanta-admin", COUNTY, frozenset({"tenant_admin"}), 2**40)
HEADER = "姓名,身份证号,手机号,区划代码,服务领域"


def ids(n: int, born_after: date = date(1960, 1, 1)) -> list[str]:
    rnd = random.Random(uuid.uuid4().int)
    # Never a birth date in the future (that is another rule's refusal).
    span = min(15_000, (date.today() - born_after).days)
    return [
        make_id_number(
            COUNTY, born_after + timedelta(days=rnd.randrange(span)),
            rnd.randrange(1, 999),
        )
        for _ in range(n)
    ]  # fmt: skip


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


def events(db: Database) -> list[tuple[Any, ...]]:
    with db.session(None) as s:
        payloads = s.execute(select(OUTBOX.c.payload)).scalars().all()
    return sorted(
        (p["event_type"], p["division_code"], p["data"]["home_division_code"],
         p["data"]["status"], p["data"]["birth_date"],
         tuple(p["data"]["service_fields"]))
        for p in payloads
    )  # fmt: skip


def test_bulk_equals_one_at_a_time_and_a_second_import_adds_nothing(
    twins: tuple[Database, Database],
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
        app.register_volunteer(
            ADMIN, r["name"], r["id_number"], r["phone"], r["home_division_code"],
            ["elderly_care", "minors"], None, "",
        )  # fmt: skip
    source = str(uuid.uuid4())
    report = bulk.import_rows(many, Scope(COUNTY), rows, source=source, cipher=cipher)
    assert (report.rows, report.imported, report.rejected) == (5, 5, 0)
    assert volunteers(many) == volunteers(one)
    assert rollup(many) == rollup(one)
    assert events(many) == events(one)
    again = bulk.import_rows(many, Scope(COUNTY), rows, source=source, cipher=cipher)
    assert (again.imported, again.duplicates) == (0, 5)
    other = bulk.import_rows(many, Scope(COUNTY), rows, source="x", cipher=cipher)
    assert other.imported == 0
    assert {e.rule for e in other.errors} == {"id_number.unique"}
    assert volunteers(many) == volunteers(one) and events(many) == events(one)


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
