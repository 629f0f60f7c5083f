"""A real worker process against raw kombu: the method ``bench_stars`` and
``bench_attendance`` share.

The subject is ``python -m services.cli.worker <service>`` as a separate
process on a throw-away, migrated database of its own and its own vhost
(:func:`worker_stack`). A burst of envelopes is published to it as the
outbox relay does (kombu, persistent, ``message_id`` = event id, a publisher
confirm per message, waiting for each in turn) and timed from the first
publish until the worker has claimed them all (its ``processed_events`` rows
for the consumer, committed with each event's effect, polled every 50 ms):
:func:`apply_burst`. Baselines: a plain kombu consumer in its own process
(:func:`consume_main`: prefetch 10, an ack per message, no database) on a
durable queue of the same vhost, fed the same bodies by the same publisher,
confirms off and on (:func:`raw_phase`, first publish → last ack). A backlog
is measured too: the worker stopped (SIGSTOP), bodies queued for it without
confirms, timed from its resumption (:func:`drain_worker`), against a raw
consumer draining the same bodies from a filled queue (:func:`drain_raw`).

``python -m tests.perf.worker_bench consume URI QUEUE N PREFETCH CAP`` is
the raw consumer process.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

from tests.perf.runner import (
    ROOT,
    Interrupted,
    Report,
    Settings,
    ratio,
    render,
    uninterruptible,
    write_json,
)

PREFETCH = 10  # the raw consumer's (nameko's default PREFETCH_COUNT)
RAW_EXCHANGE = RAW_QUEUE = "zy_bench.raw"
POLL_SECONDS = 0.05

# From /work/shared/STACK_NOTES.md (2-core Debian 12, medians of three runs).
# Context only: NOT measured by this run, on possibly different hardware.
NOTES_FIGURES = {
    "kombu publish+consume, confirms off": 5458.0,
    "kombu publish+consume, confirms on (per message)": 1545.0,
    "nameko events, dispatch -> handler": 846.0,
}


def shaanxi_townships() -> dict[str, list[str]]:
    """County code → its townships' codes, from the reference list."""
    path = ROOT / "services" / "common" / "reference" / "streets.csv"
    out: dict[str, list[str]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["code"].startswith("61") and len(row["code"]) == 9:
                out[row["areaCode"]].append(row["code"])
    if not out:
        raise RuntimeError(f"no Shaanxi townships in {path}")
    return dict(out)


# --- kombu ------------------------------------------------------------------


class Publisher:
    """A connected kombu producer; with ``confirm`` each publish waits for
    the broker's confirm, as the outbox relay's does."""

    def __init__(self, uri: str, exchange: Any, routing_key: str, confirm: bool):
        from kombu import Connection, Producer

        self.conn = Connection(
            uri, transport_options={"confirm_publish": confirm}, connect_timeout=5
        )
        channel = self.conn.default_channel
        exchange(channel).declare()
        self.producer = Producer(channel, serializer="json")
        self.exchange, self.routing_key = exchange, routing_key

    def send(self, bodies: Sequence[dict[str, Any]], abort: threading.Event) -> int:
        publish = self.producer.publish
        for i, body in enumerate(bodies):
            if not i % 100 and abort.is_set():
                return i
            publish(
                body,
                exchange=self.exchange,
                routing_key=self.routing_key,
                delivery_mode=2,
                message_id=body["event_id"],
                retry=False,
            )
        return len(bodies)

    def close(self) -> None:
        self.conn.release()


def queue_counts(uri: str, name: str) -> tuple[int, int]:
    """(messages ready, consumers) of a queue, by a passive declare."""
    from kombu import Connection

    with Connection(uri, connect_timeout=5) as conn:
        channel = conn.channel()
        try:
            _, messages, consumers = channel.queue_declare(name, passive=True)
        finally:
            with contextlib.suppress(Exception):
                channel.close()
    return int(messages), int(consumers)


def declare_raw_queue(uri: str) -> None:
    from kombu import Connection, Exchange, Queue

    exchange = Exchange(RAW_EXCHANGE, type="topic", durable=True)
    with Connection(uri, connect_timeout=5) as conn:
        queue = Queue(RAW_QUEUE, exchange=exchange, routing_key="#", durable=True)
        queue(conn.default_channel).declare()
        queue(conn.default_channel).purge()


def consume_main(uri: str, queue_name: str, n: int, prefetch: int, cap: float) -> int:
    """The raw consumer process: ack ``n`` messages (bodies decoded, as
    nameko decodes them), then print the monotonic time of the last ack."""
    import resource

    from kombu import Connection, Consumer, Queue

    state = {"count": 0, "first": math.nan, "last": math.nan}

    def on_message(body: Any, message: Any) -> None:
        if not isinstance(body, dict):
            raise TypeError(f"unexpected body {type(body)}")
        if not state["count"]:
            state["first"] = time.monotonic()
        message.ack()
        state["count"] += 1
        state["last"] = time.monotonic()

    with Connection(uri, connect_timeout=5) as conn:
        channel = conn.channel()
        queue = Queue(queue_name, durable=True, no_declare=True)
        with Consumer(
            channel,
            queues=[queue],
            callbacks=[on_message],
            accept=["json"],
            prefetch_count=prefetch,
        ):
            print("ready", flush=True)
            deadline = time.monotonic() + cap
            while state["count"] < n and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError, OSError):
                    conn.drain_events(timeout=0.5)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"done {state['last']!r} {state['count']} {cpu!r} {state['first']!r}",
        flush=True,
    )
    return 0


