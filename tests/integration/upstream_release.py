"""An upstream release for the dashboard's federated section (issue 15),
light enough for the integration and browser tiers: hours' real api (in a
thread) over a private copy of its migrated database, whose
``federated_hours_rollup`` the upstream's own applier
(:class:`FederationApplier.apply`, the code the worker runs for each
accepted message) has written; the gateway app made from the same config
with ``FEDERATION_ROLE=upstream``, served by uvicorn when a browser needs
it. No broker is needed: the applier's write is a database transaction.
The other four services are not started: their figures, own and federated,
are the dashboard's gaps (``unavailable``).

Example::

    with UpstreamRelease.start(tmp) as up:
        up.apply("yanta", [("610113", "all", 1, {"hours": 10.0})])
        client = TestClient(create_app(up.cfg))
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import uvicorn

from services.catalog import api_entry
from services.common.config import Config, load
from services.common.db import Database
from services.common.federation import FederationConfig
from services.common.federation_apply import FederationApplier
from services.common.testing import (
    create_migrated_database,
    drop_database,
    free_port,
    platform_env,
    wait_for,
)
from services.gateway.app import create_app

Cell = tuple[str, str, int, dict[str, float]]


@dataclasses.dataclass
class UpstreamRelease:
    cfg: Config
    env: dict[str, str]
    db: Database
    url: str
    stop: threading.Event
    thread: threading.Thread

    @classmethod
    @contextlib.contextmanager
    def start(cls, tmp: Path, **env: str) -> Iterator[UpstreamRelease]:
        """Hours' api serving over a fresh database; ``env`` overrides the
        release's settings (``FEDERATION_STALE_SECONDS``, ...)."""
        url = create_migrated_database(load().service("hours"), "zy_fdash")
        values = {
            **platform_env(tmp, {"hours": url}, "amqp://guest:guest@127.0.0.1:5672/"),
            "DATABASE_POOL_SIZE": "2",
            "DATABASE_MAX_OVERFLOW": "1",
            "LOG_LEVEL": "WARNING",
            "FEDERATION_ROLE": "upstream",
            # The other four are not started here: their addresses point at
            # ports nobody listens on, whatever the suite's environment holds
            # (its session platform serves every service).
            **{
                f"{name.upper()}_GRPC_ADDRESS": f"127.0.0.1:{free_port()}"
                for name in ("registration", "activity", "recycling", "commendation")
            },
            **env,
        }
        cfg = load(env={**os.environ, **values})
        stop = threading.Event()
        thread = threading.Thread(
            target=api_entry("hours"), args=(cfg, stop), daemon=True
        )
        thread.start()
        with grpc.insecure_channel(cfg.service("hours").grpc_address) as ch:
            grpc.channel_ready_future(ch).result(timeout=30)
        hours = dataclasses.replace(
            cfg.service("hours"), database_pool_size=1, database_max_overflow=0
        )
        release = cls(cfg, values, Database(hours), url, stop, thread)
        try:
            yield release
        finally:
            stop.set()
            thread.join(timeout=10)
            release.db.engine.dispose()
            drop_database(url)

    def apply(self, downstream: str, cells: list[Cell]) -> None:
        """What the upstream's worker does with an accepted delta message of
        ``downstream`` (its subtree check is the worker's, tested in
        tests/faults/test_federation.py)."""
        applier = FederationApplier(
            self.db, FederationConfig.from_config(self.cfg), "", "hours", "hours_rollup"
        )
        body: dict[str, Any] = {
            "downstream": downstream,
            "source": "hours_rollup",
            "kind": "delta",
            "cells": [list(c) for c in cells],
        }
        applier.apply(downstream, body)

    def with_env(self, **env: str) -> Config:
        """The same release's config with other settings (a second gateway)."""
        return load(env={**os.environ, **self.env, **env})


@contextlib.contextmanager
def serve_gateway(cfg: Config, port: int) -> Iterator[str]:
    """The gateway app on 127.0.0.1:``port`` (uvicorn in a thread); yields
    its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(cfg), host="127.0.0.1", port=port, log_config=None,
            access_log=False, lifespan="on",
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=30, what="the gateway serving")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
