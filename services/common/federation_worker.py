"""Federation in a service's worker role (nameko; see
:mod:`services.common.federation`).

:class:`FederatedWorker` is a mixin for a service's worker class that names
the rollup it federates (``federated_rollup``). What it does follows the
``federation:`` config section: as a downstream it captures and relays the
rollup's changed cells; as an upstream it applies what each registered
downstream sent; as a relay it does both (applied cells are captured too);
with role ``none`` it clears the capture and idles.

Example::

    class HoursWorker(FederatedWorker, OutboxWorker):
        name = "hours"
        federated_rollup = "hours_rollup"
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.common.db import Database, is_postgres
from services.common.errors import TRANSIENT, failure_kind
from services.common.federation import (
    FederationConfig,
    FederationRelay,
    configure_capture,
)
from services.common.federation_apply import FederationApplier
from services.common.worker import app_config

log = logging.getLogger(__name__)


class Federation(DependencyProvider):
    """The worker's relay (downstream), applier (upstream), both (relay),
    or nothing."""

    def setup(self) -> None:
        cfg = app_config()
        self.fed = FederationConfig.from_config(cfg)
        service = str(self.container.service_name)
        rollup = str(self.container.service_cls.federated_rollup)
        self.db = Database(cfg.service(service))
        self.relay: FederationRelay | None = None
        self.applier: FederationApplier | None = None
        # Every start makes the database capture exactly when this release
        # forwards (downstream, relay): the switch follows the config. If the
        # database is down (or not created yet), the worker starts anyway and
        # the first tick that reaches it sets the switch: it rides the outage
        # out like its event handlers do.
        self.configured = False
        try:
            configure_capture(self.db, self.fed)
            self.configured = True
        except Exception as exc:
            if failure_kind(exc) != TRANSIENT:
                raise
            log.warning("federation: database unreachable at start (%s);"
                        " the capture is set once it answers", exc)  # fmt: skip
        if not is_postgres(self.db.engine):
            return  # embedded mode: nothing to relay or apply
        # A relay does both: applies its downstreams' cells, relays them on.
        if self.fed.forwards:
            self.relay = FederationRelay(
                self.db, self.fed, cfg["amqp_uri"], service, rollup
            )
        if self.fed.accepts:
            self.applier = FederationApplier(
                self.db, self.fed, cfg["amqp_uri"], service, rollup
            )

    def stop(self) -> None:
        for part in (self.relay, self.applier):
            if part is not None:
                part.close()
        self.db.dispose()

    def get_dependency(self, worker_ctx: Any) -> Federation:
        return self

    def tick(self) -> None:
        """Relay or apply until nothing is left; a transient failure (broker
        or database down) waits for the next tick, logged once per outage."""
        try:
            if not self.configured:
                configure_capture(self.db, self.fed)
                self.configured = True
            busy = True
            while busy:  # a relay alternates, so neither side starves the other
                busy = bool(self.applier is not None and self.applier.apply_once())
                if self.relay is not None:
                    busy = bool(self.relay.relay_once()) or busy
        except Exception as exc:
            if failure_kind(exc) == TRANSIENT:
                return
            log.warning("federation tick failed: %s", exc, exc_info=True)


class FederationTimer(Timer):
    """Ticks every ``federation.interval_seconds`` (default 0.2 s)."""

    def setup(self) -> None:
        self.interval = FederationConfig.from_config(app_config()).interval_seconds


class FederatedWorker:
    """Mixin: a worker that federates its ``federated_rollup``."""

    federated_rollup: str
    federation = Federation()

    @FederationTimer.decorator(interval=0.2)
    def federate(self) -> None:
        """Relay captured cells upstream, or apply the downstreams' cells."""
        self.federation.tick()