# --- CPU accounting ---------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (nan if unreadable)."""
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    return (int(rest[11]) + int(rest[12])) / _TICK


def broker_pid() -> int | None:
    """The RabbitMQ server's Erlang VM (not a passing ``rabbitmqctl``'s)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() != "beam.smp":
                    continue
                if b"rabbit boot" in (entry / "cmdline").read_bytes().replace(
                    b"\0", b" "
                ):
                    return int(entry.name)
    return None


def backend_cpu(admin: Any) -> dict[int, float]:
    """CPU seconds of every other PostgreSQL backend on this database."""
    pids = admin.execute(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return {int(p): cpu_seconds(int(p)) for (p,) in pids}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items() if v == v)


# --- the stack --------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The worker and the one consumer of it a benchmark measures."""

    service: str  # python -m services.cli.worker <service>
    consumer: str  # its consumer name in processed_events
    event_type: str  # what the burst carries (exchange and routing key)
    # services.common.worker.handler_queue(...).name, written out: importing
    # that module pulls nameko and eventlet into this process.
    queue: str


@dataclass
class Stack:
    subject: Subject
    amqp_uri: str
    admin: Any  # psycopg.Connection (autocommit) as the database owner
    worker: subprocess.Popen[bytes]
    worker_log: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.worker_log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check_alive(self) -> None:
        if self.worker.poll() is not None:
            raise RuntimeError(
                f"the {self.subject.service} worker exited "
                f"({self.worker.returncode}):\n" + self.log_tail()
            )

    def processed(self) -> int:
        return int(
            self.admin.execute(
                "SELECT count(*) FROM processed_events WHERE consumer = %s",
                [self.subject.consumer],
            ).fetchone()[0]
        )

    def outbox_backlog(self) -> int:
        return int(
            self.admin.execute(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            ).fetchone()[0]
        )


