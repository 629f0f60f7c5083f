"""``zhiyuan run``, ``up`` and ``probe``: running the platform's processes,
one (what each container runs) or all of them under a supervisor, and the
worker liveness check the chart and compose file use.

Example::

    zhiyuan run hours worker      # execs python -m services.cli.worker hours
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from services.catalog import SERVICES, api_entry
from services.cli.help import command
from services.common.config import ROOT, load

WORKER_MODULE = "services.cli.worker"


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
        # A fresh interpreter: eventlet must patch before anything is imported.
        os.execv(  # noqa: S606 - our own interpreter and module
            sys.executable, [sys.executable, "-m", WORKER_MODULE, args.service]
        )
    api_entry(args.service)(cfg)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from services.cli import up
    from services.cli.supervisor import Supervisor, platform_processes

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


def add_commands(sub: Any) -> None:
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
    r.add_argument(
        "role", nargs="?", default="api", choices=["api", "worker"],
        help="a service's api (gRPC, the default) or worker (events) / 进程角色",
    )  # fmt: skip
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
    pr.add_argument("role", choices=["worker"], help="what to check: worker / 检查对象")
    pr.add_argument("service", choices=SERVICES, help="whose worker / 哪项服务")
    pr.add_argument("--max-age", type=int, default=60, help="seconds (default 60)")
    pr.set_defaults(func=cmd_probe)
