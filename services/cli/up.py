"""What ``zhiyuan up`` says and waits for: the listen preflight before any
process starts, the "starting" line, and the "ready" block printed once
every process answers (an api's health SERVING, the gateway's ``/readyz``,
a worker's heartbeat touched since the start).

Example::

    procs = platform_processes(SERVICES)
    if up.preflight(cfg, procs):
        Supervisor(procs, ready=up.checks(cfg, procs, time.time()),
                   on_ready=lambda s: up.ready_text(cfg, procs, s)).run()
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from services.common import preflight as listen_preflight
from services.common import protos
from services.common.config import Config

PROBE_TIMEOUT = 2.0
DEMO_PASSWORD = "zhiyuan-demo-2026"  # noqa: S105 - the seed's documented demo logins


def _shown(listen: str) -> str:
    host, _, port = str(listen).rpartition(":")
    host = host.strip("[]")
    if host in ("0.0.0.0", "", "::"):  # noqa: S104
        host = "127.0.0.1"
    return f"{host}:{port}"


def preflight(cfg: Config, processes: Iterable[str]) -> bool:
    """Check every listen address first; print what to change when not."""
    if listen_preflight.check_listens(cfg, processes, sys.stderr):
        return True
    print(
        "nothing was started: free or change the addresses above\n"
        "未启动任何进程：请先释放或更换上面列出的地址",
        file=sys.stderr,
    )
    return False


def starting_text(processes: Iterable[str]) -> str:
    count = len(list(processes))
    return (
        f"\n  志愿 Zhiyuan: starting {count} processes / 正在启动 {count} 个进程\n"
        "  the addresses follow once every process answers (a line 'ready / "
        "已就绪')\n  各进程均就绪后将显示访问地址；按 Ctrl-C 停止 / stop with "
        "Ctrl-C\n"
    )


def ready_text(cfg: Config, processes: Iterable[str], seconds: float) -> str:
    """The block printed once everything answers."""
    names = list(processes)
    lines = [
        f"ready / 已就绪: {len(names)} processes answer after {seconds:.0f}s "
        f"/ {len(names)} 个进程均已响应，用时 {seconds:.0f} 秒"
    ]
    if "gateway" in names:
        web = f"http://{_shown(cfg['gateway.listen'])}"
        lines += [
            f"  web console / 管理后台:   {web}/console/",
            f"  API docs / 接口文档:      {web}/docs  ({web}/redoc)",
            f"  health / 健康检查:        {web}/readyz",
        ]
    for name in names:
        if name.endswith("-api"):
            service = name.removesuffix("-api")
            address = cfg.service(service).grpc_address
            lines.append(f"  gRPC {service + ':':<14}       {address}")
    if "gateway" in names:
        from services.seed.registration import DEMO_PASSWORD

        lines += [
            f"  demo logins / 演示账号 (password / 密码 '{DEMO_PASSWORD}'):",
            "    sx-admin     provincial admin, Shaanxi (61) / 陕西省管理员",
            "    yanta-admin  county admin, Yanta district (610113) / 雁塔区管理员",
            "    nation-admin the nation (CN): every province's rollups / 全国统计",
        ]
    return "\n".join(lines)


def _api_serving(cfg: Config, service: str) -> Callable[[], bool]:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    address = cfg.service(service).grpc_address
    # The named service follows the api's database ("" is liveness only).
    name = protos.service_name(service)

    def check() -> bool:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=name), timeout=PROBE_TIMEOUT
            )
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return check


def _gateway_ready(cfg: Config) -> Callable[[], bool]:
    url = f"http://{_shown(cfg['gateway.listen'])}/readyz"

    def check() -> bool:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as reply:  # noqa: S310 - our own http URL
            return bool(reply.status == 200)

    return check


def _worker_beating(cfg: Config, service: str, since: float) -> Callable[[], bool]:
    path = Path(cfg.service(service).heartbeat_file)

    def check() -> bool:
        return path.exists() and path.stat().st_mtime >= since

    return check


def checks(
    cfg: Config, processes: Iterable[str], since: float
) -> dict[str, Callable[[], bool]]:
    """process name → a probe that is True once it answers (an exception
    counts as not yet). ``since``: the wall-clock time of the start."""
    found: dict[str, Callable[[], bool]] = {}
    for name in processes:
        if name == "gateway":
            found[name] = _gateway_ready(cfg)
        elif name.endswith("-api"):
            found[name] = _api_serving(cfg, name.removesuffix("-api"))
        elif name.endswith("-worker"):
            found[name] = _worker_beating(cfg, name.removesuffix("-worker"), since)
    return found
