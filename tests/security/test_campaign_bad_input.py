"""Bad input to the special campaigns' RPCs on the real api roles: each is
refused naming the field and its rule (in Chinese and English), and nothing
is written (activity's campaigns and tags, recycling's drives)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.recycling.v1 import recycling_pb2 as ypb

from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, raw_rows, refused, rule

pytestmark = pytest.mark.integration
PROVINCE, COUNTY, TOWN = "61", "610113", "610113002"


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=8, days=days)).date().isoformat()


def good(**over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        title=f"寒冬送温暖-{uuid.uuid4().hex[:6]}", description="送温暖",
        starts_on=_day(-10), ends_on=_day(100), target_groups=["dibao"],
    )  # fmt: skip
    fields.update(over)
    return fields


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


def _count(kit: Kit) -> int:
    return int(raw_rows(kit.env, "SELECT count(*) FROM campaigns")[0][0])


def _refused_with(
    kit: Kit, call: Callable[[], Any], code: grpc.StatusCode, field: str, rule_: str
) -> None:
    before = _count(kit)
    err = refused(call)
    assert err.code() == code, err.details()
    trailers = dict(err.trailing_metadata())
    assert (trailers["zhiyuan-field"], rule(err)) == (field, rule_)
    assert trailers["zhiyuan-message-zh-bin"].decode()
    assert _count(kit) == before


@pytest.mark.parametrize(
    ("over", "field", "rule_"),
    [
        (dict(starts_on=_day(30), ends_on=_day(1)), "ends_on", "ends_on.after_start"),
        (dict(target_groups=["dibao", "rich"]), "target_groups",
         "target_groups.known"),
        (dict(target_groups=[]), "target_groups", "target_groups.required"),
        (dict(title="寒冬\r送温暖"), "title", "title.characters"),
        (dict(description="送\r温暖"), "description", "description.characters"),
        (dict(starts_on="２０２６-１１-１５"), "starts_on", "starts_on.format"),
        (dict(ends_on="2027-02-30"), "ends_on", "ends_on.format"),
        (dict(title=""), "title", "title.required"),
        (dict(title="长" * 101), "title", "title.max_length"),
    ],
)  # fmt: skip
def test_a_bad_campaign_is_refused_naming_the_field(
    kit: Kit, over: dict[str, Any], field: str, rule_: str
) -> None:
    tok = auth(kit.token(PROVINCE, "province_admin"))
    _refused_with(
        kit,
        lambda: kit.act.CreateCampaign(pb.CreateCampaignRequest(**good(**over)),
                                       metadata=tok),
        grpc.StatusCode.INVALID_ARGUMENT, field, rule_,
    )  # fmt: skip


@pytest.mark.parametrize("code", [COUNTY, TOWN])
def test_a_county_or_township_cannot_publish(kit: Kit, code: str) -> None:
    tok = auth(kit.token(code))
    request = pb.CreateCampaignRequest(**good())
    _refused_with(
        kit,
        lambda: kit.act.CreateCampaign(request, metadata=tok),
        grpc.StatusCode.PERMISSION_DENIED, "division_code", "campaign.publisher_level",
    )  # fmt: skip


def test_a_bad_edit_changes_nothing(kit: Kit) -> None:
    tok = auth(kit.token("6101"))
    c = kit.act.CreateCampaign(
        pb.CreateCampaignRequest(**good()), metadata=tok
    ).campaign
    err = refused(
        lambda: kit.act.UpdateCampaign(
            pb.UpdateCampaignRequest(id=c.id, **good(ends_on=_day(-30))), metadata=tok
        )
    )
    assert rule(err) == "ends_on.after_start"
    again = kit.act.GetCampaign(pb.GetCampaignRequest(id=c.id), metadata=tok).campaign
    assert (again.title, again.ends_on) == (c.title, c.ends_on)


@pytest.mark.parametrize(
    ("value", "rule_"), [("not-a-uuid", "campaign_id.format"), ("", "")]
)
def test_summary_and_tag_ids_are_checked(kit: Kit, value: str, rule_: str) -> None:
    tok = auth(kit.token(COUNTY))
    err = refused(
        lambda: kit.act.GetCampaignSummary(
            pb.GetCampaignSummaryRequest(campaign_id=value), metadata=tok
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rule(err) == (rule_ or "campaign_id.required")


def test_an_unknown_summary_grouping_is_refused(kit: Kit) -> None:
    c = kit.act.CreateCampaign(
        pb.CreateCampaignRequest(**good()),
        metadata=auth(kit.token(PROVINCE, "province_admin")),
    ).campaign
    err = refused(
        lambda: kit.act.GetCampaignSummary(
            pb.GetCampaignSummaryRequest(campaign_id=c.id, by=7),  # type: ignore[arg-type]
            metadata=auth(kit.token(COUNTY)),
        )
    )
    assert rule(err) == "by.known"
    # A node outside the campaign's area (Xianyang's campaign, asked at Xi'an).
    city = kit.act.CreateCampaign(
        pb.CreateCampaignRequest(**good()), metadata=auth(kit.token("6104"))
    ).campaign
    err = refused(
        lambda: kit.act.GetCampaignSummary(
            pb.GetCampaignSummaryRequest(campaign_id=city.id, division_code="6101"),
            metadata=auth(kit.token(PROVINCE, "province_admin")),
        )
    )
    assert rule(err) == "division_code.in_campaign"


def test_recycling_refuses_a_bad_tag_writing_no_drive(kit: Kit, stubs: Any) -> None:
    rec = stubs("recycling")
    tok = auth(kit.token(COUNTY))
    past = kit.act.CreateCampaign(
        pb.CreateCampaignRequest(**good(starts_on="2025-11-15", ends_on="2026-03-25")),
        metadata=auth(kit.token(PROVINCE, "province_admin")),
    ).campaign

    def drives() -> int:
        got = rec.ListDrives(ypb.ListDrivesRequest(division_code=COUNTY), metadata=tok)
        return int(got.page.total_size)

    before = drives()
    for campaign_id, expected in (
        ("１２３", "campaign_id.format"),
        (str(uuid.uuid4()), "campaign_id.exists"),
        (past.id, "campaign_id.window"),
    ):
        request = ypb.RecordDriveRequest(
            division_code=TOWN, organisation_name="雁塔区慈善协会", title="冬衣捐赠",
            held_on=_day(0), items=ypb.Items(garments=3, books=0, other=0),
            recipient_households=1, campaign_id=campaign_id,
        )  # fmt: skip
        err = refused(lambda: rec.RecordDrive(request, metadata=tok))  # noqa: B023
        trailers = dict(err.trailing_metadata())
        assert (trailers["zhiyuan-field"], rule(err)) == ("campaign_id", expected)
    assert drives() == before
