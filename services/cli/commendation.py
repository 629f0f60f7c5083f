"""CLI commands for commendation, over gRPC as the given scope: the star
requests awaiting a level's approval and the computed honour lists, as CSV
for the office's spreadsheet; and the operator's re-rating of star ratings
after a rule change, run against commendation's own database."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from services.cli.help import command
from services.cli.remote import caller_options, caller_token, stub


def cmd_stars_pending(args: argparse.Namespace) -> int:
    from zhiyuan.commendation.v1 import commendation_pb2 as pb
    from zhiyuan.common.v1 import common_pb2 as common

    reply = stub("commendation", caller_token(args)).ListStarRequests(
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
    from services.commendation.application import CommendationApp
    from services.commendation.usecases.rerate import RerateSummary
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
        done = CommendationApp(db).rerating.rerate(
            code, batch=args.batch, progress=progress
        )
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
    reply = stub("commendation", caller_token(args)).ListHonours(
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
        caller_options(p)
        p.add_argument(
            "--division", default="", help="node (default: the scope) / 区划代码"
        )
        p.add_argument("--limit", type=int, default=100, help="rows (max 500) / 行数")

    s = command(
        sub, "stars", "star ratings / 星级评定",
        en="Star ratings of volunteers: the requests awaiting approval, and "
        "re-rating after the thresholds change.",
        zh="志愿者星级评定：查询待审批的星级申请，以及门槛调整后的重新评定。",
        examples=["zhiyuan stars pending --scope 6101 --mine",
                  "zhiyuan stars rerate --division 6101"],
    )  # fmt: skip
    s_sub = s.add_subparsers(dest="action", required=True)
    sp = command(
        s_sub, "pending", "star requests awaiting approval, as CSV / 待审批星级",
        en="Print the star requests awaiting approval in a division as CSV "
        "(id, volunteer number, division, stars, approving division, hours "
        "at the request), as the caller --scope/--role sees them; --mine "
        "keeps those the scope itself approves. The count goes to stderr.",
        zh="以 CSV 输出某区划待审批的星级申请（编号、志愿者编号、区划、星级、"
        "审批区划、申请时时长），按调用者 --scope/--role 的权限可见；--mine "
        "只列出由本级审批的申请。总数输出到标准错误。",
        examples=["zhiyuan stars pending --scope 6101 --role tenant_admin "
                  "--mine > to-approve.csv"],
    )  # fmt: skip
    sp.add_argument(
        "--mine", action="store_true",
        help="only those the scope itself approves / 仅本级审批的",
    )  # fmt: skip
    scoped(sp)
    sp.set_defaults(func=cmd_stars_pending)

    rr = command(
        s_sub, "rerate",
        "re-rate stars under the current thresholds / 按现行门槛重新评定",
        en="Re-evaluate every star rating whose volunteer lives in the "
        "division's subtree under the star thresholds and approval levels "
        "now in effect there, as the worker does after a settings change: "
        "requests open for those who now reach a tier, pending requests "
        "that no longer qualify are withdrawn; approved stars are never "
        "lowered. Safe to repeat and to run beside the workers. Use it for "
        "settings changed before the worker re-rated by itself.",
        zh="按辖区现行的星级时长门槛和审批层级，重新评定该区划及其下级所有志愿者的"
        "星级：达到新星级的发起审批申请，不再符合条件的待审批申请予以撤回；"
        "已批准的星级不会因门槛调整而降低。可重复执行，可与后台进程同时运行。",
        examples=["zhiyuan stars rerate --division 6101"],
    )  # fmt: skip
    rr.add_argument(
        "--division", required=True,
        help="division code whose subtree is re-rated, e.g. 6101 / 区划代码",
    )  # fmt: skip
    rr.add_argument(
        "--batch", type=int, default=500,
        help="ratings per transaction (default 500) / 每个事务评定的人数",
    )  # fmt: skip
    rr.set_defaults(func=cmd_stars_rerate)

    h = command(
        sub, "honours", "honour lists as CSV / 荣誉榜",
        en="Print a division's honour list as CSV, as the caller "
        "--scope/--role sees it: 'medal' lists five-star volunteers whose "
        "approved hours reach a medal (4,000 / 3,000 / 2,000 by default, "
        "per-tenant); 'long-service' lists those with approved hours in at "
        "least --min-years consecutive years (default: the tenant's setting, "
        "10). The count goes to stderr.",
        zh="以 CSV 输出某区划的荣誉榜，按调用者 --scope/--role 的权限可见："
        "medal 列出已获五星且累计时长达到奖章标准（默认 4000/3000/2000 小时，"
        "可按租户设置）的志愿者；long-service 列出连续至少 --min-years 年有"
        "已审核时长的志愿者（默认取租户设置，10 年）。总数输出到标准错误。",
        examples=["zhiyuan honours medal --division 6101 > medals.csv",
                  "zhiyuan honours long-service --min-years 5 --limit 500"],
    )  # fmt: skip
    h.add_argument(
        "kind", choices=["medal", "long-service"],
        help="medal (five stars and the medal hours) or long-service "
        "(consecutive years) / 奖章榜或长期服务榜",
    )  # fmt: skip
    h.add_argument(
        "--min-years", type=int, default=0,
        help="long service: years (default: the tenant's setting, 10) / 年数",
    )  # fmt: skip
    scoped(h)
    h.set_defaults(func=cmd_honours)
