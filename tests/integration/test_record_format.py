"""The national record format end to end, on real servers: records made in
one county's hours are exported through the gateway (composed from the
services' own RPCs) and imported into a second hours database through the
bulk import, reproducing each record field by field; the same file twice
imports nothing twice; a malformed line and bad fields are reported by line
and field; a full ID number finds the volunteer; the export refuses a
neighbour's volunteer, a parent's and an id of no one, and an import naming
divisions outside the caller's scope writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from zhiyuan.activity.v1 import activity_pb2 as apb
from zhiyuan.hours.v1 import hours_pb2 as hpb

from services.common import protos
from services.common import record_format as fmt
from services.common.auth import TokenIssuer
from services.common.config import load
from services.common.db import Database
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.keys import pii_cipher
from services.common.tenancy import Scope
from services.common.testing import (
    PRIVATE_PEM,
    create_migrated_database,
    drop_database,
)
from services.gateway.app import create_app
from services.hours import bulk
from services.hours.models import HourRecord
from services.hours.record_import import Remote, import_records
from services.registration import bulk as reg_bulk
from services.registration.record_identity import Directory, by_id_number
from tests.helpers import auth, new_id_number, new_phone, ok
from tests.integration.test_activity_flow import Kit
from tests.integration.test_cli import zhiyuan
from tests.integration.test_hours_flow import verified_volunteer

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610124", "610124001"  # 周至县, 二曲街道
NEIGHBOUR, N_TOWN = "610122", "610122001"  # 蓝田县, the next county
PARENT, P_TOWN = "6101", "610104001"  # Xi'an, registering in 莲湖区
COMPARED = (
    "volunteer_id", "volunteer_number", "division_code", "organisation_name",
    "service_field", "content", "started_at", "ended_at", "duration_seconds",
    "service_day", "month", "hours", "status",
)  # fmt: skip


def rows(numbers: list[str]) -> list[dict[str, str]]:
    """Five records of two volunteers, one with a blank hours cell."""
    a, b = numbers

    def row(vol: str, day: int, start: str, end: str, hours: str) -> dict[str, str]:
        return {
            "volunteer_number": vol, "division_code": TOWN,
            "organisation_name": "周至县志愿者协会", "service_field": "elderly_care",
            "content": f"敬老院陪伴 {day}",
            "session_start": f"2025-03-{day:02d} {start}",
            "session_end": f"2025-03-{day:02d} {end}", "hours": hours,
            "reason": "纸质登记补录",
        }  # fmt: skip

    return [
        row(a, 1, "09:00", "11:30", "2.5"),
        row(a, 2, "14:00", "16:00", ""),
        row(a, 3, "08:00", "12:00", "3.75"),
        row(b, 1, "09:00", "10:00", "1"),
        row(b, 20, "19:00", "21:15", "2"),
    ]


@pytest.fixture(scope="module")
def world(
    stubs: Any, token: Any, worker: Any, migrated: dict[str, str]
) -> dict[str, Any]:
    """Two verified volunteers of Zhouzhi with five approved records (one
    evaluated, one certificate), a neighbour's and a parent's volunteer."""
    reg = stubs("registration")
    owner = token(COUNTY)
    mine = [verified_volunteer(reg, owner, home=TOWN, name=n) for n in ("周一", "周二")]
    neighbour = verified_volunteer(reg, token(NEIGHBOUR), home=N_TOWN)
    parent = verified_volunteer(reg, token(PARENT), home=P_TOWN)
    cfg = load()
    hours_db, reg_db = (
        Database(cfg.service("hours")),
        Database(cfg.service("registration")),
    )
    try:
        report = bulk.import_rows(
            hours_db, Scope(COUNTY), rows([v.volunteer_number for v in mine]),
            source=str(uuid.uuid4()),
            volunteers=lambda scope, numbers: reg_bulk.lookup(reg_db, scope, numbers),
        )  # fmt: skip
    finally:
        hours_db.dispose()
        reg_db.dispose()
    assert (report.imported, report.rejected) == (5, 0), report.errors
    hours = stubs("hours")
    records = hours.ListRecords(
        hpb.ListRecordsRequest(volunteer_id=mine[0].id), metadata=auth(owner)
    ).records
    hours.EvaluateRecord(
        hpb.EvaluateRecordRequest(record_id=records[0].id, score="4", comment="认真"),
        metadata=auth(owner),
    )
    cert = hours.IssueCertificate(
        hpb.IssueCertificateRequest(
            volunteer_id=mine[0].id, division_code=COUNTY,
            issuer_name="周至县志愿者协会", person_in_charge="王建国",
            handler="李经办", contact="029-88886666",
        ),
        metadata=auth(owner),
    ).certificate  # fmt: skip
    act = stubs("activity")
    # Activity learns volunteers from registration's events (the worker).
    Kit(reg, act, token, migrated).replicated(
        "volunteers", [mine[0].id], status="verified"
    )
    course = act.CreateCourse(
        apb.CreateCourseRequest(division_code=COUNTY, title="应急救护培训"),
        metadata=auth(owner),
    ).course
    now = datetime.now(UTC).replace(microsecond=0)
    session = act.CreateTrainingSession(
        apb.CreateTrainingSessionRequest(
            course_id=course.id, division_code=TOWN, place="二曲街道社区服务中心",
            starts_at=(now - timedelta(hours=26)).isoformat(),
            ends_at=(now - timedelta(hours=24)).isoformat(),
        ),
        metadata=auth(owner),
    ).session  # fmt: skip
    act.RecordTrainingAttendance(
        apb.RecordTrainingAttendanceRequest(
            training_session_id=session.id, volunteer_id=mine[0].id
        ),
        metadata=auth(owner),
    )
    return dict(owner=owner, mine=mine, neighbour=neighbour, parent=parent,
                evaluated=records[0].id, certificate=cert.number)  # fmt: skip


@pytest.fixture(scope="module")
def client(apis: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


@pytest.fixture
def second() -> Iterator[Database]:
    """A fresh hours database: the platform the records move to."""
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_records")
    one = type(svc)(**{**svc.__dict__, "database_url": url, "database_pool_size": 2})
    db = Database(one)
    try:
        yield db
    finally:
        db.dispose()
        drop_database(url)


def export(client: TestClient, tok: str, **params: str) -> str:
    got = client.get("/api/v1/records/export", params=params,
                     headers={"Authorization": f"Bearer {tok}"})  # fmt: skip
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/jsonl")
    return got.text


def remote(scope: str = COUNTY) -> Remote:
    """The services' import RPCs (training, awards) as the county's office."""
    tok, _ = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan").issue(
        subject="records-test", username="records-test", scope_code=scope,
        roles=["tenant_admin"], ttl=600,
    )  # fmt: skip

    def call(service: str, method: str, message: Any) -> Any:
        with grpc.insecure_channel(load().service(service).grpc_address) as channel:
            stub = protos.stub(service, channel)
            return getattr(stub, method)(message, metadata=auth(tok))

    return Remote(call)


def into(db: Database, lines: list[str], source: str = "file-1") -> Any:
    reg = Database(load().service("registration"))
    cipher = pii_cipher(load())
    try:
        return import_records(
            db, Scope(COUNTY), lines, source=source,
            volunteers=lambda scope, numbers: reg_bulk.lookup(reg, scope, numbers),
            identities=lambda scope, ids: by_id_number(reg, cipher, scope, ids),
            registry=Directory(reg), remote=remote(),
        )  # fmt: skip
    finally:
        reg.dispose()


def snapshot(db: Database, scope: str = COUNTY) -> list[tuple[Any, ...]]:
    with db.session(Scope(scope)) as s:
        got = s.execute(
            select(HourRecord).order_by(
                HourRecord.volunteer_number, HourRecord.started_at
            )
        ).scalars()
        return [tuple(getattr(r, c) for c in COMPARED) for r in got]  # fmt: skip


def test_a_volunteers_export_carries_every_section(
    client: TestClient, world: dict[str, Any]
) -> None:
    vol = world["mine"][0]
    head, lines = fmt.decode(export(client, world["owner"], volunteer_id=vol.id)
                             .splitlines())  # fmt: skip
    assert (head["format"], head["version"], head["scope"]) == (fmt.FORMAT, 1, COUNTY)
    assert len(lines) == 1 and lines[0].problems == []
    v = lines[0].volunteer
    assert v["basic"]["name"] == "周一"  # the full name, as for a certificate
    assert v["basic"]["id_number_masked"] is True and "*" in v["basic"]["id_number"]
    assert v["basic"]["volunteer_number"] == vol.volunteer_number
    assert v["basic"]["home_division_code"] == TOWN
    assert v["basic"]["national_volunteer_number"] == ""
    assert [s["content"] for s in v["services"]] == [
        "敬老院陪伴 1",
        "敬老院陪伴 2",
        "敬老院陪伴 3",
    ]
    assert [s["effective_hours"] for s in v["services"]] == [2.5, 2.0, 3.75]
    by_id = {s["record_id"]: s for s in v["services"]}
    rated = by_id[world["evaluated"]]
    assert (rated["evaluation_score"], rated["evaluation_comment"]) == (4, "认真")
    assert sum(s["evaluation_score"] is None for s in v["services"]) == 2
    first = v["services"][0]
    assert first["status"] == "approved" and first["recorder"]
    assert first["service_date"] == "2025-03-01" and first["place"] == "二曲街道"
    assert [(t["course_title"], t["hours"]) for t in v["training"]] == [
        ("应急救护培训", 2.0)
    ]
    assert [c["number"] for c in v["certificates"]] == [world["certificate"]]
    assert v["certificates"][0]["hours"] == 8.25


def test_round_trip_into_a_second_database_reproduces_every_record(
    client: TestClient, world: dict[str, Any], second: Database
) -> None:
    text = export(client, world["owner"], **{"from": "2025-01-01", "to": "2025-12-31"})
    head, lines = fmt.decode(text.splitlines())
    assert head["period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    assert sorted(len(line.volunteer["services"]) for line in lines) == [2, 3]
    report = into(second, text.splitlines())
    assert report.problems == [] and (report.imported, report.rejected) == (5, 0)
    source = Database(load().service("hours"))
    try:
        # The suite's other tests keep records in the same county: compare
        # this world's volunteers' records of the exported year.
        numbers = {line.volunteer["basic"]["volunteer_number"] for line in lines}
        number, day = COMPARED.index("volunteer_number"), COMPARED.index("service_day")
        want = [
            r for r in snapshot(source)
            if r[number] in numbers and str(r[day]).startswith("2025-")
        ]  # fmt: skip
    finally:
        source.dispose()
    got = snapshot(second)
    assert len(got) == 5 and len(numbers) == 2
    for mine, theirs in zip(got, want, strict=True):
        for name, a, b in zip(COMPARED, mine, theirs, strict=True):
            assert a == b, (name, a, b)
    assert all(isinstance(r[COMPARED.index("hours")], Decimal) for r in got)


def test_the_same_file_twice_imports_nothing_twice(
    client: TestClient, world: dict[str, Any], second: Database
) -> None:
    text = export(client, world["owner"], **{"from": "2025-01-01", "to": "2025-12-31"})
    first = into(second, text.splitlines())
    again = into(second, text.splitlines())
    assert (first.imported, again.imported, again.duplicates) == (5, 0, 5)
    # Another file (a different digest) with the same records: the same
    # sessions on file are duplicates too.
    other = into(second, text.splitlines(), source="file-2")
    assert (other.imported, other.duplicates) == (0, 5)
    assert len(snapshot(second)) == 5


def test_bad_lines_and_fields_are_reported_by_line_and_field(
    client: TestClient, world: dict[str, Any], second: Database
) -> None:
    text = export(client, world["owner"], volunteer_id=world["mine"][0].id)
    head, good = text.splitlines()
    bad = json.loads(good)
    bad["services"][0]["started_at"] = "yesterday"
    unknown = json.loads(good)
    unknown["services"][1]["service_field"] = "juggling"  # the pipeline's rule
    lines = [head, '{"type": "volunteer", "basic"', json.dumps(bad),
             json.dumps(unknown, ensure_ascii=False)]  # fmt: skip
    report = into(second, lines)
    found = {(p.line, p.field, p.rule) for p in report.problems}
    assert found == {
        (2, "line", "line.json"),
        (3, "services[0].started_at", "started_at.time"),
        (4, "services[1].service_field", "service_field.known"),
    }, report.problems
    assert all(p.message_zh and p.message_en for p in report.problems)
    # Line 4's other two records were good and are kept; nothing of 2 or 3.
    assert report.imported == 2 and len(snapshot(second)) == 2


def test_a_full_id_number_finds_the_volunteer_here(
    stubs: Any, token: Any, second: Database
) -> None:
    """A file from another platform carries the full ID number and its own
    volunteer number: the volunteer registered here is found by the number."""
    ident = new_id_number(COUNTY)
    reg = stubs("registration")
    owner = token(COUNTY)
    from zhiyuan.registration.v1 import registration_pb2 as rpb

    vol = reg.RegisterVolunteer(rpb.RegisterVolunteerRequest(
        name="周三", id_number=ident, phone=new_phone(), home_division_code=TOWN,
        service_fields=["elderly_care"]), metadata=auth(owner)).volunteer  # fmt: skip
    reg.VerifyVolunteer(rpb.VerifyVolunteerRequest(id=vol.id), metadata=auth(owner))
    record = {
        "record_id": "elsewhere-1", "activity_name": "社区清洁",
        "organisation_name": "外省平台协会", "division_code": TOWN, "place": "",
        "service_date": "2025-04-01", "started_at": "2025-04-01T09:00:00+08:00",
        "ended_at": "2025-04-01T11:00:00+08:00", "recipients": [],
        "content": "社区清洁", "service_field": "environment", "hours": 2,
        "effective_hours": 2, "recorder": "other-platform", "status": "approved",
    }  # fmt: skip
    line: dict[str, Any] = {"basic": {
        "name": "周三", "id_type": "resident_id", "id_number": ident,
        "id_number_masked": False, "volunteer_number": "ZY990000000001",
        "home_division_code": TOWN}, "services": [record]}  # fmt: skip
    head = fmt.header(COUNTY, datetime.now(UTC), 1, issuer="other-platform")
    report = into(second, fmt.encode(head, [line]).splitlines())
    assert (report.imported, report.problems) == (1, [])
    assert [r[1] for r in snapshot(second)] == [vol.volunteer_number]
    # An ID number of no one here is reported on its line, nothing written.
    line["basic"]["id_number"] = new_id_number(COUNTY)
    record["record_id"] = "elsewhere-2"
    report = into(second, fmt.encode(head, [line]).splitlines())
    assert [(p.line, p.field, p.rule) for p in report.problems] == [
        (2, "basic.id_number", "volunteer.known")
    ]
    assert report.imported == 0 and len(snapshot(second)) == 1


def test_export_refuses_a_volunteer_outside_the_scope_as_a_missing_one(
    client: TestClient, world: dict[str, Any]
) -> None:
    """A neighbour's volunteer, a parent's and an id of no one get the same
    answer (no oracle), a refusal carrying none of their data."""
    answers = {}
    owner = {"Authorization": f"Bearer {world['owner']}"}
    for who in ("neighbour", "parent", "nobody"):
        vid = str(uuid.uuid4()) if who == "nobody" else world[who].id
        got = client.get("/api/v1/records/export", params={"volunteer_id": vid},
                         headers=owner)  # fmt: skip
        assert got.status_code == 404, (who, got.text)
        body = got.json()["error"]
        answers[who] = (body["code"], body.get("field"), body.get("rule"))
        assert "jsonl" not in got.headers["content-type"]
        if who != "nobody":
            assert world[who].volunteer_number not in got.text
    assert answers["neighbour"] == answers["parent"] == answers["nobody"], answers


def test_a_neighbours_period_export_holds_none_of_ours(
    client: TestClient, world: dict[str, Any], token: Any
) -> None:
    text = export(
        client, token(NEIGHBOUR), **{"from": "2025-01-01", "to": "2025-12-31"}
    )
    _, lines = fmt.decode(text.splitlines())
    numbers = {line.volunteer["basic"]["volunteer_number"] for line in lines}
    assert not numbers & {v.volunteer_number for v in world["mine"]}


def test_an_import_naming_divisions_outside_the_scope_writes_nothing(
    client: TestClient, world: dict[str, Any], token: Any, second: Database
) -> None:
    text = export(client, world["owner"], **{"from": "2025-01-01", "to": "2025-12-31"})
    # Through the route, as the neighbour: refused whole, 403.
    neighbour = {"Authorization": f"Bearer {token(NEIGHBOUR)}"}
    got = client.post("/api/v1/records/import", content=text.encode(),
                      headers=neighbour)  # fmt: skip
    assert got.status_code == 403, got.text
    body = ok(got, 403)["error"]
    assert body["rule"] == "scope.contains", body
    assert (
        body["field"] == "basic.home_division_code" and "第 2 行" in body["message_zh"]
    )
    # Directly, into the second database as the neighbour: nothing written.
    reg = Database(load().service("registration"))
    try:
        with pytest.raises(PermissionDenied) as err:
            import_records(
                second, Scope(NEIGHBOUR), text.splitlines(), source="x",
                volunteers=lambda s, n: reg_bulk.lookup(reg, s, n),
            )  # fmt: skip
    finally:
        reg.dispose()
    assert err.value.rule == "scope.contains"
    with second.session(Scope("61")) as s:
        assert s.execute(select(func.count()).select_from(HourRecord)).scalar() == 0


def test_the_route_reimports_its_own_export_as_duplicates(
    client: TestClient, world: dict[str, Any]
) -> None:
    text = export(client, world["owner"], volunteer_id=world["mine"][1].id)
    owner = {"Authorization": f"Bearer {world['owner']}"}
    got = client.post("/api/v1/records/import", content=text.encode(),
                      headers=owner)  # fmt: skip
    body = ok(got)
    assert (body["records"], body["imported"], body["duplicates"]) == (2, 0, 2)


def test_a_file_of_another_format_is_refused_naming_the_field(
    second: Database,
) -> None:
    with pytest.raises(InvalidArgument) as err:
        into(second, ['{"format": "csv"}'])
    assert (err.value.field, err.value.rule) == ("format", "format.name")


def test_the_cli_exports_through_the_apis_and_reimports_as_duplicates(
    world: dict[str, Any], migrated: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "v.jsonl"
    vol = world["mine"][1]
    as_owner = ("--scope", COUNTY, "--role", "tenant_admin")
    done = zhiyuan(migrated, "records", "export", "--volunteer-id", vol.id,
                   *as_owner, "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    _, lines = fmt.decode(out.read_text(encoding="utf-8").splitlines())
    assert [line.volunteer["basic"]["volunteer_number"] for line in lines] == [
        vol.volunteer_number
    ]
    again = zhiyuan(migrated, "records", "import", str(out), "--scope", COUNTY)
    assert again.returncode == 0, again.stderr
    assert "imported 0 · duplicates 2" in again.stdout, again.stdout
    refused = zhiyuan(migrated, "records", "export", "--volunteer-id", vol.id,
                      "--scope", NEIGHBOUR, "--role", "tenant_admin")  # fmt: skip
    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    assert vol.volunteer_number not in refused.stdout
