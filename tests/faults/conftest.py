"""The fault tier's platform: every api, worker and the gateway as separate
processes (so one can be killed), on a private PostgreSQL cluster and a
private RabbitMQ node that the tests stop, kill and restart.

Everything started here is stopped by PID at the end, failures included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from services.common.config import load
from services.common.db import Database
from services.common.testing import Processes, platform_env, wait_for
from services.registration.bootstrap import load_divisions
from tests.faults.servers import PrivatePostgres, PrivateRabbit, queue_depths

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "faults.json"
SERVICES = ("registration", "activity", "hours", "recycling", "commendation")
# Short delays for the workers' transient-failure retries, so a 30 s outage
# is ridden out within the tier's time (names read by services/common/worker.py).
RETRY_ENV = {"WORKER_RETRY_DELAYS_SECONDS": "1,2,4,8,8,8,8,8"}


class Platform:
    """The running platform and the private servers under it."""

    def __init__(
        self, pg: PrivatePostgres, mq: PrivateRabbit, env: dict[str, str], tmp: Path
    ):
        self.pg, self.mq, self.env, self.tmp = pg, mq, env, tmp
        self.procs = Processes(env, tmp)
        self.base = f"http://{env['GATEWAY_LISTEN']}"
        self.figures: dict[str, Any] = {}
        self.organisation: dict[str, str] = {}
        self.startup_restarts: dict[str, int] = {}
        self.outcomes: list[Any] = []  # every scenario's load.Outcome

    # -- processes -------------------------------------------------------------
    def start_role(self, service: str, role: str) -> None:
        self.procs.start(f"{service}-{role}", "services.cli", "run", service, role)

    def start_all(self) -> None:
        for service in SERVICES:
            self.start_role(service, "api")
            self.start_role(service, "worker")
        self.procs.start("gateway", "services.cli", "run", "gateway")
        for service in SERVICES:
            self.await_worker(service)
        wait_for(
            # readyz is 200 once the gateway can serve; every api SERVING is
            # what "degraded" being empty says.
            lambda: (
                httpx.get(f"{self.base}/readyz", timeout=5).json()["degraded"] == []
            ),
            timeout=90,
            what="gateway /readyz with every api SERVING",
        )

    def start_worker(self, service: str) -> None:
        Path(self.env[f"{service.upper()}_HEARTBEAT_FILE"]).unlink(missing_ok=True)
        self.start_role(service, "worker")
        self.await_worker(service)

    def await_worker(self, service: str, tries: int = 3) -> None:
        """Wait for a worker's first heartbeat. One that exits first (on a
        busy host its first broker connections can be reset, and it gives
        up) is started again, as ``zhiyuan up``'s supervisor or Kubernetes
        would; how often is kept in the figures."""
        name = f"{service}-worker"
        beat = Path(self.env[f"{service.upper()}_HEARTBEAT_FILE"])
        for attempt in range(1, tries + 1):
            proc = self.procs.procs[name]
            wait_for(
                lambda p=proc: beat.exists() or p.poll() is not None,
                timeout=240,
                what=f"the {service} worker's heartbeat",
            )
            if beat.exists():
                return
            self.startup_restarts[service] = attempt
            self.procs.procs.pop(name)
            if attempt < tries:
                self.start_role(service, "worker")
        pytest.fail(f"the {service} worker exited {tries} times before its "
                    f"first heartbeat:\n{self.procs.log(name)[-3000:]}")  # fmt: skip

    def create_organisation(self) -> dict[str, str]:
        """The county's organisation the load records hours for."""
        from tests.faults.load import COUNTY, bearer

        def create() -> dict[str, str] | None:
            r = httpx.post(
                f"{self.base}/api/v1/organisations",
                json={
                    "name": "雁塔区故障演练志愿服务队",
                    "kind": "organisation",
                    "division_code": COUNTY,
                    "service_fields": ["elderly_care"],
                    "contact_name": "王演练",
                    "contact_phone": "13800000000",
                },
                headers=bearer(COUNTY, "tenant_admin", "fault-county"),
                timeout=15,
            )
            assert r.status_code in (201, 503), r.text
            return r.json()["organisation"] if r.status_code == 201 else None

        return wait_for(create, timeout=60, what="the county's organisation")

    def kill9(self, name: str) -> int:
        proc = self.procs.procs.pop(name)
        proc.kill()
        proc.wait(timeout=30)
        return proc.pid

    def logs(self) -> str:
        out = []
        for name in sorted(self.procs.procs):
            tail = self.procs.log(name)[-3000:]
            out.append(f"----- {name} -----\n{tail}")
        return "\n".join(out)

    # -- the private servers ---------------------------------------------------
    def sql(self, service: str, query: str, **params: Any) -> list[Any]:
        """Rows of ``query`` in a service's database, read as its owner (no
        row security), on a connection of its own."""
        engine = create_engine(self.pg.url(f"zy_{service}"), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params).all())
        finally:
            engine.dispose()

    def allow_connections(self, service: str, allow: bool) -> None:
        """Make a service's database refuse (or accept again) every new
        connection, and cut the ones it has: its server stays up."""
        admin = create_engine(
            self.pg.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        with admin.connect() as conn:
            flag = "true" if allow else "false"
            conn.execute(
                text(f'ALTER DATABASE "zy_{service}" ALLOW_CONNECTIONS {flag}')
            )
            if not allow:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :db"
                    ),
                    {"db": f"zy_{service}"},
                )
        admin.dispose()

    def rabbitmqctl(self, *args: str) -> str:
        exe = "/usr/lib/rabbitmq/bin/rabbitmqctl"
        done = subprocess.run(  # noqa: S603 - fixed local tool
            [exe, "-n", self.mq.nodename, *args],
            env=self.mq.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def queues(self) -> dict[str, int]:
        """Every handler queue, its DLQ and the retry delay queues on the
        private node → messages in it (passive declares over AMQP: the
        rabbitmqctl escript took over a minute on a busy host)."""
        from services.catalog import worker_classes
        from services.common.deadletter import delay_queue, dlq_name
        from services.common.worker import handler_queues

        names = [q.name for q in handler_queues(worker_classes())]
        names += [dlq_name(n) for n in names]
        delays = RETRY_ENV["WORKER_RETRY_DELAYS_SECONDS"].split(",")
        names += sorted({delay_queue(float(d))[1].name for d in delays})
        return queue_depths(self.mq.uri, names)

    def zhiyuan(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "services.cli", *argv],
            env=self.procs.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def record(self, scenario: str, figures: dict[str, Any]) -> None:
        """Figures for the closing note: printed, and kept in faults.json."""
        self.figures[scenario] = figures
        print(f"\n[faults] {scenario}: {json.dumps(figures, ensure_ascii=False)}")
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
        old[scenario] = {**figures, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                        time.gmtime())}  # fmt: skip
        ARTIFACT.write_text(json.dumps(old, ensure_ascii=False, indent=2))


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[PrivatePostgres, PrivateRabbit]]:
    pg = PrivatePostgres.create()
    mq = PrivateRabbit.create()
    try:
        pg.start()
        mq.start()
        yield pg, mq
    finally:
        mq.destroy()
        pg.destroy()


