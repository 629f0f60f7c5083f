"""CSV imports for the console: parsing a file into rows, and running each
row as the caller through the same gRPC call a single entry uses (a
volunteer's registration; honour hours, 补录时长, for hour records).

Every row stands alone: a good row is registered (in its service's own
transaction), a bad one is reported with the field and the rule the
service named, so nothing is lost and nothing is half-imported. Each row's
request_id is derived from the file's content and the row number, so
uploading the same file again returns the first results instead of
registering anyone twice.

Example::

    rows = parse(text, VOLUNTEER_COLUMNS)   # InvalidArgument on a bad header
    async for line in run_volunteers(rpc, rows, digest(raw)): ...
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import grpc
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common import keys
from services.common.auth import Principal
from services.common.bulk import ImportReport, clean, read_table
from services.common.config import load
from services.common.db import Database
from services.common.errors import InvalidArgument, Unavailable, ZhiyuanError
from services.common.pii import PiiCipher
from services.common.roles import ADMINS
from services.common.rpc import error_details
from services.common.service_fields import SERVICE_FIELDS
from services.common.times import parse as parse_time
from services.gateway.backend import Caller
from services.hours import bulk as hours_bulk
from services.registration import bulk as registration_bulk

log = logging.getLogger(__name__)

MAX_ROWS = 5000
# Column → the names a header may use for it (English or Chinese).
VOLUNTEER_COLUMNS = {
    "name": ("name", "姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码"),
    "phone": ("phone", "手机号", "手机号码", "电话"),
    "home_division_code": ("home_division_code", "区划代码", "所在区划"),
    "service_fields": ("service_fields", "服务领域"),
}
# Hour records from a paper register, recorded as honour hours (补录).
HOUR_COLUMNS = {
    "volunteer_number": ("volunteer_number", "志愿者编号"),
    "division_code": ("division_code", "区划代码"),
    "organisation_name": ("organisation_name", "组织名称", "记录单位"),
    "service_field": ("service_field", "服务领域"),
    "content": ("content", "服务内容"),
    "session_start": ("session_start", "开始时间"),
    "session_end": ("session_end", "结束时间"),
    "hours": ("hours", "时长", "服务时长"),
    "reason": ("reason", "补录原因", "原因"),
    # The service position (志愿服务阵地) by its id, optional.
    "position_id": ("position_id", "服务阵地编号", "阵地编号"),
}
OPTIONAL = {"service_fields", "position_id"}
_FIELD_BY_NAME = {zh: code for code, zh in SERVICE_FIELDS.items()}


@dataclass(frozen=True)
class Row:
    number: int  # the data row, 1 = the first after the header
    values: dict[str, str]


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def decode(raw: bytes) -> str:
    """UTF-8 (with or without the BOM spreadsheet programs write) or GB18030,
    the encoding Chinese Excel saves CSV in."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidArgument(
        "file", "file.encoding", "the file must be UTF-8 or GB18030 text",
        "文件须为 UTF-8 或 GB18030 编码的文本",
    )  # fmt: skip


def parse_volunteers(text: str) -> list[Row]:
    return parse(text, VOLUNTEER_COLUMNS)


def parse_hours(text: str) -> list[Row]:
    return parse(text, HOUR_COLUMNS)


def parse(text: str, columns: dict[str, tuple[str, ...]]) -> list[Row]:
    """Rows of a CSV file whose header names every column of ``columns``
    (by its English or Chinese name, in any order)."""
    # newline=None: universal newlines, so a bare CR (old Mac spreadsheets)
    # ends a line instead of failing the csv module.
    reader = csv.reader(io.StringIO(text, newline=None))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if not header:
        raise InvalidArgument.required("file")
    names = [h.strip().lower() for h in header]
    where: dict[str, int] = {}
    for column, aliases in columns.items():
        found = [i for i, h in enumerate(names) if h in aliases]
        if found:
            where[column] = found[0]
        elif column not in OPTIONAL:
            raise InvalidArgument(
                "file", "file.header",
                f"the header needs a column {column} ({' / '.join(aliases)})",
                f"表头缺少“{aliases[1]}”（{column}）列",
            )  # fmt: skip
    rows = []
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:  # e.g. a NUL byte: the row is reported, not a 500
            cells = ["\ufffd"] * len(names)
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a row
        values = {
            c: (clean(cells[i]) if i < len(cells) else "") for c, i in where.items()
        }
        rows.append(Row(number, values))
        if len(rows) > MAX_ROWS:
            raise InvalidArgument(
                "file", "file.max_rows", f"at most {MAX_ROWS} rows per file",
                f"每个文件最多 {MAX_ROWS} 行",
            )  # fmt: skip
    return rows


def _fields(value: str) -> list[str]:
    return [
        f.strip()
        for f in value.replace("；", ";").replace("|", ";").split(";")
        if f.strip()
    ]


