"""Routes: registration rollups (Summarize) and the activity feed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.gateway.backend import Rpc
from services.gateway.params import Division, PageSize, PageToken, page
from services.gateway.protojson import reply_doc

router = APIRouter(prefix="/api/v1")

LEVELS = {
    "city": common.DIVISION_LEVEL_CITY,
    "county": common.DIVISION_LEVEL_COUNTY,
    "township": common.DIVISION_LEVEL_TOWNSHIP,
    "village": common.DIVISION_LEVEL_VILLAGE,
}
Month = Annotated[
    str,
    Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", description="YYYY-MM, inclusive"),
]


@router.get(
    "/rollups/registration",
    tags=["statistics"],
    summary="Registration rollup / 注册统计",
    responses=reply_doc(pb.SummarizeResponse),
)
async def registration_rollup(
    rpc: Rpc,
    division_code: Division = "",
    group_by: Annotated[
        Literal["city", "county", "township", "village"] | None,
        Query(description="Group rows at this level (default: children) / 汇总层级"),
    ] = None,
    start_month: Month = "",
    end_month: Month = "",
    by_month: Annotated[
        bool, Query(description="One row per child per month / 按月分行")
    ] = False,
) -> Any:
    """Volunteer and organisation counts of a node's children (index reads)."""
    query = common.RollupQuery(
        division_code=division_code,
        group_by=LEVELS[group_by] if group_by else common.DIVISION_LEVEL_UNSPECIFIED,
        period=common.Period(start_month=start_month, end_month=end_month),
        by_month=by_month,
    )
    return await rpc("Summarize", pb.SummarizeRequest(query=query))


@router.get(
    "/feed",
    tags=["statistics"],
    summary="Activity feed / 动态",
    responses=reply_doc(pb.ListActivityFeedResponse),
)
async def activity_feed(
    rpc: Rpc,
    division_code: Division = "",
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> Any:
    """Recent registration events in the caller's scope, newest first."""
    request = pb.ListActivityFeedRequest(
        division_code=division_code, page=page(page_size, page_token)
    )
    return await rpc("ListActivityFeed", request)
