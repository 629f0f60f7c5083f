"""Fixtures shared by every tier. The kernel's plugin provides the databases,
vhost and environment; this file adds the services' running api roles,
workers, clients and tokens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytest.register_assert_rewrite("services.common.testing")

from services.common import protos  # noqa: E402
from services.common.auth import TokenIssuer  # noqa: E402
from services.common.testing import PRIVATE_PEM, Processes, wait_for  # noqa: E402

pytest_plugins = ["services.common.testing", "tests.browser.plugin"]

# Hypothesis' per-example deadline is a timed assert: off, so a busy machine
# (CI, two cores) cannot fail a correct property.
hypothesis_settings.register_profile(
    "zhiyuan", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("zhiyuan")

Token = Callable[..., str]


@pytest.fixture(scope="session")
def database_urls() -> Iterator[dict[str, str]]:
    """One new database per catalog service (the kernel plugin's ``env``
    builds the platform's environment on them)."""
    from services.catalog import SERVICES, install_topology
    from services.common.testing import create_databases, drop_database

    install_topology()  # relays started in this process declare every queue
    urls = create_databases(SERVICES)
    yield urls
    for url in urls.values():
        drop_database(url)


@pytest.fixture(scope="session")
def migrated(env: dict[str, str]) -> dict[str, str]:
    """Every service's database migrated; registration's with the national
    division tree."""
    from services.catalog import SERVICES
    from services.common.config import load
    from services.common.db import Database
    from services.common.migrations import upgrade
    from services.registration.bootstrap import load_divisions

    cfg = load()
    for name in SERVICES:
        upgrade(cfg.service(name))
    db = Database(cfg.service("registration"))
    load_divisions(db)
    db.dispose()
    return env


@pytest.fixture(scope="session")
def apis(migrated: dict[str, str]) -> Iterator[dict[str, str]]:
    """Every service's api role, served from this process: name → address."""
    from services.catalog import SERVICES, api_entry
    from services.common.config import load

    stop = threading.Event()
    threads, addresses = [], {}
    for name in SERVICES:
        thread = threading.Thread(
            target=api_entry(name), args=(load(), stop), daemon=True
        )
        thread.start()
        threads.append(thread)
        addresses[name] = migrated[f"{name.upper()}_GRPC_ADDRESS"]
    for address in addresses.values():
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=20)
    yield addresses
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def api(apis: dict[str, str]) -> str:
    """The registration api role's address."""
    return apis["registration"]


@pytest.fixture(scope="session")
def stubs(apis: dict[str, str]) -> Iterator[Callable[[str], Any]]:
    """stubs("activity") → that service's gRPC stub (``<Name>ServiceStub``)."""
    channels: dict[str, grpc.Channel] = {}

    def make(name: str) -> Any:
        if name not in channels:
            channels[name] = grpc.insecure_channel(apis[name])
        return protos.stub(name, channels[name])

    yield make
    for channel in channels.values():
        channel.close()


@pytest.fixture(scope="session")
def stub(stubs: Callable[[str], Any]) -> Any:
    """registration's stub."""
    return stubs("registration")


@pytest.fixture(scope="session")
def token() -> Token:
    """token(scope, *roles, **overrides) → a signed bearer token; ``org``
    names the organisation an org_leader runs (claim ``org``)."""
    issuer = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")

    def make(
        scope: str, *roles: str, ttl: int = 600, username: str = "", org: str = ""
    ) -> str:
        value, _ = issuer.issue(
            subject=username or f"test-{scope}",
            username=username or f"test-{scope}",
            scope_code=scope,
            roles=list(roles or ("tenant_admin",)),
            ttl=ttl,
            organisation_id=org,
        )
        return value

    return make


@pytest.fixture(scope="session")
def worker(
    migrated: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Processes]:
    """Every service's nameko worker as a real process on the test vhost."""
    from services.catalog import SERVICES

    procs = Processes(migrated, tmp_path_factory.mktemp("logs"))
    for name in SERVICES:
        procs.start(f"{name}-worker", "services.cli.worker", name)
    for name in SERVICES:
        beat = Path(migrated[f"{name.upper()}_HEARTBEAT_FILE"])
        # Generous: a worker starting on two cores shared with other runs was
        # seen to need over 30 s (a readiness wait, not a timed assert).
        wait_for(beat.exists, timeout=120, what=f"the {name} worker's first heartbeat")
    yield procs
    procs.stop_all()
