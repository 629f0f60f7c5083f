"""pytest fixtures every service's tests use: a throw-away PostgreSQL database
and RabbitMQ vhost on the local servers (never mocks), keys, environment and
tokens. Loaded by ``tests/conftest.py`` as a plugin.

A missing server fails the run with the command that starts it; it never
skips the tests.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from services.common.auth import generate_keypair
from services.common.config import ServiceConfig
from services.common.preflight import HOW, PG_DEFAULT, check_amqp, check_postgres

AMQP_ADMIN = os.environ.get(
    "ZHIYUAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"
)
PRIVATE_PEM, PUBLIC_PEM = generate_keypair()


def pg_admin_url() -> str:
    return os.environ.get("ZHIYUAN_TEST_PG_URL", PG_DEFAULT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require(kind: str, error: str | None) -> None:
    if error:
        pytest.fail(
            f"{kind} is needed by this test and is not reachable: {error}\n"
            f"start it with: {HOW[kind]}",
            pytrace=False,
        )


def create_database(prefix: str = "zy_test", template: str = "") -> str:
    """A new empty database on the test server (a copy of ``template`` when
    given); returns its URL."""
    from sqlalchemy import create_engine, text

    admin = pg_admin_url()
    _require("postgres", check_postgres(admin))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + f"/{name}"


# (service, revision, app role) → the name of a database migrated once per
# test run, copied by create_migrated_database; dropped at the session's end.
_TEMPLATES: dict[tuple[str, str, str], str] = {}


def create_migrated_database(
    service: ServiceConfig, prefix: str = "zy_test", revision: str = "head"
) -> str:
    """A new database with ``service``'s schema at ``revision``; returns its URL.

    The first call for a (service, revision, app role) runs Alembic on a
    template database; every call then makes ``CREATE DATABASE … TEMPLATE``,
    a copy of its files: the same tables, row security, grants and Alembic
    version as a database migrated on its own (roles are cluster-wide, and the
    migrations set nothing on the database itself), in a fraction of the time.
    The template accepts no connection once migrated, so no session can hold
    it open while it is copied.
    """
    import dataclasses

    from sqlalchemy import create_engine, text

    from services.common.migrations import upgrade

    key = (service.name, revision, service.database_app_role)
    if key not in _TEMPLATES:
        url = create_database(f"zy_tmpl_{service.name[:4]}")
        upgrade(dataclasses.replace(service, database_url=url), revision)
        template = url.rsplit("/", 1)[1]
        engine = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{template}" ALLOW_CONNECTIONS false'))
        engine.dispose()
        _TEMPLATES[key] = template
    return create_database(prefix, template=_TEMPLATES[key])


def drop_templates() -> None:
    """Drop every template create_migrated_database made in this process."""
    while _TEMPLATES:
        _, name = _TEMPLATES.popitem()
        _drop_now(name)


# Databases a test is done with, dropped when the session ends (None: not in
# a pytest session, drop at once).
_DEFERRED: list[str] | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _DEFERRED
    _DEFERRED = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _DEFERRED
    pending, _DEFERRED = _DEFERRED or [], None
    for name in pending:
        _drop_now(name)
    drop_templates()


def drop_database(url: str) -> None:
    """Cut the database's connections and refuse new ones now; in a pytest
    session, drop it when the session ends.

    PostgreSQL 15's DROP DATABASE waits for a forced checkpoint, which on a
    server busy with other runs took seconds per drop (most of the teardown
    time of the tests that make their own databases); at the session's end
    the first drop pays for it and the rest find little left to write."""
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    if _DEFERRED is None:
        _drop_now(name)
        return
    engine = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if exists:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
    engine.dispose()
    if exists:
        _DEFERRED.append(name)


def _drop_now(name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _rabbitmqctl(*args: str) -> None:
    exe = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run(  # noqa: S603 - fixed local tool, no user input
        [exe, *args], check=True, capture_output=True, timeout=60
    )


def create_vhost() -> str:
    """A new RabbitMQ vhost (rabbitmqctl on this machine); returns its URI."""
    _require("amqp", check_amqp(AMQP_ADMIN))
    name = f"zy_test_{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return AMQP_ADMIN.rstrip("/") + f"/{name}"


def delete_vhost(uri: str) -> None:
    _rabbitmqctl("delete_vhost", uri.rsplit("/", 1)[1])


def platform_env(
    tmp: Path, database_urls: dict[str, str], amqp_uri: str
) -> dict[str, str]:
    """Environment for the platform's processes under test: one database per
    service (``database_urls``), free ports, test keys, spans to a file."""
    env = {
        "ZHIYUAN_DATA_DIR": str(tmp),
        "AMQP_URI": amqp_uri,
        "GATEWAY_LISTEN": f"127.0.0.1:{free_port()}",
        "JWT_PRIVATE_KEY": PRIVATE_PEM,
        "JWT_PUBLIC_KEY": PUBLIC_PEM,
        "PII_KEY": base64.b64encode(os.urandom(32)).decode(),
        "OTEL_TRACES_EXPORTER": "jsonl",
        "ZHIYUAN_SPANS_FILE": str(tmp / "spans.jsonl"),
        "LOG_LEVEL": "INFO",
        # Several platforms may run at once against one PostgreSQL.
        "DATABASE_POOL_SIZE": "3",
        "GATEWAY_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
    }
    for name, url in database_urls.items():
        prefix, port = name.upper(), free_port()
        env[f"{prefix}_DATABASE_URL"] = url
        env[f"{prefix}_GRPC_LISTEN"] = f"127.0.0.1:{port}"
        env[f"{prefix}_GRPC_ADDRESS"] = f"127.0.0.1:{port}"
        env[f"{prefix}_HEARTBEAT_FILE"] = str(tmp / f"{name}-worker.alive")
        env[f"{prefix}_OUTBOX_INTERVAL_SECONDS"] = "0.2"
        for role in ("API", "WORKER"):
            env[f"{prefix}_{role}_METRICS_LISTEN"] = f"127.0.0.1:{free_port()}"
    return env


def create_databases(names: Iterable[str], prefix: str = "zy_test") -> dict[str, str]:
    """One new database per domain service (``names``), as in production."""
    return {name: create_database(f"{prefix}_{name[:4]}") for name in names}


class Processes:
    """Child processes of a test, stopped (and their logs shown) at the end."""

    def __init__(self, env: dict[str, str], logdir: Path):
        self.env = {**os.environ, **env}
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        log = open(self.logdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with proc
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [sys.executable, "-m", *argv],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def stop(self, name: str, signalled: bool = False) -> None:
        proc = self.procs.pop(name)
        if not signalled:
            proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log(self, name: str) -> str:
        return (self.logdir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        """SIGTERM to every process first, then wait for each: their graceful
        shutdowns overlap instead of adding up."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for name in list(self.procs):
            self.stop(name, signalled=True)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = ""):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value (or fail the test)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last = exc
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}: {last!r}")


@pytest.fixture(scope="session")
def amqp_uri() -> Iterator[str]:
    uri = create_vhost()
    yield uri
    delete_vhost(uri)


@pytest.fixture(scope="session")
def env(
    tmp_path_factory: pytest.TempPathFactory,
    database_urls: dict[str, str],
    amqp_uri: str,
) -> Iterator[dict[str, str]]:
    """The platform's environment, also applied to this test process. The
    ``database_urls`` fixture (one database per service) comes from the
    test suite's composition root (tests/conftest.py): the kernel names no
    service."""
    values = platform_env(tmp_path_factory.mktemp("zhiyuan"), database_urls, amqp_uri)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    yield values
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old
