"""CLI commands for commendation, over gRPC as the given scope: the star
requests awaiting a level's approval and the computed honour lists, as CSV
for the office's spreadsheet; and the operator's re-rating of star ratings
after a rule change, run against commendation's own database."""

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


def cmd_stars_rerate(args: argparse.Namespace) -> int:
    from services.commendation.stars import RerateSummary, StarCases
    from services.common.config import load
    from services.common.db import Database
    from services.common.errors import InvalidArgument
    from services.common.tenancy import validate_code

    code = validate_code(args.division, "division")
    if not 1 <= args.batch <= 5000:
        raise InvalidArgument(
            "batch", "batch.range", "must be 1-5000", "每批数量应为 1-5000"
        )

    def progress(s: RerateSummary) -> None:
        print(f"{s.done}/{s.total} re-rated / 已重新评定", flush=True)

    db = Database(load().service("commendation"))
    try:
        done = StarCases(db).rerate(code, batch=args.batch, progress=progress)
    finally:
        db.dispose()
    print(
        f"{code}: {done.done} ratings re-rated, {done.opened} requests opened, "
        f"{done.superseded} superseded, {done.withdrawn} withdrawn\n"
        f"{code}：已重新评定 {done.done} 人，新开星级申请 {done.opened} 条，"
        f"更替 {done.superseded} 条，撤回 {done.withdrawn} 条"
    )
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

    rr = s_sub.add_parser(
        "rerate",
        help="re-rate stars under the current thresholds / 按现行门槛重新评定",
        description=(
            "Re-evaluate every star rating whose volunteer lives in the "
            "division's subtree under the star thresholds and approval levels "
            "now in effect there, as the worker does after a settings change: "
            "requests open for those who now reach a tier, pending requests "
            "that no longer qualify are withdrawn; approved stars are never "
            "lowered. Safe to repeat and to run beside the workers. Use it for "
            "settings changed before the worker re-rated by itself.\n\n"
            "按辖区现行的星级时长门槛和审批层级，重新评定该区划及其下级所有志愿者的"
            "星级：达到新星级的发起审批申请，不再符合条件的待审批申请予以撤回；"
            "已批准的星级不会因门槛调整而降低。可重复执行，可与后台进程同时运行。"
        ),
        epilog="example / 示例: zhiyuan stars rerate --division 6101",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rr.add_argument(
        "--division", required=True,
        help="division code whose subtree is re-rated, e.g. 6101 / 区划代码",
    )  # fmt: skip
    rr.add_argument(
        "--batch", type=int, default=500,
        help="ratings per transaction (default 500) / 每个事务评定的人数",
    )  # fmt: skip
    rr.set_defaults(func=cmd_stars_rerate)

    h = sub.add_parser("honours", help="honour lists as CSV / 荣誉榜")
    h.add_argument("kind", choices=["medal", "long-service"])
    h.add_argument(
        "--min-years", type=int, default=0,
        help="long service: years (default: the tenant's setting, 10)",
    )  # fmt: skip
    scoped(h)
    h.set_defaults(func=cmd_honours)
