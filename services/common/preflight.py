"""Say plainly whether the servers the platform needs are reachable, and
whether the addresses it will listen on are free.

``python -m services.common.preflight`` checks PostgreSQL (the test server,
``ZHIYUAN_TEST_PG_URL``) and RabbitMQ (``AMQP_URI``) and prints, for anything
missing, exactly how to start it. ``--only amqp`` checks the broker alone
(``make run`` needs no PostgreSQL in embedded mode); ``--only listen`` checks
every listen address of the platform (``zhiyuan up`` does so itself before it
starts anything). Exit code 1 if missing or taken.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

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


@dataclass(frozen=True)
class Listen:
    """One address a process of the platform will listen on."""

    process: str  # "activity-api", "gateway" …
    key: str  # its dotted config key
    address: str  # host:port
    required: bool  # False for metrics: the process runs without them

    @property
    def variable(self) -> str:
        from services.common.config import variable

        return variable(self.key) or self.key


def listens(cfg: Any, processes: Iterable[str]) -> list[Listen]:
    """The listen addresses of ``processes`` (``<service>-api``,
    ``<service>-worker``, ``gateway``) as configured; empty ones are off."""
    found = []
    for process in processes:
        if process == "gateway":
            keys = [("gateway.listen", True), ("gateway.metrics_listen", False)]
        else:
            service, _, role = process.rpartition("-")
            base = f"services.{service}"
            keys = [(f"{base}.{role}_metrics_listen", False)]
            if role == "api":
                keys.insert(0, (f"{base}.grpc_listen", True))
        for key, required in keys:
            address = str(cfg.get(key, "") or "")
            if address:
                found.append(Listen(process, key, address, required))
    return found


def split(address: str) -> tuple[str, int]:
    """``"127.0.0.1:8051"`` or ``"[::]:8051"`` → host and port."""
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


def bind_error(address: str) -> str | None:
    """Why a server could not listen on ``address`` now (None: it could).
    Binds as gRPC and uvicorn do (SO_REUSEADDR), then lets go at once."""
    try:
        host, port = split(address)
        family, kind, proto, _, addr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, ValueError) as exc:
        return f"not a host:port address ({exc}) / 不是有效的 主机:端口 地址"
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def ephemeral_range() -> tuple[int, int] | None:
    """The kernel's range of ports for outgoing connections (Linux)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            low, high = f.read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return None


def check_listens(cfg: Any, processes: Iterable[str], out: IO[str]) -> bool:
    """Print a line for every listen address that is taken (or shared by two
    settings, or inside the ephemeral range), naming the variable to change.
    False when a process could not start: a gRPC or HTTP address is taken
    (a taken metrics address only switches that process's metrics off)."""
    ok = True
    seen: dict[int, Listen] = {}
    span = ephemeral_range()
    for listen in listens(cfg, processes):
        try:
            port = split(listen.address)[1]
        except ValueError:
            port = -1
        error = bind_error(listen.address)
        twin = seen.setdefault(port, listen) if error is None else listen
        if error is None and twin is not listen:
            error = "shared"
        if error is None:
            if span and span[0] <= port <= span[1]:
                print(_in_range(listen, port, span), file=out)
            continue
        ok = ok and not listen.required
        print(_taken(listen, error, twin if error == "shared" else None), file=out)
    return ok


def _in_range(listen: Listen, port: int, span: tuple[int, int]) -> str:
    low, high = span
    return (
        f"! {listen.variable}={listen.address}: port {port} lies in the kernel's "
        f"ephemeral range {low}-{high}, where an outgoing connection may hold "
        f"it; choose one below {low}\n"
        f"  {listen.variable} 的端口 {port} 位于系统临时端口范围 {low}-{high} 内，"
        f"可能被外连占用；请改用 {low} 以下的端口"
    )


def _taken(listen: Listen, error: str, twin: Listen | None) -> str:
    name, var, address = listen.process, listen.variable, listen.address
    mark, effect_en, effect_zh = (
        ("✗", "cannot start", "无法启动")
        if listen.required
        else ("!", "runs without metrics", "将不提供监控指标")
    )
    host = address.rpartition(":")[0] or "0.0.0.0"  # noqa: S104
    if twin is not None:
        return (
            f"{mark} {var}={address} is also {twin.variable}'s port: {name} "
            f"{effect_en}; give {var} another port, e.g. {var}={host}:<port>\n"
            f"  {var} 与 {twin.variable} 使用了同一端口，{name} {effect_zh}；"
            f"请为 {var} 换一个端口"
        )
    port = address.rpartition(":")[2]
    return (
        f"{mark} {address} ({var}): {error}; {name} {effect_en}\n"
        f"  stop what holds it (ss -ltnp 'sport = :{port}' shows it) or set "
        f"another address, e.g. {var}={host}:<port> zhiyuan up\n"
        f"  无法监听 {address}（{var}），{name} {effect_zh}：请停止占用该端口的"
        f"进程，或设置 {var} 换一个地址"
    )


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--only", choices=["postgres", "amqp", "listen"])
    opts = args.parse_args(argv)
    from services.common.config import load

    cfg = load()
    if opts.only == "listen":
        processes = [
            f"{name}-{role}"
            for name in cfg.service_names()
            for role in ("api", "worker")
        ]
        if not check_listens(cfg, [*processes, "gateway"], sys.stderr):
            return 1
        print("✓ every listen address is free / 所有监听地址均可用")
        return 0
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
