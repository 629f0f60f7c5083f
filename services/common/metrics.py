"""Prometheus metrics of every process (prometheus-client), each role on its
own port (``/metrics``), so the public HTTP port never shows them.

Config keys (deploy/config.yaml; the same names in the compose file, the
chart and the README); empty turns a process's metrics off:

    services.<name>.api_metrics_listen     <NAME>_API_METRICS_LISTEN
    services.<name>.worker_metrics_listen  <NAME>_WORKER_METRICS_LISTEN
    gateway.metrics_listen                 GATEWAY_METRICS_LISTEN

What each role serves:

- api (:class:`GrpcMetrics`, a server interceptor, or :func:`measured` inside
  the kernel interceptor when no spans are exported):
  ``grpc_server_handled_total{grpc_service,grpc_method,grpc_code}``,
  ``grpc_server_handling_seconds`` (histogram), ``grpc_server_in_flight``;
  health checks are not counted.
- gateway (:class:`HttpMetrics`, ASGI middleware):
  ``http_server_requests_total{method,route,status}`` by route template
  (``/api/v1/volunteers/{id}``, never a raw path) and
  ``http_server_request_duration_seconds``.
- worker (:func:`start_worker` and :func:`event_outcome`):
  ``zhiyuan_events_total{queue,outcome}``, ``zhiyuan_outbox_backlog{service}``,
  ``zhiyuan_queue_ready_messages{queue}`` (consumer lag) and
  ``zhiyuan_dlq_messages{queue}``, the last three read every
  ``poll_seconds`` (the database's outbox, a passive ``queue_declare`` per
  handler queue and its ``.dlq``).

Example (the worker kernel, after a handler ran)::

    metrics.event_outcome("evt-registration-volunteer.registered--activity.on_registered",
                          metrics.HANDLED)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Outcomes of one delivery of an event to a handler queue.
HANDLED, FAILED, RETRIED = "handled", "failed", "retried"
DEAD_LETTERED = "dead_lettered"
OUTCOMES = (HANDLED, FAILED, RETRIED, DEAD_LETTERED)

GRPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "gRPC calls completed by the server, by method and status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time the server took to answer a gRPC call",
    ["grpc_service", "grpc_method"],
)
GRPC_IN_FLIGHT = Gauge(
    "grpc_server_in_flight",
    "gRPC calls being served now",
    ["grpc_service", "grpc_method"],
)
HTTP_REQUESTS = Counter(
    "http_server_requests_total",
    "HTTP requests answered by the gateway, by route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "http_server_request_duration_seconds",
    "Time the gateway took to answer an HTTP request",
    ["method", "route"],
)
EVENTS = Counter(
    "zhiyuan_events",
    "Event deliveries by handler queue and outcome "
    "(handled, failed, retried, dead_lettered)",
    ["queue", "outcome"],
)
OUTBOX_BACKLOG = Gauge(
    "zhiyuan_outbox_backlog",
    "Outbox rows not yet published to the broker",
    ["service"],
)
QUEUE_READY = Gauge(
    "zhiyuan_queue_ready_messages",
    "Messages waiting in a handler queue (consumer lag)",
    ["queue"],
)
DLQ_DEPTH = Gauge(
    "zhiyuan_dlq_messages",
    "Messages in a handler queue's dead-letter queue",
    ["queue"],
)
FEDERATION_BACKLOG = Gauge(
    "zhiyuan_federation_outbox_backlog",
    "Federated rollup cells captured but not yet relayed towards the upstream "
    "(a downstream's or relay's federation_outbox)",
    ["service"],
)
FEDERATION_DELTA_AGE = Gauge(
    "zhiyuan_federation_last_delta_age_seconds",
    "Seconds since the last delta applied from a registered downstream "
    "(an upstream's or relay's federation_links; alert when it grows)",
    ["service", "downstream"],
)

_served: dict[str, int] = {}
_serve_lock = threading.Lock()


def serve(listen: str | None) -> int | None:
    """Serve ``/metrics`` on ``host:port`` (once per address and process);
    returns the port, or None when ``listen`` is empty or the port is taken
    (metrics are never a reason for a process not to run)."""
    if not listen:
        return None
    with _serve_lock:
        if listen in _served:
            return _served[listen]
        host, _, port = str(listen).rpartition(":")
        try:
            start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0")  # noqa: S104
        except OSError as exc:
            log.warning("metrics: cannot listen on %s (%s): off", listen, exc)
            return None
        _served[listen] = int(port)
        log.info("metrics on http://%s/metrics", listen)
        return int(port)


def listen_of(cfg: Any, role: str, service: str = "") -> str:
    """The configured metrics address of a role (``api``, ``worker``,
    ``gateway``); empty when off."""
    key = "gateway.metrics_listen" if role == "gateway" else (
        f"services.{service}.{role}_metrics_listen"
    )  # fmt: skip
    return str(cfg.get(key, "") or "")


def event_outcome(queue: str, outcome: str) -> None:
    """Count one delivery's outcome (one of :data:`OUTCOMES`) for ``queue``.
    Call it from the handler: HANDLED after the ack; FAILED for every failed
    attempt, then RETRIED when it is sent to be tried again or DEAD_LETTERED
    when it goes to the DLQ."""
    EVENTS.labels(queue, outcome).inc()


# -- api ----------------------------------------------------------------------


def _split(method: str) -> tuple[str, str]:
    service, _, name = method.rpartition("/")
    return service.lstrip("/"), name


class GrpcMetrics(grpc.ServerInterceptor):
    """Counts, times and tracks in-flight unary calls; put it first so it
    sees the status the other interceptors set."""

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if (
            handler is None
            or handler.unary_unary is None
            or method.startswith("/grpc.health.v1.Health/")
        ):
            return handler
        return grpc.unary_unary_rpc_method_handler(
            measured(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def measured(
    method: str, behaviour: Callable[[Any, grpc.ServicerContext], Any]
) -> Callable[[Any, grpc.ServicerContext], Any]:
    """``behaviour`` counted, timed and tracked in flight as ``method``'s
    calls. The label children are looked up once per method, not per call
    (``labels()`` takes a lock and builds a key every time)."""
    labels = _split(method)
    in_flight = GRPC_IN_FLIGHT.labels(*labels)
    seconds = GRPC_SECONDS.labels(*labels)
    handled: dict[grpc.StatusCode, Any] = {}

    def count(code: grpc.StatusCode) -> None:
        child = handled.get(code)
        if child is None:
            child = handled.setdefault(code, GRPC_HANDLED.labels(*labels, code.name))
        child.inc()

    def call(request: Any, context: grpc.ServicerContext) -> Any:
        in_flight.inc()
        start = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            reply = behaviour(request, context)
            code = context.code() or grpc.StatusCode.OK
            return reply
        except Exception:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            seconds.observe(time.perf_counter() - start)
            count(code)
            in_flight.dec()

    return call


# -- gateway ------------------------------------------------------------------


class HttpMetrics:
    """ASGI middleware: requests by method, route template and status."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - start)


