"""The isolation matrix's rows for special campaigns (专项行动), merged into
ActivityService's matrix (test_activity_isolation.py): the world's owner is
Yanta (610113) under Xi'an (6101) and Shaanxi (61).

A campaign is shared down its publisher's subtree on purpose, so the rows
that address one by id use a campaign of a neighbouring city, Tongchuan
(6102): only the province above both sees it, and only Tongchuan edits it.
The list is checked with Xi'an's campaign, which every caller below or above
Xi'an sees. Publishing needs a province's or a city's own scope.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from zhiyuan.activity.v1 import activity_pb2 as pb

from tests.helpers import auth
from tests.security.matrix import NF, OK, PD, Spec

NEIGHBOUR_CITY, CITY, PROVINCE = "6102", "6101", "61"
EVERYONE = dict(owner=OK, sibling=OK, city=OK, province=OK, child=OK, noscope=PD)
PROVINCE_ONLY = dict(owner=NF, sibling=NF, city=NF, province=OK, child=NF, noscope=PD)
PUBLISHERS = dict(owner=PD, sibling=PD, city=OK, province=OK, child=PD, noscope=PD)
BY_ID = dict(owner=OK, sibling=NF, city=OK, province=OK, child=NF, noscope=PD)


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=8, days=days)).date().isoformat()


def fields(title: str) -> dict[str, Any]:
    return dict(
        title=title, description="矩阵专项行动", starts_on=_day(-20),
        ends_on=_day(100), target_groups=["dibao", "elderly_alone"],
    )  # fmt: skip


def publish(w: Any, code: str) -> pb.Campaign:
    role = "province_admin" if len(code) == 2 else "tenant_admin"
    return w.act.CreateCampaign(
        pb.CreateCampaignRequest(**fields(f"寒冬送温暖-{uuid.uuid4().hex[:8]}")),
        metadata=auth(w.kit.token(code, role)),
    ).campaign


def titles(w: Any) -> set[str]:
    """Every campaign title the province sees (its whole subtree)."""
    got = w.act.ListCampaigns(
        pb.ListCampaignsRequest(),
        metadata=auth(w.kit.token(PROVINCE, "province_admin")),
    ).campaigns
    return {c.title for c in got}


def _as_publisher(w: Any, c: pb.Campaign) -> pb.Campaign:
    return w.act.GetCampaign(
        pb.GetCampaignRequest(id=c.id), metadata=auth(w.kit.token(c.division_code))
    ).campaign


def _tag_target(w: Any) -> tuple[pb.Project, pb.Campaign]:
    city = w.extra.get("city_campaign") or publish(w, CITY)
    w.extra["city_campaign"] = city
    return w.draft(), city


def _campaign_of(w: Any, p: pb.Project) -> str:
    return str(w.kit.get(p.id, w.kit.token("610113")).campaign_id)


CAMPAIGN_SPECS: dict[str, Spec] = {
    "CreateCampaign": Spec(
        PUBLISHERS,
        lambda w, marker, tok: w.act.CreateCampaign(
            pb.CreateCampaignRequest(**fields(marker)), metadata=auth(tok)
        ),
        prepare=lambda w: f"矩阵行动-{uuid.uuid4().hex[:8]}",
        succeeded=lambda w, marker, r: (
            (r.campaign.editable and marker in titles(w)) or pytest.fail("no campaign")
        ),
        unchanged=lambda w, marker: (
            marker not in titles(w) or pytest.fail("a campaign")
        ),
    ),
    "UpdateCampaign": Spec(
        # The province sees Tongchuan's campaign but is not its publisher.
        dict(PROVINCE_ONLY, province=PD),
        lambda w, c, tok: w.act.UpdateCampaign(
            pb.UpdateCampaignRequest(id=c.id, **fields("改过的名字")),
            metadata=auth(tok),
        ),
        prepare=lambda w: publish(w, NEIGHBOUR_CITY),
        unchanged=lambda w, c: (
            _as_publisher(w, c).title == c.title or pytest.fail("edited")
        ),
    ),
    "GetCampaign": Spec(
        PROVINCE_ONLY,
        lambda w, c, tok: w.act.GetCampaign(
            pb.GetCampaignRequest(id=c.id), metadata=auth(tok)
        ),
        prepare=lambda w: publish(w, NEIGHBOUR_CITY),
        succeeded=lambda w, c, r: (
            (r.campaign.id == c.id and not r.campaign.editable)
            or pytest.fail("wrong campaign")
        ),
    ),
    "ListCampaigns": Spec(
        EVERYONE,
        lambda w, c, tok: w.act.ListCampaigns(
            pb.ListCampaignsRequest(), metadata=auth(tok)
        ),
        prepare=lambda w: publish(w, CITY),
        succeeded=lambda w, c, r: (
            c.id in {x.id for x in r.campaigns} or pytest.fail("not shared down")
        ),
    ),
    "TagProject": Spec(
        BY_ID,
        lambda w, t, tok: w.act.TagProject(
            pb.TagProjectRequest(project_id=t[0].id, campaign_id=t[1].id),
            metadata=auth(tok),
        ),
        prepare=_tag_target,
        succeeded=lambda w, t, r: (
            _campaign_of(w, t[0]) == t[1].id or pytest.fail("not tagged")
        ),
        unchanged=lambda w, t: _campaign_of(w, t[0]) == "" or pytest.fail("tagged"),
    ),
    "GetCampaignSummary": Spec(
        PROVINCE_ONLY,
        lambda w, c, tok: w.act.GetCampaignSummary(
            pb.GetCampaignSummaryRequest(campaign_id=c.id), metadata=auth(tok)
        ),
        prepare=lambda w: publish(w, NEIGHBOUR_CITY),
        succeeded=lambda w, c, r: (
            (r.division_code == NEIGHBOUR_CITY and r.total.visits == 0)
            or pytest.fail("wrong summary")
        ),
    ),
}
