"""The worker role's kernel: nameko dependencies and entrypoints shared by
every service's worker (only ever imported inside a nameko process).

- :class:`DatabaseDependency` hands each worker the service's :class:`Database`;
- :class:`RelayDependency` runs the outbox relay from a ``@timer``;
- :func:`event_handler` is nameko's handler with a dead-letter queue: a
  message that fails twice is rejected into ``<queue>.dlq`` on the
  ``zhiyuan.dlx`` exchange, where an operator can inspect and replay it;
- :class:`Tracing` continues the producer's trace in every worker;
- :class:`Heartbeat` touches a file the liveness probe reads.

Example::

    class Worker:
        name = "registration"
        db = DatabaseDependency("registration", metadata)
        @event_handler("registration", "volunteer.registered")
        def on_registered(self, body): ...
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer
from sqlalchemy import MetaData, Table

from services.common import telemetry
from services.common.config import Config
from services.common.config import load as load_config
from services.common.db import Database
from services.common.outbox import OutboxRelay, outbox_table

log = logging.getLogger(__name__)
DLX = Exchange("zhiyuan.dlx", type="direct", durable=True)


def app_config() -> Config:
    return load_config()


class DatabaseDependency(DependencyProvider):
    def __init__(self, service: str):
        self.service = service
        self.db: Database | None = None

    def setup(self) -> None:
        self.db = Database(app_config().service(self.service))

    def stop(self) -> None:
        if self.db is not None:
            self.db.dispose()

    def get_dependency(self, worker_ctx: Any) -> Database:
        assert self.db is not None
        return self.db


class RelayDependency(DependencyProvider):
    """The outbox relay of a service, sharing nothing with other workers."""

    def __init__(self, service: str):
        self.service = service
        self.relay: OutboxRelay | None = None

    def setup(self) -> None:
        cfg = app_config()
        table = outbox_table(MetaData())
        # Every consumer's queue exists before this relay's first publish.
        declare_topology(cfg["amqp_uri"])
        self.relay = OutboxRelay(
            Database(cfg.service(self.service)), table, cfg["amqp_uri"]
        )

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.close()
            self.relay.db.dispose()

    def get_dependency(self, worker_ctx: Any) -> OutboxRelay:
        assert self.relay is not None
        return self.relay


class Heartbeat(DependencyProvider):
    """Touches the service's heartbeat file whenever a worker runs."""

    def __init__(self, service: str):
        self.service = service
        self.path: Path | None = None

    def setup(self) -> None:
        self.path = Path(app_config().service(self.service).heartbeat_file)

    def worker_result(
        self, worker_ctx: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        if self.path is not None:
            self.path.touch()

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class Tracing(DependencyProvider):
    """A consumer span per handled event, child of the producer's span."""

    def __init__(self) -> None:
        self._spans: dict[Any, Any] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        entry = worker_ctx.entrypoint
        if not isinstance(entry, EventHandler):
            return
        parent = telemetry.extract(worker_ctx.context_data)
        span = telemetry.tracer().start_span(
            f"consume {entry.source_service}.{entry.event_type}",
            context=parent,
            kind=telemetry.trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "nameko.method": entry.method_name,
            },
        )
        token = telemetry.otel_context.attach(telemetry.trace.set_span_in_context(span))
        self._spans[worker_ctx] = (span, token)

    def worker_teardown(self, worker_ctx: Any) -> None:
        entry = self._spans.pop(worker_ctx, None)
        if entry is not None:
            span, token = entry
            span.end()
            # A token attached in another greenlet cannot be detached here.
            with contextlib.suppress(Exception):
                telemetry.otel_context.detach(token)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class DeadLetteringEventHandler(EventHandler):
    """nameko's service-pool event handler, with one retry and then a DLQ."""

    def setup(self) -> None:
        service = self.container.service_name
        self.queue = handler_queue(
            self.source_service, self.event_type, service, self.method_name
        )
        with Connection(self.amqp_uri, connect_timeout=5) as conn:
            declare_handler_queue(conn.default_channel, self.queue)
        Consumer.setup(self)

    def handle_message_processed(
        self, message: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        if exc_info is None:
            self.consumer.ack_message(message)
        elif message.delivery_info.get("redelivered"):
            log.error("event %s failed twice; dead-lettered", self.event_type)
            if message.channel.connection:
                message.reject(requeue=False)
        else:
            time.sleep(0.2)
            self.consumer.requeue_message(message)


event_handler = DeadLetteringEventHandler.decorator


def handler_queue(source: str, event_type: str, service: str, method: str) -> Queue:
    """The durable queue of one handler, dead-lettering into ``<name>.dlq``."""
    name = f"evt-{source}-{event_type}--{service}.{method}"
    return Queue(
        name,
        exchange=Exchange(f"{source}.events", type="topic", durable=True),
        routing_key=event_type,
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": DLX.name,
            "x-dead-letter-routing-key": f"{name}.dlq",
        },
    )


def declare_handler_queue(channel: Any, queue: Queue) -> None:
    DLX(channel).declare()
    queue(channel).declare()
    dlq = f"{queue.name}.dlq"
    Queue(dlq, exchange=DLX, routing_key=dlq, durable=True)(channel).declare()


def declare_topology(amqp_uri: str) -> int:
    """Declare every catalog worker's handler queues; returns how many.

    Each relay does this before its first publish, so an event published
    while its consumer has never run still has a queue to wait in (topic
    exchanges drop what no queue is bound for).
    """
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    from services.catalog import SERVICES, worker_class

    queues = []
    for name in SERVICES:
        cls = worker_class(name)
        for method_name in dir(cls):
            method = getattr(cls, method_name)
            for entry in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entry, DeadLetteringEventHandler):
                    queues.append(
                        handler_queue(
                            entry.source_service,
                            entry.event_type,
                            cls.name,
                            method_name,
                        )
                    )
    with Connection(amqp_uri, connect_timeout=5) as conn:
        for queue in queues:
            declare_handler_queue(conn.default_channel, queue)
    return len(queues)


def nameko_config(cfg: Config) -> dict[str, Any]:
    return {"AMQP_URI": cfg["amqp_uri"], "max_workers": 10, "PREFETCH_COUNT": 10}


def outbox_for(metadata: MetaData) -> Table:
    return metadata.tables["outbox"]
