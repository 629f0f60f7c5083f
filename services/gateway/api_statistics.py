"""Route: any service's rollup (Summarize), one route for every service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.catalog import SERVICES
from services.common import protos
from services.common.errors import NotFound
from services.gateway.backend import RollupRpc
from services.gateway.params import Division
from services.gateway.protojson import reply_doc

router = APIRouter(prefix="/api/v1")

LEVELS = {
    "province": common.DIVISION_LEVEL_PROVINCE,
    "city": common.DIVISION_LEVEL_CITY,
    "county": common.DIVISION_LEVEL_COUNTY,
    "township": common.DIVISION_LEVEL_TOWNSHIP,
    "village": common.DIVISION_LEVEL_VILLAGE,
}
SERVICE_PATTERN = r"^[a-z]+$"
Month = Annotated[
    str,
    Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", description="YYYY-MM, inclusive"),
]


@router.get(
    "/rollups/{service}",
    tags=["statistics"],
    summary="A service's rollup / 分项统计",
    responses=reply_doc(pb.SummarizeResponse),
)
async def rollup(
    rpc: RollupRpc,
    service: Annotated[
        str,
        Path(
            pattern=SERVICE_PATTERN,
            description="registration, activity, hours, ... / 服务名称",
        ),
    ],
    division_code: Division = "",
    group_by: Annotated[
        Literal["province", "city", "county", "township", "village"] | None,
        Query(description="Group rows at this level (default: children) / 汇总层级"),
    ] = None,
    start_month: Month = "",
    end_month: Month = "",
    by_month: Annotated[
        bool, Query(description="One row per child per month / 按月分行")
    ] = False,
) -> Any:
    """The children of a node with the service's metrics (index reads); every
    service answers the same shape, so a dashboard needs no per-service code.
    A national account (scope ``CN``) may name ``CN`` (rows by province) or
    any division below it."""
    query = common.RollupQuery(
        division_code=division_code,
        group_by=LEVELS[group_by] if group_by else common.DIVISION_LEVEL_UNSPECIFIED,
        period=common.Period(start_month=start_month, end_month=end_month),
        by_month=by_month,
    )
    if service not in SERVICES:
        raise NotFound(f"no service {service!r}", f"没有名为“{service}”的服务")
    request = protos.messages(service).SummarizeRequest(query=query)
    return await rpc("Summarize", request, service)
