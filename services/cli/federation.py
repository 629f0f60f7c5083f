"""``zhiyuan federation``: link releases (issue 15; see
services/common/federation.py).

    zhiyuan federation register NAME SUBTREE   (upstream) admit a downstream
    zhiyuan federation unregister NAME [--purge]
                                               (upstream) end its link
    zhiyuan federation link                    (downstream) queue + shovel
    zhiyuan federation resync [--service S] [--chunk N]
                                               (downstream, relay) full snapshot,
                                               in chunks
    zhiyuan federation status                  what this release federates

下级部署（如区县）把统计汇总转发给上级部署（如省级）：上级用 register 登记下级
（独立的消息队列账号，只能写入自己的交换器），下级用 link 建立 shovel 链路，
resync 重新计算并发送全量快照以纠正上级。
"""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any

from services.cli.help import command
from services.common.config import load


def _federated() -> dict[str, str]:
    """service → the rollup its worker federates (``federated_rollup``)."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from services.catalog import worker_classes

    return {
        cls.name: cls.federated_rollup
        for cls in worker_classes()
        if getattr(cls, "federated_rollup", "")
    }


def _fed() -> Any:
    from services.common.federation import FederationConfig

    return FederationConfig.from_config(load())


def cmd_register(args: argparse.Namespace) -> int:
    from services.common.federation_links import register

    cfg = load()
    password = register(
        _fed(), args.name, args.subtree, cfg["amqp_uri"], sorted(_federated()),
        args.password or "",
    )  # fmt: skip
    print(json.dumps({"name": args.name, "subtree": args.subtree,
                      "username": f"federation-{args.name}",
                      "password": password}))  # fmt: skip
    return 0


def cmd_unregister(args: argparse.Namespace) -> int:
    from services.common.db import Database, is_postgres
    from services.common.errors import InvalidArgument
    from services.common.federation_links import purge_figures, unregister

    cfg = load()
    federated = _federated()
    if args.service:
        if args.service not in federated:
            raise InvalidArgument(
                "service", "enum",
                f"--service must be one of {', '.join(sorted(federated))}",
                f"--service 须为 {', '.join(sorted(federated))} 之一",
            )  # fmt: skip
        federated = {args.service: federated[args.service]}
    done = unregister(
        _fed(), args.name, cfg["amqp_uri"], sorted(federated), purge=args.purge
    )
    if args.purge:
        removed: dict[str, int] = {}
        for service, rollup in federated.items():
            db = Database(cfg.service(service))
            try:
                if is_postgres(db.engine):
                    removed[service] = purge_figures(db.engine, rollup, args.name)
            finally:
                db.dispose()
        done["rows_removed"] = removed
    print(json.dumps(done, ensure_ascii=False))
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    from services.common.db import Database
    from services.common.federation import configure_capture
    from services.common.federation_links import link

    cfg, fed = load(), _fed()
    shovel = link(fed, cfg["amqp_uri"])
    for service in _federated():
        db = Database(cfg.service(service))
        try:
            configure_capture(db, fed)
        finally:
            db.dispose()
    print(json.dumps(shovel))
    return 0


def cmd_resync(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from services.common.db import Database, is_postgres
    from services.common.federation import chunk_size
    from services.common.federation_resync import resync

    cfg, fed = load(), _fed()
    chunk = chunk_size(
        args.chunk if args.chunk is not None else fed.resync_chunk, "--chunk"
    )
    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), TextColumn("cells"), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(),
    ]  # fmt: skip
    for service, rollup in _federated().items():
        if args.service and service != args.service:
            continue
        db = Database(cfg.service(service))
        if not is_postgres(db.engine):
            db.dispose()
            print(
                f"{service}: embedded database, not federated"
                " / 嵌入式数据库，不参与联邦"
            )
            continue
        try:
            with Progress(*columns, disable=args.quiet) as bar:
                task = bar.add_task(f"{service} → {fed.name or 'upstream'}", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)  # noqa: B023

                sent = resync(db, fed, cfg["amqp_uri"], service, rollup,
                              chunk=chunk, progress=progress)  # fmt: skip
        finally:
            db.dispose()
        chunks = -(-sent // chunk) if sent else 0
        print(
            f"{service}: {sent} cells sent for re-sync in {chunks} chunks of up"
            f" to {chunk} / 已分 {chunks} 批发送全量快照 {sent} 个单元"
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    fed = _fed()
    out: dict[str, Any] = {
        "role": fed.role,
        "name": fed.name,
        "subtree": fed.subtree,
        "resync_chunk": fed.resync_chunk,
        "services": _federated(),
    }
    if fed.accepts:
        out["downstreams"] = [d.__dict__ for d in fed.downstreams()]
    print(json.dumps(out, ensure_ascii=False))
    return 0


def add_commands(sub: Any) -> None:
    f = sub.add_parser(
        "federation",
        help="link this release to an upstream or downstream one / 联邦部署",
        description=__doc__,
        epilog="examples / 示例:\n  zhiyuan federation register yanta 610113\n"
        "  zhiyuan federation unregister yanta --purge\n"
        "  zhiyuan federation link\n  zhiyuan federation resync",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f_sub = f.add_subparsers(dest="action", required=True)
    r = command(
        f_sub, "register", "admit a downstream (upstream) / 登记下级部署",
        en="On the upstream release: create the downstream's broker user "
        "(it may write only to its own exchange zhiyuan.federation.in.NAME), "
        "the exchange, queues and DLQs, and add it to "
        "FEDERATION_DOWNSTREAMS_FILE. Prints the credentials the downstream "
        "puts in FEDERATION_UPSTREAM_URI.",
        zh="在上级部署上执行：为下级创建消息队列账号（只能写入自己的交换器）、交换器、"
        "队列和死信队列，并写入 FEDERATION_DOWNSTREAMS_FILE；输出下级填入 "
        "FEDERATION_UPSTREAM_URI 的凭据。",
        examples=["zhiyuan federation register yanta 610113"],
    )  # fmt: skip
    r.add_argument("name", help="the downstream's name / 下级部署名称")
    r.add_argument("subtree", help="division code it may report / 其辖区代码")
    r.add_argument("--password", help="use this password / 指定密码")
    r.set_defaults(func=cmd_register)
    u = command(
        f_sub, "unregister", "end a downstream's link (upstream) / 注销下级部署",
        en="On the upstream release: remove the downstream from "
        "FEDERATION_DOWNSTREAMS_FILE (the workers stop taking its deltas), "
        "delete its broker user and close its connections, so its "
        "credentials stop working at once. The figures it sent stay on the "
        "dashboard (its link shows stale) unless --purge, which also deletes "
        "its exchange, queues and DLQs (deltas still waiting there are "
        "dropped) and removes its figures, and those of the releases below "
        "it, from every service; a relay forwards those removals upstream. "
        "Prints what was done as JSON.",
        zh="在上级部署上执行：从 FEDERATION_DOWNSTREAMS_FILE 删除该下级（不再接收其"
        "数据），删除其消息队列账号并断开其连接，凭据立即失效。已收到的数据仍显示在"
        "看板上（链路显示为滞后），除非使用 --purge：同时删除其交换器、队列和死信队列"
        "（其中尚未处理的数据将被丢弃），并从各服务删除该下级及其下级发来的全部数据；"
        "中继部署会把删除转发给上级。以 JSON 输出执行结果。",
        examples=["zhiyuan federation unregister yanta",
                  "zhiyuan federation unregister yanta --purge"],
    )  # fmt: skip
    u.add_argument("name", help="the downstream's name / 下级部署名称")
    u.add_argument(
        "--purge", action="store_true",
        help="also remove its queues and the figures it sent / 同时删除其队列和数据",
    )  # fmt: skip
    u.add_argument(
        "--service",
        help="purge only this service's queues and figures / 仅清除此服务的队列和数据",
    )
    u.set_defaults(func=cmd_unregister)
    link = command(
        f_sub, "link", "queue and shovel to the upstream (downstream) / 建立链路",
        en="On the downstream release: declare the local exchange and queue, "
        "start capturing the subtree's rollup cells, and define a dynamic "
        "shovel (ack mode on-confirm) to the upstream's exchange, through "
        "FEDERATION_MANAGEMENT_URL.",
        zh="在下级部署上执行：声明本地交换器和队列，开始记录辖区统计的变化，并通过"
        "管理接口建立到上级交换器的 shovel（确认后应答）。",
        examples=["zhiyuan federation link"],
    )  # fmt: skip
    link.set_defaults(func=cmd_link)
    rs = command(
        f_sub, "resync",
        "send a full snapshot in chunks (downstream, relay) / 全量重新同步",
        en="On a downstream or relay release: read every rollup cell of the "
        "subtree (writers held off for the moment of the read; a relay's "
        "snapshot also holds every cell its downstreams sent, each with its "
        "origin) and send them in chunks of --chunk cells with one snapshot "
        "version, then an end marker. The upstream overwrites its copy chunk "
        "by chunk and, only once the end marker arrived, removes the cells the "
        "snapshot no longer has: a re-sync stopped halfway (Ctrl-C, broker "
        "gone) removes nothing; run it again. A progress bar shows the cells "
        "sent on a terminal.",
        zh="在下级或中继部署上执行：读取辖区全部统计（读取瞬间暂停写入；中继部署的快照"
        "还包括其下级发来的全部数据，各带来源），按 --chunk 个单元一批、以同一快照版本"
        "分批发送，最后发送结束标记。上级逐批覆盖其副本，收到结束标记后才删除快照中已"
        "不存在的数据：中途停止（Ctrl-C、消息队列中断）不会删除任何数据，重新执行即可。"
        "终端上显示已发送单元的进度条。",
        examples=["zhiyuan federation resync",
                  "zhiyuan federation resync --service hours --chunk 5000",
                  "zhiyuan federation resync --quiet"],
    )  # fmt: skip
    rs.add_argument("--service", help="only this service / 仅此服务")
    rs.add_argument(
        "--chunk", type=int, metavar="CELLS",
        help="cells per message, 1-50000 (default FEDERATION_RESYNC_CHUNK, 2000)"
        " / 每条消息的单元数",
    )  # fmt: skip
    rs.add_argument("--quiet", action="store_true",
                    help="no progress bar / 不显示进度条")  # fmt: skip
    rs.set_defaults(func=cmd_resync)
    st = command(
        f_sub, "status", "this release's federation settings / 联邦设置",
        en="Print the role, name, subtree, federated services and (upstream) "
        "the registered downstreams as JSON.",
        zh="以 JSON 输出本部署的联邦角色、名称、辖区、参与的服务及（上级）已登记的"
        "下级部署。",
        examples=["zhiyuan federation status"],
    )  # fmt: skip
    st.set_defaults(func=cmd_status)
