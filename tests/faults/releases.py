"""Zhiyuan releases for the federation tests (issue 15): each with its own
hours database (a private copy of the migrated schema on the shared
PostgreSQL) and its own private RabbitMQ node (management and shovel plugins
in the node's own enabled-plugins file), running its own hours worker. A
release that records facts through the API also has registration's database
(with the division tree) and api, which hours asks about volunteers.

Example::

    up = Release("province", tmp, {"FEDERATION_ROLE": "upstream", ...})
    up.start_broker(); up.start_worker()
    up.zhiyuan("federation", "register", "county", "610113")
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from kombu import Connection
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from services.common.config import load
from services.common.db import Database
from services.common.testing import (
    Processes,
    create_migrated_database,
    drop_database,
    free_port,
    platform_env,
    wait_for,
)
from services.registration.bootstrap import load_divisions
from tests.faults.servers import PrivateRabbit

PLUGINS = ("rabbitmq_management", "rabbitmq_shovel", "rabbitmq_shovel_management")


class Release:
    """One release: its broker node, its hours database and worker."""

    def __init__(
        self, name: str, tmp: Path, env: dict[str, str], registration: bool = False
    ):
        self.name, self.tmp = name, tmp
        self.mgmt_port = free_port()
        self.mq = PrivateRabbit.create(
            plugins=PLUGINS,
            conf=f"management.tcp.port = {self.mgmt_port}\n"
            "management.tcp.ip = 127.0.0.1\n",
        )
        self.url = create_migrated_database(load().service("hours"), "zy_fed")
        self.urls = {"hours": self.url}
        if registration:
            self.urls["registration"] = create_migrated_database(
                load().service("registration"), "zy_fed"
            )
        self.env = {
            **platform_env(tmp, self.urls, self.mq.uri),
            "DATABASE_POOL_SIZE": "2",
            "DATABASE_MAX_OVERFLOW": "1",
            "LOG_LEVEL": "WARNING",
            "FEDERATION_MANAGEMENT_URL": (
                f"http://guest:guest@127.0.0.1:{self.mgmt_port}"
            ),
            "FEDERATION_INTERVAL_SECONDS": "0.1",
            **env,
        }
        self.procs = Processes(self.env, tmp)
        self._db: Database | None = None
        if registration:
            reg = Database(load(env=self.procs.env).service("registration"))
            try:
                load_divisions(reg)
            finally:
                reg.dispose()

    @property
    def management(self) -> str:
        return f"http://127.0.0.1:{self.mgmt_port}"

    def start_broker(self) -> None:
        self.mq.start()
        wait_for(
            lambda: httpx.get(
                f"{self.management}/api/overview", auth=("guest", "guest"), timeout=3
            ).status_code == 200,
            timeout=90,
            what=f"{self.name}'s management API",
        )  # fmt: skip

    def start_worker(self) -> None:
        beat = Path(self.env["HOURS_HEARTBEAT_FILE"])
        beat.unlink(missing_ok=True)
        proc = self.procs.start(
            "hours-worker", "services.cli", "run", "hours", "worker"
        )
        wait_for(
            lambda: beat.exists() or proc.poll() is not None,
            timeout=180,
            what=f"{self.name}'s hours worker heartbeat",
        )
        assert beat.exists(), self.procs.log("hours-worker")[-3000:]

    def start_api(self, service: str = "hours") -> None:
        """A service's api (gRPC), serving once its health check says so."""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        self.procs.start(f"{service}-api", "services.cli", "run", service, "api")
        address = self.env[f"{service.upper()}_GRPC_ADDRESS"]

        def serving() -> bool:
            with grpc.insecure_channel(address) as channel:
                got = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=3
                )
                return bool(got.status == health_pb2.HealthCheckResponse.SERVING)

        wait_for(serving, timeout=120, what=f"{self.name}'s {service} api")

    def call(
        self, method: str, request: Any, scope: str, role: str, service: str = "hours"
    ) -> Any:
        """One gRPC call to a service's api as a token holder of ``scope``
        and ``role``."""
        import grpc
        from zhiyuan.hours.v1 import hours_pb2_grpc
        from zhiyuan.registration.v1 import registration_pb2_grpc

        from tests.faults.load import bearer

        stubs = {
            "hours": hours_pb2_grpc.HoursServiceStub,
            "registration": registration_pb2_grpc.RegistrationServiceStub,
        }
        metadata = list(bearer(scope, role, f"{self.name}-{role}").items())
        address = self.env[f"{service.upper()}_GRPC_ADDRESS"]
        with grpc.insecure_channel(address) as channel:
            stub = stubs[service](channel)
            return getattr(stub, method)(request, metadata=metadata, timeout=15)

    def cells_received(self, downstream: str) -> float:
        """Cells the worker applied from ``downstream`` (its /metrics)."""
        listen = self.env["HOURS_WORKER_METRICS_LISTEN"]
        text_ = httpx.get(f"http://{listen}/metrics", timeout=5).text
        name = f'zhiyuan_federation_cells_total{{downstream="{downstream}"}}'
        for line in text_.splitlines():
            if line.startswith(name):
                return float(line.split()[-1])
        return 0.0

    def log(self, process: str = "hours-worker") -> str:
        return self.procs.log(process)

    def zhiyuan(self, *argv: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "services.cli", *argv],
            env=self.procs.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def db(self) -> Database:
        """The release's hours database through the service's own path
        (application role, row security)."""
        if self._db is None:
            cfg = load(env=self.procs.env).service("hours")
            self._db = Database(
                dataclasses.replace(cfg, database_pool_size=1, database_max_overflow=0)
            )
        return self._db

    def sql(self, query: str, **params: Any) -> list[Any]:
        """Rows of ``query`` read (or written) as the database's owner."""
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                got = conn.execute(text(query), params)
                return list(got.all()) if got.returns_rows else []
        finally:
            engine.dispose()

    def depth(self, queue: str) -> int:
        with Connection(self.mq.uri, connect_timeout=5) as conn:
            declared = conn.default_channel.queue_declare(queue, passive=True)
            return int(declared.message_count)

    def destroy(self) -> None:
        self.procs.stop_all()
        if self._db is not None:
            self._db.dispose()
        self.mq.destroy()
        for url in self.urls.values():
            drop_database(url)