def stop_process(proc: subprocess.Popen[bytes], what: str) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"warning: {what} did not stop in 15 s; killed", file=sys.stderr)
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def worker_stack(
    subject: Subject, settings: Settings, log: Callable[[str], None]
) -> Iterator[Stack]:
    """A migrated database of ``subject.service``, a vhost and the real
    worker on them, its consumer waiting on ``subject.queue``. Everything
    is removed on exit, whatever the reason."""
    import psycopg

    from services.common import testing

    service = subject.service
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
        env = testing.platform_env(tmp, {service: database_url}, amqp_uri)
        # Spans are still made, not written out; logs only when something breaks.
        env |= {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
        stack.enter_context(patch.dict(os.environ, env))

        from services.common.config import load
        from services.common.migrations import upgrade

        log("migrating")
        with contextlib.redirect_stdout(io.StringIO()):
            upgrade(load().service(service))
        admin = psycopg.connect(
            database_url.replace("+psycopg", "", 1), autocommit=True
        )
        stack.callback(admin.close)

        log_path = tmp / f"{service}-worker.log"
        with uninterruptible():
            log_file = stack.enter_context(log_path.open("wb"))
            # Its own process group: a Ctrl-C reaches this process only, and
            # the clean-up stops the worker before the vhost and database go.
            worker = subprocess.Popen(  # noqa: S603 - our interpreter and module
                [sys.executable, "-m", "services.cli.worker", service],
                env={**os.environ, **env},
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
            stack.callback(stop_process, worker, f"the {service} worker")
            log(f"started the {service} worker (pid {worker.pid})")
        target = Stack(subject, amqp_uri, admin, worker, log_path)
        beat = Path(env[f"{service.upper()}_HEARTBEAT_FILE"])
        wait_until(
            lambda: beat.exists() and queue_counts(amqp_uri, subject.queue)[1] > 0,
            60,
            "the worker's heartbeat and its consumer on " + subject.queue,
            target,
            settings,
        )
        yield target
        log("stopping the worker, dropping the database and vhost")


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    target: Stack,
    settings: Settings,
) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if settings.abort.is_set():
            raise Interrupted("stopped")
        target.check_alive()
        try:
            if predicate():
                return
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}: {last!r}")


# --- measuring --------------------------------------------------------------


@dataclass
class Raw:
    confirm: bool
    messages: int
    seconds: float  # first publish → last ack
    publish_seconds: float
    consumer_cpu: float
    broker_cpu: float

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "seconds": round(self.seconds, 4),
            "msgs_per_s": round(self.per_s, 1),
            "publish_seconds": round(self.publish_seconds, 4),
            "consumer_cpu_seconds": round(self.consumer_cpu, 3),
            "broker_cpu_seconds": round(self.broker_cpu, 3),
        }


@contextlib.contextmanager
def raw_consumer(uri: str, n: int, settings: Settings) -> Iterator[RawConsumer]:
    """A plain kombu consumer of ``n`` messages on the raw queue, in its
    own process (:func:`consume_main`), ready when this yields."""
    consumer = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "tests.perf.worker_bench", "consume", uri, RAW_QUEUE,
         str(n), str(PREFETCH), str(settings.pick(120.0, 60.0))],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, process_group=0,
    )  # fmt: skip
    try:
        assert consumer.stdout is not None
        if consumer.stdout.readline().strip() != "ready":
            raise RuntimeError("the raw kombu consumer did not start")
        yield RawConsumer(consumer, n)
    finally:
        stop_process(consumer, "the raw kombu consumer")
        if consumer.stdout is not None:
            consumer.stdout.close()


@dataclass
class RawConsumer:
    process: subprocess.Popen[str]
    expected: int

    def done(self) -> tuple[float, int, float, float]:
        """(last ack, acks, CPU seconds, first delivery) once all are acked."""
        assert self.process.stdout is not None
        parts = self.process.stdout.readline().split()
        if len(parts) != 5 or parts[0] != "done":
            raise RuntimeError(f"the raw kombu consumer said {parts!r}")
        last, count = float(parts[1]), int(parts[2])
        cpu, first = float(parts[3]), float(parts[4])
        if count != self.expected:
            raise RuntimeError(f"raw consumer got {count} of {self.expected} messages")
        return last, count, cpu, first


def raw_phase(
    uri: str, bodies: Sequence[dict[str, Any]], confirm: bool, settings: Settings
) -> Raw:
    """Publish ``bodies`` to the raw queue while a plain kombu consumer in
    its own process acks them; first publish → last ack."""
    from kombu import Exchange

    declare_raw_queue(uri)
    with raw_consumer(uri, len(bodies), settings) as consumer:
        exchange = Exchange(RAW_EXCHANGE, type="topic", durable=True)
        publisher = Publisher(uri, exchange, "raw.bench", confirm)
        try:
            broker = broker_pid()
            broker_before = cpu_seconds(broker) if broker else math.nan
            started = time.monotonic()
            sent = publisher.send(bodies, settings.abort)
            publish_seconds = time.monotonic() - started
            if sent < len(bodies):
                raise Interrupted("stopped")
            last, count, cpu, _ = consumer.done()
            broker_cpu = (cpu_seconds(broker) if broker else math.nan) - broker_before
        finally:
            publisher.close()
    return Raw(confirm, count, last - started, publish_seconds, cpu, broker_cpu)


