"""Routes: CSV imports, streamed row by row so the console can show a
progress bar and the per-row error report as the import runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from services.common.errors import InvalidArgument
from services.gateway.backend import Rpc
from services.gateway.imports import decode, digest, parse_volunteers, run_volunteers

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
async def import_volunteers(request: Request, rpc: Rpc) -> StreamingResponse:
    """The body is the CSV file (UTF-8 or GB18030) with the header
    ``name,id_number,phone,home_division_code,service_fields`` (or 姓名,
    身份证号, 手机号, 区划代码, 服务领域; service fields separated by ``;``).
    The answer is NDJSON: ``{"total": n}``, then one line per row (``ok``
    with the volunteer, or the error with ``field`` and ``rule``), then
    ``{"done": true, "imported": a, "failed": b}``. Good rows are kept;
    uploading the same file again registers nobody twice."""
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise InvalidArgument(
            "file", "file.max_size", "the file may be at most 5 MB", "文件不能超过 5 MB"
        )
    rows = parse_volunteers(decode(raw))
    return StreamingResponse(
        run_volunteers(rpc, rows, digest(raw)), media_type="application/x-ndjson"
    )
