"""``zhiyuan``: the operator's and office's command line.

zhiyuan migrate                 apply every service's migrations
zhiyuan seed                    division tree + a living Shaanxi demo (idempotent)
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
from services.cli_help import command
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
    from services.seed.driver import seed

    seed(load(), args.province, volunteers=args.volunteers, wait=not args.no_wait)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from services.common.auth import ensure_dev_keys

    path = load().data_dir / "keys"
    ensure_dev_keys(path)
    print(f"development keys in {path} (set JWT_*_KEY and PII_KEY in production)")
    return 0


def read_password(args: argparse.Namespace) -> str:
    """The new account's password: the first line of standard input with
    ``--password-stdin``; the deprecated ``--password`` value (a warning on a
    terminal: ps and the shell history show it); else asked twice, unechoed.

    Example::

        printf '%s\\n' "$PW" | zhiyuan admin create ... --password-stdin
    """
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password is not None:
        if sys.stderr.isatty():
            print(
                "warning: --password shows the password to ps and the shell "
                "history; use the prompt or --password-stdin\n"
                "警告：--password 会让密码出现在进程列表和 shell 历史中；"
                "请改用提示输入或 --password-stdin",
                file=sys.stderr,
            )
        return str(args.password)
    if not sys.stdin.isatty():
        raise SystemExit(
            "zhiyuan admin create: no terminal to ask for the password; "
            "use --password-stdin\n"
            "zhiyuan admin create：没有终端可输入密码，请使用 --password-stdin"
        )
    import getpass

    first = getpass.getpass("password / 密码: ")
    if getpass.getpass("again / 再次输入: ") != first:
        raise SystemExit("passwords differ / 两次输入的密码不一致")
    return first


def cmd_admin_create(args: argparse.Namespace) -> int:
    from services.registration.bootstrap import create_account

    password = read_password(args)
    create_account(
        load(),
        args.username,
        password,
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
        epilog="zhiyuan COMMAND --help: what a command does, with examples / "
        "查看各命令的说明与示例",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    m = command(
        sub, "migrate", "apply migrations / 执行数据库迁移",
        en="Apply every service's database migrations (Alembic) up to the "
        "newest, to the databases <SERVICE>_DATABASE_URL names (embedded "
        "SQLite files under ZHIYUAN_DATA_DIR when unset). Safe to repeat.",
        zh="将各服务的数据库迁移执行到最新版本（数据库地址取自 "
        "<SERVICE>_DATABASE_URL，未设置时使用 ZHIYUAN_DATA_DIR 下的嵌入式 "
        "SQLite）。可重复执行。",
        examples=["zhiyuan migrate", "zhiyuan migrate --service hours"],
    )  # fmt: skip
    m.add_argument(
        "--service", action="append", choices=SERVICES,
        help="only this service (repeatable) / 仅迁移该服务",
    )  # fmt: skip
    m.set_defaults(func=cmd_migrate)

    s = command(
        sub, "seed", "load divisions and demo data / 导入区划与演示数据",
        en="Load the national division tree and a living demo province into "
        "every service: accounts, organisations, thousands of volunteers and "
        "a year and more of their hours (through the bulk imports, "
        "PostgreSQL only), projects, an emergency campaign running now, "
        "recycling, an award round; then runs the workers it needs until "
        "the stars are rated, and approves them. Idempotent: a second run "
        "adds nothing.",
        zh="导入全国行政区划树和一个“活的”演示省份：账号、组织、数千名志愿者及"
        "其一年多的服务时长（批量导入，仅限 PostgreSQL）、项目、正在进行的应急"
        "行动、回收数据和评选活动；随后运行所需的处理进程直至星级评定完成并予"
        "以审核。可重复执行，不会重复导入。",
        examples=["zhiyuan seed", "zhiyuan seed --province 61 --volunteers 1000"],
    )  # fmt: skip
    s.add_argument(
        "--province", default="61",
        help="demo province code (default 61 Shaanxi) / 演示省份代码",
    )  # fmt: skip
    s.add_argument(
        "--volunteers", type=int, default=3000,
        help="demo volunteers: the first 200 registered one by one, the rest "
        "imported in bulk with about 20 hour records each (default 3000) / "
        "演示志愿者人数（前 200 名逐个注册，其余批量导入）",
    )  # fmt: skip
    s.add_argument(
        "--no-wait", action="store_true",
        help="do not run the workers to rate stars now / 不等待星级评定",
    )  # fmt: skip
    s.set_defaults(func=cmd_seed)

    k = command(
        sub, "keys", "development keys / 开发密钥",
        en="Create the development JWT key pair and personal-data key under "
        "<data_dir>/keys if they are missing. In production set JWT_*_KEY "
        "and PII_KEY instead.",
        zh="如缺少则在 <data_dir>/keys 下生成开发用的 JWT 密钥对和个人信息加密"
        "密钥。生产环境请改为设置 JWT_*_KEY 与 PII_KEY。",
        examples=["zhiyuan keys ensure"],
    )  # fmt: skip
    k.add_argument("action", choices=["ensure"])
    k.set_defaults(func=cmd_keys)

    a = command(
        sub, "admin", "bootstrap accounts / 创建管理员账号",
        en="Bootstrap accounts directly in registration's database, before "
        "any administrator can create them through the API.",
        zh="在尚无管理员可通过接口创建账号时，直接在注册服务数据库中创建账号。",
        examples=["zhiyuan admin create --username yanta-admin --scope 610113 "
                  "--roles tenant_admin"],
    )  # fmt: skip
    a_sub = a.add_subparsers(dest="action", required=True)
    ac = command(
        a_sub, "create", "create an account directly in the database / 创建账号",
        en="Create an account under the same rules as the API. The password "
        "is asked for twice without echo, or read from the first line of "
        "standard input with --password-stdin (scripts); --password on the "
        "command line still works but shows it to ps and the shell history.",
        zh="按与接口相同的规则创建账号。密码在提示后输入两次（不回显），或用 "
        "--password-stdin 从标准输入的第一行读取（脚本）；仍可用 --password "
        "在命令行给出，但会出现在进程列表和 shell 历史中，不建议使用。",
        examples=[
            "zhiyuan admin create --username yanta-admin --scope 610113 "
            "--roles tenant_admin --display-name 雁塔区文明办",
            "printf '%s\\n' \"$PW\" | zhiyuan admin create --username sx-ops "
            "--scope 61 --roles province_admin --password-stdin",
        ],
    )  # fmt: skip
    ac.add_argument("--username", required=True, help="login name / 登录名")
    secret = ac.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from standard input / 从标准输入读取密码",
    )  # fmt: skip
    secret.add_argument(
        "--password",
        help="deprecated: visible to other users; at least 10 characters / "
        "不建议：其他用户可见",
    )  # fmt: skip
    ac.add_argument(
        "--scope", required=True,
        help="division code, e.g. 61 or 610113 / 管辖区划代码",
    )  # fmt: skip
    ac.add_argument(
        "--roles", required=True,
        help="comma-separated, e.g. province_admin / 角色，逗号分隔",
    )  # fmt: skip
    ac.add_argument("--display-name", help="shown name / 显示名称")
    ac.add_argument(
        "--organisation-id",
        help="the organisation or team an org_leader runs (required for one) / "
        "org_leader 所负责的组织",
    )  # fmt: skip
    ac.set_defaults(func=cmd_admin_create)

    t = command(
        sub, "token", "sign an access token / 签发访问令牌",
        en="Sign an access token with the configured private key, for "
        "operators and scripts calling the API or gRPC directly. Prints the "
        "token.",
        zh="用配置的私钥签发访问令牌并输出，供运维人员和脚本直接调用接口或 "
        "gRPC。",
        examples=[
            "zhiyuan token --username ops --scope 61 --roles province_admin",
            "curl -H \"Authorization: Bearer $(zhiyuan token --username ops "
            "--scope 61 --roles province_admin)\" localhost:8080/api/v1/me",
        ],
    )  # fmt: skip
    t.add_argument("--username", required=True, help="claim username / 用户名")
    t.add_argument("--subject", help="claim sub (default: the username)")
    t.add_argument("--scope", required=True, help="division code / 区划代码")
    t.add_argument(
        "--roles", required=True, help="comma-separated roles / 角色，逗号分隔"
    )
    t.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")
    t.add_argument("--org", help="organisation an org_leader runs (claim org)")
    t.set_defaults(func=cmd_token)

    r = command(
        sub, "run", "run one process / 启动单个进程",
        en="Run one process of the platform in the foreground: a service's "
        "api (gRPC) or worker (events), or the gateway (HTTP). What the "
        "chart and compose file run in each container.",
        zh="在前台运行平台的单个进程：某服务的 api（gRPC）或 worker（事件处理），"
        "或网关（HTTP）。即 Helm chart 与 compose 在每个容器中运行的命令。",
        examples=["zhiyuan run hours api", "zhiyuan run hours worker",
                  "zhiyuan run gateway"],
    )  # fmt: skip
    r.add_argument("service", help=f"{' | '.join(SERVICES)} | gateway")
    r.add_argument("role", nargs="?", default="api", choices=["api", "worker"])
    r.set_defaults(func=cmd_run)

    u = command(
        sub, "up", "start every process / 启动整个平台",
        en="Start every process of the platform (each service's api and "
        "worker, and the gateway), restart one that crashes, and print the "
        "addresses once every process answers. First checks that every "
        "listen address is free and names the variable to change if not. "
        "Stop with Ctrl-C.",
        zh="启动平台的全部进程（各服务的 api 与 worker，以及网关），进程崩溃时自动"
        "重启，全部就绪后显示访问地址。启动前检查所有监听地址是否可用，如被占用"
        "则指出应修改的环境变量。按 Ctrl-C 停止。",
        examples=["zhiyuan up", "zhiyuan up --only registration-api,gateway",
                  "ACTIVITY_GRPC_LISTEN=127.0.0.1:8152 "
                  "ACTIVITY_GRPC_ADDRESS=127.0.0.1:8152 zhiyuan up"],
    )  # fmt: skip
    u.add_argument(
        "--only",
        type=lambda text: [p for p in text.split(",") if p],
        default=[],
        help="comma-separated processes, e.g. registration-api,gateway / "
        "只启动这些进程",
    )
    u.set_defaults(func=cmd_up)

    pr = command(
        sub, "probe", "liveness checks for the chart / 存活检查",
        en="Liveness check of a worker for Kubernetes: exit 0 if its "
        "heartbeat file was touched within --max-age seconds, 1 if not.",
        zh="供 Kubernetes 使用的 worker 存活检查：心跳文件在 --max-age 秒内"
        "更新过则退出码为 0，否则为 1。",
        examples=["zhiyuan probe worker hours --max-age 60"],
    )  # fmt: skip
    pr.add_argument("role", choices=["worker"])
    pr.add_argument("service", choices=SERVICES)
    pr.add_argument("--max-age", type=int, default=60, help="seconds (default 60)")
    pr.set_defaults(func=cmd_probe)

    st = command(
        sub, "settings", "tenant settings / 租户设置",
        en="Tenant settings kept by registration and copied to the other "
        "services.",
        zh="租户设置：由注册服务保存，并同步到其他服务。",
        examples=["zhiyuan settings announce --scope 6101"],
    )  # fmt: skip
    st_sub = st.add_subparsers(dest="action", required=True)
    an = command(
        st_sub, "announce",
        "re-announce every node's overrides to the other services / 重新广播设置",
        en="Publish every division's setting overrides under --scope again, "
        "so a service whose copy was lost (a new deployment, a restored "
        "database) rebuilds it. Safe to repeat.",
        zh="重新发布 --scope 及其下级各区划的设置覆盖项，使丢失副本的服务（新部署、"
        "恢复的数据库）重建副本。可重复执行。",
        examples=["zhiyuan settings announce", "zhiyuan settings announce "
                  "--scope 610124"],
    )  # fmt: skip
    an.add_argument("--scope", default="61", help="subtree (default 61) / 区划")
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
