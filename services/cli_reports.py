"""CLI commands that talk to the running services over gRPC: rollup export
for any service, certificate verification, and the hours review queue."""

from __future__ import annotations

import argparse
import csv
import importlib
import sys
from typing import Any

from google.protobuf import json_format

from services.catalog import SERVICES
from services.common import keys, rpc
from services.common.config import load

LEVELS = {"city": 2, "county": 3, "township": 4, "village": 5}


def _stub(service: str, token: str | None) -> Any:
    cfg = load()
    module = importlib.import_module(f"zhiyuan.{service}.v1.{service}_pb2_grpc")
    channel = rpc.channel(
        cfg.service(service).grpc_address,
        deadline=float(cfg["grpc.deadline_seconds"]),
        token=lambda: token,
    )
    return getattr(module, f"{service.title()}ServiceStub")(channel)


def _token(args: argparse.Namespace) -> str:
    """A short-lived token for the operator's scope (needs the signing key)."""
    value, _ = keys.issuer(load()).issue(
        subject="cli", username="cli", scope_code=args.scope, roles=[args.role], ttl=300
    )
    return value


def cmd_rollup(args: argparse.Namespace) -> int:
    from zhiyuan.common.v1 import common_pb2 as common

    messages = importlib.import_module(f"zhiyuan.{args.service}.v1.{args.service}_pb2")
    query = common.RollupQuery(
        division_code=args.division,
        group_by=LEVELS.get(args.group_by or "", 0),
        period=common.Period(start_month=args.start or "", end_month=args.end or ""),
        by_month=args.by_month,
    )
    reply = _stub(args.service, _token(args)).Summarize(
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

    reply = _stub("hours", None).VerifyCertificate(
        hours_pb2.VerifyCertificateRequest(number=args.number)
    )
    body = json_format.MessageToDict(reply, preserving_proto_field_name=True)
    for key, value in body.items():
        print(f"{key:<12} {value}")
    return 0


def cmd_hours_pending(args: argparse.Namespace) -> int:
    from zhiyuan.common.v1 import common_pb2 as common
    from zhiyuan.hours.v1 import hours_pb2

    reply = _stub("hours", _token(args)).ListRecords(
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
    def scoped(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scope", default="61", help="caller scope (default 61)")
        p.add_argument("--role", default="province_admin", help="caller role")

    r = sub.add_parser(
        "rollup",
        help="export a service's rollup as CSV / 导出统计 (needs JWT_PRIVATE_KEY)",
    )
    r.add_argument("service", choices=SERVICES)
    r.add_argument("--division", default="61", help="node to summarise (default 61)")
    r.add_argument("--group-by", choices=list(LEVELS), help="default: the children")
    r.add_argument("--start", help="first month YYYY-MM")
    r.add_argument("--end", help="last month YYYY-MM")
    r.add_argument("--by-month", action="store_true", help="one row per month")
    scoped(r)
    r.set_defaults(func=cmd_rollup)

    c = sub.add_parser("certificate", help="certificates / 志愿服务证明")
    c_sub = c.add_subparsers(dest="action", required=True)
    v = c_sub.add_parser("verify", help="verify a certificate number (public)")
    v.add_argument("number")
    v.set_defaults(func=cmd_certificate_verify)

    h = sub.add_parser("hours", help="hours review / 时长审核")
    h_sub = h.add_subparsers(dest="action", required=True)
    pq = h_sub.add_parser("pending", help="list records awaiting approval as CSV")
    pq.add_argument("--division", default="", help="node (default: the scope)")
    pq.add_argument("--limit", type=int, default=100)
    scoped(pq)
    pq.set_defaults(func=cmd_hours_pending)
