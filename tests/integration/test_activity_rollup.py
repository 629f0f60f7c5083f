"""The rollup invariant on PostgreSQL: at every level (province, city,
county, township) and month, activity's rollup equals the raw facts in the
subtree, counted straight from the tables."""

from __future__ import annotations

import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common

from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, raw_rows, when

pytestmark = pytest.mark.integration
CST = "AT TIME ZONE 'Asia/Shanghai'"
# Each metric: the division and the moment of every raw fact it counts.
FACTS = {
    "projects_published": "SELECT division_code, published_at FROM projects"
    " WHERE published_at IS NOT NULL",
    "sessions": "SELECT s.division_code, s.starts_at FROM sessions s"
    " JOIN projects p ON p.id = s.project_id WHERE p.published_at IS NOT NULL",
    "signups": "SELECT division_code, created_at FROM sign_ups",
    "attendances": "SELECT division_code, checked_out_at FROM attendances"
    " WHERE checked_out_at IS NOT NULL",
    "recipients": "SELECT division_code, created_at FROM recipients",
    "pairs": "SELECT division_code, created_at FROM pairs",
    "visits": "SELECT division_code, started_at FROM visits",
}
LEVELS = {
    common.DIVISION_LEVEL_CITY: 4,
    common.DIVISION_LEVEL_COUNTY: 6,
    common.DIVISION_LEVEL_TOWNSHIP: 9,
}


@pytest.fixture(scope="module")
def facts(stub, stubs, token, worker, migrated) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """Facts at a township, a county and a city, then every raw fact."""
    kit = Kit(stub, stubs("activity"), token, migrated)
    town, county, city = kit.org("610113002"), kit.org("610116"), kit.org("6101")
    vols = kit.volunteers("610113002", 2)
    for org in (town, county, city):
        code = org.division_code
        p = kit.started(org, emergency=len(code) == 4, service_field="elderly_care")
        leader = auth(kit.publisher(code))
        for vol in vols:
            kit.sign_up(p.sessions[0].id, vol.id, kit.token("61", "province_admin"))
        ref = {"session_id": p.sessions[0].id, "volunteer_id": vols[0].id}
        kit.act.CheckIn(pb.CheckInRequest(**ref), metadata=leader)
        kit.act.CheckOut(pb.CheckOutRequest(**ref), metadata=leader)
        kit.published(org)
        kit.draft(org)  # never published: counted nowhere
    md = auth(kit.publisher(town))
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code="610113002",
            name="刘大娘",
            address="陕西省西安市雁塔区小寨路社区",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE,
            consent=True,
        ),
        metadata=md,
    ).recipient
    pair = kit.act.CreatePair(
        pb.CreatePairRequest(
            recipient_id=rec.id, volunteer_id=vols[0].id, organisation_id=town.id
        ),
        metadata=md,
    ).pair
    kit.act.LogVisit(
        pb.LogVisitRequest(pair_id=pair.id, started_at=when(-60), ended_at=when(-5)),
        metadata=md,
    )
    return {
        metric: [
            (code, month)
            for code, month in raw_rows(
                migrated,
                f"SELECT division_code, to_char(at {CST}, 'YYYY-MM') FROM ({sql}) f(division_code, at)",  # noqa: E501
            )
        ]
        for metric, sql in FACTS.items()
    }


def summarize(stubs, token, **query) -> common.Rollup:  # type: ignore[no-untyped-def]
    return (
        stubs("activity")
        .Summarize(
            pb.SummarizeRequest(query=common.RollupQuery(**query)),
            metadata=auth(token("61", "province_admin")),
        )
        .rollup
    )


@pytest.mark.parametrize("level", list(LEVELS), ids=["city", "county", "township"])
def test_rollup_rows_equal_the_raw_facts(stubs, token, facts, level) -> None:  # type: ignore[no-untyped-def]
    width = LEVELS[level]
    rollup = summarize(stubs, token, division_code="61", group_by=level)
    rows = {r.division.code: dict(r.metrics) for r in rollup.rows}
    assert all(len(code) == width for code in rows)
    for metric, raw in facts.items():
        below = [
            code for code, _ in raw if code.startswith("61") and len(code) >= width
        ]
        # Every division with facts has a row, and every row counts exactly them.
        assert {c[:width] for c in below} <= set(rows), metric
        for code, metrics in rows.items():
            expected = sum(c.startswith(code) for c in below)
            assert metrics[metric] == expected, (metric, code)
    # Not vacuous: the township's facts above are counted at this level.
    assert rows["610113002"[:width]]["attendances"] >= 1
    assert rows["610113002"[:width]]["visits"] >= 1


def test_province_total_and_months_equal_the_raw_facts(stubs, token, facts) -> None:  # type: ignore[no-untyped-def]
    total = summarize(stubs, token, division_code="61").total.metrics
    for metric, raw in facts.items():
        assert total[metric] == sum(c.startswith("61") for c, _ in raw), metric
    monthly = summarize(stubs, token, division_code="61", by_month=True)
    cells = {(r.division.code, r.month): dict(r.metrics) for r in monthly.rows}
    for metric, raw in facts.items():
        for (code, month), metrics in cells.items():
            expected = sum(c.startswith(code) and m == month for c, m in raw)
            assert metrics[metric] == expected, (metric, code, month)


def test_a_county_reads_only_its_own_rollup(stubs, token, facts) -> None:  # type: ignore[no-untyped-def]
    got = (
        stubs("activity")
        .Summarize(
            pb.SummarizeRequest(query=common.RollupQuery(division_code="610113")),
            metadata=auth(token("610113")),
        )
        .rollup
    )
    assert got.total.division.code == "610113"
    assert all(r.division.code.startswith("610113") for r in got.rows)
    expected = sum(c.startswith("610113") for c, _ in facts["signups"])
    assert got.total.metrics["signups"] == expected >= 2
