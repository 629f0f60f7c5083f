"""Service positions (志愿服务阵地, issue 14) through the api roles on
PostgreSQL: registration's registry (create, get, list by kind, update) and
its Summarize counts by kind, which equal a GROUP BY of the positions table
at every level asked; hour records that name a position, and hours'
``position_hours``, which equals the raw sum of the approved hours served at
positions (corrections included); and a project that names a position."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as pb

from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration

PROVINCE, CITY, COUNTY, TOWN, TOWN2 = "61", "6101", "610113", "610113002", "610113003"
NEIGHBOUR, N_TOWN = "610116", "610116001"
KINDS = ("guidance_centre", "street_centre", "station", "base")
PB_KIND = {
    "guidance_centre": pb.POSITION_KIND_GUIDANCE_CENTRE,
    "street_centre": pb.POSITION_KIND_STREET_CENTRE,
    "station": pb.POSITION_KIND_STATION,
    "base": pb.POSITION_KIND_BASE,
}


@pytest.fixture(scope="module")
def engines(migrated) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The owner's connections to registration's and hours' databases (the
    raw facts the rollups are compared with)."""
    made = {
        name: create_engine(
            os.environ[f"{name.upper()}_DATABASE_URL"], pool_size=1, max_overflow=0
        )
        for name in ("registration", "hours")
    }
    yield made
    for engine in made.values():
        engine.dispose()


def create(stub: Any, tok: str, **fields: Any) -> pb.Position:
    return stub.CreatePosition(
        pb.CreatePositionRequest(**fields), metadata=auth(tok)
    ).position


def listed(stub: Any, tok: str, **fields: Any) -> list[pb.Position]:
    out: list[pb.Position] = []
    token = ""
    while True:
        page = stub.ListPositions(
            pb.ListPositionsRequest(
                page=common.PageRequest(page_size=3, page_token=token), **fields
            ),
            metadata=auth(tok),
        )
        out += list(page.positions)
        token = page.page.next_page_token
        if not token:
            return out


def summary(stub: Any, tok: str, node: str, group_by: int = 0) -> Any:
    q = common.RollupQuery(division_code=node, group_by=group_by)
    return stub.Summarize(pb.SummarizeRequest(query=q), metadata=auth(tok)).rollup


