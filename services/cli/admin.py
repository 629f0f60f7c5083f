"""``zhiyuan admin create``, ``token`` and ``settings announce``: accounts,
tokens and tenant settings an operator handles from a shell.

Example::

    printf '%s\\n' "$PW" | zhiyuan admin create --username sx-ops --scope 61 \\
        --roles province_admin --password-stdin
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.cli.help import command
from services.common.config import load

ARGV_WARNING = (
    "warning: --password is deprecated: ps and the shell history show the "
    "password; use the prompt or --password-stdin\n"
    "警告：--password 已不建议使用，密码会出现在进程列表和 shell 历史中；"
    "请改用提示输入或 --password-stdin"
)


def read_password(args: argparse.Namespace) -> str:
    """The new account's password: the first line of standard input with
    ``--password-stdin``; the deprecated ``--password`` value (with a warning
    on stderr); else asked twice, unechoed, on the terminal.

    Example::

        printf '%s\\n' "$PW" | zhiyuan admin create ... --password-stdin
    """
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password is not None:
        print(ARGV_WARNING, file=sys.stderr)
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


def cmd_settings_announce(args: argparse.Namespace) -> int:
    from services.registration.maintenance import announce_settings

    count = announce_settings(load(), args.scope)
    print(f"{count} nodes' settings announced / 已重新广播 {count} 个节点的设置")
    return 0


def add_commands(sub: Any) -> None:
    add_admin(sub)

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


def add_admin(sub: Any) -> None:
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
        "standard input with --password-stdin (scripts). --password on the "
        "command line is deprecated: it still works, with a warning, but "
        "shows the password to ps and the shell history.",
        zh="按与接口相同的规则创建账号。密码在提示后输入两次（不回显），或用 "
        "--password-stdin 从标准输入的第一行读取（脚本）。--password 已不建议"
        "使用：仍可在命令行给出（会显示警告），但密码会出现在进程列表和 shell "
        "历史中。",
        examples=[
            "zhiyuan admin create --username yanta-admin --scope 610113 "
            "--roles tenant_admin --display-name 雁塔区文明办",
            "printf '%s\\n' \"$PW\" | zhiyuan admin create --username sx-ops "
            "--scope 61 --roles province_admin --password-stdin",
            "zhiyuan admin create --username cn-admin --scope CN "
            "--roles province_admin --display-name 全国志愿服务联合会",
        ],
    )  # fmt: skip
    ac.add_argument("--username", required=True, help="login name / 登录名")
    secret = ac.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-stdin", action="store_true",
        help="read the password (at least 10 characters) from the first line "
        "of standard input / 从标准输入读取密码",
    )  # fmt: skip
    secret.add_argument(
        "--password",
        help="deprecated: visible to ps and the shell history; use the prompt "
        "or --password-stdin / 不建议使用：其他用户可见",
    )  # fmt: skip
    ac.add_argument(
        "--scope", required=True,
        help="division code, e.g. 61 or 610113, or CN for a national account "
        "(rollups and the division tree only) / 管辖区划代码（全国级账号为 CN，"
        "只能查看汇总统计和行政区划）",
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
