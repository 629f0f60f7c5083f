"""Special campaigns without I/O: the checked fields (window order, target
groups, odd characters and digits), who may publish, the tag rules, the
summary's grouping by child unit and ISO week, recycling's tagged events
turned into facts, and the gateway's routes (fake stubs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from zhiyuan.activity.v1 import activity_pb2 as pb

from services.activity.campaign_feed import delivery
from services.activity.campaigns import (
    Fact,
    campaign_spec,
    check_tag,
    child_key,
    iso_week,
    require_publisher,
    summarise,
)
from services.common import outbox
from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.tenancy import Scope
from services.gateway.api_services import CAMPAIGNS
from services.gateway.app import create_app
from services.gateway.backend import Backend
from tests.unit.test_gateway_errors import FakeStub

CID = "5f0c1c52-7c0e-4a57-9a63-0d8a8b1c2e11"
GOOD = ("寒冬送温暖", "为困难群众送温暖", "2026-11-15", "2027-03-25", ["dibao"])


def _refused(args: tuple[Any, ...]) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        campaign_spec(*args)
    return err.value


def test_a_winter_campaign_spans_two_calendar_years() -> None:
    spec = campaign_spec(*GOOD[:4], ["left_behind_children", "dibao", "dibao"])
    assert (spec.starts_on, spec.ends_on) == (date(2026, 11, 15), date(2027, 3, 25))
    # Each group once, in the fixed list's order.
    assert spec.target_groups == ["dibao", "left_behind_children"]


@pytest.mark.parametrize(
    ("args", "field", "rule"),
    [
        ((*GOOD[:2], "2027-03-25", "2026-11-15", ["dibao"]), "ends_on",
         "ends_on.after_start"),
        ((*GOOD[:4], ["poor"]), "target_groups", "target_groups.known"),
        ((*GOOD[:4], []), "target_groups", "target_groups.required"),
        (("寒冬\r送温暖", *GOOD[1:]), "title", "title.characters"),
        ((GOOD[0], "说\r明", *GOOD[2:]), "description", "description.characters"),
        ((*GOOD[:2], "２０２６-１１-１５", *GOOD[3:]), "starts_on",
         "starts_on.format"),
        ((*GOOD[:3], "2027-3-25", GOOD[4]), "ends_on", "ends_on.format"),
        (("", *GOOD[1:]), "title", "title.required"),
        ((*GOOD[:2], "2026-01-01", "2027-12-31", ["dibao"]), "ends_on",
         "ends_on.max_length"),
    ],
)  # fmt: skip
def test_bad_fields_are_named_with_their_rule(
    args: tuple[Any, ...], field: str, rule: str
) -> None:
    err = _refused(args)
    assert (err.field, err.rule) == (field, rule)
    assert err.message_zh and err.message_en


def test_a_description_may_have_lines() -> None:
    assert campaign_spec(GOOD[0], "第一行\n第二行", *GOOD[2:]).description


@pytest.mark.parametrize("code", ["610113", "610113002", "610113002001"])
def test_only_a_province_or_city_publishes(code: str) -> None:
    assert require_publisher(Scope("61")) == "61"
    assert require_publisher(Scope("6101")) == "6101"
    with pytest.raises(PermissionDenied) as err:
        require_publisher(Scope(code))
    assert err.value.rule == "campaign.publisher_level"


def test_a_tag_needs_the_area_and_the_window() -> None:
    window = (date(2026, 11, 15), date(2027, 3, 25))
    check_tag("61", window, "610113002", [date(2026, 11, 15), date(2027, 3, 25)])
    for code, day, rule in (
        ("620102", date(2026, 12, 1), "campaign_id.covers"),
        ("610113", date(2027, 3, 26), "campaign_id.window"),
        ("610113", date(2026, 11, 14), "campaign_id.window"),
    ):
        with pytest.raises(InvalidArgument) as err:
            check_tag("61", window, code, [day])
        assert (err.value.field, err.value.rule) == ("campaign_id", rule)


def test_iso_weeks_and_child_units() -> None:
    assert iso_week(date(2026, 12, 31)) == "2026-W53"
    assert iso_week(date(2027, 1, 4)) == "2027-W01"
    assert child_key("61", "610113002") == "6101"
    assert child_key("610113", "610113002001") == "610113002"
    assert child_key("610113", "610113") == "610113"  # the node's own facts
    assert child_key("610113002001", "610113002001") == "610113002001"


def test_summary_counts_distinct_households_and_volunteers_per_group() -> None:
    day = date(2026, 12, 1)
    facts = [
        Fact("610113002", day, "r1", "v1", Decimal("2"), visit=True),
        Fact("610113002", day, "r1", "v2", Decimal("1.5"), visit=True),
        Fact("610116001", date(2026, 12, 8), "r2", "v1", Decimal("1"), visit=True),
        Fact("610113", day, volunteer_id="v3", hours=Decimal("0.25")),
        Fact("610116001", day, items=30),
        Fact("610113001", day, kg=Decimal("12.5")),
    ]
    rows, total = summarise(facts, "6101", by_week=False)
    assert list(rows) == ["610113", "610116"]
    yanta = rows["610113"]
    assert (len(yanta.households), len(yanta.volunteers)) == (1, 3)
    assert (yanta.hours, yanta.kg, yanta.visits) == (Decimal("3.75"),
                                                     Decimal("12.5"), 2)  # fmt: skip
    assert (len(total.households), len(total.volunteers), total.items) == (2, 3, 30)
    weeks, _ = summarise(facts, "6101", by_week=True)
    assert list(weeks) == ["2026-W49", "2026-W50"]
    assert len(weeks["2026-W49"].volunteers) == 3


def _env(kind: str, **data: Any) -> outbox.Envelope:
    return outbox.Envelope("e1", f"recycling.{kind}", "", "610113002", data)


def test_recycling_events_become_facts_only_when_tagged() -> None:
    drive = delivery(
        _env("drive.recorded", drive_id="d1", held_on="2026-12-01", garments=10,
             books=2, other_items=1, campaign_id=CID, division_code="610113002")
    )  # fmt: skip
    assert drive is not None
    assert (drive.id, drive.items, drive.kg, drive.source) == (
        "drive:d1", 13, Decimal("0"), "drive",
    )  # fmt: skip
    untagged = _env("booking.collected", booking_id="b1", collected_on="2026-12-01",
                    total_kg=3.5, campaign_id="")  # fmt: skip
    assert delivery(untagged) is None


# -- the gateway's routes ---------------------------------------------------------


@pytest.fixture
def client_and_stub() -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
    private, public = generate_keypair()
    issuer = TokenIssuer(private, "zhiyuan", "zhiyuan")
    stub = FakeStub()
    backend = Backend(
        registration=FakeStub(), health=FakeStub(), deadline=5,
        others={"activity": (stub, FakeStub())},
    )  # fmt: skip
    app = create_app(
        Config({}),
        backend=backend,
        verifier=TokenVerifier(public, "zhiyuan", "zhiyuan"),
    )
    token, _ = issuer.issue(
        subject="a", username="shaanxi", scope_code="61", roles=["province_admin"]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, stub, {"Authorization": f"Bearer {token}"}


def test_every_campaign_rpc_has_a_route() -> None:
    assert {r.rpc for r in CAMPAIGNS} == {
        "CreateCampaign", "ListCampaigns", "GetCampaign", "UpdateCampaign",
        "GetCampaignSummary", "TagProject",
    }  # fmt: skip
    assert all(r.strict and "/" in r.summary for r in CAMPAIGNS)


def test_a_campaign_is_published_with_a_json_body(
    client_and_stub: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, stub, headers = client_and_stub
    stub.replies["CreateCampaign"] = pb.CreateCampaignResponse(
        campaign=pb.Campaign(id=CID, title="寒冬送温暖", division_code="61")
    )
    body = {"title": "寒冬送温暖", "starts_on": "2026-11-15", "ends_on": "2027-03-25",
            "target_groups": ["dibao", "left_behind_children"]}  # fmt: skip
    got = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert got.status_code == 201, got.text
    assert got.json()["campaign"]["id"] == CID
    (method, request, _, _) = stub.calls[-1]
    assert method == "CreateCampaign"
    assert list(request.target_groups) == ["dibao", "left_behind_children"]


def test_a_body_without_a_title_is_refused_at_the_edge(
    client_and_stub: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, stub, headers = client_and_stub
    body = {"starts_on": "2026-11-15", "ends_on": "2027-03-25"}
    got = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert got.status_code == 400
    assert got.json()["error"]["field"] == "title"
    assert stub.calls == []


def test_the_summary_takes_by_as_a_lower_case_choice(
    client_and_stub: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, stub, headers = client_and_stub
    stub.replies["GetCampaignSummary"] = pb.GetCampaignSummaryResponse(
        division_code="61",
        rows=[pb.CampaignFigures(key="2026-W49", households=3, kg=12.5)],
    )
    got = client.get(
        f"/api/v1/campaigns/{CID}/summary?by=week&division_code=61", headers=headers
    )
    assert got.status_code == 200, got.text
    row = got.json()["rows"][0]
    assert (row["key"], int(row["households"]), row["kg"]) == ("2026-W49", 3, 12.5)
    (_, request, _, _) = stub.calls[-1]
    assert (request.campaign_id, request.by) == (CID, pb.CAMPAIGN_SUMMARY_BY_WEEK)
    # Left out: unspecified, which activity answers by child unit.
    client.get(f"/api/v1/campaigns/{CID}/summary", headers=headers)
    assert stub.calls[-1][1].by == pb.CAMPAIGN_SUMMARY_BY_UNSPECIFIED
    bad = client.get(f"/api/v1/campaigns/{CID}/summary?by=month", headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "by"
