"""The ``zhiyuan`` parser, built from each command group's
``add_commands``, and the one place a command's error becomes an exit code:
2 for a refused request or a missing key, 3 for a failed gRPC call, 130 on
Ctrl-C.

Example::

    build_parser().parse_args(["rollup", "hours", "--division", "6101"])
"""

from __future__ import annotations

import argparse
import sys

from services.cli import (
    admin,
    commendation,
    dlq,
    federation,
    import_,
    processes,
    provision,
    records,
    reports,
)

OVERVIEW = """\
zhiyuan: the operator's and office's command line / 志愿平台运维与业务命令行

zhiyuan migrate                 apply every service's migrations
zhiyuan seed                    division tree + a living Shaanxi demo (idempotent)
zhiyuan keys ensure             create development keys under .run/keys
zhiyuan admin create ...        create an account directly (bootstrap)
zhiyuan token ...               sign a token (operators, scripts)
zhiyuan settings announce       re-announce settings to the other services
zhiyuan run SERVICE [ROLE]      run one process (api, worker; gateway)
zhiyuan up [--only P,...]       start the whole platform, restarting crashed processes
zhiyuan probe worker SERVICE    liveness check of a worker (heartbeat age)
zhiyuan rollup SERVICE ...      export a service's rollup as CSV
zhiyuan certificate verify N    check a certificate number (public)
zhiyuan hours pending ...       records awaiting approval, as CSV
zhiyuan stars pending ...       star ratings awaiting approval, as CSV
zhiyuan stars rerate --division re-rate stars under the current thresholds
zhiyuan honours KIND ...        medal or long-service honour list, as CSV
zhiyuan import KIND FILE        bulk import of hours or volunteers (CSV, XLSX)
zhiyuan records export|import  national record format (JSON Lines)
zhiyuan dlq list|show|replay|purge   dead-lettered events
zhiyuan federation register|link|resync|status   releases feeding upstream
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zhiyuan",
        description=OVERVIEW,
        epilog="zhiyuan COMMAND --help: what a command does, with examples / "
        "查看各命令的说明与示例",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    groups = (provision, admin, processes, reports, commendation, import_, records)
    for group in (*groups, dlq, federation):
        group.add_commands(sub)
    return p


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the command, and return its exit code."""
    import grpc

    from services.common.errors import ZhiyuanError
    from services.common.keys import MissingKey

    args = build_parser().parse_args(argv)
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
