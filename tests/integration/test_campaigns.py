"""Special campaigns (专项行动) through the real api roles and workers: the
province publishes 寒冬送温暖; visits, a project's attendance, a drive and a
pickup in three counties of two cities are tagged to it (recycling's reach
activity through its events); the summary at the province, a city and a
county, by child unit and by ISO week, equals a GROUP BY over the raw
tagged facts in activity's own database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.recycling.v1 import recycling_pb2 as ypb

from services.common.testing import wait_for
from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, raw_rows, refused, rule, when
from tests.integration.test_recycling_flow import Rec, resident

pytestmark = pytest.mark.integration
PROVINCE = "61"
TOWNS = ("610113002", "610113001", "610116001", "610402001")
BY = {"child": pb.CAMPAIGN_SUMMARY_BY_CHILD, "week": pb.CAMPAIGN_SUMMARY_BY_WEEK}


def today() -> date:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def publish(kit: Kit, code: str, **over: Any) -> pb.Campaign:
    fields: dict[str, Any] = dict(
        title=f"寒冬送温暖-{uuid.uuid4().hex[:6]}",
        description="为困难群众送去冬衣和关怀",
        starts_on=(today() - timedelta(days=20)).isoformat(),
        ends_on=(today() + timedelta(days=100)).isoformat(),
        target_groups=["dibao", "elderly_alone", "left_behind_children"],
    )
    fields.update(over)
    tok = kit.token(code, "province_admin" if len(code) == 2 else "tenant_admin")
    return kit.act.CreateCampaign(
        pb.CreateCampaignRequest(**fields), metadata=auth(tok)
    ).campaign


def visit(kit: Kit, town: str, vol: Any, campaign_id: str, hours: float = 2) -> Any:
    """A recipient in ``town`` paired with ``vol`` by the county's office."""
    county = town[:6]
    tok = kit.token(county)
    org = kit.orgs.get(county) or kit.org(county)
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code=town, name="赵大爷", address="陕西省某社区1号",
            pairing_mode=pb.PAIRING_MODE_MANY_TO_ONE, needs="冬衣", consent=True,
        ),
        metadata=auth(tok),
    ).recipient  # fmt: skip
    pair = kit.act.CreatePair(
        pb.CreatePairRequest(
            recipient_id=rec.id, volunteer_id=vol.id, organisation_id=org.id
        ),
        metadata=auth(tok),
    ).pair
    return log(kit, pair.id, county, campaign_id, hours)


def log(kit: Kit, pair_id: str, county: str, campaign_id: str, hours: float) -> Any:
    """A visit logged by ``county``'s office (or the province's, for "61")."""
    role = "province_admin" if county == PROVINCE else "tenant_admin"
    return kit.act.LogVisit(
        pb.LogVisitRequest(
            pair_id=pair_id, started_at=when(-60 * hours - 5), ended_at=when(-5),
            note="送去棉被", campaign_id=campaign_id,
        ),
        metadata=auth(kit.token(county, role)),
    ).visit  # fmt: skip


# The raw facts, grouped independently of the service's code: per-fact hours
# truncated to whole seconds and rounded to 0.01, days in China time.
FACTS = """
SELECT division_code AS code, (started_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
       recipient_id AS recipient, volunteer_id AS volunteer,
       round(floor(extract(epoch FROM ended_at - started_at)) / 3600.0, 2) AS hours,
       0 AS items, 0::numeric AS kg, 1 AS visit
  FROM visits WHERE campaign_id = :c
UNION ALL
SELECT a.division_code, (a.checked_in_at AT TIME ZONE 'Asia/Shanghai')::date, NULL,
       a.volunteer_id,
       round(floor(extract(epoch FROM a.checked_out_at - a.checked_in_at)) / 3600.0, 2),
       0, 0, 0
  FROM attendances a JOIN projects p ON p.id = a.project_id
 WHERE p.campaign_id = :c AND a.checked_out_at IS NOT NULL
UNION ALL
SELECT division_code, occurred_on, NULL, NULL, 0, items, kg, 0
  FROM campaign_deliveries WHERE campaign_id = :c
"""


def grouped(kit: Kit, campaign_id: str, node: str, by: str) -> dict[str, tuple]:
    width = {2: 4, 4: 6, 6: 9, 9: 12}[len(node)]
    key = (
        "to_char(day, 'IYYY-\"W\"IW')"
        if by == "week"
        else "CASE WHEN length(code) >= :w THEN substr(code, 1, :w) ELSE :node END"
    )
    sql = (
        f"SELECT {key} AS k, count(DISTINCT recipient), count(DISTINCT volunteer),"  # noqa: S608
        " coalesce(sum(hours), 0), coalesce(sum(items), 0), coalesce(sum(kg), 0),"
        f" coalesce(sum(visit), 0) FROM ({FACTS}) f WHERE code LIKE :node || '%'"
        " GROUP BY 1 ORDER BY 1"
    )
    rows = raw_rows(kit.env, sql, c=campaign_id, node=node, w=width)
    return {
        k: (int(h), int(v), Decimal(hr), int(i), Decimal(kg), int(n))
        for k, h, v, hr, i, kg, n in rows
    }