@dataclass
class Reaction:
    events: int
    seconds: float  # first publish → all applied
    publish_seconds: float
    applied: int  # burst events applied when the timing stopped
    capped: bool
    timeline: list[tuple[float, int]]  # (seconds since first publish, applied)
    worker_cpu: float
    db_cpu: float
    broker_cpu: float
    outbox_drain_seconds: float  # after the last event was applied

    @property
    def per_s(self) -> float:
        return self.applied / self.seconds if self.seconds > 0 else math.nan

    def steady_per_s(self) -> float:
        """events/s between 10 % and 90 % applied (ramp-up and tail off)."""
        lo, hi = self.events // 10, self.events - self.events // 10
        t_lo = next((t for t, c in self.timeline if c >= lo), math.nan)
        t_hi = next((t for t, c in self.timeline if c >= hi), math.nan)
        return (hi - lo) / (t_hi - t_lo) if t_hi > t_lo else math.nan

    def as_dict(self) -> dict[str, Any]:
        every = max(1, len(self.timeline) // 60)
        return {
            "events": self.events,
            "applied": self.applied,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.per_s, 1),
            "events_per_s_10_to_90_pct": round(self.steady_per_s(), 1),
            "publish_seconds": round(self.publish_seconds, 3),
            "publish_msgs_per_s": round(self.events / self.publish_seconds, 1),
            "capped_by_time": self.capped,
            "worker_cpu_seconds": round(self.worker_cpu, 2),
            "postgres_backends_cpu_seconds": round(self.db_cpu, 2),
            "broker_cpu_seconds": round(self.broker_cpu, 2),
            "worker_cpu_ms_per_event": round(self.worker_cpu / self.applied * 1000, 3)
            if self.applied
            else None,
            "outbox_drain_seconds_after": round(self.outbox_drain_seconds, 2),
            "timeline_seconds_applied": [
                [round(t, 2), c] for t, c in self.timeline[::every]
            ],
        }


def apply_burst(
    target: Stack, bodies: Sequence[dict[str, Any]], settings: Settings, cap: float
) -> Reaction:
    """Publish ``bodies`` (confirm per message, in a thread) and poll the
    worker's claims until all are applied; ``cap`` is a safety net."""
    from services.common.outbox import exchange_for

    exchange, routing_key = exchange_for(target.subject.event_type)
    before = target.processed()
    publisher = Publisher(target.amqp_uri, exchange, routing_key, confirm=True)
    stamps: dict[str, float] = {}
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            stamps["start"] = time.monotonic()
            sent = publisher.send(bodies, settings.abort)
            stamps["end"] = time.monotonic()
            stamps["sent"] = sent
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    broker = broker_pid()
    broker_before = cpu_seconds(broker) if broker else math.nan
    worker_before = cpu_seconds(target.worker.pid)
    db_before = backend_cpu(target.admin)
    thread = threading.Thread(target=publish, name="burst-publisher", daemon=True)
    timeline: list[tuple[float, int]] = []
    capped = False
    try:
        thread.start()
        while "start" not in stamps and not errors and thread.is_alive():
            time.sleep(0.001)
        started = stamps.get("start", time.monotonic())
        while True:
            count = target.processed() - before
            now = time.monotonic()
            timeline.append((now - started, count))
            if count >= len(bodies):
                break
            if errors:
                raise errors[0]
            if settings.abort.is_set():
                raise Interrupted("stopped")
            target.check_alive()
            if now - started > cap:
                capped = True
                break
            time.sleep(POLL_SECONDS)
        done = now
        worker_cpu = cpu_seconds(target.worker.pid) - worker_before
        db_cpu = cpu_delta(db_before, backend_cpu(target.admin))
        broker_cpu = (cpu_seconds(broker) if broker else math.nan) - broker_before
    finally:
        thread.join(timeout=60)
        publisher.close()
    if errors:
        raise errors[0]
    # The events the worker wrote in the burst's transactions, relayed
    # (confirms); none at all for a consumer that writes no events.
    drained = math.nan
    while not capped and time.monotonic() - done < 120:
        if target.outbox_backlog() == 0:
            drained = time.monotonic() - done
            break
        time.sleep(0.1)
    return Reaction(
        events=len(bodies),
        seconds=done - started,
        publish_seconds=stamps.get("end", done) - started,
        applied=timeline[-1][1],
        capped=capped,
        timeline=timeline,
        worker_cpu=worker_cpu,
        db_cpu=db_cpu,
        broker_cpu=broker_cpu,
        outbox_drain_seconds=drained,
    )


