"""``zhiyuan import hours|volunteers FILE``: bulk import of a CSV or XLSX
file straight into the service's database (an operator task, like
``zhiyuan seed``), through the same bulk functions as the console.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path
from typing import Any

HELP = """\
Import a CSV or XLSX file (the console's template: English or Chinese
headers; UTF-8, UTF-8 with BOM or GB18030; any line endings) in chunks,
at COPY speed. Good rows are kept, bad rows are reported with the row
number the spreadsheet shows (the header is row 1), the field, the rule and
a message in Chinese and English. Importing the same file again imports
nothing twice.

按批次导入 CSV 或 XLSX 文件（使用后台提供的模板：中文或英文表头；UTF-8、
带 BOM 的 UTF-8 或 GB18030 编码）。正确的行予以导入；错误的行逐条报告电子
表格中显示的行号（表头为第 1 行）、字段、规则和中英文说明。同一文件再次
导入不会重复导入。

hours:       志愿者编号,区划代码,组织名称,服务领域,服务内容,
             开始时间,结束时间,时长,补录原因[,服务阵地编号]
             Imported records are approved (the office certifies its
             register): rollups, the time bank and star ratings follow. A
             blank 时长 is the session rounded by the tenant's policy; the
             daily cap and overlaps apply as for one record at a time.
             服务阵地编号 (position_id, optional) is the id of a service
             position in the scope (its id, as GET /positions reports it);
             its hours count in the positions' rollup.
volunteers:  姓名,身份证号,手机号,区划代码,服务领域
             Registered as pending (or verified with --verified).

examples / 示例:
  zhiyuan import hours register.xlsx --scope 610113 --report bad-rows.csv
  zhiyuan import volunteers roll.csv --scope 6101 --chunk-size 50000
"""


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="bulk import hours or volunteers from CSV/XLSX / 批量导入",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "kind", choices=["hours", "volunteers"],
        help="what the file holds: hour records or volunteers / 导入内容",
    )  # fmt: skip
    p.add_argument("file", type=Path, help="a .csv or .xlsx file")
    p.add_argument(
        "--scope", required=True,
        help="the tenant (division code) the rows must lie in, e.g. 610113",
    )  # fmt: skip
    p.add_argument(
        "--chunk-size", type=int, default=20_000,
        help="rows per transaction (default 20000)",
    )  # fmt: skip
    p.add_argument("--report", type=Path, help="write the bad rows to this CSV")
    p.add_argument(
        "--verified", action="store_true",
        help="volunteers only: register them as verified by the importer",
    )  # fmt: skip
    p.add_argument("--actor", default="cli-import", help="recorded as the importer")
    p.set_defaults(func=cmd_import)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _estimate(path: Path) -> int | None:
    """Data rows, roughly (for the ETA): line ends in a CSV, the sheet's
    dimension in an XLSX."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        rows = book.worksheets[0].max_row
        book.close()
        return max((rows or 1) - 1, 0) or None
    lf = cr = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            lf, cr = lf + block.count(b"\n"), cr + block.count(b"\r")
    return max(lf or cr, 1) - 1 or None


def cmd_import(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from services.common.bulk import read_table
    from services.common.config import load
    from services.common.db import Database
    from services.common.tenancy import Scope

    if not args.file.is_file():
        print(f"zhiyuan import: no such file {args.file}", file=sys.stderr)
        return 2
    scope = Scope(args.scope)
    service = "hours" if args.kind == "hours" else "registration"
    cfg = load()
    db = Database(cfg.service(service))
    source = _digest(args.file)
    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
    ]  # fmt: skip
    try:
        with args.file.open("rb") as fh, Progress(*columns) as bar:
            task = bar.add_task(
                f"{args.kind} ← {args.file.name}", total=_estimate(args.file), rate="–"
            )

            def progress(done: int) -> None:
                elapsed = bar.tasks[task].elapsed or 0
                rate = f"{done / elapsed:,.0f}" if elapsed else "–"
                bar.update(task, completed=done, rate=rate)

            rows = read_table(fh, args.file.name)
            if args.kind == "hours":
                from services.hours.bulk import import_rows

                report = import_rows(
                    db, scope, rows, source=source, chunk_size=args.chunk_size,
                    progress=progress, actor=args.actor,
                )  # fmt: skip
            else:
                from services.registration.bulk import import_rows as register

                report = register(
                    db, scope, rows, source=source, chunk_size=args.chunk_size,
                    progress=progress, verified=args.verified, actor=args.actor,
                    cipher=None,
                )  # fmt: skip
            bar.update(task, total=report.rows, completed=report.rows)
    finally:
        db.dispose()
    print(
        f"rows {report.rows} · imported {report.imported} · duplicates "
        f"{report.duplicates} · rejected {report.rejected}"
        f"  / 共 {report.rows} 行 · 导入 {report.imported} · 重复 "
        f"{report.duplicates} · 拒绝 {report.rejected}"
    )
    if args.report:
        with args.report.open("w", encoding="utf-8-sig", newline="") as out:
            w = csv.writer(out)
            w.writerow(["row 行", "field 字段", "label 字段名", "rule 规则",
                        "message_zh 说明", "message_en"])  # fmt: skip
            for e in report.errors:
                w.writerow([e.row, e.field, e.label_zh, e.rule, e.message_zh,
                            e.message_en])  # fmt: skip
        print(f"bad rows written to {args.report}")
    elif report.errors:
        for e in report.errors[:20]:
            print(f"  row {e.row} {e.label_zh}({e.field}) {e.rule}: "
                  f"{e.message_zh} / {e.message_en}")  # fmt: skip
        if len(report.errors) > 20:
            print(f"  … {len(report.errors) - 20} more (use --report FILE)")
    return 0 if not report.rejected else 1
