"""Telemetry: one ``init()`` at process start, driven by the standard
``OTEL_*`` variables, plus JSON logs carrying trace ids.

Unset (or ``OTEL_TRACES_EXPORTER=none``) means off: the process gets
OpenTelemetry's non-recording provider, so no span is built, timed or
dropped on any call, yet a caller's trace context still flows through (a
non-recording span carries its parent's ids), into logs, outgoing calls and
outbox events. :func:`exporting` tells the gRPC kernel whether to build
server spans at all.

``OTEL_TRACES_EXPORTER=otlp`` (or an ``OTEL_EXPORTER_OTLP_ENDPOINT``) exports
over OTLP/gRPC; ``OTEL_TRACES_EXPORTER=jsonl`` with ``ZHIYUAN_SPANS_FILE``
appends finished spans to a file, which the tests read to follow one trace
across processes.

Example::

    telemetry.init("registration-api")
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

_initialised = False
_exporting = False


class JsonLinesExporter(SpanExporter):
    """Appends one JSON object per finished span to a file (tests, debugging)."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            ctx = span.get_span_context()
            if ctx is None:
                continue
            parent = span.parent
            lines.append(
                json.dumps(
                    {
                        "name": span.name,
                        "service": span.resource.attributes.get("service.name"),
                        "trace_id": f"{ctx.trace_id:032x}",
                        "span_id": f"{ctx.span_id:016x}",
                        "parent_id": f"{parent.span_id:016x}" if parent else None,
                        "kind": span.kind.name,
                        "attributes": {
                            k: str(v) for k, v in (span.attributes or {}).items()
                        },
                    }
                )
            )
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS


def init(
    service_name: str, env: Mapping[str, str] | None = None
) -> trace.TracerProvider:
    """Set the global tracer provider and JSON logging once per process."""
    global _initialised, _exporting
    env = os.environ if env is None else env
    if _initialised:
        return trace.get_tracer_provider()
    name = env.get("OTEL_SERVICE_NAME") or service_name
    processor = _span_processor(env)
    provider: trace.TracerProvider
    if processor is None:
        provider = trace.NoOpTracerProvider()
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _exporting = processor is not None
    _configure_logging(name, env.get("LOG_LEVEL", "INFO"))
    _initialised = True
    return provider


def _span_processor(env: Mapping[str, str]) -> SpanProcessor | None:
    """Where finished spans go, from ``OTEL_TRACES_EXPORTER`` (and
    ``OTEL_EXPORTER_OTLP_ENDPOINT``); None when they go nowhere."""
    exporter = env.get("OTEL_TRACES_EXPORTER", "")
    if exporter == "jsonl" and env.get("ZHIYUAN_SPANS_FILE"):
        return SimpleSpanProcessor(JsonLinesExporter(env["ZHIYUAN_SPANS_FILE"]))
    if exporter == "otlp" or (
        exporter != "none" and env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    ):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter,
        )

        return BatchSpanProcessor(OTLPSpanExporter())
    return None


def exporting() -> bool:
    """Whether this process records and exports spans (set by :func:`init`)."""
    return _exporting


def tracer(name: str = "zhiyuan") -> trace.Tracer:
    return trace.get_tracer(name)


def inject() -> dict[str, str]:
    """The current trace context as carrier headers (``traceparent``...)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract(headers: Mapping[str, Any]) -> otel_context.Context:
    return propagate.extract({k: str(v) for k, v in headers.items()})


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        body: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if span.is_valid:
            body["trace_id"] = f"{span.trace_id:032x}"
            body["span_id"] = f"{span.span_id:016x}"
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def _configure_logging(service: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
