"""One gRPC hop through registration's api role, against a bare grpcio echo
server measured in the same run.

Baseline: a grpcio thread-pool server (the api's max_workers) whose generic
unary handler echoes bytes, no interceptors. Subject: the real api role
(``services.registration.service.serve``) on a throw-away database and vhost,
with ``GetDivision`` (auth interceptor + indexed reads of the division and its
ancestors under RLS) and ``Summarize`` (rollup read). Servers and callers share
this process, as the test fixtures do; each caller thread has its own channel
and connection. Baseline and subject alternate per load.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any
from unittest.mock import patch

import grpc

from tests.perf.runner import (
    Benchmark,
    Load,
    Report,
    Sample,
    Settings,
    measure,
    ratio,
    uninterruptible,
)

NAME = "grpc_hop"
# The echo baseline runs with the api's own thread count (grpc.max_workers,
# by default the database pool size + overflow), read from the config below.
LATENCY_GOAL = 1.5  # issue 10: GetDivision latency ≤ 1.5× the echo server's
SUMMARIZE_P99_GOAL_MS = 20.0  # issue 10: every Summarize p99 ≤ 20 ms through gRPC
ECHO_METHOD = "/zhiyuan.bench.v1.Echo/Echo"
PAYLOAD = b"zhiyuan-bench-payload-0123456789"  # 32 bytes
DEADLINE = 10.0  # seconds per call: a stuck call fails the run, never hangs it
SCOPE, ROLE = "61", "province_admin"

# From /work/shared/STACK_NOTES.md (2-core Debian 12, medians of three runs).
# Context only: NOT measured by this run, on possibly different hardware.
NOTES_FIGURES = {
    "nameko-grpc unary": {"1": 83.0, "10": 792.0},
    "grpcio thread-pool server": {"1": 1804.0, "10": 3465.0},
}

Caller = tuple[Callable[[], object], Callable[[], None]]


def _channel(address: str) -> grpc.Channel:
    # A local subchannel pool gives each caller its own TCP connection, as
    # separate clients would have (grpcio shares them across channels otherwise).
    return grpc.insecure_channel(
        address, options=[("grpc.use_local_subchannel_pool", 1)]
    )


# --- baseline -------------------------------------------------------------


@contextlib.contextmanager
def echo_server(max_workers: int) -> Iterator[str]:
    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "zhiyuan.bench.v1.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo)},  # identity (de)serializers
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        handlers=[handler],
        options=[("grpc.so_reuseport", 0)],
    )
    port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        raise RuntimeError("the echo server cannot listen on 127.0.0.1")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait(timeout=10)


def echo_caller(address: str) -> Caller:
    channel = _channel(address)
    call = channel.unary_unary(ECHO_METHOD)  # bytes in, bytes out

    def once() -> object:
        reply = call(PAYLOAD, timeout=DEADLINE)
        if reply != PAYLOAD:
            raise AssertionError(f"echo returned {reply!r}")
        return reply

    return once, channel.close


# --- subject --------------------------------------------------------------


@contextlib.contextmanager
def registration_api(log: Callable[[str], None]) -> Iterator[tuple[str, int]]:
    """The api role on a fresh database and vhost; yields (address, max_workers).
    Everything is removed on exit, whatever the reason."""
    from services.common import testing

    with contextlib.ExitStack() as stack:
        log("creating a throw-away database and vhost")
        with uninterruptible():
            database_url = testing.create_database("zy_bench")
            stack.callback(testing.drop_database, database_url)
            log(f"created database {database_url.rsplit('/', 1)[1]}")
        with uninterruptible():
            amqp_uri = testing.create_vhost()
            stack.callback(testing.delete_vhost, amqp_uri)
            log(f"created vhost {amqp_uri.rsplit('/', 1)[1]}")
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zy_bench")))
        env = testing.platform_env(tmp, {"registration": database_url}, amqp_uri)
        # Spans are still created by the tracing interceptor, just not written
        # out (jsonl would measure file appends); logs only when something breaks.
        env |= {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
        stack.enter_context(patch.dict(os.environ, env))

        from services.common.config import load
        from services.common.db import Database
        from services.common.migrations import upgrade
        from services.registration.bootstrap import load_divisions
        from services.registration.service import serve

        cfg = load()
        log("migrating and loading the division tree")
        with contextlib.redirect_stdout(io.StringIO()):  # seed's progress bars
            upgrade(cfg.service("registration"))
            db = Database(cfg.service("registration"))
            try:
                load_divisions(db)
            finally:
                db.dispose()
        _vacuum_analyze(database_url)

        stop = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                serve(cfg, stop)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failure.append(exc)

        thread = threading.Thread(target=run, name="registration-api", daemon=True)

        def shut_down() -> None:
            stop.set()
            thread.join(timeout=15)
            if thread.is_alive():
                print(
                    "warning: the registration api did not stop in 15 s",
                    file=sys.stderr,
                )

        with uninterruptible():
            thread.start()
            stack.callback(shut_down)
        address = env["REGISTRATION_GRPC_ADDRESS"]
        probe = grpc.insecure_channel(address)
        try:
            grpc.channel_ready_future(probe).result(timeout=20)
        except grpc.FutureTimeoutError:
            raise RuntimeError(
                f"the registration api did not start: {failure}"
            ) from None
        finally:
            probe.close()
        from services.common.rpc import api_workers

        yield address, api_workers(cfg, "registration")


def _vacuum_analyze(database_url: str) -> None:
    """Settle the freshly loaded tables (statistics, visibility map) so the
    first measured call does not race autovacuum over 44k new divisions."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def api_caller(address: str, token: str, method: str) -> Caller:
    from zhiyuan.common.v1 import common_pb2
    from zhiyuan.registration.v1 import registration_pb2 as pb
    from zhiyuan.registration.v1 import registration_pb2_grpc as pb_grpc

    channel = _channel(address)
    stub = pb_grpc.RegistrationServiceStub(channel)
    metadata = (("authorization", f"Bearer {token}"),)
    if method == "GetDivision":
        request: Any = pb.GetDivisionRequest(code="610113")
        rpc: Any = stub.GetDivision

        def check(reply: Any) -> None:
            if reply.division.code != "610113":
                raise AssertionError(f"GetDivision returned {reply.division.code!r}")

    else:
        request = pb.SummarizeRequest(query=common_pb2.RollupQuery(division_code=SCOPE))
        rpc = stub.Summarize

        def check(reply: Any) -> None:
            if not reply.HasField("rollup"):
                raise AssertionError("Summarize returned no rollup")

    def once() -> object:
        reply = rpc(request, metadata=metadata, timeout=DEADLINE)
        check(reply)
        return reply

    return once, channel.close


