"""gRPC glue shared by every api process and every client.

- one table maps platform errors to gRPC status codes (and the gateway maps
  those to HTTP);
- one server interceptor authenticates the caller, makes the principal
  available to the servicer and turns :class:`ZhiyuanError` into a status,
  never a stack trace;
- one server factory adds ``grpc.health.v1``, metrics and tracing;
- one channel factory forwards the caller's token and sets a deadline.

Example::

    server = build_server(listen, verifier, public_methods={...})
    registration_pb2_grpc.add_RegistrationServiceServicer_to_server(impl, server)
    server.start()
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from contextvars import Token
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.instrumentation.grpc import (
    client_interceptor,
    grpcext,
    server_interceptor,
)

from services.common.auth import (
    TokenVerifier,
    bearer,
    current_principal,
    reset_current_principal,
    set_current_principal,
)
from services.common.config import Config
from services.common.errors import Unavailable, ZhiyuanError, one_line
from services.common.metrics import GrpcMetrics, measured
from services.common.protos import service_name

log = logging.getLogger(__name__)

STATUS_OF: dict[str, grpc.StatusCode] = {
    "INVALID_ARGUMENT": grpc.StatusCode.INVALID_ARGUMENT,
    "NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "ALREADY_EXISTS": grpc.StatusCode.ALREADY_EXISTS,
    "FAILED_PRECONDITION": grpc.StatusCode.FAILED_PRECONDITION,
    "PERMISSION_DENIED": grpc.StatusCode.PERMISSION_DENIED,
    "UNAUTHENTICATED": grpc.StatusCode.UNAUTHENTICATED,
    "UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "RESOURCE_EXHAUSTED": grpc.StatusCode.RESOURCE_EXHAUSTED,
}

# Trailing metadata that carries the structured error to clients (the
# gateway turns it into a JSON body). `-bin` keys may hold UTF-8.
FIELD_KEY, RULE_KEY, ZH_KEY, EN_KEY = (
    "zhiyuan-field",
    "zhiyuan-rule",
    "zhiyuan-message-zh-bin",
    "zhiyuan-message-en-bin",
)
# Seconds the caller should wait before retrying (HTTP Retry-After).
RETRY_AFTER_KEY = "zhiyuan-retry-after"
# The end client's address, as the gateway saw it (login failure counting).
CLIENT_ADDRESS_KEY = "zhiyuan-client-address"


def abort_with(context: grpc.ServicerContext, err: ZhiyuanError) -> None:
    trailers: list[tuple[str, str | bytes]] = [
        (ZH_KEY, err.message_zh.encode()),
        (EN_KEY, err.message_en.encode()),
    ]
    if err.field:
        trailers.append((FIELD_KEY, err.field))
    if err.rule:
        trailers.append((RULE_KEY, err.rule))
    if getattr(err, "retry_after", 0):
        trailers.append((RETRY_AFTER_KEY, str(int(err.retry_after))))  # type: ignore[attr-defined]
    context.set_trailing_metadata(tuple(trailers))
    context.abort(STATUS_OF.get(err.code, grpc.StatusCode.UNKNOWN), str(err))


class KernelInterceptor(grpc.ServerInterceptor):
    """Authentication, principal context and error mapping for unary calls.

    With ``metrics=True`` it also counts and times the calls (what
    :class:`~services.common.metrics.GrpcMetrics` does as an interceptor of
    its own) and, when this process exports no spans, carries an incoming
    ``traceparent`` into the call's context (what the tracing interceptor
    would have done, minus building a span nobody keeps): one interceptor
    and one wrapper per call instead of three. The wrapped handler of each
    method is built once and reused, so a call allocates no handler.
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        public_methods: Iterable[str] = (),
        *,
        metrics: bool = False,
        propagate_context: bool = False,
    ):
        self.verifier = verifier
        self.public = frozenset(public_methods)
        self.metrics = metrics
        self.propagate_context = propagate_context
        self._wrapped: dict[str, tuple[Any, grpc.RpcMethodHandler]] = {}
        self._lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        if method.startswith("/grpc.health.v1.Health/"):
            return handler
        behaviour = self._guard(method, handler.unary_unary)
        if self.metrics:
            behaviour = measured(method, behaviour)
        wrapped = grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        with self._lock:
            self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _guard(
        self, method: str, behaviour: Callable[[Any, grpc.ServicerContext], Any]
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        needs_auth = method not in self.public
        verify = self.verifier.verify
        propagate_context = self.propagate_context

        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            token = set_current_principal(None)
            trace_token = None
            try:
                authorization = None
                traceparent = False
                for key, value in context.invocation_metadata() or ():
                    if key == "authorization":
                        authorization = value
                    elif key == "traceparent":
                        traceparent = True
                if propagate_context and traceparent:
                    trace_token = _attach_caller_trace(context)
                if needs_auth:
                    principal = verify(bearer(authorization))
                    principal.check_method(method)
                    set_current_principal(principal)
                return behaviour(request, context)
            except ZhiyuanError as err:
                abort_with(context, err)
            except Exception as exc:
                if context.code() is not None:  # already aborted on purpose
                    raise
                down = Unavailable.of(exc)
                if down is not None:  # expected during an outage: one line
                    log.warning("%s: %s (%s)", method, down.message_en, one_line(exc))
                    abort_with(context, down)
                log.exception("unhandled error in %s", method)
                context.abort(
                    grpc.StatusCode.INTERNAL,
                    "internal error, see the service log / "
                    "服务内部错误，请查看服务日志",
                )
            finally:
                if trace_token is not None:
                    otel_context.detach(trace_token)
                reset_current_principal(token)

        return guarded


def _attach_caller_trace(context: grpc.ServicerContext) -> Token[Context]:
    """Make the caller's trace context (W3C ``traceparent``/``tracestate``)
    current, so logs, outgoing calls and outbox events stay in its trace."""
    carrier = {
        key: value
        for key, value in context.invocation_metadata() or ()
        if isinstance(value, str)
    }
    return otel_context.attach(propagate.extract(carrier))


def build_server(
    listen: str,
    verifier: TokenVerifier,
    *,
    public_methods: Iterable[str] = (),
    max_workers: int = 16,
) -> tuple[grpc.Server, health.HealthServicer]:
    """A thread-pool grpcio server with health, metrics, tracing and the
    kernel interceptor.

    When this process exports spans, OpenTelemetry's server interceptor makes
    one per call (between metrics, which sees every status, and the kernel);
    when it does not, the kernel alone counts the calls and carries the
    caller's trace context, and no span is built."""
    from services.common import telemetry

    interceptors: list[grpc.ServerInterceptor]
    if telemetry.exporting():
        interceptors = [
            GrpcMetrics(),  # first: it sees the status the others set
            server_interceptor(),
            KernelInterceptor(verifier, public_methods),
        ]
    else:
        interceptors = [
            KernelInterceptor(
                verifier, public_methods, metrics=True, propagate_context=True
            )
        ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        interceptors=interceptors,
        options=[("grpc.so_reuseport", 0)],
    )
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if server.add_insecure_port(listen) == 0:
        raise RuntimeError(f"cannot listen on {listen}")
    return server, health_servicer


def serve_api(
    cfg: Config,
    name: str,
    servicer: Any,
    add_to_server: Callable[[Any, grpc.Server], None],
    *,
    public_methods: Iterable[str] = (),
    on_stop: Iterable[Callable[[], Any]] = (),
    stop: threading.Event | None = None,
) -> None:
    """Run a service's api role until SIGTERM/SIGINT (or ``stop`` is set):
    telemetry, the kernel server, health SERVING, a graceful stop, then
    ``on_stop`` (dispose engines, close channels).

    Example::

        serve_api(cfg, "hours", servicer, add_HoursServiceServicer_to_server)
    """
    from services.common import keys, telemetry

    telemetry.init(f"{name}-api")
    listen = cfg.service(name).grpc_listen
    verifier = keys.verifier(cfg)
    try:
        server, health = build_server(
            listen,
            verifier,
            public_methods=public_methods,
            max_workers=api_workers(cfg, name),
        )
    except RuntimeError as exc:  # the port is taken: a line, not a traceback
        var = f"{name.upper()}_GRPC_LISTEN"
        raise SystemExit(
            f"{name}-api: cannot listen on {listen} ({exc}); free it or set "
            f"{var}\n{name}-api：无法监听 {listen}，请释放该端口或设置 {var}"
        ) from None
    add_to_server(servicer, server)
    server.start()
    mark_serving(health, service_name(name))
    log.info("%s api listening on %s", name, listen)
    stop = stop or threading.Event()
    _watch(cfg, name, health, stop)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5).wait()
    for close in on_stop:
        close()