async def run_volunteers(
    rpc: Caller, rows: list[Row], file_key: str
) -> AsyncIterator[str]:
    """NDJSON lines: the total, one result per row (``row`` numbered as the
    spreadsheet shows it, the header being row 1; ``created`` false for a
    row an earlier upload of the file registered), then the summary."""
    yield json.dumps({"total": len(rows)}) + "\n"
    imported = failed = duplicates = 0
    started = datetime.now(UTC)
    for row in rows:
        v = row.values
        request = pb.RegisterVolunteerRequest(
            name=v["name"], id_number=v["id_number"], phone=v["phone"],
            home_division_code=v["home_division_code"],
            service_fields=_fields(v.get("service_fields", "")),
            request_id=f"import:{file_key}:{row.number}",
        )  # fmt: skip
        out: dict[str, Any] = {"row": row.number + 1}
        try:
            reply = await rpc.call("RegisterVolunteer", request)
        except grpc.RpcError as err:
            failed += 1
            details = error_details(err)
            out.update(ok=False, **details)
        else:
            # The request_id's earlier answer is the volunteer registered by
            # an earlier upload: older than this one.
            created = _since(reply.volunteer.registered_at, started)
            imported, duplicates = imported + created, duplicates + (not created)
            out.update(
                ok=True, created=created,
                volunteer_id=reply.volunteer.id,
                volunteer_number=reply.volunteer.volunteer_number,
            )  # fmt: skip
        yield json.dumps(out, ensure_ascii=False) + "\n"
    yield _summary(imported, failed, duplicates)


def _since(moment: str, started: datetime) -> bool:
    """Whether ``moment`` (RFC 3339) is not before ``started``; an unreadable
    one counts as new, as every row did before."""
    try:
        return parse_time(moment) >= started
    except ValueError:
        return True


def _summary(imported: int, failed: int, duplicates: int) -> str:
    return json.dumps({
        "done": True, "imported": imported, "failed": failed, "duplicates": duplicates,
    }) + "\n"  # fmt: skip


def _moment(value: str) -> str:
    """A time as a spreadsheet writes it (``2026-11-01 09:00``) is China
    time; a time with an offset is passed on as written."""
    value = value.strip().replace("/", "-")
    if len(value) in (16, 19) and value[10:11] in (" ", "T"):
        return value[:10] + "T" + value[11:] + "+08:00"
    return value


def _hours(value: str) -> float:
    try:
        return float(value.strip() or "0")
    except ValueError:
        return float("nan")  # refused by the service as hours.range


async def run_hours(rpc: Caller, rows: list[Row], file_key: str) -> AsyncIterator[str]:
    """NDJSON lines, as :func:`run_volunteers`. A row names its volunteer by
    number; the number is looked up as the caller, so only volunteers the
    caller may see can be named."""
    yield json.dumps({"total": len(rows)}) + "\n"
    imported = failed = duplicates = 0
    volunteers: dict[str, str | None] = {}
    for row in rows:
        v = row.values
        out: dict[str, Any] = {"row": row.number + 1}  # the header is row 1
        try:
            number = v["volunteer_number"].strip().upper()
            if number not in volunteers:
                volunteers[number] = await _volunteer_id(rpc, number)
            volunteer_id = volunteers[number]
            if volunteer_id is None:
                raise InvalidArgument(
                    "volunteer_number", "volunteer_number.known",
                    f"no volunteer numbered {number!r} in your area",
                    f"您的辖区内没有编号为“{number}”的志愿者",
                )  # fmt: skip
            field = v["service_field"].strip()
            request = hpb.RecordHonourHoursRequest(
                volunteer_id=volunteer_id, division_code=v["division_code"],
                organisation_name=v["organisation_name"],
                service_field=_FIELD_BY_NAME.get(field, field), content=v["content"],
                session_start=_moment(v["session_start"]),
                session_end=_moment(v["session_end"]), hours=_hours(v["hours"]),
                reason=v["reason"], request_id=f"import:{file_key}:{row.number}",
                position_id=v.get("position_id", ""),
            )  # fmt: skip
            reply = await rpc.call("RecordHonourHours", request, "hours")
        except InvalidArgument as err:
            failed += 1
            out.update(ok=False, **err.to_dict())
        except grpc.RpcError as err:
            failed += 1
            out.update(ok=False, **error_details(err))
        else:
            # A row an earlier upload recorded is answered, not recorded again.
            imported += reply.created
            duplicates += not reply.created
            out.update(
                ok=True, record_id=reply.record.id, created=reply.created,
                volunteer_number=reply.record.volunteer_number,
                hours=reply.record.hours,
            )  # fmt: skip
        yield json.dumps(out, ensure_ascii=False) + "\n"
    yield _summary(imported, failed, duplicates)


async def _volunteer_id(rpc: Caller, number: str) -> str | None:
    if not number:
        raise InvalidArgument.required("volunteer_number")
    try:
        reply = await rpc.call("ListVolunteers", pb.ListVolunteersRequest(query=number))
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.INVALID_ARGUMENT:
            raise InvalidArgument(
                "volunteer_number", "volunteer_number.format",
                "a volunteer number is ZY followed by 12 digits",
                "志愿者编号为 ZY 加 12 位数字",
            ) from None  # fmt: skip
        raise
    return reply.volunteers[0].id if reply.volunteers else None


