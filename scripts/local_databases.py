"""Where ``make run`` keeps its data: one PostgreSQL database per service on
the local server when it answers, otherwise embedded SQLite files.

The bulk imports that seed the living demo (a year of hours, star ratings)
need PostgreSQL; the embedded mode seeds only the hand-made part. So
``make run`` prefers the local PostgreSQL: it creates ``zhiyuan_<service>``
there if missing and writes their URLs to an env file the Makefile sources
before every ``zhiyuan`` command. Nothing is set up by hand.

    python scripts/local_databases.py --write .run/local.env

Your own ``*_DATABASE_URL`` always wins (the file is then left empty), and
``ZHIYUAN_EMBEDDED=1`` asks for SQLite even when PostgreSQL answers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.catalog import SERVICES  # noqa: E402
from services.common.preflight import PG_DEFAULT, check_postgres  # noqa: E402


def database_urls(admin: str, prefix: str = "zhiyuan") -> dict[str, str]:
    """``<prefix>_<service>`` on the server of ``admin``, created if missing."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    base = admin.rsplit("/", 1)[0]
    urls = {}
    try:
        with engine.connect() as conn:
            for name in SERVICES:
                db = f"{prefix}_{name}"
                found = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": db}
                ).first()
                if not found:
                    conn.execute(text(f'CREATE DATABASE "{db}"'))
                urls[name] = f"{base}/{db}"
    finally:
        engine.dispose()
    return urls


def choose(env: dict[str, str], admin: str) -> tuple[dict[str, str], str]:
    """The variables to set and a line saying what was chosen."""
    own = [f"{n.upper()}_DATABASE_URL" for n in SERVICES]
    if any(env.get(key) for key in own):
        return {}, "databases: your *_DATABASE_URL settings / 使用已配置的数据库"
    if env.get("ZHIYUAN_EMBEDDED") == "1":
        return {}, (
            "databases: embedded SQLite (ZHIYUAN_EMBEDDED=1); the demo has "
            "only its hand-made part / 使用内置 SQLite，演示数据仅含手工部分"
        )
    error = check_postgres(admin)
    if error:
        return {}, (
            f"databases: PostgreSQL at {admin.split('@')[-1]} does not answer "
            f"({error}); using embedded SQLite, the demo has only its hand-made "
            "part / PostgreSQL 不可用，改用内置 SQLite"
        )
    urls = database_urls(admin)
    where = admin.split("@")[-1].rsplit("/", 1)[0]
    return (
        {f"{n.upper()}_DATABASE_URL": url for n, url in urls.items()},
        f"databases: PostgreSQL {where}, zhiyuan_<service> / 使用本机 PostgreSQL",
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/local_databases.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--write", type=Path, required=True, help="env file to write")
    p.add_argument(
        "--admin-url",
        default=os.environ.get("ZHIYUAN_LOCAL_PG_URL", PG_DEFAULT),
        help="a URL that may create databases (default: %(default)s; "
        "env ZHIYUAN_LOCAL_PG_URL)",
    )
    args = p.parse_args(argv)
    values, said = choose(dict(os.environ), args.admin_url)
    args.write.parent.mkdir(parents=True, exist_ok=True)
    args.write.write_text(
        "".join(f"{key}={value}\n" for key, value in values.items()),
        encoding="utf-8",
    )
    print(said)
    return 0


if __name__ == "__main__":
    sys.exit(main())
