"""The worker role's kernel: nameko dependencies and entrypoints shared by
every service's worker (only ever imported inside a nameko process).

- :class:`DatabaseDependency` hands each worker the service's :class:`Database`;
- :class:`RelayDependency` runs the outbox relay from a ``@timer``;
- :func:`event_handler` is nameko's handler with retries and a dead-letter
  queue: a transient failure (database, broker or a called service
  unavailable) is retried with growing delays through RabbitMQ delay queues,
  then, like a permanent failure or an undecodable body, published into
  ``<queue>.dlq`` on the ``zhiyuan.dlx`` exchange with headers saying why,
  where ``zhiyuan dlq`` lists, shows, replays and purges it;
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
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko.amqp.consume import Consumer as ConsumerCore
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer, decode_from_headers
from nameko.timer import Timer, timer
from sqlalchemy import MetaData, Table

from services.common import metrics, telemetry
from services.common.config import Config
from services.common.config import load as load_config
from services.common.db import Database
from services.common.deadletter import (
    ATTEMPT,
    CLASSIC,
    DLX,
    QueueKind,
    Raw,
    Republisher,
    RetryPolicy,
    StateLog,
    declare,
    declare_delays,
    dlq_name,
    failure_headers,
)
from services.common.errors import TRANSIENT, failure_kind, one_line
from services.common.outbox import OutboxRelay, outbox_table

log = logging.getLogger(__name__)


def app_config() -> Config:
    return load_config()


def _service_of(extension: Any, given: str | None) -> str:
    """The service an extension serves: the one it was given, else its
    container's (the worker class's ``name``)."""
    return given or str(extension.container.service_name)


class DatabaseDependency(DependencyProvider):
    """The service's :class:`Database` (``service`` defaults to the worker's
    own name)."""

    def __init__(self, service: str | None = None):
        self.service = service
        self.db: Database | None = None

    def setup(self) -> None:
        self.db = Database(app_config().service(_service_of(self, self.service)))

    def stop(self) -> None:
        if self.db is not None:
            self.db.dispose()

    def get_dependency(self, worker_ctx: Any) -> Database:
        assert self.db is not None
        return self.db


class RelayDependency(DependencyProvider):
    """The outbox relay of a service, sharing nothing with other workers.

    Workers get a :class:`GuardedRelay`, which logs a database outage once
    per change of state, not a traceback per tick of the relay's timer.
    """

    def __init__(self, service: str | None = None):
        self.service = service
        self.relay: OutboxRelay | None = None
        self.guarded: GuardedRelay | None = None

    def setup(self) -> None:
        cfg = app_config()
        name = _service_of(self, self.service)
        table = outbox_table(MetaData())
        # Every consumer's queue exists before this relay's first publish.
        declare_topology(cfg["amqp_uri"])
        self.relay = OutboxRelay(Database(cfg.service(name)), table, cfg["amqp_uri"])
        self.guarded = GuardedRelay(self.relay, f"{name} outbox relay")

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.close()
            self.relay.db.dispose()

    def get_dependency(self, worker_ctx: Any) -> GuardedRelay:
        assert self.guarded is not None
        return self.guarded


class GuardedRelay:
    """An :class:`OutboxRelay` whose transient failures (the database is
    down) are logged by a :class:`StateLog` and answered with 0 rows, so the
    timer ticks on quietly until the database is back."""

    def __init__(self, relay: OutboxRelay, what: str):
        self.relay = relay
        self.state = StateLog(log, f"{what}: database")

    def relay_once(self) -> int:
        return int(self._guard(self.relay.relay_once))

    def purge(self, *args: Any, **kwargs: Any) -> int:
        return int(self._guard(lambda: self.relay.purge(*args, **kwargs)))

    def _guard(self, call: Any) -> Any:
        try:
            result = call()
        except Exception as exc:
            if failure_kind(exc) != TRANSIENT:
                raise
            self.state.failed(exc)
            return 0
        self.state.ok()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.relay, name)


class Heartbeat(DependencyProvider):
    """Touches the service's heartbeat file whenever a worker runs."""

    def __init__(self, service: str | None = None):
        self.service = service
        self.path: Path | None = None

    def setup(self) -> None:
        name = _service_of(self, self.service)
        self.path = Path(app_config().service(name).heartbeat_file)

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