def answered(kit: Kit, campaign_id: str, node: str, by: str) -> dict[str, tuple]:
    tok = kit.token(node, "province_admin" if len(node) == 2 else "tenant_admin")
    got = kit.act.GetCampaignSummary(
        pb.GetCampaignSummaryRequest(
            campaign_id=campaign_id, division_code=node,
            by=BY[by],
        ),
        metadata=auth(tok),
    )  # fmt: skip
    assert got.division_code == node
    total = got.total
    keys = [r.key for r in got.rows]
    assert keys == sorted(keys)
    out = {
        r.key: (
            r.households, r.volunteers, Decimal(str(r.hours)).quantize(Decimal("0.01")),
            r.items, Decimal(str(r.kg)).quantize(Decimal("0.1")), r.visits,
        )
        for r in got.rows
    }  # fmt: skip
    out[""] = (
        total.households, total.volunteers,
        Decimal(str(total.hours)).quantize(Decimal("0.01")), total.items,
        Decimal(str(total.kg)).quantize(Decimal("0.1")), total.visits,
    )  # fmt: skip
    return out


def expected_total(kit: Kit, campaign_id: str, node: str) -> tuple:
    sql = (
        "SELECT count(DISTINCT recipient), count(DISTINCT volunteer),"  # noqa: S608
        " coalesce(sum(hours), 0), coalesce(sum(items), 0), coalesce(sum(kg), 0),"
        f" coalesce(sum(visit), 0) FROM ({FACTS}) f WHERE code LIKE :node || '%'"
    )
    ((h, v, hr, i, kg, n),) = raw_rows(kit.env, sql, c=campaign_id, node=node)
    return (int(h), int(v), Decimal(hr), int(i), Decimal(kg), int(n))


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


@pytest.fixture(scope="module")
def world(kit: Kit, stubs: Any, token: Any) -> dict[str, Any]:
    """The province's campaign and the tagged (and some untagged) facts."""
    c = publish(kit, PROVINCE)
    other = publish(kit, PROVINCE, title="另一个专项行动")
    vols = {town: kit.volunteers(town, 2) for town in TOWNS}
    a, b = vols["610113002"]
    first = visit(kit, "610113002", a, c.id, 2)
    log(kit, first.pair_id, "610113", c.id, 1.5)  # the same household again
    visit(kit, "610113002", b, c.id, 1)
    visit(kit, "610113001", vols["610113001"][0], c.id, 3)
    visit(kit, "610116001", vols["610116001"][0], c.id, 2.5)
    visit(kit, "610402001", vols["610402001"][0], c.id, 1)
    visit(kit, "610113002", a, "", 4)  # untagged
    visit(kit, "610116001", vols["610116001"][1], other.id, 4)  # another campaign
    # A tagged project of the county: two volunteers attend (one also visits).
    org = kit.orgs["610113"]
    p = kit.published(org)
    kit.act.TagProject(
        pb.TagProjectRequest(project_id=p.id, campaign_id=c.id),
        metadata=auth(kit.token("610113")),
    )
    admin, leader = kit.token("610113"), auth(kit.publisher(org))
    session = p.sessions[0].id
    for vol in (a, vols["610113001"][1]):
        kit.sign_up(session, vol.id, admin)
    kit.act.StartProject(pb.StartProjectRequest(id=p.id), metadata=leader)
    for vol in (a, vols["610113001"][1]):
        kit.act.CheckIn(
            pb.CheckInRequest(session_id=session, volunteer_id=vol.id), metadata=leader
        )
        kit.act.CheckOut(
            pb.CheckOutRequest(session_id=session, volunteer_id=vol.id), metadata=leader
        )
    # Recycling: a tagged drive and a tagged, collected pickup.
    rec = Rec(stubs("recycling"), token)
    county = kit.token("610113")
    drive = rec.drive(
        county, town="610113002", held_on=today().isoformat(), campaign_id=c.id
    )
    assert drive.campaign_id == c.id
    rec.drive(county, town="610113001", held_on=today().isoformat())  # untagged
    n_tok = kit.token("610116")
    booking = rec.book(resident(token, "610116001"), town="610116001").booking
    rec.call(
        "AssignBooking", n_tok, id=booking.id, organisation_name="韦曲街道爱为宝队"
    )
    got = rec.call(
        "CollectBooking", n_tok, id=booking.id, collected_on=today().isoformat(),
        weights=ypb.Weights(textiles_kg=12.5, books_kg=3, other_kg=0.5),
        campaign_id=c.id,
    ).booking  # fmt: skip
    assert got.campaign_id == c.id
    wait_for(
        lambda: (
            raw_rows(
                kit.env,
                "SELECT count(*) FROM campaign_deliveries WHERE campaign_id = :c",
                c=c.id,
            )[0][0]
            == 2
        ),
        timeout=60,
        what="the tagged drive and pickup in activity's campaign facts",
    )
    return {"campaign": c, "other": other, "project": p, "vols": vols}


