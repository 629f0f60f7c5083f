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
# On an upstream release (the federated rows, never added to the own ones).
SOURCE = "来源 source"
DOWNSTREAMS = "下级平台 downstreams"
FEDERATED_SHEET = "联邦 federated"
LINKS_SHEET = "联邦链路 links"
LINK_COLUMNS = [
    "downstream",
    "subtree",
    "subtree_name",
    "last_delta_at",
    "age_seconds",
    "stale",
]
LINK_HEADERS_ZH = {
    "downstream": "下级平台", "subtree": "登记区划", "subtree_name": "区划名称",
    "last_delta_at": "最近数据时间", "age_seconds": "距今秒数", "stale": "数据滞后",
}  # fmt: skip


def _this_year() -> int:
    return datetime.now(CST).year


async def _board(
    request: Request, rpc: RollupRpc, me: RollupMe, division_code: str,
    year: int | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:  # fmt: skip
    """The dashboard of the (checked) node and, on an upstream release, its
    ``federated`` section (None elsewhere), both asked at once; a page
    refused (403 outside the scope) stops the other."""
    year = year or _this_year()
    node = check_node(division_code, me.scope_code)
    beside = asyncio.ensure_future(
        federated(rpc, node, year, request.app.state.federation)
    )
    try:
        board = await compose(rpc, me.scope_code, node, year)
    except BaseException:
        beside.cancel()
        raise
    return board, await beside


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
    board, section = await _board(request, rpc, me, division_code, year)
    if section is not None:
        board["federated"] = section
    return board


@router.get(
    "/dashboard/export",
    summary="Export the child-unit table / 导出下级单位表",
    response_class=Response,
)
async def export(
    request: Request,
    rpc: RollupRpc,
    me: RollupMe,
    division_code: Division = "",
    year: Year = None,
    format: Literal["csv", "xlsx"] = "csv",  # noqa: A002 - the query's name
) -> Response:
    """The child-unit table of the dashboard. On an upstream release the
    rows its downstreams forwarded follow the own ones: in CSV under a last
    column 来源 source (``own``, or ``federated:`` and the downstreams), in
    XLSX on a sheet of their own beside one of the links' last deltas; never
    added to the own rows. 联邦下级平台的数据单列。"""
    board, section = await _board(request, rpc, me, division_code, year)
    rows = [[r[c] for c in COLUMNS] for r in board["children"]]
    header = [f"{HEADERS_ZH[c]} {c}" for c in COLUMNS]
    name = f"zhiyuan-{board['node']['code']}-{board['year']}"
    missing = board["unavailable"]
    gaps = {"zhiyuan-unavailable": ",".join(missing)} if missing else {}
    fed_rows: list[list[Any]] = []
    if section is not None:
        fed_rows = [
            [r[c] for c in COLUMNS] + [" ".join(r["downstreams"])]
            for r in section["children"]
        ]
        if section["unavailable"]:
            gaps["zhiyuan-federated-unavailable"] = ",".join(section["unavailable"])
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        if section is None:
            writer.writerow(header)
            writer.writerows(rows)
        else:
            writer.writerow([*header, SOURCE])
            writer.writerows([*row, "own"] for row in rows)
            writer.writerows([*row[:-1], f"federated:{row[-1]}"] for row in fed_rows)
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
    if section is not None:
        fed = book.create_sheet(FEDERATED_SHEET)
        fed.append([*header, DOWNSTREAMS])
        for row in fed_rows:
            fed.append(row)
        links = book.create_sheet(LINKS_SHEET)
        links.append([f"{LINK_HEADERS_ZH[c]} {c}" for c in LINK_COLUMNS])
        for link in section["links"]:
            links.append([link[c] for c in LINK_COLUMNS])
    data = io.BytesIO()
    book.save(data)
    return Response(
        data.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{name}.xlsx"', **gaps},
    )