# -- the bulk path ----------------------------------------------------------------
# With PostgreSQL behind hours and registration, an upload runs through the
# same bulk functions as `zhiyuan import` (COPY, set-wise checks, one event
# per chunk), in a worker thread, as the caller's scope. Embedded mode
# (SQLite) keeps the row-by-row path above.

BULK_CHUNK = 2000  # rows per transaction: the progress bar moves per chunk
_DATABASES: dict[str, Database] = {}
_OPENING = threading.Lock()


def bulk_database(service: str) -> Database | None:
    """The service's database for bulk imports (two connections at most),
    or None in embedded mode."""
    with _OPENING:
        if service not in _DATABASES:
            svc = load().service(service)
            if not svc.database_url.startswith("postgresql"):
                return None
            small = replace(svc, database_pool_size=1)
            _DATABASES[service] = Database(small)
        return _DATABASES[service]


def bulk_ready() -> bool:
    return bool(bulk_database("hours") and bulk_database("registration"))


def bulk_rows(raw: bytes, name: str, kind: str) -> list[dict[str, Any]]:
    """The file's rows (CSV or XLSX), header checked first (a bad header or
    encoding is INVALID_ARGUMENT before anything runs)."""
    columns = hours_bulk.COLUMNS if kind == "hours" else registration_bulk.COLUMNS
    rows = list(read_table(io.BytesIO(raw), name, columns))
    if len(rows) > MAX_ROWS:
        raise InvalidArgument(
            "file", "file.max_rows", f"at most {MAX_ROWS} rows per file",
            f"每个文件最多 {MAX_ROWS} 行",
        )  # fmt: skip
    return rows


async def run_bulk(
    kind: str, p: Principal, rows: list[dict[str, Any]], source: str
) -> AsyncIterator[str]:
    """NDJSON as the row-by-row path: ``{"total": n}``, ``{"progress": k}``
    after each chunk, one line per refused row (``ok`` false, the field, its
    Chinese label, the rule, both messages), then ``{"done": true,
    "imported": a, "failed": b, "duplicates": c}``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def progress(done: int) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("progress", done))

    def work() -> None:
        try:
            report = _import(kind, p, rows, source, progress)
        except Exception as err:  # noqa: BLE001 - reported on the stream
            loop.call_soon_threadsafe(queue.put_nowait, ("error", err))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("report", report))

    yield json.dumps({"total": len(rows)}) + "\n"
    task = loop.run_in_executor(None, work)
    while True:
        what, value = await queue.get()
        if what == "progress":
            yield json.dumps({"progress": value}) + "\n"
            continue
        await task
        if what == "error":
            if not isinstance(value, ZhiyuanError):
                log.exception("bulk import failed", exc_info=value)
                value = Unavailable(
                    "the import stopped; rows already imported are kept",
                    "导入中断；已导入的行已保存",
                )
            yield json.dumps({"done": True, "error": value.to_dict()},
                             ensure_ascii=False) + "\n"  # fmt: skip
            return
        for e in value.errors:
            yield json.dumps({"ok": False, **e.to_dict()}, ensure_ascii=False) + "\n"
        yield json.dumps({
            "done": True, "imported": value.imported, "failed": value.rejected,
            "duplicates": value.duplicates,
        }) + "\n"  # fmt: skip
        return


def _import(
    kind: str,
    p: Principal,
    rows: list[dict[str, Any]],
    source: str,
    progress: Callable[[int], None],
) -> ImportReport:
    p.require_any(*ADMINS)  # a whole file: the tenant's administrators
    registration = _postgres("registration")
    if kind == "volunteers":
        # One chunk in the database at a time: the gateway's bulk pool is
        # small (bulk_database), and other imports may share it.
        return registration_bulk.import_rows(
            registration, p.scope, rows, source=source, chunk_size=BULK_CHUNK,
            progress=progress, actor=p.username, cipher=_cipher(), connections=1,
        )  # fmt: skip
    return hours_bulk.import_rows(
        _postgres("hours"), p.scope, rows, source=source,
        chunk_size=BULK_CHUNK, progress=progress, actor=p.username,
        volunteers=lambda scope, numbers: registration_bulk.lookup(
            registration, scope, numbers
        ),
        positions=lambda scope, ids: registration_bulk.lookup_positions(
            registration, scope, ids
        ),
    )  # fmt: skip


def _postgres(service: str) -> Database:
    """The bulk database of a service behind PostgreSQL (the bulk path is
    only taken there: :func:`bulk_ready`)."""
    db = bulk_database(service)
    if db is None:
        raise RuntimeError(f"{service}: the bulk import needs PostgreSQL")
    return db


_CIPHER: list[PiiCipher] = []


def _cipher() -> PiiCipher:
    if not _CIPHER:
        _CIPHER.append(keys.pii_cipher(load()))
    return _CIPHER[0]
