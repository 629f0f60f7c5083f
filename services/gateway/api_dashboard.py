"""Routes: the console's dashboard (headline figures, child units, chart
series) and the export of its table as CSV or XLSX. While a service cannot
answer, both still answer 200 with its figures left empty: the page names it
in ``unavailable``; an export names it in the ``Zhiyuan-Unavailable`` header
and, in XLSX, on a second sheet. On an upstream release the page also has
the ``federated`` section (:mod:`services.gateway.dashboard_federated`)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.rollup import CST
from services.gateway.backend import RollupMe, RollupRpc
from services.gateway.dashboard import FIGURES, check_node, compose
from services.gateway.dashboard_federated import federated
from services.gateway.params import Division

router = APIRouter(prefix="/api/v1", tags=["dashboard"])
Year = Annotated[
    int | None, Query(ge=2000, le=2100, description="Year / 年度 (default: this)")
]
COLUMNS = ["code", "name", "hours_year", *FIGURES]
HEADERS_ZH = {
    "code": "区划代码", "name": "名称", "hours_year": "本年服务时长",
    "volunteers_registered": "注册志愿者", "volunteers_verified": "已认证志愿者",
    "organisations": "组织与队伍", "projects": "发布项目",
    "hours_total": "累计服务时长",
    "tonnes": "回收（吨）", "bins_deployed": "在用回收箱", "stars": "星级志愿者",
    "awards": "表彰",
}  # fmt: skip


def _this_year() -> int:
    return datetime.now(CST).year


@router.get("/dashboard", summary="Dashboard of a node / 数据看板")
async def dashboard(
    request: Request,
    rpc: RollupRpc,
    me: RollupMe,
    division_code: Division = "",
    year: Year = None,
) -> dict[str, Any]:
    """Headline figures of the node (default: your scope; ``CN`` for a
    national account, whose children are the provinces), one row per child
    unit with the same figures, and the chart series; every number is read
    from the services' rollups with your own token. A service that cannot
    answer leaves its figures ``null`` and is named in ``unavailable``
    (with a bilingual ``notice``); the others' figures are still shown.

    On an upstream release (``FEDERATION_ROLE=upstream``) the answer also
    has ``federated``: the same figures as forwarded by its downstream
    releases under the node (``headline``, ``children`` with the
    ``downstreams`` each row comes from), and ``links``: each downstream's
    subtree, ``last_delta_at`` (UTC), ``age_seconds`` and ``stale`` (no
    delta for longer than ``stale_seconds``). 联邦下级平台的数据。"""
    year = year or _this_year()
    node = check_node(division_code, me.scope_code)
    # Both at once; a page refused (403 outside the scope) stops the other.
    beside = asyncio.ensure_future(
        federated(rpc, node, year, request.app.state.federation)
    )
    try:
        board = await compose(rpc, me.scope_code, node, year)
    except BaseException:
        beside.cancel()
        raise
    section = await beside
    if section is not None:
        board["federated"] = section
    return board


@router.get(
    "/dashboard/export",
    summary="Export the child-unit table / 导出下级单位表",
    response_class=Response,
)
async def export(
    rpc: RollupRpc,
    me: RollupMe,
    division_code: Division = "",
    year: Year = None,
    format: Literal["csv", "xlsx"] = "csv",  # noqa: A002 - the query's name
) -> Response:
    board = await compose(rpc, me.scope_code, division_code, year or _this_year())
    rows = [[r[c] for c in COLUMNS] for r in board["children"]]
    header = [f"{HEADERS_ZH[c]} {c}" for c in COLUMNS]
    name = f"zhiyuan-{board['node']['code']}-{board['year']}"
    missing = board["unavailable"]
    gaps = {"zhiyuan-unavailable": ",".join(missing)} if missing else {}
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        # A BOM so that spreadsheet programs read the Chinese as UTF-8.
        return Response(
            ("\ufeff" + out.getvalue()).encode(),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}.csv"',
                **gaps,
            },
        )
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = board["node"]["code"]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if board["notice"]:
        notes = book.create_sheet("unavailable")
        notes.append([board["notice"]["message_zh"]])
        notes.append([board["notice"]["message_en"]])
    data = io.BytesIO()
    book.save(data)
    return Response(
        data.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{name}.xlsx"', **gaps},
    )