@dataclass
class Drain:
    """A queue of ``messages`` already waiting, consumed to the end."""

    messages: int  # applied (worker) or acked (raw) when the timing stopped
    seconds: float  # worker resumed / first delivery → all applied / acked
    cpu: float  # the consuming process's CPU seconds meanwhile
    capped: bool = False

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else math.nan


def fill_queue(
    uri: str, exchange: Any, routing_key: str, queue: str,
    bodies: Sequence[dict[str, Any]], settings: Settings, target: Stack,
    window: int = 0,
) -> None:  # fmt: skip
    """Publish ``bodies`` (no confirms: only the draining is timed) and
    wait until ``queue`` holds them all (less ``window``: what the broker
    pushed to a stopped consumer, its prefetch window)."""
    publisher = Publisher(uri, exchange, routing_key, confirm=False)
    try:
        if publisher.send(bodies, settings.abort) < len(bodies):
            raise Interrupted("stopped")
    finally:
        publisher.close()
    wait_until(
        lambda: queue_counts(uri, queue)[0] >= len(bodies) - window,
        120, f"{len(bodies):,} messages waiting on {queue}", target, settings,
    )  # fmt: skip


def drain_worker(
    target: Stack, bodies: Sequence[dict[str, Any]], settings: Settings, cap: float
) -> Drain:
    """The worker's capacity without the publisher in its way: the worker
    is stopped (SIGSTOP), ``bodies`` are queued for it, then it resumes;
    resumed → all applied."""
    import signal

    from services.common.config import load
    from services.common.outbox import exchange_for

    exchange, routing_key = exchange_for(target.subject.event_type)
    # services.common.worker.BatchEventHandler: two batches prefetched.
    window = 2 * int(load().get("worker.batch_size") or 50)
    before = target.processed()
    pid = target.worker.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        fill_queue(
            target.amqp_uri, exchange, routing_key, target.subject.queue, bodies,
            settings, target, window,
        )  # fmt: skip
        cpu_before = cpu_seconds(pid)
        started = time.monotonic()
    finally:
        os.kill(pid, signal.SIGCONT)
    count, capped = 0, False
    while count < len(bodies):
        if settings.abort.is_set():
            raise Interrupted("stopped")
        target.check_alive()
        if time.monotonic() - started > cap:
            capped = True
            break
        time.sleep(POLL_SECONDS)
        count = target.processed() - before
    done = time.monotonic()
    return Drain(count, done - started, cpu_seconds(pid) - cpu_before, capped)


def drain_raw(uri: str, bodies: Sequence[dict[str, Any]], target: Stack,
              settings: Settings) -> Drain:  # fmt: skip
    """A plain kombu consumer (own process, prefetch as the raw baseline)
    started on a queue already holding ``bodies``; first delivery → last
    ack."""
    from kombu import Exchange

    declare_raw_queue(uri)
    exchange = Exchange(RAW_EXCHANGE, type="topic", durable=True)
    fill_queue(uri, exchange, "raw.bench", RAW_QUEUE, bodies, settings, target)
    with raw_consumer(uri, len(bodies), settings) as consumer:
        last, count, cpu, first = consumer.done()
    return Drain(count, last - first, cpu)


# --- correctness ------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Outcome:
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, bool(ok), detail))

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


# --- the method and its report ----------------------------------------------


def pooled(runs: Sequence[Raw]) -> float:
    return sum(r.messages for r in runs) / sum(r.seconds for r in runs)


@dataclass
class Measured:
    reaction: Reaction  # the timed burst
    raws: dict[bool, list[Raw]]  # confirms off / on → a run before and after
    drains: tuple[Drain, Drain]  # the backlog: the worker's, a raw consumer's
    outcome: Outcome

    @property
    def off(self) -> float:
        return pooled(self.raws[False])

    @property
    def on(self) -> float:
        return pooled(self.raws[True])


