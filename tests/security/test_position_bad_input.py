"""Bad input to the service position RPCs (issue 14) and to a position named
by an hour record or a project: each refusal names the field and the rule,
says why in Chinese, and writes nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as pb

from tests.helpers import assert_field, auth, new_id_number, new_phone, rejected

# An id that names no position (fixed, so every pytest-xdist worker collects
# the same test ids).
UNKNOWN = "3f6b9c1e-8d2a-4e7b-a5c0-9e1d2f3a4b5c"
pytestmark = pytest.mark.integration

COUNTY, TOWN, OTHER = "610113", "610113004", "610116"
STATION = pb.POSITION_KIND_STATION


@pytest.fixture(scope="module")
def engines(migrated) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    made = {
        name: create_engine(
            os.environ[f"{name.upper()}_DATABASE_URL"], pool_size=1, max_overflow=0
        )
        for name in ("registration", "hours", "activity")
    }
    yield made
    for engine in made.values():
        engine.dispose()


def state(engines: dict[str, Any]) -> tuple[Any, ...]:
    """Every position and positions rollup cell, and the hour records."""
    out: list[Any] = []
    for name, sql in (
        ("registration", "SELECT id, name, kind, division_code, address,"
         " opening_hours, updated_at FROM positions ORDER BY id"),
        ("registration", "SELECT * FROM registration_position_rollup"
         " ORDER BY level, division_code, period"),
        ("hours", "SELECT id FROM hour_records ORDER BY id"),
        ("hours", "SELECT * FROM hours_position_rollup"
         " ORDER BY level, division_code, period"),
    ):  # fmt: skip
        with engines[name].connect() as conn:
            out.append(tuple(tuple(r) for r in conn.execute(text(sql))))
    return tuple(out)


def _create(stub: Any, tok: str, **over: Any) -> Any:
    fields: dict[str, Any] = dict(
        name=f"测试服务站-{uuid.uuid4().hex[:6]}", kind=STATION, division_code=TOWN,
        address="测试路1号", opening_hours="每日 9:00-17:00",
    )  # fmt: skip
    fields.update(over)
    return stub.CreatePosition(pb.CreatePositionRequest(**fields), metadata=auth(tok))


FULL_WIDTH = "６１０１１３００４"
CASES = [
    # (fields, field named, rule)
    (dict(name=""), "name", "name.required"),
    (dict(name="   "), "name", "name.required"),
    (dict(name="曲江\r服务站"), "name", "name.characters"),  # a bare CR
    (dict(name="曲江\u200b服务站"), "name", "name.characters"),  # zero-width
    (dict(name="站" * 101), "name", "name.max_length"),
    (dict(kind=0), "kind", "kind.known"),
    (dict(kind=99), "kind", "kind.known"),
    (dict(base_level=pb.BASE_LEVEL_CITY), "base_level", "base_level.only_bases"),
    (dict(kind=pb.POSITION_KIND_BASE), "base_level", "base_level.required"),
    (dict(kind=pb.POSITION_KIND_BASE, base_level=9), "base_level", "base_level.known"),
    (dict(division_code=""), "division_code", "division_code.required"),
    (dict(division_code=FULL_WIDTH), "division_code", "division_code.format"),
    (dict(division_code="61011300a"), "division_code", "division_code.format"),
    (dict(division_code="6101130"), "division_code", "division_code.width"),
    (dict(division_code=COUNTY), "division_code", "division_code.kind_level"),
    (
        dict(kind=pb.POSITION_KIND_GUIDANCE_CENTRE),
        "division_code",
        "division_code.kind_level",
    ),
    (
        dict(kind=pb.POSITION_KIND_STREET_CENTRE, division_code=f"{TOWN}001"),
        "division_code",
        "division_code.kind_level",
    ),
    (
        dict(
            kind=pb.POSITION_KIND_BASE,
            base_level=pb.BASE_LEVEL_PROVINCE,
            division_code=TOWN,
        ),
        None,  # allowed: a provincial base may lie in a township
        None,
    ),
    (dict(address="雁塔路\r1号"), "address", "address.characters"),
    (dict(address="路" * 201), "address", "address.max_length"),
    (dict(opening_hours="9:00\n17:00"), "opening_hours", "opening_hours.characters"),
]


@pytest.mark.parametrize(("over", "field", "rule"), CASES)
def test_bad_position_fields_are_refused_naming_them(  # type: ignore[no-untyped-def]
    stub, token, engines, over, field, rule
):
    tok = token(COUNTY)
    if field is None:  # the control case: the same request shape is accepted
        got = _create(stub, tok, **over).position
        assert got.base_level == pb.BASE_LEVEL_PROVINCE
        return
    before = state(engines)
    trailers = rejected(lambda: _create(stub, tok, **over))
    assert_field(trailers, field, rule)
    assert state(engines) == before
    # The same fields refused by UpdatePosition, the position unchanged.
    own = _create(stub, tok).position
    before = state(engines)
    update = dict(
        id=own.id, name=own.name, kind=own.kind, division_code=own.division_code
    )
    update.update(over)
    trailers = rejected(
        lambda: stub.UpdatePosition(
            pb.UpdatePositionRequest(**update), metadata=auth(tok)
        )
    )
    assert_field(trailers, field, rule)
    assert state(engines) == before


def test_a_district_base_at_a_city_is_refused(stub, token, engines) -> None:  # type: ignore[no-untyped-def]
    before = state(engines)
    trailers = rejected(
        lambda: _create(
            stub, token("6101"), kind=pb.POSITION_KIND_BASE,
            base_level=pb.BASE_LEVEL_DISTRICT, division_code="6101",
        )
    )  # fmt: skip
    assert_field(trailers, "division_code", "division_code.base_level")
    assert state(engines) == before


@pytest.mark.parametrize("code", [OTHER, "610116001", "6101", "61"])
def test_a_division_outside_the_scope_is_refused(stub, token, engines, code) -> None:  # type: ignore[no-untyped-def]
    before = state(engines)
    kind = pb.POSITION_KIND_BASE
    trailers = rejected(
        lambda: _create(
            stub, token(COUNTY), kind=kind, base_level=pb.BASE_LEVEL_NATIONAL,
            division_code=code,
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )  # fmt: skip
    assert_field(trailers, "division_code", "scope.contains")
    assert state(engines) == before


def test_a_division_in_no_tree_is_not_found(stub, token, engines) -> None:  # type: ignore[no-untyped-def]
    # Other tests create townships under 610113: take a code none holds now.
    with engines["registration"].connect() as conn:
        held = set(
            conn.execute(
                text("SELECT code FROM divisions WHERE code LIKE '6101139%'")
            ).scalars()
        )
    free = next(
        c for c in (f"6101139{n:02d}" for n in range(98, 0, -1)) if c not in held
    )
    before = state(engines)
    trailers = rejected(
        lambda: _create(stub, token(COUNTY), division_code=free),
        grpc.StatusCode.NOT_FOUND,
    )
    assert_field(trailers, "division_code", "division_code.exists")
    assert state(engines) == before


def test_a_duplicate_name_in_the_division_is_refused(stub, token, engines) -> None:  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    first = _create(stub, tok).position
    before = state(engines)
    trailers = rejected(
        lambda: _create(stub, tok, name=first.name), grpc.StatusCode.ALREADY_EXISTS
    )
    assert_field(trailers, "name", None)
    assert state(engines) == before
    # Renaming another position of the division to it is refused alike.
    second = _create(stub, tok).position
    before = state(engines)
    trailers = rejected(
        lambda: stub.UpdatePosition(
            pb.UpdatePositionRequest(
                id=second.id, name=first.name, kind=STATION, division_code=TOWN
            ),
            metadata=auth(tok),
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert_field(trailers, "name", None)
    assert state(engines) == before
    # The same name in another street is another position.
    other = _create(stub, tok, name=first.name, division_code="610113005").position
    assert other.name == first.name and other.id != first.id


@pytest.mark.parametrize(
    ("ident", "code", "rule"),
    [
        ("not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT, "id.format"),
        ("", grpc.StatusCode.INVALID_ARGUMENT, "id.required"),
        (UNKNOWN, grpc.StatusCode.NOT_FOUND, "id.exists"),
    ],
)
def test_a_bad_position_id_is_refused(stub, token, engines, ident, code, rule) -> None:  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    trailers = rejected(
        lambda: stub.GetPosition(pb.GetPositionRequest(id=ident), metadata=auth(tok)),
        code,
    )
    assert_field(trailers, "id", rule)
    before = state(engines)
    trailers = rejected(
        lambda: stub.UpdatePosition(
            pb.UpdatePositionRequest(
                id=ident, name="任意服务站", kind=STATION, division_code=TOWN
            ),
            metadata=auth(tok),
        ),
        code,
    )
    assert_field(trailers, "id", rule)
    assert state(engines) == before


def test_a_bad_list_filter_is_refused(stub, token) -> None:  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    trailers = rejected(
        lambda: stub.ListPositions(pb.ListPositionsRequest(kind=42), metadata=auth(tok))
    )
    assert_field(trailers, "kind", "kind.known")
    trailers = rejected(
        lambda: stub.ListPositions(
            pb.ListPositionsRequest(division_code=FULL_WIDTH), metadata=auth(tok)
        )
    )
    assert_field(trailers, "division_code", "division_code.format")


@pytest.mark.parametrize(
    ("position_id", "code", "rule"),
    [
        ("not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT, "position_id.format"),
        (UNKNOWN, grpc.StatusCode.NOT_FOUND, "position_id.exists"),
        # Full-width digits: refused as a malformed id (the kernel's id
        # check admits ASCII only), not read as the ASCII id they spell.
        (
            "１２３４５６７８-1234-1234-1234-123456789012",
            grpc.StatusCode.INVALID_ARGUMENT,
            "position_id.format",
        ),
        ("站点\r1", grpc.StatusCode.INVALID_ARGUMENT, "position_id.format"),
    ],
)
def test_an_hour_record_naming_a_bad_position_is_refused(  # type: ignore[no-untyped-def]
    stub, stubs, token, engines, position_id, code, rule
):
    tok = token(COUNTY)
    vol = stub.RegisterVolunteer(
        pb.RegisterVolunteerRequest(
            name="李志愿", id_number=new_id_number(COUNTY), phone=new_phone(),
            home_division_code=TOWN, service_fields=["elderly_care"],
        ),
        metadata=auth(tok),
    ).volunteer  # fmt: skip
    stub.VerifyVolunteer(pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(tok))
    start = (datetime.now(UTC) - timedelta(days=2)).replace(hour=1, minute=0)
    before = state(engines)
    trailers = rejected(
        lambda: stubs("hours").RecordHonourHours(
            hpb.RecordHonourHoursRequest(
                volunteer_id=vol.id, division_code=TOWN, organisation_name="协会",
                service_field="elderly_care", content="陪护",
                session_start=start.isoformat(),
                session_end=(start + timedelta(hours=2)).isoformat(), hours=2,
                reason="补录", position_id=position_id,
            ),
            metadata=auth(tok),
        ),
        code,
    )  # fmt: skip
    assert_field(trailers, "position_id", rule)
    assert state(engines) == before


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Any:  # type: ignore[no-untyped-def]
    from tests.integration.test_activity_flow import Kit

    made = Kit(stub, stubs("activity"), token, migrated)
    return made, made.org(COUNTY)


def projects(engines: dict[str, Any]) -> tuple[Any, ...]:
    with engines["activity"].connect() as conn:
        rows = conn.execute(
            text("SELECT id, position_id, updated_at FROM projects ORDER BY id")
        )
        return tuple(tuple(r) for r in rows)


@pytest.mark.parametrize(
    ("position_id", "code", "rule"),
    [
        ("站点-1", grpc.StatusCode.INVALID_ARGUMENT, "position_id.format"),
        (UNKNOWN, grpc.StatusCode.NOT_FOUND, "position_id.exists"),
    ],
)
def test_a_project_naming_a_bad_position_is_refused(  # type: ignore[no-untyped-def]
    stubs, token, engines, kit, position_id, code, rule
):
    from zhiyuan.activity.v1 import activity_pb2 as apb

    from tests.integration.test_activity_flow import editable

    made, org = kit
    activity, tok = stubs("activity"), token(COUNTY)
    req = made.request(org)
    draft = activity.CreateProject(req, metadata=auth(tok)).project
    before = projects(engines)
    req.position_id = position_id
    trailers = rejected(lambda: activity.CreateProject(req, metadata=auth(tok)), code)
    assert_field(trailers, "position_id", rule)
    fields = editable(req)
    trailers = rejected(
        lambda: activity.UpdateProject(
            apb.UpdateProjectRequest(id=draft.id, **fields), metadata=auth(tok)
        ),
        code,
    )
    assert_field(trailers, "position_id", rule)
    assert projects(engines) == before
