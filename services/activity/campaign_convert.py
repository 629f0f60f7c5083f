"""Campaign rows and summaries → protobuf messages."""

from __future__ import annotations

from zhiyuan.activity.v1 import activity_pb2 as pb

from services.activity import models as m
from services.activity.campaigns import Figures
from services.activity.usecases.campaigns import Summary
from services.common.tenancy import Scope
from services.common.times import iso

BY = {pb.CAMPAIGN_SUMMARY_BY_CHILD: "child", pb.CAMPAIGN_SUMMARY_BY_WEEK: "week"}


def campaign(x: m.Campaign, scope: Scope) -> pb.Campaign:
    return pb.Campaign(
        id=x.id,
        division_code=x.division_code,
        title=x.title,
        description=x.description,
        starts_on=x.starts_on.isoformat(),
        ends_on=x.ends_on.isoformat(),
        target_groups=list(x.target_groups),
        created_by=x.created_by,
        created_at=iso(x.created_at),
        editable=x.division_code == scope.code,
    )


def figures(key: str, f: Figures) -> pb.CampaignFigures:
    return pb.CampaignFigures(
        key=key,
        households=len(f.households),
        volunteers=len(f.volunteers),
        hours=float(f.hours),
        items=f.items,
        kg=float(f.kg),
        visits=f.visits,
    )


def summary(s: Summary, scope: Scope) -> pb.GetCampaignSummaryResponse:
    return pb.GetCampaignSummaryResponse(
        campaign=campaign(s.campaign, scope),
        division_code=s.node,
        rows=[figures(k, f) for k, f in s.rows.items()],
        total=figures("", s.total),
    )