def measure_worker(
    target: Stack,
    bodies: tuple[Sequence[dict[str, Any]], ...],
    settings: Settings,
    check: Callable[[], Outcome],
    log: Callable[[str], None],
) -> Measured:
    """The whole method on a running stack. ``bodies`` = (warm-up, burst,
    backlog), each for entities of its own; ``check()`` runs right after
    the burst and compares what the worker stored with what it implies."""
    warm, burst, backlog = bodies
    n = len(burst)
    cap = settings.pick(600.0, 180.0)  # a safety net, reported if reached
    raws: dict[bool, list[Raw]] = {False: [], True: []}

    def baselines(when: str) -> None:
        for confirm in (False, True):
            log(
                f"baseline {when}: kombu publish+consume of {n:,}, confirms "
                + ("on (per message)" if confirm else "off")
            )
            raws[confirm].append(raw_phase(target.amqp_uri, burst, confirm, settings))

    log("warming up the raw path (not counted)")
    raw_phase(target.amqp_uri, warm, False, settings)
    baselines("before")
    log(f"warming up the worker: {len(warm)} events (not counted)")
    apply_burst(target, warm, settings, cap)
    log(f"burst: {n:,} events (confirm per message), until all are applied")
    reaction = apply_burst(target, burst, settings, cap)
    log(
        f"applied {reaction.applied:,} in {reaction.seconds:.1f} s "
        f"({reaction.per_s:,.0f} events/s); checking"
    )
    outcome = check()
    log(f"backlog: {len(backlog):,} events queued for the stopped worker, resumed")
    worker_drain = drain_worker(target, backlog, settings, cap)
    dead, _ = queue_counts(target.amqp_uri, target.subject.queue + ".dlq")
    outcome.add(
        "backlog: every queued event applied, nothing dead-lettered",
        worker_drain.messages == len(backlog) and not worker_drain.capped and not dead,
        f"{worker_drain.messages:,} of {len(backlog):,} applied, {dead} in the DLQ",
    )
    log("backlog baseline: a raw kombu consumer draining the same bodies")
    raw_drain = drain_raw(target.amqp_uri, backlog, target, settings)
    baselines("after")
    return Measured(reaction, raws, (worker_drain, raw_drain), outcome)


def rate_rows(subject: str, m: Measured) -> list[list[Any]]:
    """The report's table: ``subject``'s rows, the baselines, the backlog;
    columns what, messages, seconds, per s, vs off, vs on."""
    off, on = m.off, m.on
    reaction = m.reaction

    def row(label: str, count: int, seconds: float, per_s: float) -> list[Any]:
        return [label, count, seconds, per_s, f"{ratio(per_s, off):.3f}",
                f"{ratio(per_s, on):.3f}"]  # fmt: skip

    flag = " (time cap)" if reaction.capped else ""
    steady = reaction.steady_per_s()
    publish_rate = reaction.events / reaction.publish_seconds
    rows = [
        row(f"{subject}: first publish → all applied{flag}", reaction.applied,
            reaction.seconds, reaction.per_s),
        row("  … between 10 % and 90 % applied", reaction.events * 8 // 10,
            math.nan, steady),
        row("  publishing the burst (confirm per message)", reaction.events,
            reaction.publish_seconds, publish_rate),
    ]  # fmt: skip
    for confirm, label in [
        (False, "baseline: kombu publish+consume, confirms off"),
        (True, "baseline: kombu publish+consume, confirm per message"),
    ]:
        runs = m.raws[confirm]
        rows.append(row(label, sum(r.messages for r in runs),
                        sum(r.seconds for r in runs), pooled(runs)))  # fmt: skip
    for drain, label in zip(
        m.drains,
        ["backlog: worker applying them already queued",
         "backlog baseline: raw kombu consumer draining them"],
        strict=True,
    ):  # fmt: skip
        flag = " (time cap)" if drain.capped else ""
        rows.append(row(label + flag, drain.messages, drain.seconds, drain.per_s))
    return rows