def grouped(engine: Any, node: str, width: int) -> dict[tuple[str, str], float]:
    """Positions under ``node`` counted by (division at ``width``, kind); those
    above that level (at ``node`` itself) under ``""``: in the node's total,
    in no child's row."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT CASE WHEN length(division_code) >= :w"
                " THEN substr(division_code, 1, :w) ELSE '' END, kind, count(*)"
                " FROM positions WHERE division_code LIKE :p GROUP BY 1, 2"
            ),
            {"w": width, "p": node + "%"},
        ).all()
    return {(code, kind): float(n) for code, kind, n in rows}


def test_create_get_list_and_update(stub, token) -> None:  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    centre = create(
        stub, tok, name="雁塔区新时代文明实践中心",
        kind=pb.POSITION_KIND_GUIDANCE_CENTRE, division_code=COUNTY,
        address="雁塔路1号", opening_hours="周一至周五 9:00-17:00",
    )  # fmt: skip
    assert (centre.division_code, centre.division_name) == (COUNTY, "雁塔区")
    assert centre.base_level == pb.BASE_LEVEL_UNSPECIFIED and centre.created_at
    station = create(
        stub, tok, name="曲江第一社区学雷锋志愿服务站", kind=pb.POSITION_KIND_STATION,
        division_code=TOWN,
    )  # fmt: skip
    base = create(
        stub, tok, name="大雁塔文明旅游志愿服务基地", kind=pb.POSITION_KIND_BASE,
        base_level=pb.BASE_LEVEL_DISTRICT, division_code=TOWN,
    )  # fmt: skip
    got = stub.GetPosition(pb.GetPositionRequest(id=base.id), metadata=auth(tok))
    assert got.position == base
    assert got.position.base_level == pb.BASE_LEVEL_DISTRICT
    mine = {p.id for p in listed(stub, tok)}
    assert {centre.id, station.id, base.id} <= mine
    stations = listed(stub, tok, kind=pb.POSITION_KIND_STATION)
    assert station.id in {p.id for p in stations}
    assert {p.kind for p in stations} == {pb.POSITION_KIND_STATION}
    in_town = listed(stub, tok, division_code=TOWN)
    assert {p.division_code for p in in_town} == {TOWN}
    assert centre.id not in {p.id for p in in_town}
    # The county's office moves the station to another street and renames it.
    moved = stub.UpdatePosition(
        pb.UpdatePositionRequest(
            id=station.id, name="小寨社区学雷锋志愿服务站",
            kind=pb.POSITION_KIND_STATION, division_code=TOWN2, address="小寨东路",
            opening_hours="每日 8:30-20:00",
        ),
        metadata=auth(tok),
    ).position  # fmt: skip
    assert (moved.name, moved.division_code, moved.address) == (
        "小寨社区学雷锋志愿服务站", TOWN2, "小寨东路",
    )  # fmt: skip
    assert moved.created_at == station.created_at
    assert moved.updated_at >= station.updated_at
    again = stub.GetPosition(pb.GetPositionRequest(id=station.id), metadata=auth(tok))
    assert again.position == moved
    # A neighbour county lists none of them.
    theirs = {p.id for p in listed(stub, token(NEIGHBOUR))}
    assert not theirs & {centre.id, station.id, base.id}


def test_summarize_counts_equal_a_group_by(stub, token, engines) -> None:  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    made = [
        create(stub, tok, name=f"统计站{i}", kind=pb.POSITION_KIND_STATION,
               division_code=TOWN if i % 2 else TOWN2)
        for i in range(4)
    ]  # fmt: skip
    create(stub, tok, name="统计街道中心", kind=pb.POSITION_KIND_STREET_CENTRE,
           division_code=TOWN)  # fmt: skip
    create(stub, token(NEIGHBOUR), name="长安统计站", kind=pb.POSITION_KIND_STATION,
           division_code=N_TOWN)  # fmt: skip
    create(stub, token(CITY), name="西安市统计基地", kind=pb.POSITION_KIND_BASE,
           base_level=pb.BASE_LEVEL_CITY, division_code=CITY)  # fmt: skip
    # A change of kind and of division moves the count.
    stub.UpdatePosition(
        pb.UpdatePositionRequest(
            id=made[0].id, name="统计基地（原站）", kind=pb.POSITION_KIND_BASE,
            base_level=pb.BASE_LEVEL_DISTRICT, division_code=TOWN2,
        ),
        metadata=auth(tok),
    )  # fmt: skip
    prov = token(PROVINCE, "province_admin")
    for node in (PROVINCE, CITY, COUNTY):
        rollup = summary(stub, prov, node)
        width = {2: 4, 4: 6, 6: 9}[len(node)]
        raw = grouped(engines["registration"], node, width)
        for kind in KINDS:
            metric = f"positions_{kind}"
            assert metric in rollup.metric_names
            total = sum(n for (_, k), n in raw.items() if k == kind)
            assert rollup.total.metrics[metric] == total, (node, kind)
            rows = {r.division.code: r.metrics[metric] for r in rollup.rows}
            for (code, k), n in raw.items():
                if k == kind and code:
                    assert rows.get(code) == n, (node, code, kind)
            own = raw.get(("", kind), 0.0)
            assert sum(rows.values()) + own == total, (node, kind)
        # The people metrics are still there, beside the positions.
        assert "volunteers_registered" in rollup.metric_names


def _volunteer(stub: Any, tok: str, home: str) -> str:
    vol = stub.RegisterVolunteer(
        pb.RegisterVolunteerRequest(
            name="李志愿", id_number=new_id_number(home[:6]), phone=new_phone(),
            home_division_code=home, service_fields=["elderly_care"],
        ),
        metadata=auth(tok),
    ).volunteer  # fmt: skip
    stub.VerifyVolunteer(pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(tok))
    return str(vol.id)


def _honour(api: Any, tok: str, vol: str, code: str, day: int, **over: Any) -> Any:
    start = (datetime.now(UTC) - timedelta(days=day)).replace(
        hour=1, minute=0, second=0, microsecond=0
    )
    fields: dict[str, Any] = dict(
        volunteer_id=vol, division_code=code, organisation_name="雁塔区志愿者协会",
        service_field="elderly_care", content="敬老院陪护",
        session_start=start.isoformat(),
        session_end=(start + timedelta(hours=3)).isoformat(), hours=2.5,
        reason="纸质签到表补录",
    )  # fmt: skip
    fields.update(over)
    return api.RecordHonourHours(
        hpb.RecordHonourHoursRequest(**fields), metadata=auth(tok)
    ).record


def raw_position_hours(engine: Any, node: str, width: int) -> dict[str, float]:
    """Approved hours served at positions, corrections included, by the
    division at ``width`` under ``node``."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT substr(r.division_code, 1, :w), sum(r.hours"
                " + coalesce((SELECT sum(c.delta_hours) FROM hour_corrections c"
                " WHERE c.record_id = r.id), 0))"
                " FROM hour_records r WHERE r.status = 'approved'"
                " AND r.position_id IS NOT NULL AND r.division_code LIKE :p"
                " GROUP BY 1"
            ),
            {"w": width, "p": node + "%"},
        ).all()
    return {code: float(n) for code, n in rows}


