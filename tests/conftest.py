"""Fixtures shared by every tier. The kernel's plugin provides the database,
vhost and environment; this file adds registration's running api role,
clients and tokens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

pytest.register_assert_rewrite("services.common.testing")

from services.common.auth import TokenIssuer  # noqa: E402
from services.common.testing import PRIVATE_PEM, Processes, wait_for  # noqa: E402

pytest_plugins = ["services.common.testing"]

Token = Callable[..., str]


@pytest.fixture(scope="session")
def migrated(env: dict[str, str]) -> dict[str, str]:
    """The registration database migrated, with the national division tree."""
    from services.common.config import load
    from services.common.db import Database
    from services.common.migrations import upgrade
    from services.registration.seed import load_divisions

    cfg = load()
    upgrade(cfg.service("registration"))
    db = Database(cfg.service("registration"))
    load_divisions(db)
    db.dispose()
    return env


@pytest.fixture(scope="session")
def api(migrated: dict[str, str]) -> Iterator[str]:
    """The registration api role, served from this process; yields its address."""
    from services.common.config import load
    from services.registration.service import serve

    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(load(), stop), daemon=True)
    thread.start()
    address = migrated["REGISTRATION_GRPC_ADDRESS"]
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=20)
    channel.close()
    yield address
    stop.set()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def stub(api: str):  # type: ignore[no-untyped-def]
    from zhiyuan.registration.v1 import registration_pb2_grpc

    channel = grpc.insecure_channel(api)
    yield registration_pb2_grpc.RegistrationServiceStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def token() -> Token:
    """token(scope, *roles, **overrides) → a signed bearer token."""
    issuer = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")

    def make(scope: str, *roles: str, ttl: int = 600, username: str = "") -> str:
        value, _ = issuer.issue(
            subject=username or f"test-{scope}",
            username=username or f"test-{scope}",
            scope_code=scope,
            roles=list(roles or ("tenant_admin",)),
            ttl=ttl,
        )
        return value

    return make


@pytest.fixture(scope="session")
def worker(
    migrated: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Processes]:
    """registration's nameko worker as a real process on the test vhost."""
    procs = Processes(migrated, tmp_path_factory.mktemp("logs"))
    procs.start("registration-worker", "services.worker_main", "registration")
    beat = Path(migrated["REGISTRATION_HEARTBEAT_FILE"])
    wait_for(beat.exists, timeout=30, what="the worker's first heartbeat")
    yield procs
    procs.stop_all()
