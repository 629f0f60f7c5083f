"""Routes: CSV imports, streamed row by row so the console can show a
progress bar and the per-row error report as the import runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from services.common.auth import Principal
from services.common.errors import InvalidArgument
from services.gateway.backend import Rpc, authenticate
from services.gateway.imports import (
    bulk_ready,
    bulk_rows,
    decode,
    digest,
    parse_hours,
    parse_volunteers,
    run_bulk,
    run_hours,
    run_volunteers,
)

Me = Annotated[Principal, Depends(authenticate)]
NDJSON = "application/x-ndjson"

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
MAX_BYTES = 5 * 1024 * 1024


@router.post(
    "/volunteers",
    summary="Import volunteers from CSV / 批量导入志愿者",
    response_class=StreamingResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_volunteers(request: Request, rpc: Rpc, me: Me) -> StreamingResponse:
    """The body is the CSV file (UTF-8 or GB18030) with the header
    ``name,id_number,phone,home_division_code,service_fields`` (or 姓名,
    身份证号, 手机号, 区划代码, 服务领域; service fields separated by ``;``).
    The answer is NDJSON: ``{"total": n}``, then one line per row (``ok``
    with the volunteer, or the error with ``field`` and ``rule``), then
    ``{"done": true, "imported": a, "failed": b}``. Good rows are kept;
    uploading the same file again registers nobody twice. An XLSX workbook
    (its first sheet) is read too; a bare CR ends a line; full-width digits
    count as digits. Behind PostgreSQL the file runs through the bulk import
    (administrators only; ``{"progress": k}`` lines after each chunk)."""
    raw = await _body(request)
    if bulk_ready():
        table = bulk_rows(raw, "", "volunteers")
        return StreamingResponse(
            run_bulk("volunteers", me, table, digest(raw)), media_type=NDJSON
        )
    rows = parse_volunteers(decode(raw))
    return StreamingResponse(
        run_volunteers(rpc, rows, digest(raw)), media_type="application/x-ndjson"
    )


@router.post(
    "/hours",
    summary="Import hour records from CSV / 批量补录服务时长",
    response_class=StreamingResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_hours(request: Request, rpc: Rpc, me: Me) -> StreamingResponse:
    """The body is the CSV file (UTF-8 or GB18030) with the header
    ``volunteer_number,division_code,organisation_name,service_field,content,
    session_start,session_end,hours,reason[,position_id]`` (or 志愿者编号,
    区划代码, 组织名称, 服务领域, 服务内容, 开始时间, 结束时间, 时长, 补录原因
    and the optional 服务阵地编号: the id of a service position in your area,
    as ``/positions`` reports it). Times are RFC 3339
    or ``2026-11-01 09:00`` in China time; the service field is its code or
    its Chinese name. Each row is recorded as honour hours awaiting review,
    never more than its session lasted. The answer is NDJSON as for
    volunteers; uploading the same file again records nothing twice.

    Behind PostgreSQL the file runs through the bulk import instead
    (administrators only): each good row becomes an **approved** record
    (the office certifies its register), rollups, the time bank and star
    ratings follow; a blank 时长 is the session rounded by the tenant's
    policy; the daily cap and overlaps apply as one at a time."""
    raw = await _body(request)
    if bulk_ready():
        table = bulk_rows(raw, "", "hours")
        return StreamingResponse(
            run_bulk("hours", me, table, digest(raw)), media_type=NDJSON
        )
    rows = parse_hours(decode(raw))
    return StreamingResponse(
        run_hours(rpc, rows, digest(raw)), media_type="application/x-ndjson"
    )


async def _body(request: Request) -> bytes:
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise InvalidArgument(
            "file", "file.max_size", "the file may be at most 5 MB", "文件不能超过 5 MB"
        )
    return raw
