"""Say plainly whether the servers the platform needs are reachable.

``python -m services.common.preflight`` checks PostgreSQL (the test server,
``ZHIYUAN_TEST_PG_URL``) and RabbitMQ (``AMQP_URI``) and prints, for anything
missing, exactly how to start it. ``--only amqp`` checks the broker alone
(``make run`` needs no PostgreSQL in embedded mode). Exit code 1 if missing.
"""

from __future__ import annotations

import argparse
import os
import sys

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOW = {
    "postgres": (
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    ),
    "amqp": "rabbitmq-server -detached",
}


def check_postgres(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - report any failure as 'missing'
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def check_amqp(uri: str) -> str | None:
    from kombu import Connection

    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--only", choices=["postgres", "amqp"])
    opts = args.parse_args(argv)
    from services.common.config import load

    cfg = load()
    targets = {
        "postgres": (
            "PostgreSQL",
            os.environ.get("ZHIYUAN_TEST_PG_URL", PG_DEFAULT),
            check_postgres,
        ),
        "amqp": ("RabbitMQ", cfg["amqp_uri"], check_amqp),
    }
    missing = 0
    for key, (label, url, check) in targets.items():
        if opts.only and key != opts.only:
            continue
        error = check(url)
        if error:
            missing += 1
            shown = url.split("@")[-1]
            print(
                f"✗ {label} is not reachable at {shown} / 无法连接 {label}: {error}\n"
                f"  start it with / 启动命令:  {HOW[key]}",
                file=sys.stderr,
            )
        else:
            print(f"✓ {label} reachable at {url.split('@')[-1]}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
