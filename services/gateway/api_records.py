"""Routes: the national record format (docs/record-format.md). Export one
volunteer's whole record, or every record of the caller's subtree over a
period, as JSON Lines; import such a file into hours as records transferred
in from another platform (through hours' bulk import, with its per-row
report and idempotency)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from google.protobuf.message import Message

from services.common.auth import Principal
from services.common.errors import InvalidArgument
from services.common.roles import ADMINS
from services.gateway.backend import Rpc, authenticate
from services.gateway.imports import bulk_database
from services.gateway.records_export import export_file

Me = Annotated[Principal, Depends(authenticate)]
JSONL = "application/jsonl"
MAX_BYTES = 20 * 1024 * 1024
MAX_DAYS = 366

router = APIRouter(prefix="/api/v1/records", tags=["records"])


def period_of(first: str, last: str) -> tuple[date, date] | None:
    """The export's period from ``from`` and ``to`` (YYYY-MM-DD, both
    included), or None when neither is given."""
    if not first and not last:
        return None
    got = []
    for name, value in (("from", first), ("to", last)):
        try:
            got.append(date.fromisoformat(value))
        except ValueError:
            raise InvalidArgument(
                name, f"{name}.format", "must be a date such as 2026-01-31",
                "须为日期，如 2026-01-31",
            ) from None  # fmt: skip
    if got[1] < got[0]:
        raise InvalidArgument("to", "to.after_from", "must not be before from",
                              "结束日期不能早于开始日期")  # fmt: skip
    if (got[1] - got[0]).days >= MAX_DAYS:
        raise InvalidArgument("to", "period.max", "a period spans at most a year",
                              "导出期间最长一年")  # fmt: skip
    return got[0], got[1]


@router.get(
    "/export",
    summary="Export records in the national format / 导出全国志愿服务记录",
    response_class=Response,
    responses={200: {"content": {JSONL: {"schema": {"type": "string"}}}}},
)
async def export_records(
    rpc: Rpc,
    me: Me,
    volunteer_id: Annotated[
        str, Query(max_length=64, description="One volunteer / 志愿者 ID")
    ] = "",
    first: Annotated[
        str, Query(alias="from", description="First day, YYYY-MM-DD / 开始日期")
    ] = "",
    last: Annotated[
        str, Query(alias="to", description="Last day, YYYY-MM-DD / 结束日期")
    ] = "",
) -> Response:
    """A JSON Lines file (UTF-8): a header line (format, version, issuer,
    exported_at, scope, period), then one line per volunteer with basic
    information (ID number masked), service records, training, awards and
    certificates. Either ``volunteer_id`` (that volunteer, optionally over
    ``from``–``to``) or ``from`` and ``to`` (every volunteer with service
    recorded in the caller's subtree over the period, at most a year). A
    volunteer outside the caller's subtree is refused (404/403)."""
    period = period_of(first, last)
    if not volunteer_id and period is None:
        raise InvalidArgument(
            "volunteer_id", "volunteer_id.or_period",
            "give volunteer_id, or from and to", "须提供志愿者 ID 或起止日期",
        )  # fmt: skip
    me.require_any(*ADMINS, "org_leader")

    async def call(service: str, method: str, message: Message) -> dict[str, Any]:
        return await rpc(method, message, service)

    body = await export_file(
        call, me.scope.code, now=datetime.now(UTC),
        volunteer_id=volunteer_id, period=period,
    )  # fmt: skip
    name = f"records-{volunteer_id or me.scope.code}.jsonl"
    return Response(
        body, media_type=JSONL,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.post(
    "/import",
    summary="Import records in the national format / 导入全国志愿服务记录",
    openapi_extra={
        "requestBody": {
            "required": True,
            # The body is read raw, whatever its type says; text/plain is
            # listed too so that generic clients (and the fuzzer) can send it.
            "content": {
                JSONL: {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_records(request: Request, me: Me, rpc: Rpc) -> dict[str, Any]:
    """The body is a file in the national record format. Each approved
    service record becomes an approved hour record here (through the bulk
    import: policy, daily cap and overlaps apply); volunteers must already
    be registered in the caller's subtree (found by full ID number, else by
    volunteer number). Each line's training and awards go to activity's
    ImportTraining and commendation's ImportAwards with the caller's token,
    and its national volunteer number is stored where the volunteer has
    none (a different one stored refuses the line). The answer counts
    records imported, duplicates, rejected and skipped, training and awards
    imported and duplicate, and lists problems by line and field. The same
    file again imports nothing twice. A file naming a division outside the
    caller's subtree is refused whole (403). Administrators only; needs
    PostgreSQL behind hours and registration."""
    me.require_any(*ADMINS)
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise InvalidArgument("file", "file.max_size", "the file may be at most 20 MB",
                              "文件不能超过 20 MB")  # fmt: skip
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument("file", "file.encoding", "the file must be UTF-8",
                              "文件须为 UTF-8 编码") from None  # fmt: skip
    hours, registration = bulk_database("hours"), bulk_database("registration")
    if hours is None or registration is None:
        raise InvalidArgument("file", "file.embedded",
                              "record import needs PostgreSQL (not embedded mode)",
                              "记录导入需要 PostgreSQL（嵌入模式不支持）")  # fmt: skip
    source = hashlib.sha256(raw).hexdigest()[:16]
    loop = asyncio.get_running_loop()

    def call(service: str, method: str, message: Message) -> Message:
        # From the worker thread: the RPC runs on the gateway's loop, with
        # the caller's own token (the services check the scope again).
        return asyncio.run_coroutine_threadsafe(
            rpc.call(method, message, service), loop
        ).result()

    def work() -> dict[str, Any]:
        from services.common.config import load
        from services.common.keys import pii_cipher
        from services.hours.record_import import Remote
        from services.hours.record_import import import_records as run
        from services.registration import bulk as registration_bulk
        from services.registration import record_identity as ri

        cipher = pii_cipher(load())
        report = run(
            hours, me.scope, text.splitlines(), source=source, actor=me.username,
            volunteers=lambda scope, numbers: registration_bulk.lookup(
                registration, scope, numbers
            ),
            identities=lambda scope, ids: ri.by_id_number(
                registration, cipher, scope, ids
            ),
            registry=ri.Directory(registration), remote=Remote(call),
        )  # fmt: skip
        return report.to_dict()

    return await loop.run_in_executor(None, work)