def test_position_hours_equal_the_raw_sum(stub, stubs, token, engines) -> None:  # type: ignore[no-untyped-def]
    hours = stubs("hours")
    tok = token(COUNTY)
    station = create(stub, tok, name="时长统计站", kind=pb.POSITION_KIND_STATION,
                     division_code=TOWN)  # fmt: skip
    centre = create(stub, tok, name="时长统计中心", kind=pb.POSITION_KIND_STREET_CENTRE,
                    division_code=TOWN2)  # fmt: skip
    vol = _volunteer(stub, tok, TOWN)
    at_station = _honour(hours, tok, vol, TOWN, 2, position_id=station.id)
    assert at_station.position_id == station.id
    at_centre = _honour(hours, tok, vol, TOWN2, 3, position_id=centre.id, hours=1.5)
    amended = _honour(hours, tok, vol, TOWN, 4, position_id=station.id, hours=2)
    reversed_ = _honour(hours, tok, vol, TOWN2, 5, position_id=centre.id, hours=1)
    nowhere = _honour(hours, tok, vol, TOWN, 6)  # no position: not counted there
    pending = _honour(hours, tok, vol, TOWN, 7, position_id=station.id)
    assert nowhere.position_id == "" and pending.position_id == station.id
    for rec in (at_station, at_centre, amended, reversed_, nowhere):
        hours.ApproveRecord(hpb.ApproveRecordRequest(id=rec.id), metadata=auth(tok))
    hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=amended.id, new_hours=1.25, reason="复核"),
        metadata=auth(tok),
    )
    hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=reversed_.id, reverse=True, reason="重复"),
        metadata=auth(tok),
    )
    got = hours.GetRecord(hpb.GetRecordRequest(id=at_centre.id), metadata=auth(tok))
    assert got.record.position_id == centre.id
    prov = token(PROVINCE, "province_admin")
    for node in (PROVINCE, CITY, COUNTY):
        q = common.RollupQuery(division_code=node)
        rollup = hours.Summarize(
            hpb.SummarizeRequest(query=q), metadata=auth(prov)
        ).rollup
        assert "position_hours" in rollup.metric_names
        assert "hours" in rollup.metric_names
        raw = raw_position_hours(engines["hours"], node, {2: 4, 4: 6, 6: 9}[len(node)])
        assert rollup.total.metrics["position_hours"] == pytest.approx(
            sum(raw.values())
        )
        rows = {r.division.code: r.metrics["position_hours"] for r in rollup.rows}
        for code, n in raw.items():
            assert rows.get(code) == pytest.approx(n), (node, code)
    # Under the county: 2.5 + 1.5 + 1.25 (the reversed hour gone), by street.
    county = raw_position_hours(engines["hours"], COUNTY, 9)
    assert county == {TOWN: 3.75, TOWN2: 1.5}


def test_a_project_names_a_position_of_the_callers_subtree(  # type: ignore[no-untyped-def]
    stub, stubs, token, worker, migrated
) -> None:
    from zhiyuan.activity.v1 import activity_pb2 as apb

    from tests.integration.test_activity_flow import Kit, editable

    kit = Kit(stub, stubs("activity"), token, migrated)
    tok = token(COUNTY)
    org = kit.org(COUNTY)
    station = create(stub, tok, name="项目服务站", kind=pb.POSITION_KIND_STATION,
                     division_code=TOWN)  # fmt: skip
    centre = create(
        stub, tok, name="项目指导中心", kind=pb.POSITION_KIND_GUIDANCE_CENTRE,
        division_code=COUNTY,
    )  # fmt: skip
    activity = stubs("activity")
    req = kit.request(org)
    req.position_id = station.id
    made = activity.CreateProject(req, metadata=auth(tok)).project
    assert made.position_id == station.id
    fields = editable(req)
    fields["position_id"] = centre.id
    moved = activity.UpdateProject(
        apb.UpdateProjectRequest(id=made.id, **fields), metadata=auth(tok)
    ).project
    assert moved.position_id == centre.id
    got = activity.GetProject(apb.GetProjectRequest(id=made.id), metadata=auth(tok))
    assert got.project.position_id == centre.id
    fields["position_id"] = ""  # the position is optional: "" takes it off
    cleared = activity.UpdateProject(
        apb.UpdateProjectRequest(id=made.id, **fields), metadata=auth(tok)
    ).project
    assert cleared.position_id == ""