def _watch(
    cfg: Config, name: str, health: health.HealthServicer, stop: threading.Event
) -> None:
    """Metrics on the api's metrics port; its named health service follows
    its database (readiness), "" stays SERVING (liveness)."""
    from services.common import metrics
    from services.common.readiness import DatabaseReadiness

    metrics.serve(metrics.listen_of(cfg, "api", name))
    probe = DatabaseReadiness(
        cfg.service(name).database_url, health, service_name(name)
    )
    probe.update()
    threading.Thread(target=probe.run, args=(stop,), daemon=True).start()


def api_workers(cfg: Config, name: str) -> int:
    """Threads of an api's server: ``grpc.max_workers``, or by default as many
    as the database pool can serve at once (pool size + overflow), so a call
    never waits for a connection behind the thread it already has."""
    svc = cfg.service(name)
    pool = svc.database_pool_size + svc.database_max_overflow
    configured = int(cfg.get("grpc.max_workers") or 0)
    if configured > pool and not svc.database_url.startswith("sqlite"):
        log.warning(
            "grpc.max_workers %d exceeds the database pool (%d): calls will "
            "queue for a connection",
            configured,
            pool,
        )
    return configured or pool


def mark_serving(health_servicer: health.HealthServicer, *names: str) -> None:
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


class ForwardToken(grpc.UnaryUnaryClientInterceptor):
    """Forward a token (by default the current caller's) on outgoing calls,
    and apply a default deadline when the caller set none."""

    def __init__(self, deadline: float, token: Callable[[], str | None] | None = None):
        self.deadline = deadline
        self.token = token or _caller_token

    def intercept_unary_unary(self, continuation, call_details, request):  # type: ignore[no-untyped-def]
        metadata = list(call_details.metadata or ())
        token = self.token()
        if token and not any(k == "authorization" for k, _ in metadata):
            metadata.append(("authorization", f"Bearer {token}"))
        details = _Details(
            call_details.method,
            call_details.timeout if call_details.timeout is not None else self.deadline,
            metadata,
            call_details.credentials,
            call_details.wait_for_ready,
            call_details.compression,
        )
        return continuation(details, request)


