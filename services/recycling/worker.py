"""Recycling's worker role (nameko): the outbox relay on a timer and the
hourly purge. Recycling consumes no other service's events: what it needs
from activity it asks over gRPC when a collection names a session.

Run with ``zhiyuan run recycling worker``; never imported by the api role.
"""

from __future__ import annotations

from nameko.timer import timer

from services.common.worker import (
    DatabaseDependency,
    Heartbeat,
    RelayDependency,
    Tracing,
    app_config,
)
from services.recycling.models import PROCESSED


class RecyclingWorker:
    name = "recycling"

    db = DatabaseDependency("recycling")
    relay = RelayDependency("recycling")
    heartbeat = Heartbeat("recycling")
    tracing = Tracing()

    # <SERVICE>_OUTBOX_INTERVAL_SECONDS (default 0.1 s): the longest an event
    # waits in the outbox after its commit.
    @timer(interval=app_config().service("recycling").outbox_interval_seconds)
    def relay_outbox(self) -> None:
        """Publish pending outbox rows (publisher confirms)."""
        while self.relay.relay_once():
            pass

    @timer(interval=3600)
    def purge_outbox(self) -> None:
        """Published events are kept a week for inspection, then deleted."""
        self.relay.purge(processed=PROCESSED)


WORKER = RecyclingWorker