def bearer_token() -> str:
    from services.common.auth import TokenIssuer
    from services.common.testing import PRIVATE_PEM

    issuer = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
    token, _ = issuer.issue(
        subject="bench", username="bench", scope_code=SCOPE, roles=[ROLE], ttl=3600
    )
    return token


# --- the benchmark --------------------------------------------------------


def loads(settings: Settings) -> list[Load]:
    return [
        Load(callers=1, calls=settings.pick(2000, 300), warmup=settings.pick(200, 50)),
        Load(callers=10, calls=settings.pick(300, 60), warmup=settings.pick(20, 10)),
    ]


def run(settings: Settings) -> Report:
    def log(message: str) -> None:
        print(f"  [{NAME}] {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    workloads = loads(settings)
    results: dict[str, dict[str, Sample]] = {
        "echo": {},
        "GetDivision": {},
        "Summarize": {},
    }
    # Process CPU per call (server and callers share this process): less
    # swayed by other work on the machine than wall-clock latency.
    cpu: dict[str, dict[str, float]] = {key: {} for key in results}
    token = bearer_token()

    def timed(key: str, w: Load, make: Callable[[], Caller]) -> None:
        before = time.process_time()
        results[key][w.label] = measure(make, w, settings.abort)
        calls = results[key][w.label].calls + w.warmup * w.callers
        cpu[key][w.label] = 1000 * (time.process_time() - before) / max(calls, 1)

    with contextlib.ExitStack() as servers:
        address, api_workers = servers.enter_context(registration_api(log))
        echo_address = servers.enter_context(echo_server(api_workers))
        # Baseline and subject alternate per load, so a ratio compares
        # measurements taken seconds apart, not a minute apart.
        for w in workloads:
            log(f"{w.label}: baseline echo (max_workers={api_workers})")
            timed("echo", w, lambda: echo_caller(echo_address))
            for method in ("GetDivision", "Summarize"):
                log(f"{w.label}: registration api {method}")
                timed(method, w, functools.partial(api_caller, address, token, method))
        log("stopping the servers, dropping the database and vhost")
    load = (load_before, os.getloadavg()[0])
    return _report(
        settings,
        workloads,
        results,
        api_workers,
        time.monotonic() - started,
        load,
        cpu,
    )


def _report(
    settings: Settings,
    workloads: list[Load],
    results: dict[str, dict[str, Sample]],
    api_workers: int,
    wall: float,
    load: tuple[float, float],
    cpu: dict[str, dict[str, float]],
) -> Report:
    names = {
        "echo": "baseline: grpcio echo (bytes)",
        "GetDivision": "api GetDivision(610113)",
        "Summarize": "api Summarize(61)",
    }
    rows: list[list[Any]] = []
    data: dict[str, Any] = {
        "benchmark": NAME,
        "quick": settings.quick,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "grpcio": grpc.__version__,
        "cpus": os.cpu_count(),
        "max_workers": api_workers,
        "latency_goal_p50_ratio": LATENCY_GOAL,
        "summarize_p99_goal_ms": SUMMARIZE_P99_GOAL_MS,
        "payload_bytes": len(PAYLOAD),
        "wall_seconds": round(wall, 1),
        "load_average_1m_before_after": [round(v, 2) for v in load],
        "results": {},
        "stack_notes_not_measured_here": NOTES_FIGURES,
    }
    for w in workloads:
        base = results["echo"][w.label]
        for key, label in names.items():
            s = results[key][w.label]
            r = ratio(s.calls_per_s, base.calls_per_s)
            flag = " (time cap)" if s.capped else ""
            rows.append(
                [
                    label + flag,
                    w.label,
                    s.calls,
                    s.calls_per_s,
                    s.p50_ms,
                    s.p99_ms,
                    round(cpu[key][w.label], 3),
                    "1.00" if key == "echo" else f"{r:.2f}",
                ]
            )
            entry = s.as_dict() | {
                "ratio_to_baseline": round(r, 4),
                "p50_ratio_to_baseline": round(ratio(s.p50_ms, base.p50_ms), 2),
                "process_cpu_ms_per_call": round(cpu[key][w.label], 4),
            }
            data["results"].setdefault(key, {})[w.label] = entry
    notes = [
        "ratio = calls/s of the row ÷ calls/s of the baseline row with the same "
        "callers, measured in this run; servers and callers share this process.",
    ]
    for w in workloads:
        base = results["echo"][w.label]
        hop = results["GetDivision"][w.label]
        p50, p99 = ratio(hop.p50_ms, base.p50_ms), ratio(hop.p99_ms, base.p99_ms)
        verdict = "met" if p50 <= LATENCY_GOAL else "missed"
        notes.append(
            f"GetDivision latency vs echo, {w.callers} caller(s): p50 {p50:.2f}×, "
            f"p99 {p99:.2f}× (goal p50 ≤ {LATENCY_GOAL}×: {verdict})"
        )
        data["results"]["GetDivision"][w.label]["latency_goal"] = verdict
    for w in workloads:
        p99 = results["Summarize"][w.label].p99_ms
        verdict = "met" if p99 <= SUMMARIZE_P99_GOAL_MS else "missed"
        notes.append(
            f"Summarize p99, {w.callers} caller(s): {p99:.1f} ms "
            f"(goal ≤ {SUMMARIZE_P99_GOAL_MS:.0f} ms: {verdict}; this state has "
            "the tree but no facts, so it is the per-call floor)"
        )
        data["results"]["Summarize"][w.label]["p99_goal"] = verdict
    notes.append(
        "cpu ms/call = this process's CPU time (servers and callers) per call, "
        "warm-up included: steadier than latency on a busy machine."
    )
    for key in ("GetDivision", "Summarize"):
        parts = []
        for w in workloads:
            ref = NOTES_FIGURES["nameko-grpc unary"].get(str(w.callers))
            if ref:
                got = results[key][w.label].calls_per_s
                parts.append(f"{w.callers} caller(s) {got / ref:.1f}× of {ref:.0f}")
        notes.append(f"api {key} vs STACK_NOTES nameko-grpc: " + ", ".join(parts))
    notes.append(
        "STACK_NOTES figures (NOT measured here): nameko-grpc unary 83 / 792 calls/s, "
        "grpcio thread-pool 1,804 / 3,465 calls/s (1 / 10 callers)."
    )
    cpus = os.cpu_count() or 1
    if max(load) > cpus * 0.75:
        notes.append(
            f"the machine was busy (1-min load {load[0]:.1f} → {load[1]:.1f} on "
            f"{cpus} CPUs, this run included): figures are noisy, compare ratios."
        )
    mode = "quick" if settings.quick else "full"
    return Report(
        title=f"gRPC hop: registration api vs bare grpcio ({mode})",
        columns=[
            "call",
            "callers×calls",
            "calls",
            "calls/s",
            "p50 ms",
            "p99 ms",
            "cpu ms/call",
            "ratio",
        ],
        rows=rows,
        data=data,
        notes=notes,
    )


BENCHMARK = Benchmark(
    name=NAME,
    summary="one gRPC hop through registration's api role vs a bare grpcio echo",
    run=run,
)
