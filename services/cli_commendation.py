"""CLI commands for commendation, over gRPC as the given scope: the star
requests awaiting a level's approval and the computed honour lists, as CSV
for the office's spreadsheet."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from services.cli_reports import _stub, _token


def cmd_stars_pending(args: argparse.Namespace) -> int:
    from zhiyuan.commendation.v1 import commendation_pb2 as pb
    from zhiyuan.common.v1 import common_pb2 as common

    reply = _stub("commendation", _token(args)).ListStarRequests(
        pb.ListStarRequestsRequest(
            division_code=args.division,
            status=pb.STAR_REQUEST_STATUS_PENDING,
            awaiting_me=args.mine,
            page=common.PageRequest(page_size=args.limit),
        )
    )
    out = csv.writer(sys.stdout)
    out.writerow(["id", "volunteer_number", "division_code", "stars",
                  "approving_division_code", "hours_at_request"])  # fmt: skip
    for r in reply.requests:
        hours = f"{r.hours_at_request:g}"
        out.writerow([r.id, r.volunteer_number, r.division_code, r.stars,
                      r.approving_division_code, hours])  # fmt: skip
    print(f"# {reply.page.total_size} pending / 待审批", file=sys.stderr)
    return 0


def cmd_honours(args: argparse.Namespace) -> int:
    from zhiyuan.commendation.v1 import commendation_pb2 as pb
    from zhiyuan.common.v1 import common_pb2 as common

    kind = {"medal": pb.HONOUR_KIND_MEDAL, "long-service": pb.HONOUR_KIND_LONG_SERVICE}
    reply = _stub("commendation", _token(args)).ListHonours(
        pb.ListHonoursRequest(
            division_code=args.division,
            kind=kind[args.kind],
            min_years=args.min_years,
            page=common.PageRequest(page_size=args.limit),
        )
    )
    out = csv.writer(sys.stdout)
    out.writerow(["volunteer_number", "division_code", "stars", "total_hours",
                  "medal", "continuous_years"])  # fmt: skip
    for h in reply.honours:
        out.writerow([h.volunteer_number, h.division_code, h.stars,
                      f"{h.total_hours:g}", h.medal, h.continuous_years])  # fmt: skip
    print(f"# {reply.page.total_size} listed / 上榜", file=sys.stderr)
    return 0


def add_commands(sub: Any) -> None:
    def scoped(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scope", default="61", help="caller scope (default 61)")
        p.add_argument("--role", default="province_admin", help="caller role")
        p.add_argument("--division", default="", help="node (default: the scope)")
        p.add_argument("--limit", type=int, default=100, help="rows (max 500)")

    s = sub.add_parser("stars", help="star ratings / 星级评定")
    s_sub = s.add_subparsers(dest="action", required=True)
    sp = s_sub.add_parser("pending", help="star requests awaiting approval, as CSV")
    sp.add_argument(
        "--mine", action="store_true", help="only those the scope itself approves"
    )
    scoped(sp)
    sp.set_defaults(func=cmd_stars_pending)

    h = sub.add_parser("honours", help="honour lists as CSV / 荣誉榜")
    h.add_argument("kind", choices=["medal", "long-service"])
    h.add_argument(
        "--min-years", type=int, default=0,
        help="long service: years (default: the tenant's setting, 10)",
    )  # fmt: skip
    scoped(h)
    h.set_defaults(func=cmd_honours)