def _caller_token() -> str | None:
    try:
        return current_principal().token or None
    except ZhiyuanError:
        return None


class _Details(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: Any,
        credentials: Any,
        wait_for_ready: bool | None,
        compression: Any,
    ):
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


CHANNEL_OPTIONS: list[tuple[str, int]] = [
    # grpc's default reconnect backoff grows 1 s × 1.6ⁿ up to 120 s: a client
    # found a restarted server 16-21 s after it listened. Retry every second.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 1000),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
"""Options of every client channel (service to service, gateway)."""


def channel(
    address: str,
    *,
    deadline: float = 10.0,
    token: Callable[[], str | None] | None = None,
) -> grpc.Channel:
    """An insecure channel (mesh/NetworkPolicy supply transport security) with
    tracing, token forwarding and a default deadline."""
    # OpenTelemetry's client interceptor has its own wrapping helper.
    traced = grpcext.intercept_channel(
        grpc.insecure_channel(address, options=CHANNEL_OPTIONS), client_interceptor()
    )
    return grpc.intercept_channel(traced, ForwardToken(deadline, token))


def error_details(err: grpc.RpcError) -> dict[str, str]:
    """The structured error a server sent, for clients such as the gateway."""
    trailers = dict(err.trailing_metadata() or ())

    def text(key: str) -> str:
        value = trailers.get(key, b"")
        return value.decode() if isinstance(value, bytes) else str(value)

    body = {
        "code": err.code().name,
        "message_en": text(EN_KEY) or (err.details() or ""),
        "message_zh": text(ZH_KEY),
    }
    if text(FIELD_KEY):
        body["field"] = text(FIELD_KEY)
    if text(RULE_KEY):
        body["rule"] = text(RULE_KEY)
    if text(RETRY_AFTER_KEY).isdigit():
        body["retry_after"] = text(RETRY_AFTER_KEY)
    return body
