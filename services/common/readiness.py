"""An api's readiness follows its own database.

The api's named health service (``zhiyuan.<name>.v1.<Name>Service``, the one
the chart's readiness probe and the gateway ask) is SERVING while a
``SELECT 1`` answers and NOT_SERVING while it does not; the overall ``""``
service stays SERVING as long as the process runs (liveness), so a database
outage takes the pods out of the Service without restarting them.

The check opens one short connection per interval (no pool is kept: it must
not use a connection the calls need) and logs once per change of state.

Example::

    probe = DatabaseReadiness(svc.database_url, health_servicer, service_name)
    threading.Thread(target=probe.run, args=(stop,), daemon=True).start()
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from grpc_health.v1 import health_pb2
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class DatabaseReadiness:
    """Keeps ``service`` SERVING on ``health`` while the database answers."""

    def __init__(
        self,
        url: str,
        health: Any,
        service: str,
        *,
        interval: float = 5.0,
        connect_timeout: int = 3,
    ):
        args: dict[str, Any] = {}
        if url.startswith("postgresql"):
            args = {"connect_timeout": connect_timeout}
        self.engine = create_engine(url, poolclass=NullPool, connect_args=args)
        self.health, self.service, self.interval = health, service, interval
        self.ready: bool | None = None

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            if self.ready is not False:
                log.warning("%s: database unreachable: %s", self.service, exc)
            return False

    def update(self) -> bool:
        """Check once and publish the result; returns it."""
        ready = self.check()
        if ready != self.ready:
            if ready and self.ready is False:
                log.info("%s: database reachable again, SERVING", self.service)
            self.health.set(self.service, SERVING if ready else NOT_SERVING)
            self.ready = ready
        return ready

    def run(self, stop: threading.Event) -> None:
        """Check every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            self.update()
            stop.wait(self.interval)
        self.engine.dispose()
