"""``zhiyuan migrate``, ``seed`` and ``keys``: putting a release's databases,
demo data and development keys in place.

Example::

    zhiyuan keys ensure && zhiyuan migrate && zhiyuan seed
"""

from __future__ import annotations

import argparse
from typing import Any

from services.catalog import SERVICES
from services.cli.help import command
from services.common.config import load


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common.migrations import upgrade

    cfg = load()
    for name in args.service or SERVICES:
        svc = cfg.service(name)
        print(f"migrating {name} ({safe_url(svc.database_url)}) …", flush=True)
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


def safe_url(url: str) -> str:
    """A database URL fit to print: its user and password replaced by ***."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def add_commands(sub: Any) -> None:
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
    k.add_argument(
        "action", choices=["ensure"],
        help="ensure: create the keys that are missing / 生成缺少的密钥",
    )  # fmt: skip
    k.set_defaults(func=cmd_keys)