def method_notes(what: str, m: Measured) -> list[str]:
    """Notes every such report carries: bodies and baselines (``what``
    describes the bodies), CPU, the backlog, the checks."""
    reaction = m.reaction
    n = reaction.events
    cpu_ms = reaction.worker_cpu / max(reaction.applied, 1) * 1000
    db_ms = reaction.db_cpu / max(reaction.applied, 1) * 1000
    return [
        f"{what}; ratio = events/s of the row ÷ msgs/s of the baseline, same run, "
        "same vhost and bodies; baselines pooled over a run before and one after "
        "the burst ("
        + ", ".join(
            f"{'on' if c else 'off'}: "
            + " / ".join(f"{r.per_s:,.0f}" for r in m.raws[c])
            for c in (False, True)
        )
        + " msgs/s).",
        f"worker CPU {reaction.worker_cpu:.1f} s over {reaction.seconds:.1f} s "
        f"({cpu_ms:.2f} ms/event, {reaction.worker_cpu / reaction.seconds:.0%} of "
        f"one core); its PostgreSQL backends {reaction.db_cpu:.1f} s "
        f"({db_ms:.2f} ms/event); broker {reaction.broker_cpu:.1f} s. "
        f"Raw consumer CPU: {m.raws[False][0].consumer_cpu / n * 1000:.3f} ms/msg.",
    ]


def backlog_note(m: Measured) -> str:
    worker_drain, raw_drain = m.drains
    return (
        f"backlog (the publisher out of the way; another {m.reaction.events:,} "
        "bodies of the same kind for new volunteers, queued while the worker was "
        f"stopped, timed from its resumption): {worker_drain.per_s:,.0f} events/s = "
        f"{ratio(worker_drain.per_s, raw_drain.per_s):.3f}× a raw kombu consumer "
        f"draining the same bodies ({raw_drain.per_s:,.0f} msgs/s); CPU "
        f"{worker_drain.cpu / max(worker_drain.messages, 1) * 1000:.2f} ms/event "
        f"(raw {raw_drain.cpu / max(raw_drain.messages, 1) * 1000:.3f} ms/msg, "
        "its whole life)."
    )


def closing_notes(outcome: Outcome, load: tuple[float, float]) -> list[str]:
    """The checks, the STACK_NOTES figures (context only) and, on a busy
    machine, a warning."""
    notes = [
        f"check {'ok' if c.ok else 'FAILED'}: {c.name}: {c.detail}"
        for c in outcome.checks
    ]
    notes.append(
        "STACK_NOTES figures (NOT measured here): kombu publish+consume 5,458 / "
        "1,545 msgs/s (confirms off / on), nameko events 846 events/s."
    )
    cpus = os.cpu_count() or 1
    if max(load) > cpus * 0.75:
        notes.append(
            f"the machine was busy (1-min load {load[0]:.1f} → {load[1]:.1f} on "
            f"{cpus} CPUs, this run included): figures are noisy, compare ratios."
        )
    return notes


def results(m: Measured) -> dict[str, Any]:
    """The JSON report's ``results``."""
    off, on, rate = m.off, m.on, m.reaction.per_s
    worker_drain, raw_drain = m.drains
    return {
        "worker": m.reaction.as_dict()
        | {
            "ratio_to_kombu_confirms_off": round(ratio(rate, off), 4),
            "ratio_to_kombu_confirms_on": round(ratio(rate, on), 4),
        },
        "kombu_confirms_off": {
            "msgs_per_s": round(off, 1),
            "runs": [r.as_dict() for r in m.raws[False]],
        },
        "kombu_confirms_on": {
            "msgs_per_s": round(on, 1),
            "runs": [r.as_dict() for r in m.raws[True]],
        },
        "backlog": {
            what: {
                "messages": d.messages,
                "seconds": round(d.seconds, 3),
                "per_s": round(d.per_s, 1),
                "cpu_seconds": round(d.cpu, 2),
                "capped_by_time": d.capped,
            }
            for what, d in (("worker", worker_drain), ("raw_kombu", raw_drain))
        }
        | {"ratio": round(ratio(worker_drain.per_s, raw_drain.per_s), 4)},
    }


