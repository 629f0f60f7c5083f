"""``zhiyuan``: the operator's and office's command line.

zhiyuan migrate                 apply every service's migrations
zhiyuan seed                    division tree + Shaanxi demo data (idempotent)
zhiyuan keys ensure             create development keys under .run/keys
zhiyuan admin create ...        create an account directly (bootstrap)
zhiyuan token ...               sign a token (operators, scripts)
zhiyuan run SERVICE [ROLE]      run one process (api, worker; gateway)
zhiyuan up [--only P,...]       start the whole platform, restarting crashed processes
zhiyuan probe worker SERVICE    liveness check of a worker (heartbeat age)
zhiyuan rollup SERVICE ...      export a service's rollup as CSV
zhiyuan certificate verify N    check a certificate number (public)
zhiyuan hours pending ...       records awaiting approval, as CSV
zhiyuan stars pending ...       star ratings awaiting approval, as CSV
zhiyuan stars rerate --division re-rate stars under the current thresholds
zhiyuan honours KIND ...        medal or long-service honour list, as CSV
zhiyuan settings announce       re-announce settings to the other services
zhiyuan dlq list|show|replay|purge   dead-lettered events (services/cli_dlq.py)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from services.catalog import SERVICES, api_entry
from services.common.config import ROOT, load


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common.migrations import upgrade

    cfg = load()
    for name in args.service or SERVICES:
        svc = cfg.service(name)
        print(f"migrating {name} ({_safe_url(svc.database_url)}) …", flush=True)
        upgrade(svc)
    print("migrations done / 数据库迁移完成")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    import importlib.util

    cfg = load()
    for name in SERVICES:  # registration first: the others build on its data
        if importlib.util.find_spec(f"services.{name}.seed") is None:
            continue
        module = importlib.import_module(f"services.{name}.seed")
        module.seed(cfg, province=args.province, volunteers=args.volunteers)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from services.common.auth import ensure_dev_keys

    path = load().data_dir / "keys"
    ensure_dev_keys(path)
    print(f"development keys in {path} (set JWT_*_KEY and PII_KEY in production)")
    return 0


def cmd_admin_create(args: argparse.Namespace) -> int:
    from services.registration.seed import create_account

    create_account(
        load(),
        args.username,
        args.password,
        args.scope,
        args.roles.split(","),
        args.display_name or args.username,
        args.organisation_id or "",
    )
    print(f"account {args.username} created for scope {args.scope}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from services.common import keys

    token, exp = keys.issuer(load()).issue(
        subject=args.subject or args.username,
        username=args.username,
        scope_code=args.scope,
        roles=args.roles.split(","),
        ttl=args.ttl,
        organisation_id=args.org or "",
    )
    print(token)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    cfg = load()
    if args.service == "gateway":
        from services.gateway.app import serve as serve_gateway

        serve_gateway(cfg)
        return 0
    if args.service not in SERVICES:
        sys.exit(
            f"unknown service {args.service!r}; known: {', '.join(SERVICES)}, gateway"
        )
    if args.role == "worker":
        os.execv(  # noqa: S606 - our own interpreter and module
            sys.executable, [sys.executable, "-m", "services.worker_main", args.service]
        )
    api_entry(args.service)(cfg)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from services import up
    from services.supervisor import Supervisor, platform_processes

    cfg = load()
    processes = platform_processes(SERVICES, args.only)
    if not up.preflight(cfg, processes):
        return 1
    print(up.starting_text(processes), flush=True)
    supervisor = Supervisor(
        processes,
        cwd=str(ROOT),
        ready=up.checks(cfg, processes, since=time.time() - 1),
        on_ready=lambda seconds: up.ready_text(cfg, processes, seconds),
    )
    return supervisor.run()


def cmd_probe(args: argparse.Namespace) -> int:
    path = Path(load().service(args.service).heartbeat_file)
    if not path.exists():
        print(f"no heartbeat at {path}", file=sys.stderr)
        return 1
    age = time.time() - path.stat().st_mtime
    if age > args.max_age:
        print(f"heartbeat is {age:.0f}s old (max {args.max_age}s)", file=sys.stderr)
        return 1
    return 0


def cmd_settings_announce(args: argparse.Namespace) -> int:
    from services.registration.maintenance import announce_settings

    count = announce_settings(load(), args.scope)
    print(f"{count} nodes' settings announced / 已重新广播 {count} 个节点的设置")
    return 0


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zhiyuan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    m = sub.add_parser("migrate", help="apply migrations / 执行数据库迁移")
    m.add_argument("--service", action="append", choices=SERVICES)
    m.set_defaults(func=cmd_migrate)

    s = sub.add_parser("seed", help="load divisions and demo data / 导入区划与演示数据")
    s.add_argument(
        "--province", default="61", help="demo province code (default 61 Shaanxi)"
    )
    s.add_argument(
        "--volunteers", type=int, default=300, help="demo volunteers (default 300)"
    )
    s.set_defaults(func=cmd_seed)

    k = sub.add_parser("keys", help="development keys / 开发密钥")
    k.add_argument("action", choices=["ensure"])
    k.set_defaults(func=cmd_keys)

    a = sub.add_parser("admin", help="bootstrap accounts / 创建管理员账号")
    a_sub = a.add_subparsers(dest="action", required=True)
    ac = a_sub.add_parser("create", help="create an account directly in the database")
    ac.add_argument("--username", required=True)
    ac.add_argument("--password", required=True, help="at least 10 characters")
    ac.add_argument("--scope", required=True, help="division code, e.g. 61 or 610113")
    ac.add_argument(
        "--roles", required=True, help="comma-separated, e.g. province_admin"
    )
    ac.add_argument("--display-name")
    ac.add_argument(
        "--organisation-id",
        help="the organisation or team an org_leader runs (required for one)",
    )
    ac.set_defaults(func=cmd_admin_create)

    t = sub.add_parser("token", help="sign an access token / 签发访问令牌")
    t.add_argument("--username", required=True)
    t.add_argument("--subject")
    t.add_argument("--scope", required=True)
    t.add_argument("--roles", required=True)
    t.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")
    t.add_argument("--org", help="organisation an org_leader runs (claim org)")
    t.set_defaults(func=cmd_token)

    r = sub.add_parser("run", help="run one process / 启动单个进程")
    r.add_argument("service", help="registration | gateway")
    r.add_argument("role", nargs="?", default="api", choices=["api", "worker"])
    r.set_defaults(func=cmd_run)

    u = sub.add_parser("up", help="start every process / 启动整个平台")
    u.add_argument(
        "--only",
        type=lambda text: [p for p in text.split(",") if p],
        default=[],
        help="comma-separated processes, e.g. registration-api,gateway",
    )
    u.set_defaults(func=cmd_up)

    pr = sub.add_parser("probe", help="liveness checks for the chart")
    pr.add_argument("role", choices=["worker"])
    pr.add_argument("service", choices=SERVICES)
    pr.add_argument("--max-age", type=int, default=60, help="seconds (default 60)")
    pr.set_defaults(func=cmd_probe)

    st = sub.add_parser("settings", help="tenant settings / 租户设置")
    st_sub = st.add_subparsers(dest="action", required=True)
    an = st_sub.add_parser(
        "announce", help="re-announce every node's overrides to the other services"
    )
    an.add_argument("--scope", default="61", help="subtree (default 61)")
    an.set_defaults(func=cmd_settings_announce)

    from services import cli_commendation, cli_dlq, cli_import, cli_reports

    cli_reports.add_commands(sub)
    cli_commendation.add_commands(sub)
    cli_import.add_commands(sub)
    cli_dlq.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    import grpc

    from services.common.errors import ZhiyuanError
    from services.common.keys import MissingKey

    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ZhiyuanError, MissingKey) as err:
        print(f"zhiyuan {args.command}: {err}", file=sys.stderr)
        return 2
    except grpc.RpcError as err:
        details = err.details() if hasattr(err, "details") else str(err)
        print(f"zhiyuan {args.command}: {details}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