class _Consumer(ConsumerCore):
    """nameko's consumer, reconnecting within seconds of the broker's return
    and dead-lettering what it cannot decode (kombu would ack and drop it)."""

    handler: DeadLetteringEventHandler

    @contextlib.contextmanager
    def establish_connection(self) -> Iterator[Connection]:
        # kombu's default waits 2, 4, 6 … up to 30 s between attempts, so a
        # consumer came back up to ~14 s after the broker did.
        with self.create_connection() as conn:
            conn.ensure_connection(
                self.on_connection_error,
                self.connect_max_retries,
                interval_start=0.5,
                interval_step=0.5,
                interval_max=RECONNECT_MAX_SECONDS,
            )
            yield conn

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        self.handler.undecodable(message, exc)

    # nameko skips an ack or requeue when the message's connection is gone,
    # and ignores amqp's ConnectionError, but a socket error (broken pipe,
    # reset) from a connection that died while a worker ran escaped into the
    # worker's thread and killed the whole container: the process exited and
    # its queues were left unconsumed. An unsettled message goes back to its
    # queue with its channel, and consumers claim events, so the redelivery
    # changes nothing.
    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("ack lost with the broker connection (%s): redelivered", exc)

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("requeue lost with the broker connection (%s)", exc)


class DeadLetteringEventHandler(EventHandler):
    """nameko's service-pool event handler whose failures are retried through
    RabbitMQ delay queues and then dead-lettered (see
    :mod:`services.common.deadletter`); the worker never sleeps on them."""

    consumer_cls = _Consumer

    def setup(self) -> None:
        service = self.container.service_name
        cfg = app_config()
        kind = QueueKind.from_config(cfg)
        # The consumer redeclares this queue on every (re)connection: it
        # carries the same arguments as the declaration below.
        self.queue = handler_queue(
            self.source_service, self.event_type, service, self.method_name, kind
        )
        self.policy = RetryPolicy.from_config(cfg)
        self.republisher = _republisher(self.amqp_uri, kind)
        with _connect(self.amqp_uri) as conn:
            declare_handler_queue(conn.default_channel, self.queue, kind)
            if (self.amqp_uri, self.policy.delays) not in _DELAYS_DECLARED:
                declare_delays(conn.default_channel, self.policy, kind)
                _DELAYS_DECLARED.add((self.amqp_uri, self.policy.delays))
        Consumer.setup(self)
        self.consumer.handler = self
        _quiet_transient_tracebacks()

    def handle_message_processed(
        self, message: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        queue = self.queue.name
        if exc_info is None:
            self.consumer.ack_message(message)
            metrics.event_outcome(queue, metrics.HANDLED)
            return
        metrics.event_outcome(queue, metrics.FAILED)
        exc = exc_info[1]
        kind = failure_kind(exc)
        attempt = _attempt(message)
        delay = self.policy.delay(attempt, kind)
        raw = Raw.of(message)
        event_id, event_type = _event_of(message, raw)
        if delay is None:
            self._dead_letter(message, raw, exc, kind, attempt, event_id, event_type)
            return
        try:
            self.republisher.retry_later(raw, self.queue.name, attempt + 1, delay)
        except Exception as err:  # noqa: BLE001 - the broker itself is failing
            log.warning(
                "event %s on %s: cannot schedule a retry (%s); the broker "
                "dead-letters it", event_id, self.queue.name, err,
            )  # fmt: skip
            self._reject(message)
            return
        metrics.event_outcome(queue, metrics.RETRIED)
        log.warning(
            "event %s (%s) failed on %s, attempt %d, %s: %s; retry in %g s",
            event_id, event_type, self.queue.name, attempt, kind,
            one_line(exc), delay,
        )  # fmt: skip
        self.consumer.ack_message(message)

    def undecodable(self, message: Any, exc: Exception) -> None:
        """A body that is not JSON or of a content type not accepted: it
        goes to the DLQ at once (a retry cannot make it readable)."""
        raw = Raw.of(message)
        event_id, event_type = _event_of(message, raw)
        metrics.event_outcome(self.queue.name, metrics.FAILED)
        self._dead_letter(
            message, raw, exc, "undecodable", _attempt(message), event_id, event_type
        )

    def _dead_letter(
        self, message: Any, raw: Raw, exc: BaseException, kind: str,
        attempt: int, event_id: str, event_type: str,
    ) -> None:  # fmt: skip
        metrics.event_outcome(self.queue.name, metrics.DEAD_LETTERED)
        failure = failure_headers(
            queue=self.queue.name, event_id=event_id, event_type=event_type,
            error=exc, kind=kind, attempts=attempt,
        )  # fmt: skip
        log.error(
            "dead-lettered event %s (%s) from queue %s into %s after %d "
            "attempt(s), %s: %s",
            event_id, event_type, self.queue.name, dlq_name(self.queue.name),
            attempt, kind, one_line(exc),
        )  # fmt: skip
        try:
            self.republisher.dead_letter(raw, self.queue.name, failure)
        except Exception as err:  # noqa: BLE001
            # The queue's own dead-lettering still keeps it (without headers).
            log.warning("event %s: DLQ publish failed (%s), rejecting", event_id, err)
            self._reject(message)
            return
        self.consumer.ack_message(message)

    def _reject(self, message: Any) -> None:
        if message.channel.connection:
            with contextlib.suppress(Exception):
                message.reject(requeue=False)


RECONNECT_MAX_SECONDS = 2.0
_DELAYS_DECLARED: set[tuple[str, tuple[float, ...]]] = set()
_REPUBLISHERS: dict[str, Republisher] = {}


def _republisher(amqp_uri: str, kind: QueueKind) -> Republisher:
    """One confirmed publishing connection per process and broker."""
    if amqp_uri not in _REPUBLISHERS:
        _REPUBLISHERS[amqp_uri] = Republisher(amqp_uri, kind)
    return _REPUBLISHERS[amqp_uri]


def _attempt(message: Any) -> int:
    try:
        return max(1, int((message.headers or {}).get(ATTEMPT, 1)))
    except (TypeError, ValueError):
        return 1


def _event_of(message: Any, raw: Raw) -> tuple[str, str]:
    """The event's id and type, from the decoded body when it decoded."""
    body = getattr(message, "_decoded_cache", None)
    if isinstance(body, dict):
        return str(body.get("event_id") or raw.message_id or "?"), str(
            body.get("event_type") or "?"
        )
    return raw.message_id or "?", "?"


class _TransientTracebacks(logging.Filter):
    """nameko logs every failed worker with a traceback; for a transient
    failure (the database is down) one warning line says enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and failure_kind(exc) == TRANSIENT:
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_FILTER = _TransientTracebacks()


def _quiet_transient_tracebacks() -> None:
    logger = logging.getLogger("nameko.containers")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


event_handler = DeadLetteringEventHandler.decorator


class BatchEventHandler(DeadLetteringEventHandler):
    """A handler that takes its events in batches: the method gets a list of
    bodies and applies them in one transaction (claims in bulk).

    Messages are collected up to ``worker.batch_size`` (the consumer
    prefetches two batches) or for ``worker.batch_wait_seconds`` after the
    first, then one worker runs the batch and every message is acked. When
    the batch fails, each message is run again alone, so retries and the DLQ
    stay per message: one bad event never holds back the others.

    Example::

        @batch_event_handler("activity", "attendance.checked_out")
        def on_checked_out(self, bodies: list[dict[str, Any]]) -> None:
            HoursApp(self.db).records.ingest_batch(consumer, [... for b in bodies])
    """

    def setup(self) -> None:
        cfg = app_config()
        self.batch_size = max(1, int(cfg.get("worker.batch_size") or 50))
        self.batch_wait = float(cfg.get("worker.batch_wait_seconds") or 0.05)
        # Two batches in flight: one being applied, the next one filling.
        self.consumer_options["prefetch_count"] = 2 * self.batch_size
        self._pending: list[tuple[Any, Any]] = []
        self._flush_scheduled = False
        super().setup()

    def handle_message(self, body: Any, message: Any) -> None:
        self._pending.append((body, message))
        if len(self._pending) >= self.batch_size:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self.container.spawn_managed_thread(
                self._flush_later, identifier=f"batch[{self.method_name}]"
            )

    def _flush_later(self) -> None:
        import eventlet

        eventlet.sleep(self.batch_wait)  # a timer's green thread, not a worker
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            self._run(batch)

    def _run(self, batch: list[tuple[Any, Any]]) -> None:
        bodies = [body for body, _ in batch]
        messages = [message for _, message in batch]
        context_data = decode_from_headers(messages[0].headers)
        handle_result = partial(self._batch_result, batch)

        def spawn() -> None:
            try:
                self.container.spawn_worker(
                    self,
                    (bodies,),
                    {},
                    context_data=context_data,
                    handle_result=handle_result,
                )
            except ContainerBeingKilled:
                for message in messages:
                    self.consumer.requeue_message(message)

        # spawn_worker waits for a free worker: never in the consumer's thread.
        self.container.spawn_managed_thread(
            spawn, identifier=f"batch_worker[{self.method_name}]"
        )

    def _batch_result(
        self, batch: list[tuple[Any, Any]], worker_ctx: Any, result: Any, exc_info: Any
    ) -> tuple[Any, Any]:
        if exc_info is None:
            for _, message in batch:
                self.consumer.ack_message(message)
                metrics.event_outcome(self.queue.name, metrics.HANDLED)
        elif len(batch) == 1:
            self.handle_message_processed(batch[0][1], result, exc_info)
        else:
            log.warning(
                "batch of %d on %s failed (%s): running its events one by one",
                len(batch), self.queue.name, one_line(exc_info[1]),
            )  # fmt: skip
            for item in batch:
                self._run([item])
        return result, exc_info


batch_event_handler = BatchEventHandler.decorator


def handler_queue(
    source: str, event_type: str, service: str, method: str,
    kind: QueueKind = CLASSIC,
) -> Queue:  # fmt: skip
    """The durable queue of one handler, dead-lettering into ``<name>.dlq``
    (a quorum queue with a delivery limit when ``kind`` says so; the name
    is the same either way)."""
    name = f"evt-{source}-{event_type}--{service}.{method}"
    return Queue(
        name,
        exchange=Exchange(f"{source}.events", type="topic", durable=True),
        routing_key=event_type,
        durable=True,
        queue_arguments=kind.handler(
            {
                "x-dead-letter-exchange": DLX.name,
                "x-dead-letter-routing-key": f"{name}.dlq",
            }
        ),
    )


def dlq_queue(queue: Queue, kind: QueueKind = CLASSIC) -> Queue:
    """A handler queue's dead-letter queue on ``zhiyuan.dlx``."""
    dlq = dlq_name(queue.name)
    return Queue(
        dlq, exchange=DLX, routing_key=dlq, durable=True,
        queue_arguments=kind.durable({}),
    )  # fmt: skip


def declare_handler_queue(
    channel: Any, queue: Queue, kind: QueueKind = CLASSIC
) -> None:
    """Declare the DLX, ``queue`` and its DLQ; a queue the broker holds with
    other arguments (classic against quorum) raises :class:`QueueMismatch`."""
    DLX(channel).declare()
    declare(queue(channel), kind)
    declare(dlq_queue(queue, kind)(channel), kind)


_TOPOLOGY: list[Any] = []


def register_topology(workers: Iterable[Any]) -> None:
    """Tell the kernel which worker classes make up the platform (their
    event handlers' queues are declared by every relay before it publishes).
    Called once by the composition root (``services.catalog``); the kernel
    itself names no service."""
    _TOPOLOGY[:] = list(workers)


def declare_topology(amqp_uri: str, workers: Iterable[Any] | None = None) -> int:
    """Declare every worker's handler queues (``workers``, else the
    registered topology); returns how many.

    Each relay does this before its first publish, so an event published
    while its consumer has never run still has a queue to wait in (topic
    exchanges drop what no queue is bound for).
    """
    kind = QueueKind.from_config(app_config())
    queues = handler_queues(workers, kind)
    with _connect(amqp_uri) as conn:
        for queue in queues:
            declare_handler_queue(conn.default_channel, queue, kind)
    return len(queues)


def _connect(amqp_uri: str) -> Connection:
    """A connection for declarations at start-up, tried a few times: on a
    busy machine the broker may drop a handshake it found too slow."""
    conn = Connection(amqp_uri, connect_timeout=5)
    conn.ensure_connection(
        max_retries=5, interval_start=0.5, interval_step=0.5, interval_max=2
    )
    return conn


def handler_queues(
    workers: Iterable[Any] | None = None, kind: QueueKind = CLASSIC
) -> list[Queue]:
    """The queue of every event handler of ``workers`` (else the registered
    topology), declared as ``kind`` says (names are the same either way)."""
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    classes = list(workers) if workers is not None else list(_TOPOLOGY)
    if not classes:
        raise RuntimeError(
            "no worker topology registered: call"
            " services.common.worker.register_topology (the catalog does)"
        )
    queues = []
    for cls in classes:
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
                            kind,
                        )
                    )
    return queues