def common_data(
    name: str,
    settings: Settings,
    m: Measured,
    body_bytes: float,
    wall: float,
    load: tuple[float, float],
) -> dict[str, Any]:
    """The JSON report's fields every such benchmark has; a benchmark adds
    its own facts."""
    import kombu

    return {
        "benchmark": name,
        "quick": settings.quick,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "kombu": kombu.__version__,
        "cpus": os.cpu_count() or 1,
        "events": m.reaction.events,
        "mean_body_bytes": round(body_bytes, 1),
        "raw_consumer_prefetch": PREFETCH,
        "burst_publish": "kombu, persistent, a publisher confirm per message "
        "(as the outbox relay)",
        "wall_seconds": round(wall, 1),
        "load_average_1m_before_after": [round(v, 2) for v in load],
        "results": results(m),
        "checks": [
            {"name": c.name, "ok": c.ok, "detail": c.detail} for c in m.outcome.checks
        ],
        "stack_notes_not_measured_here": NOTES_FIGURES,
    }


def fail_on_checks(report: Report, outcome: Outcome, settings: Settings) -> None:
    """A failed check fails the run, after the report is printed and
    written; a slow run never does."""
    if not outcome.failed:
        return
    path = write_json(report, settings.out_dir / f"{report.data['benchmark']}.json")
    print(render(report))
    print(f"\n(JSON: {path})\n", flush=True)
    raise AssertionError(
        f"{len(outcome.failed)} correctness check(s) failed: "
        + "; ".join(f"{c.name} ({c.detail})" for c in outcome.failed)
    )


@dataclass(frozen=True)
class Description:
    """A benchmark's own part of its report, made from the measurement."""

    bodies: str  # what the burst was, opening the first note
    notes: list[str]  # after the CPU note, before the backlog's
    data: dict[str, Any]  # added to the JSON report


@dataclass(frozen=True)
class WorkerBench:
    name: str
    title: str  # e.g. "Star ratings: a burst of approved hours vs raw kombu"
    label: str  # the subject's rows, e.g. "commendation worker"
    subject: Subject

    def log(self, message: str) -> None:
        print(f"  [{self.name}] {message}", file=sys.stderr, flush=True)

    def run(
        self,
        settings: Settings,
        bodies: tuple[Sequence[dict[str, Any]], ...],
        check: Callable[[Stack], Outcome],
        describe: Callable[[Measured, float], Description],
        prepare: Callable[[Stack], None] | None = None,
    ) -> Report:
        """The method on a new stack, then the report: ``bodies`` =
        (warm-up, burst, backlog); ``prepare`` fills the database first
        (a replica), ``check`` compares what the worker stored with the
        burst, ``describe`` says the benchmark's own facts (given the mean
        body size). Raises after printing the report when a check failed."""
        import json

        started = time.monotonic()
        load_before = os.getloadavg()[0]
        burst = bodies[1]
        chars = sum(len(json.dumps(b, ensure_ascii=False)) for b in burst)
        size = chars / max(len(burst), 1)
        with worker_stack(self.subject, settings, self.log) as target:
            if prepare is not None:
                prepare(target)
            m = measure_worker(
                target, bodies, settings, lambda: check(target), self.log
            )
        load = (load_before, os.getloadavg()[0])
        wall = time.monotonic() - started
        own = describe(m, size)
        notes = method_notes(own.bodies, m) + own.notes + [backlog_note(m)]
        notes += closing_notes(m.outcome, load)
        mode = "quick" if settings.quick else "full"
        failed = " — CHECKS FAILED" if m.outcome.failed else ""
        report = Report(
            title=f"{self.title} ({mode}){failed}",
            columns=["what", "messages", "seconds", "per s", "vs off", "vs on"],
            rows=rate_rows(self.label, m),
            data=common_data(self.name, settings, m, size, wall, load) | own.data,
            notes=notes,
        )
        fail_on_checks(report, m.outcome, settings)
        return report


if __name__ == "__main__":
    # The raw consumer process: python -m tests.perf.worker_bench consume ...
    if len(sys.argv) == 7 and sys.argv[1] == "consume":
        uri, queue, count, prefetch, cap = sys.argv[2:]
        sys.exit(consume_main(uri, queue, int(count), int(prefetch), float(cap)))
    sys.exit(
        "usage: python -m tests.perf.worker_bench consume URI QUEUE N PREFETCH CAP"
    )
