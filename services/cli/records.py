"""``zhiyuan records export|import``: the national record format
(docs/record-format.md) from the command line. Export asks the running
services over gRPC as the --scope/--role caller, composed exactly as the
gateway's ``GET /api/v1/records/export``; import writes straight into hours'
database through the bulk import, as ``zhiyuan import hours`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from services.cli.help import command
from services.cli.remote import caller_options, caller_token, stub


def add_commands(sub: Any) -> None:
    p = command(
        sub, "records", "national record format: export, import / 全国志愿服务记录交换",
        en="Export or import volunteers' whole records in the national record "
        "format (JSON Lines, docs/record-format.md), for transfers between "
        "platforms and the national system.",
        zh="以全国志愿服务记录交换格式（JSON Lines）导出或导入志愿者的完整记录，用于"
        "平台间转移接续和汇入全国系统。",
        examples=[
            "zhiyuan records export --volunteer-id V1 --scope 610113 "
            "--role tenant_admin",
            "zhiyuan records import v1.jsonl --scope 610113",
        ],
    )  # fmt: skip
    inner = p.add_subparsers(dest="records_command", required=True)
    e = command(
        inner, "export", "export records as JSON Lines / 导出记录",
        en="Write one volunteer's whole record (--volunteer-id), or every record "
        "of the caller's subtree over a period (--from and --to, at most a "
        "year), in the national record format: basic information with the ID "
        "number masked, service records with evaluations, training, awards and "
        "certificates. Asks the running services as the --scope/--role caller.",
        zh="按全国志愿服务记录交换格式导出某位志愿者的完整记录（--volunteer-id），"
        "或调用者辖区内某一期间（--from、--to，最长一年）的全部记录：基本信息（身份证号"
        "脱敏）、服务记录及评价、培训、表彰、证明。",
        examples=[
            "zhiyuan records export --volunteer-id V1 --scope 610113 "
            "--role tenant_admin --out v1.jsonl",
            "zhiyuan records export --from 2026-01-01 --to 2026-12-31 "
            "--scope 610113 --role tenant_admin --out yanta-2026.jsonl",
        ],
    )  # fmt: skip
    e.add_argument("--volunteer-id", default="", help="one volunteer / 志愿者 ID")
    e.add_argument("--from", dest="first", default="", help="first day / 开始日期")
    e.add_argument("--to", dest="last", default="", help="last day / 结束日期")
    e.add_argument("--out", type=Path, help="write here (default stdout) / 输出文件")
    caller_options(e)
    e.set_defaults(func=cmd_export)
    i = command(
        inner, "import", "import records from JSON Lines / 导入记录",
        en="Import a file in the national record format into hours as records "
        "transferred in from another platform: each approved service record "
        "becomes an approved hour record through the bulk import (policy, daily "
        "cap, overlaps). Volunteers must be registered in --scope (found by full "
        "ID number, else by volunteer number). Problems are reported by line and "
        "field; the same file twice imports nothing twice; a file naming a "
        "division outside --scope is refused whole.",
        zh="将全国志愿服务记录交换格式的文件作为外平台转入记录导入时长服务：已审核的"
        "服务记录经批量导入成为已审核时长记录。志愿者须已在辖区内注册（按身份证号或"
        "志愿者编号匹配）。问题按行和字段报告；同一文件重复导入不会重复记录；文件中"
        "含辖区外的区划时整体拒绝。",
        examples=["zhiyuan records import v1.jsonl --scope 610113"],
    )  # fmt: skip
    i.add_argument("file", type=Path, help="a .jsonl file / 记录文件")
    i.add_argument(
        "--scope", required=True,
        help="the tenant (division code) the records must lie in / 导入辖区",
    )  # fmt: skip
    i.add_argument("--actor", default="cli-records", help="recorded as the importer")
    i.set_defaults(func=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    from google.protobuf.message import Message

    from services.gateway.api_records import period_of
    from services.gateway.protojson import to_json
    from services.gateway.records_export import export_file

    period = period_of(args.first, args.last)
    if not args.volunteer_id and period is None:
        print("zhiyuan records export: give --volunteer-id, or --from and --to",
              file=sys.stderr)  # fmt: skip
        return 2
    token = caller_token(args)
    stubs: dict[str, Any] = {}

    async def call(service: str, method: str, message: Message) -> dict[str, Any]:
        if service not in stubs:
            stubs[service] = stub(service, token)
        return to_json(getattr(stubs[service], method)(message))

    text = asyncio.run(export_file(
        call, args.scope, now=datetime.now(UTC), volunteer_id=args.volunteer_id,
        period=period,
    ))  # fmt: skip
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out} / 已写入")
    else:
        sys.stdout.write(text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from google.protobuf.message import Message

    from services.common.config import load
    from services.common.db import Database
    from services.common.tenancy import Scope
    from services.hours.record_import import Remote, import_records

    if not args.file.is_file():
        print(f"zhiyuan records import: no such file {args.file}", file=sys.stderr)
        return 2
    raw = args.file.read_bytes()
    db = Database(load().service("hours"))
    # Training and awards go to activity and commendation over gRPC as the
    # tenant's administrator (the services check the scope again).
    token = caller_token(argparse.Namespace(scope=args.scope, role="tenant_admin"))
    stubs: dict[str, Any] = {}

    def call(service: str, method: str, message: Message) -> Message:
        if service not in stubs:
            stubs[service] = stub(service, token)
        return cast(Message, getattr(stubs[service], method)(message))

    try:
        report = import_records(
            db, Scope(args.scope), raw.decode("utf-8-sig").splitlines(),
            source=hashlib.sha256(raw).hexdigest()[:16], actor=args.actor,
            remote=Remote(call),
        )  # fmt: skip
    finally:
        db.dispose()
    print(
        f"records {report.records} · imported {report.imported} · duplicates "
        f"{report.duplicates} · rejected {report.rejected} · skipped "
        f"{report.skipped} / 记录 {report.records} · 导入 {report.imported} · "
        f"重复 {report.duplicates} · 拒绝 {report.rejected} · 未转入 {report.skipped}"
    )
    print(
        f"training imported {report.training_imported} · duplicates "
        f"{report.training_duplicates} · awards imported {report.awards_imported}"
        f" · duplicates {report.awards_duplicates} · national numbers "
        f"{report.national_numbers} / 培训导入 {report.training_imported} · 重复 "
        f"{report.training_duplicates} · 表彰导入 {report.awards_imported} · 重复 "
        f"{report.awards_duplicates} · 全国编号 {report.national_numbers}"
    )
    for p in report.problems[:50]:
        print(f"  line {p.line} {p.field} {p.rule}: {p.message_zh} / {p.message_en}")
    return 0 if not report.rejected else 1