@pytest.mark.parametrize("by", ["child", "week"])
@pytest.mark.parametrize("node", ["61", "6101", "610113", "610113002"])
def test_summary_equals_group_by_over_the_raw_facts(
    kit: Kit, world: dict[str, Any], node: str, by: str
) -> None:
    cid = world["campaign"].id
    got = answered(kit, cid, node, by)
    expected = grouped(kit, cid, node, by)
    expected[""] = expected_total(kit, cid, node)
    assert got == expected


def test_the_facts_reach_every_level(kit: Kit, world: dict[str, Any]) -> None:
    """Not an empty equality: the province's answer holds what was tagged."""
    got = answered(kit, world["campaign"].id, "61", "child")
    assert set(got) == {"", "6101", "6104"}
    households, volunteers, hours, items, kg, visits = got[""]
    # 5 households (one visited twice); 5 visitors and one attendee who
    # visited no one; the drive's 125 items and the pickup's 16 kg.
    assert (households, volunteers, items, kg, visits) == (
        5, 6, 125, Decimal("16.0"), 6,
    )  # fmt: skip
    assert hours >= Decimal("11.00")  # 2 + 1.5 + 1 + 3 + 2.5 + 1 of visits
    county = answered(kit, world["campaign"].id, "610113", "child")
    # The project's attendance belongs to the county itself (its own key).
    assert set(county) == {"", "610113", "610113001", "610113002"}


def test_a_county_sees_its_provinces_campaign_but_cannot_edit_it(
    kit: Kit, world: dict[str, Any]
) -> None:
    c = world["campaign"]
    tok = kit.token("610113")
    listed = kit.act.ListCampaigns(pb.ListCampaignsRequest(), metadata=auth(tok))
    mine = {x.id: x for x in listed.campaigns}
    assert c.id in mine and not mine[c.id].editable
    err = refused(
        lambda: kit.act.UpdateCampaign(
            pb.UpdateCampaignRequest(
                id=c.id,
                title="改名",
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                target_groups=["dibao"],
            ),
            metadata=auth(tok),
        )  # fmt: skip
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rule(err) == "campaign.publisher"
    again = kit.act.GetCampaign(pb.GetCampaignRequest(id=c.id), metadata=auth(tok))
    assert again.campaign.title == c.title


def test_the_publisher_edits_its_campaign(kit: Kit) -> None:
    c = publish(kit, "6101")
    tok = kit.token("6101")
    got = kit.act.UpdateCampaign(
        pb.UpdateCampaignRequest(
            id=c.id, title="寒冬送温暖（延长）", description=c.description,
            starts_on=c.starts_on, ends_on=(today() + timedelta(days=120)).isoformat(),
            target_groups=["flood_affected", "dibao"],
        ),
        metadata=auth(tok),
    ).campaign  # fmt: skip
    assert got.title == "寒冬送温暖（延长）" and got.editable
    assert list(got.target_groups) == ["dibao", "flood_affected"]


def test_a_tag_outside_the_window_or_area_is_refused_naming_the_field(
    kit: Kit, world: dict[str, Any]
) -> None:
    past = publish(
        kit, "61", starts_on="2025-11-15", ends_on="2026-03-25", target_groups=["dibao"]
    )
    city = publish(kit, "6104")
    vol = world["vols"]["610113002"][1]
    pair_id = visit(kit, "610113002", vol, "").pair_id
    # The county sees the province's campaign, not in its window; the
    # province sees Xianyang's, which does not cover Yanta.
    for campaign, office, expected in (
        (past.id, "610113", "campaign_id.window"),
        (city.id, PROVINCE, "campaign_id.covers"),
    ):
        before = raw_rows(kit.env, "SELECT count(*) FROM visits")[0][0]
        err = refused(lambda: log(kit, pair_id, office, campaign, 1))  # noqa: B023
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        trailers = dict(err.trailing_metadata())
        assert (trailers["zhiyuan-field"], rule(err)) == ("campaign_id", expected)
        assert raw_rows(kit.env, "SELECT count(*) FROM visits")[0][0] == before
    err = refused(
        lambda: kit.act.TagProject(
            pb.TagProjectRequest(project_id=world["project"].id, campaign_id=past.id),
            metadata=auth(kit.token("610113")),
        )
    )
    assert rule(err) == "campaign_id.window"
    tagged = kit.act.GetProject(
        pb.GetProjectRequest(id=world["project"].id),
        metadata=auth(kit.token("610113")),
    ).project
    assert tagged.campaign_id == world["campaign"].id