@pytest.fixture(scope="session")
def platform(
    servers: tuple[PrivatePostgres, PrivateRabbit],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    pg, mq = servers
    admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        for service in SERVICES:
            conn.execute(text(f'CREATE DATABASE "zy_{service}"'))
    admin.dispose()
    tmp = tmp_path_factory.mktemp("faults")
    urls = {s: pg.url(f"zy_{s}") for s in SERVICES}
    env = {
        **platform_env(tmp, urls, mq.uri),
        "DATABASE_POOL_SIZE": "2",
        "GRPC_DEADLINE_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
        **RETRY_ENV,
    }
    plat = Platform(pg, mq, env, tmp)
    try:
        started = time.monotonic()
        done = plat.zhiyuan("migrate", timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        # Only the division tree (the demo seed's accounts and teams would
        # cost a minute and nothing here uses them).
        db = Database(load(env=env).service("registration"))
        load_divisions(db)
        db.dispose()
        migrated = time.monotonic()
        plat.start_all()
        plat.organisation = plat.create_organisation()
        plat.record(
            "platform start",
            {
                "migrate_and_divisions_seconds": round(migrated - started, 1),
                "processes_seconds": round(time.monotonic() - migrated, 1),
                "worker_startup_retries": plat.startup_restarts,
            },
        )
        yield plat
    except BaseException:
        print(plat.logs())
        print("----- rabbitmq -----\n" + mq.log()[-3000:])
        raise
    finally:
        plat.procs.stop_all()
