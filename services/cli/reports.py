"""CLI commands that talk to the running services over gRPC: rollup export
for any service, certificate verification, and the hours review queue."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from google.protobuf import json_format

from services.catalog import SERVICES
from services.cli.help import command
from services.cli.remote import caller_options, caller_token, stub
from services.common import protos

LEVELS = {"province": 1, "city": 2, "county": 3, "township": 4, "village": 5}


def cmd_rollup(args: argparse.Namespace) -> int:
    from zhiyuan.common.v1 import common_pb2 as common

    messages = protos.messages(args.service)
    query = common.RollupQuery(
        division_code=args.division,
        group_by=LEVELS.get(args.group_by or "", 0),
        period=common.Period(start_month=args.start or "", end_month=args.end or ""),
        by_month=args.by_month,
    )
    reply = stub(args.service, caller_token(args)).Summarize(
        messages.SummarizeRequest(query=query)
    )
    rollup = reply.rollup
    names = list(rollup.metric_names)
    out = csv.writer(sys.stdout)
    out.writerow(["division_code", "division_name", "month", *names])
    for row in [*rollup.rows, rollup.total]:
        out.writerow(
            [row.division.code, row.division.name, row.month]
            + [f"{row.metrics.get(n, 0):g}" for n in names]
        )
    return 0


def cmd_certificate_verify(args: argparse.Namespace) -> int:
    from zhiyuan.hours.v1 import hours_pb2

    reply = stub("hours", None).VerifyCertificate(
        hours_pb2.VerifyCertificateRequest(number=args.number)
    )
    body = json_format.MessageToDict(reply, preserving_proto_field_name=True)
    for key, value in body.items():
        print(f"{key:<12} {value}")
    return 0


def cmd_hours_pending(args: argparse.Namespace) -> int:
    from zhiyuan.common.v1 import common_pb2 as common
    from zhiyuan.hours.v1 import hours_pb2

    reply = stub("hours", caller_token(args)).ListRecords(
        hours_pb2.ListRecordsRequest(
            division_code=args.division,
            status=hours_pb2.RECORD_STATUS_PENDING,
            page=common.PageRequest(page_size=args.limit),
        )
    )
    out = csv.writer(sys.stdout)
    out.writerow(["id", "volunteer_number", "division_code", "hours", "content"])
    for r in reply.records:
        out.writerow(
            [r.id, r.volunteer_number, r.division_code, f"{r.hours:g}", r.content]
        )
    print(f"# {reply.page.total_size} pending / 待审核", file=sys.stderr)
    return 0


def add_commands(sub: Any) -> None:
    r = command(
        sub, "rollup",
        "export a service's rollup as CSV / 导出统计 (needs JWT_PRIVATE_KEY)",
        en="Ask a running service's api for its rollup of a division (the "
        "same figures as the dashboard) and print it as CSV: one row per "
        "child division (or per --group-by level, per month with "
        "--by-month), then the total. Signs a short-lived token for --scope "
        "and --role with the configured private key (JWT_PRIVATE_KEY or "
        ".run/keys); the service's address is <SERVICE>_GRPC_ADDRESS.",
        zh="向运行中的服务查询某区划的统计汇总（与数据看板相同的数字），以 CSV "
        "输出：每个下级区划一行（或按 --group-by 指定的层级、--by-month 按月），"
        "最后一行为合计。使用配置的私钥（JWT_PRIVATE_KEY 或 .run/keys）为 "
        "--scope 与 --role 签发短期令牌；服务地址取自 <SERVICE>_GRPC_ADDRESS。",
        examples=[
            "zhiyuan rollup registration --division 61 > shaanxi.csv",
            "zhiyuan rollup hours --division 6101 --group-by county "
            "--start 2026-01 --end 2026-06 --by-month",
            "zhiyuan rollup hours --scope CN --role province_admin --division CN "
            "> national.csv",
        ],
    )  # fmt: skip
    r.add_argument("service", choices=SERVICES, help="whose rollup / 哪项服务的统计")
    r.add_argument(
        "--division", default="61",
        help="node to summarise (default 61; CN: the nation by province, for "
        "--scope CN) / 要汇总的区划代码（CN 为全国，按省分行）",
    )  # fmt: skip
    r.add_argument(
        "--group-by", choices=list(LEVELS),
        help="rows per division at this level (default: the children) / 分组层级",
    )  # fmt: skip
    r.add_argument("--start", help="first month YYYY-MM / 起始月份")
    r.add_argument("--end", help="last month YYYY-MM / 截止月份")
    r.add_argument(
        "--by-month", action="store_true", help="one row per month / 按月分行"
    )
    caller_options(r)
    r.set_defaults(func=cmd_rollup)

    c = command(
        sub, "certificate", "certificates / 志愿服务证明",
        en="Service-hour certificates issued by the hours service.",
        zh="时长服务签发的志愿服务证明。",
        examples=["zhiyuan certificate verify ZYC-61-2026-000123-7K4Q"],
    )  # fmt: skip
    c_sub = c.add_subparsers(dest="action", required=True)
    v = command(
        c_sub, "verify", "verify a certificate number (public) / 核验证明编号",
        en="Check a certificate number printed on a service-hour certificate "
        "against the hours service, as the public verification page does: "
        "prints its status (valid or revoked), the holder's masked name (张**), "
        "the hours, the issuer and the issue date. Needs no key; exit code 3 "
        "when the number is unknown. The service's address is "
        "HOURS_GRPC_ADDRESS.",
        zh="向时长服务核验志愿服务证明上的编号（与公开核验页面相同）：显示状态"
        "（有效或已撤销）、持有人姓名（仅显示姓氏，如 张**）、时长、签发单位和签发"
        "日期。无需密钥；编号不存在时退出码为 3。服务地址取自 "
        "HOURS_GRPC_ADDRESS。",
        examples=["zhiyuan certificate verify ZYC-61-2026-000123-7K4Q"],
    )  # fmt: skip
    v.add_argument("number", help="as printed, e.g. ZYC-61-2026-000123-7K4Q / 证明编号")
    v.set_defaults(func=cmd_certificate_verify)

    h = command(
        sub, "hours", "hours review / 时长审核",
        en="Service hours awaiting review, from the running hours service.",
        zh="从运行中的时长服务查询待审核的服务时长。",
        examples=["zhiyuan hours pending --scope 610113 --role tenant_admin"],
    )  # fmt: skip
    h_sub = h.add_subparsers(dest="action", required=True)
    pq = command(
        h_sub, "pending", "list records awaiting approval as CSV / 待审核记录",
        en="Print the hour records awaiting approval in a division as CSV "
        "(id, volunteer number, division, hours, content), newest first, "
        "as the caller --scope/--role sees them; the count goes to stderr.",
        zh="以 CSV 输出某区划待审核的时长记录（编号、志愿者编号、区划、时长、"
        "服务内容），按调用者 --scope/--role 的权限可见；总数输出到标准错误。",
        examples=["zhiyuan hours pending --scope 610113 --role tenant_admin "
                  "--limit 50 > pending.csv"],
    )  # fmt: skip
    pq.add_argument(
        "--division", default="", help="node (default: the scope) / 区划代码"
    )
    pq.add_argument("--limit", type=int, default=100, help="rows (default 100) / 行数")
    caller_options(pq)
    pq.set_defaults(func=cmd_hours_pending)