# -- worker -------------------------------------------------------------------


def outbox_backlog(engine: Any) -> int:
    """Rows of the service's outbox not yet published."""
    from sqlalchemy import text

    with engine.connect() as conn:
        sql = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return int(conn.execute(sql).scalar_one())


def federation_state(engine: Any) -> tuple[int, dict[str, float]] | None:
    """The federation outbox's backlog and, per downstream that has sent
    anything, the seconds since its last delta; None where the service's
    database has no federation tables (SQLite, before the migration)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if (
            conn.dialect.name != "postgresql"
            or conn.execute(
                text("SELECT to_regclass('federation_outbox') IS NULL")
            ).scalar_one()
        ):
            return None
        backlog = int(
            conn.execute(text("SELECT count(*) FROM federation_outbox")).scalar_one()
        )
        ages = conn.execute(
            text(
                "SELECT downstream, extract(epoch FROM now() - max(last_delta_at))"
                " FROM federation_links WHERE last_delta_at IS NOT NULL"
                " GROUP BY downstream"
            )
        ).all()
    return backlog, {str(d): max(0.0, float(a)) for d, a in ages}


def queue_depths(amqp_uri: str, queues: Iterable[str]) -> dict[str, int | None]:
    """Ready messages per queue by a passive declare (None: no such queue)."""
    from kombu import Connection

    depths: dict[str, int | None] = {}
    with Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in queues:
            try:
                depths[name] = int(channel.queue_declare(name, passive=True)[1])
            except conn.channel_errors:  # 404: the broker closed the channel
                depths[name] = None
                channel = conn.channel()
        channel.close()
    return depths


class WorkerGauges:
    """Reads the outbox backlog, consumer lag and DLQ depth of one service
    (and, where it federates, its federation backlog and each downstream's
    last delta) every ``poll_seconds`` and publishes them as gauges."""

    def __init__(
        self,
        service: str,
        database_url: str,
        amqp_uri: str,
        queues: Callable[[], list[str]],
        poll_seconds: float = 15.0,
    ):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.service, self.amqp_uri, self.queues = service, amqp_uri, queues
        self.engine = create_engine(database_url, poolclass=NullPool)
        self.poll_seconds = poll_seconds
        self._failing: set[str] = set()

    def _quietly(self, what: str, read: Callable[[], Any]) -> Any:
        """Run ``read``; log its failure once until it works again."""
        try:
            value = read()
        except Exception as exc:  # noqa: BLE001 - a gauge read never stops the worker
            if what not in self._failing:
                log.warning("metrics: cannot read %s: %s", what, exc)
            self._failing.add(what)
            return None
        self._failing.discard(what)
        return value

    def update(self) -> None:
        backlog = self._quietly("outbox backlog", lambda: outbox_backlog(self.engine))
        if backlog is not None:
            OUTBOX_BACKLOG.labels(self.service).set(backlog)
        fed = self._quietly("federation", lambda: federation_state(self.engine))
        if fed is not None:
            FEDERATION_BACKLOG.labels(self.service).set(fed[0])
            for downstream, age in fed[1].items():
                FEDERATION_DELTA_AGE.labels(self.service, downstream).set(age)
        queues = self.queues()
        names = [*queues, *(f"{q}.dlq" for q in queues)]
        depths = self._quietly(
            "queue depths", lambda: queue_depths(self.amqp_uri, names)
        )
        for queue in queues:
            if depths is None:
                break
            if depths.get(queue) is not None:
                QUEUE_READY.labels(queue).set(depths[queue])
            if depths.get(f"{queue}.dlq") is not None:
                DLQ_DEPTH.labels(queue).set(depths[f"{queue}.dlq"])

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.update()
            stop.wait(self.poll_seconds)


def handler_queues(runner: Any) -> list[str]:
    """Names of the queues the event handlers of a nameko runner consume."""
    names = []
    for container in runner.containers:
        for entry in container.entrypoints:
            queue = getattr(entry, "queue", None)
            if queue is not None and getattr(entry, "event_type", None):
                names.append(str(queue.name))
    return sorted(set(names))


def start_worker(cfg: Any, service: str, runner: Any) -> threading.Event | None:
    """Serve a worker's metrics and start its gauges' poller; returns the
    event that stops the poller (None when metrics are off)."""
    if serve(listen_of(cfg, "worker", service)) is None:
        return None
    gauges = WorkerGauges(
        service,
        cfg.service(service).database_url,
        cfg["amqp_uri"],
        lambda: handler_queues(runner),
        float(cfg.get("metrics.poll_seconds", 15) or 15),
    )
    stop = threading.Event()
    threading.Thread(target=gauges.run, args=(stop,), daemon=True).start()
    return stop