def nameko_config(cfg: Config) -> dict[str, Any]:
    return {"AMQP_URI": cfg["amqp_uri"], "max_workers": 10, "PREFETCH_COUNT": 10}


def outbox_for(metadata: MetaData) -> Table:
    return metadata.tables["outbox"]


class OutboxTimer(Timer):
    """A timer whose interval is the service's
    ``<SERVICE>_OUTBOX_INTERVAL_SECONDS`` (default 0.1 s), read when the
    worker starts: the longest an event waits in the outbox after its
    commit."""

    def setup(self) -> None:
        name = str(self.container.service_name)
        self.interval = app_config().service(name).outbox_interval_seconds


class OutboxWorker:
    """The base of every service's worker role: its database, the outbox
    relay on a timer, the hourly purge of published events, the heartbeat
    and consumer spans. A subclass sets ``name`` (the service) and
    ``processed`` (its table of claimed events) and adds its handlers;
    nameko picks up the inherited entrypoints and dependencies, bound to the
    subclass's name.

    Example::

        class RecyclingWorker(OutboxWorker):
            name = "recycling"
            processed = PROCESSED
    """

    name: str
    processed: Table

    db = DatabaseDependency()
    relay = RelayDependency()
    heartbeat = Heartbeat()
    tracing = Tracing()

    @OutboxTimer.decorator(interval=0.1)
    def relay_outbox(self) -> None:
        """Publish pending outbox rows (publisher confirms)."""
        while self.relay.relay_once():
            pass

    @timer(interval=3600)
    def purge_outbox(self) -> None:
        """Published events are kept a week for inspection, then deleted."""
        self.relay.purge(processed=self.processed)
