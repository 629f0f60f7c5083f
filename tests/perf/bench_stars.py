"""Star ratings reacting to a burst of approved hours: the real commendation
worker applying ``hours.record.approved`` events, against raw kombu
publish + consume of as many messages of the same size, measured in the
same run.

Subject: ``python -m services.cli.worker commendation`` as a separate
process (its star consumer is a ``batch_event_handler``: batches of up to
``WORKER_BATCH_SIZE`` events, default 50, prefetch two batches, each batch
applied set-wise in one transaction) on a throw-away,
migrated commendation database and its own vhost. The database holds the
volunteer replica registration's events would have built (id, number, home
township) and no setting overrides, so the platform's default thresholds
(100/300/600/1000/1500 h) and approval levels apply. The burst: ``n``
well-formed envelopes for ``n / 5`` volunteers in real Shaanxi townships
(``services/common/reference/streets.csv``), five approvals each, published
round by round (every volunteer's first approval, then every second one, in
a new shuffled order each round), each carrying the volunteer's platform
total after it (a fifth served in another township of the home county);
totals start where a volunteer's past service left them (55 % below 100 h,
the rest up to 1,600 h) and grow by 1-8 h a record, so a realistic share
cross a threshold during the burst. They are published
from this process to ``hours.events`` / ``record.approved`` as the outbox
relay does: JSON, persistent, ``message_id`` = event id, publisher confirms,
waiting for each confirm in turn. Reaction time: from the first publish
until the worker has applied all ``n`` events (its ``processed_events``
rows for consumer ``commendation.hours``, committed with each event's
effect, polled every 50 ms), so events/s is end to end; a warm-up of
other volunteers runs first and is not counted.

Baselines: a plain kombu consumer in its own process (prefetch 10, an ack
per message, no database) on a durable queue of the same vhost, fed the
same bodies by the same publisher, with confirms off and on (a confirm per
message); timed from the first publish to the last ack. Each runs before
and after the burst; the figures are the two runs pooled.

The burst's rate cannot exceed the publisher's (a confirm per message, on
the same two cores), so a backlog is measured too: the worker is stopped
(SIGSTOP), another ``n`` bodies of the same kind (new volunteers) are
queued for it without confirms, and it is timed from its resumption until
all are applied, against a raw kombu consumer draining the same bodies from
a filled queue (first delivery → last ack). Reported, not part of the goal.

Correctness is checked after the burst and printed with the figures: a
failed check fails the run (after the report is printed), a slow one never
does.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.perf.runner import (
    ROOT,
    Benchmark,
    Interrupted,
    Report,
    Settings,
    ratio,
    uninterruptible,
    write_json,
)

NAME = "stars"
CONSUMER = "commendation.hours"  # the worker's consumer name for hours events
EVENT_TYPE = "hours.record.approved"
# services.common.worker.handler_queue("hours", "record.approved",
# "commendation", "on_record_approved").name, written out: importing that
# module pulls nameko and eventlet into this process.
WORKER_QUEUE = "evt-hours-record.approved--commendation.on_record_approved"
PREFETCH = 10  # the raw consumer's (nameko's default PREFETCH_COUNT)
RAW_EXCHANGE = RAW_QUEUE = "zy_bench.raw"
EVENTS_PER_VOLUNTEER = 5
MONTHS = ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03")  # per round
APPROVED_FROM = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)  # 09:00 China time
APPROVAL_STEP = timedelta(milliseconds=10)  # occurred_at grows in publish order
BELOW_FIRST_SHARE = 0.55  # volunteers whose past total is under 100 h
AWAY_SHARE = 0.2  # approvals served outside the home township (same county)
POLL_SECONDS = 0.05
WIDTH = {"county": 6, "city": 4, "province": 2}
FIELDS = (
    "elderly_care", "minors", "medical", "environment", "civilisation",
    "culture_education", "large_events", "emergency",
)  # fmt: skip

# From /work/shared/STACK_NOTES.md (2-core Debian 12, medians of three runs).
# Context only: NOT measured by this run, on possibly different hardware.
NOTES_FIGURES = {
    "kombu publish+consume, confirms off": 5458.0,
    "kombu publish+consume, confirms on (per message)": 1545.0,
    "nameko events, dispatch -> handler": 846.0,
}


def _log(message: str) -> None:
    print(f"  [{NAME}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


# --- the burst --------------------------------------------------------------


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


@dataclass
class Burst:
    bodies: list[dict[str, Any]]  # envelopes, in publish order
    home: dict[str, str]  # volunteer id → home township
    number: dict[str, str]  # volunteer id → volunteer number
    totals: dict[str, list[Decimal]]  # volunteer id → totals in publish order
    year_hours: dict[tuple[str, int], Decimal]  # (volunteer, year) → hours

    def final(self, volunteer_id: str) -> Decimal:
        return self.totals[volunteer_id][-1]


def make_burst(
    rng: random.Random,
    n: int,
    counties: dict[str, list[str]],
    first_serial: int,
    approved_from: datetime,
) -> Burst:
    """``n`` approvals for ``ceil(n / 5)`` new volunteers, five rounds."""

    def ident() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def half_hours(low: float, high: float) -> Decimal:
        return Decimal(rng.randint(int(low * 2), int(high * 2))) / 2

    burst = Burst([], {}, {}, {}, defaultdict(Decimal))
    county_codes = sorted(counties)
    running: dict[str, Decimal] = {}
    for serial in range(first_serial, first_serial + -(-n // EVENTS_PER_VOLUNTEER)):
        vid = ident()
        burst.home[vid] = rng.choice(counties[rng.choice(county_codes)])
        burst.number[vid] = f"ZY61{serial:010d}"
        burst.totals[vid] = []
        below = rng.random() < BELOW_FIRST_SHARE
        running[vid] = half_hours(0, 99.5) if below else half_hours(100, 1600)
    at = approved_from
    for month in MONTHS:
        order = list(running)
        rng.shuffle(order)
        for vid in order:
            if len(burst.bodies) == n:
                break
            home = burst.home[vid]
            where = home
            if rng.random() < AWAY_SHARE:
                where = rng.choice(counties[home[:6]])
            hours = half_hours(1, 8)
            running[vid] += hours
            burst.totals[vid].append(running[vid])
            burst.year_hours[(vid, int(month[:4]))] += hours
            at += APPROVAL_STEP
            burst.bodies.append(
                {
                    "event_id": ident(),
                    "event_type": EVENT_TYPE,
                    "occurred_at": at.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    ),
                    "division_code": where,
                    "data": {
                        "record_id": ident(),
                        "volunteer_id": vid,
                        "volunteer_number": burst.number[vid],
                        "division_code": where,
                        "service_field": rng.choice(FIELDS),
                        "service_month": month,
                        "hours": float(hours),
                        "volunteer_total_hours": float(running[vid]),
                    },
                }
            )
    return burst


def tier(total: Decimal, thresholds: Sequence[float]) -> int:
    return sum(1 for t in thresholds if total >= Decimal(str(t)))


def requests_in_order(totals: Sequence[Decimal], thresholds: Sequence[float]) -> int:
    """Star requests opened when the totals are applied in this order, by
    stars.py's rules with no stars approved meanwhile: a tier above the
    stars opens a request unless one is pending at that tier; a pending
    request at another tier is superseded first."""
    opened = pending = 0
    for total in totals:
        eligible = tier(total, thresholds)
        if pending and pending != eligible:
            pending = 0
        if eligible > 0 and not pending:
            opened, pending = opened + 1, eligible
    return opened


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


@dataclass
class Stack:
    amqp_uri: str
    admin: Any  # psycopg.Connection (autocommit) as the database owner
    worker: subprocess.Popen[bytes]
    worker_log: Path
    thresholds: list[float]
    levels: dict[str, str]

    def log_tail(self, lines: int = 30) -> str:
        text = self.worker_log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check_alive(self) -> None:
        if self.worker.poll() is not None:
            raise RuntimeError(
                f"the commendation worker exited ({self.worker.returncode}):\n"
                + self.log_tail()
            )

    def processed(self) -> int:
        return int(
            self.admin.execute(
                "SELECT count(*) FROM processed_events WHERE consumer = %s", [CONSUMER]
            ).fetchone()[0]
        )

    def outbox_backlog(self) -> int:
        return int(
            self.admin.execute(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            ).fetchone()[0]
        )


def _stop(proc: subprocess.Popen[bytes], what: str) -> None:
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
def commendation_stack(settings: Settings) -> Iterator[Stack]:
    """A migrated commendation database, a vhost and the real worker on
    them. Everything is removed on exit, whatever the reason."""
    import psycopg

    from services.common import testing
    from services.common.settings import SETTINGS

    with contextlib.ExitStack() as stack:
        _log("creating a throw-away database and vhost")
        with uninterruptible():
            database_url = testing.create_database("zy_bench")
            stack.callback(testing.drop_database, database_url)
            _log(f"created database {database_url.rsplit('/', 1)[1]}")
        with uninterruptible():
            amqp_uri = testing.create_vhost()
            stack.callback(testing.delete_vhost, amqp_uri)
            _log(f"created vhost {amqp_uri.rsplit('/', 1)[1]}")
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zy_bench")))
        env = testing.platform_env(tmp, {"commendation": database_url}, amqp_uri)
        # Spans are still made, not written out; logs only when something breaks.
        env |= {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
        stack.enter_context(_environ(env))

        from services.common.config import load
        from services.common.migrations import upgrade

        _log("migrating")
        with contextlib.redirect_stdout(io.StringIO()):
            upgrade(load().service("commendation"))
        admin = psycopg.connect(
            database_url.replace("+psycopg", "", 1), autocommit=True
        )
        stack.callback(admin.close)

        log_path = tmp / "commendation-worker.log"
        with uninterruptible():
            log_file = stack.enter_context(log_path.open("wb"))
            # Its own process group: a Ctrl-C reaches this process only, and
            # the clean-up stops the worker before the vhost and database go.
            worker = subprocess.Popen(  # noqa: S603 - our interpreter and module
                [sys.executable, "-m", "services.cli.worker", "commendation"],
                env={**os.environ, **env},
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
            stack.callback(_stop, worker, "the commendation worker")
            _log(f"started the commendation worker (pid {worker.pid})")
        target = Stack(
            amqp_uri=amqp_uri,
            admin=admin,
            worker=worker,
            worker_log=log_path,
            thresholds=list(SETTINGS["stars.thresholds_hours"].default),
            levels=dict(SETTINGS["stars.approval_level"].default),
        )
        beat = Path(env["COMMENDATION_HEARTBEAT_FILE"])
        _wait(
            lambda: beat.exists() and queue_counts(amqp_uri, WORKER_QUEUE)[1] > 0,
            60,
            "the worker's heartbeat and its consumer on " + WORKER_QUEUE,
            target,
            settings,
        )
        yield target
        _log("stopping the worker, dropping the database and vhost")


def _wait(
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


def seed_volunteers(target: Stack, bursts: Sequence[Burst]) -> int:
    """The volunteer replica registration's events would have built."""
    changed = APPROVED_FROM - timedelta(days=400)
    rows = [
        (vid, b.number[vid], home, "verified", changed)
        for b in bursts
        for vid, home in b.home.items()
    ]
    with (
        target.admin.transaction(),
        target.admin.cursor() as cur,
        cur.copy(
            "COPY volunteers (id, volunteer_number, division_code, status,"
            " changed_at) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    target.admin.execute("ANALYZE volunteers")
    return len(rows)


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


def raw_phase(
    uri: str, bodies: Sequence[dict[str, Any]], confirm: bool, settings: Settings
) -> Raw:
    """Publish ``bodies`` to the raw queue while a plain kombu consumer in
    its own process acks them; first publish → last ack."""
    from kombu import Exchange

    cap = settings.pick(120.0, 60.0)
    declare_raw_queue(uri)
    consumer = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "tests.perf.bench_stars", "consume", uri, RAW_QUEUE,
         str(len(bodies)), str(PREFETCH), str(cap)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, process_group=0,
    )  # fmt: skip
    publisher = None
    try:
        assert consumer.stdout is not None
        if consumer.stdout.readline().strip() != "ready":
            raise RuntimeError("the raw kombu consumer did not start")
        exchange = Exchange(RAW_EXCHANGE, type="topic", durable=True)
        publisher = Publisher(uri, exchange, "raw.bench", confirm)
        broker = broker_pid()
        broker_before = cpu_seconds(broker) if broker else math.nan
        started = time.monotonic()
        sent = publisher.send(bodies, settings.abort)
        publish_seconds = time.monotonic() - started
        if sent < len(bodies):
            raise Interrupted("stopped")
        parts = consumer.stdout.readline().split()
        if len(parts) != 5 or parts[0] != "done":
            raise RuntimeError(f"the raw kombu consumer said {parts!r}")
        last, count, cpu = float(parts[1]), int(parts[2]), float(parts[3])
        broker_cpu = (cpu_seconds(broker) if broker else math.nan) - broker_before
        if count != len(bodies):
            raise RuntimeError(f"raw consumer got {count} of {len(bodies)} messages")
        return Raw(confirm, count, last - started, publish_seconds, cpu, broker_cpu)
    finally:
        if publisher is not None:
            publisher.close()
        _stop(consumer, "the raw kombu consumer")
        if consumer.stdout is not None:
            consumer.stdout.close()


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

    exchange, routing_key = exchange_for(EVENT_TYPE)
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
    # The star_request.opened events the burst wrote, relayed (confirms).
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
    _wait(
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

    exchange, routing_key = exchange_for(EVENT_TYPE)
    # services.common.worker.BatchEventHandler: two batches prefetched.
    window = 2 * int(load().get("worker.batch_size") or 50)
    before = target.processed()
    pid = target.worker.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        fill_queue(
            target.amqp_uri, exchange, routing_key, WORKER_QUEUE, bodies, settings,
            target, window,
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
    consumer = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "tests.perf.bench_stars", "consume", uri, RAW_QUEUE,
         str(len(bodies)), str(PREFETCH), str(settings.pick(120.0, 60.0))],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, process_group=0,
    )  # fmt: skip
    try:
        assert consumer.stdout is not None
        if consumer.stdout.readline().strip() != "ready":
            raise RuntimeError("the raw kombu consumer did not start")
        parts = consumer.stdout.readline().split()
        if len(parts) != 5 or parts[0] != "done":
            raise RuntimeError(f"the raw kombu consumer said {parts!r}")
        last, count, cpu, first = (
            float(parts[1]), int(parts[2]), float(parts[3]), float(parts[4]),
        )  # fmt: skip
        if count != len(bodies):
            raise RuntimeError(f"raw consumer got {count} of {len(bodies)} messages")
        return Drain(count, last - first, cpu)
    finally:
        _stop(consumer, "the raw kombu consumer")
        if consumer.stdout is not None:
            consumer.stdout.close()


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


def verify(target: Stack, burst: Burst) -> Outcome:
    """Compare what the worker stored with what the burst implies."""
    db, out = target.admin, Outcome()
    ids = list(burst.home)
    event_ids = [b["event_id"] for b in burst.bodies]
    thresholds, levels = target.thresholds, target.levels
    first = Decimal(str(thresholds[0]))

    overrides = db.execute("SELECT count(*) FROM policy_overrides").fetchone()[0]
    out.add(
        "no setting overrides (defaults apply)",
        overrides == 0,
        f"{overrides} override rows; thresholds {thresholds}",
    )
    claimed = db.execute(
        "SELECT count(*) FROM processed_events"
        " WHERE consumer = %s AND event_id = ANY(%s)",
        [CONSUMER, event_ids],
    ).fetchone()[0]
    out.add(
        "processed events = events published",
        claimed == len(event_ids),
        f"{claimed:,} of {len(event_ids):,}",
    )

    ratings = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT volunteer_id, total_hours, stars, eligible_stars, division_code"
            " FROM star_ratings WHERE volunteer_id = ANY(%s)",
            [ids],
        ).fetchall()
    }
    wrong_total = [v for v in ids if v in ratings and ratings[v][0] != burst.final(v)]
    wrong_tier = [
        v
        for v in ids
        if v in ratings
        and (ratings[v][2] != tier(burst.final(v), thresholds) or ratings[v][1] != 0)
    ]
    wrong_home = [v for v in ids if v in ratings and ratings[v][3] != burst.home[v]]
    out.add(
        "a rating per volunteer",
        len(ratings) == len(ids),
        f"{len(ratings):,} of {len(ids):,}",
    )
    out.add(
        "stored total = last total published",
        not wrong_total,
        f"{len(wrong_total)} mismatches"
        + (
            f", e.g. {wrong_total[0]}: {ratings[wrong_total[0]][0]} stored, "
            f"{burst.final(wrong_total[0])} published"
            if wrong_total
            else ""
        ),
    )
    out.add(
        "eligible stars = tier of the final total (stars stay 0)",
        not wrong_tier,
        f"{len(wrong_tier)} mismatches",
    )
    out.add(
        "rating kept at the home township (replica)",
        not wrong_home,
        f"{len(wrong_home)} mismatches",
    )

    years = {
        (r[0], int(r[1])): r[2]
        for r in db.execute(
            "SELECT volunteer_id, year, hours FROM service_years"
            " WHERE volunteer_id = ANY(%s)",
            [ids],
        ).fetchall()
    }
    wrong_years = [k for k, h in burst.year_hours.items() if years.get(k) != h]
    out.add(
        "year hours = sum of the approvals per year",
        not wrong_years and len(years) == len(burst.year_hours),
        f"{len(wrong_years)} mismatches, {len(years):,} rows "
        f"(expected {len(burst.year_hours):,})",
    )

    requests = db.execute(
        "SELECT volunteer_id, stars, status, approval_level, approving_code,"
        " division_code FROM star_requests WHERE volunteer_id = ANY(%s)",
        [ids],
    ).fetchall()
    pending: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in requests:
        if r[2] == "pending":
            pending[r[0]].append(r)
    reaching = [v for v in ids if burst.final(v) >= first]
    wrong_pending = []
    for v in ids:
        want = tier(burst.final(v), thresholds)
        got = pending.get(v, [])
        if want == 0:
            if got:
                wrong_pending.append(v)
            continue
        level = levels[str(want)]
        home = burst.home[v]
        if (
            len(got) != 1
            or got[0][1] != want
            or got[0][3] != level
            or got[0][4] != home[: WIDTH[level]]
            or got[0][5] != home
        ):
            wrong_pending.append(v)
    n_pending = sum(len(p) for p in pending.values())
    out.add(
        f"pending star requests = volunteers whose final total ≥ {thresholds[0]:g} h",
        n_pending == len(reaching),
        f"{n_pending:,} pending, {len(reaching):,} volunteers reach "
        f"{thresholds[0]:g} h",
    )
    out.add(
        "each pending request at the final tier, level and approving division",
        not wrong_pending,
        f"{len(wrong_pending)} volunteers wrong",
    )
    in_order = sum(requests_in_order(burst.totals[v], thresholds) for v in ids)
    closed = [r for r in requests if r[2] != "pending"]
    not_superseded = [r for r in closed if r[2] != "superseded"]
    out.add(
        "requests opened ≤ one per tier reached in publish order",
        n_pending <= len(requests) <= in_order and not not_superseded,
        f"{len(requests):,} opened ({len(closed):,} superseded by a higher tier"
        f"{f', {len(not_superseded)} otherwise closed' if not_superseded else ''}); "
        f"{in_order:,} if every event were applied in publish order",
    )
    opened_events = db.execute(
        "SELECT count(*) FROM outbox WHERE event_type = %s"
        " AND payload->'data'->>'volunteer_id' = ANY(%s)",
        ["commendation.star_request.opened", ids],
    ).fetchone()[0]
    out.add(
        "a star_request.opened event per request (outbox)",
        opened_events == len(requests),
        f"{opened_events:,} events, {len(requests):,} requests",
    )
    messages, _ = queue_counts(target.amqp_uri, WORKER_QUEUE)
    dead, _ = queue_counts(target.amqp_uri, WORKER_QUEUE + ".dlq")
    out.add(
        "worker queue drained, nothing dead-lettered",
        messages == 0 and dead == 0,
        f"{messages} ready, {dead} in the DLQ",
    )
    crossed = sum(
        1
        for v in ids
        if tier(burst.totals[v][0], thresholds) < tier(burst.final(v), thresholds)
    )
    out.facts = {
        "volunteers": len(ids),
        "volunteers_reaching_first_threshold": len(reaching),
        "volunteers_crossing_a_threshold_within_the_burst": crossed,
        "star_requests_opened": len(requests),
        "star_requests_pending": n_pending,
        "star_requests_superseded": len(closed) - len(not_superseded),
        "star_requests_if_applied_in_publish_order": in_order,
        "star_requests_by_stars": {
            str(s): sum(1 for r in requests if r[1] == s and r[2] == "pending")
            for s in range(1, 6)
        },
    }
    return out


# --- the benchmark ----------------------------------------------------------


def run(settings: Settings) -> Report:
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    n = settings.pick(10_000, 1_000)
    warm_n = settings.pick(500, 200)
    cap = settings.pick(600.0, 180.0)  # a safety net, reported if reached
    rng = random.Random(20260401)  # noqa: S311 - test data
    counties = shaanxi_townships()
    warm = make_burst(rng, warm_n, counties, 1, APPROVED_FROM - timedelta(days=1))
    burst = make_burst(rng, n, counties, 1_000_000, APPROVED_FROM)
    backlog = make_burst(rng, n, counties, 2_000_000, APPROVED_FROM + timedelta(1))
    size = sum(len(json.dumps(b, ensure_ascii=False)) for b in burst.bodies) / n
    raws: dict[bool, list[Raw]] = {False: [], True: []}
    with commendation_stack(settings) as target:
        seeded = seed_volunteers(target, [warm, burst, backlog])
        _log(f"seeded the volunteer replica ({seeded:,} volunteers)")

        def baselines(when: str) -> None:
            for confirm in (False, True):
                _log(
                    f"baseline {when}: kombu publish+consume of {n:,}, confirms "
                    + ("on (per message)" if confirm else "off")
                )
                raws[confirm].append(
                    raw_phase(target.amqp_uri, burst.bodies, confirm, settings)
                )

        _log("warming up the raw path (not counted)")
        raw_phase(target.amqp_uri, warm.bodies, False, settings)
        baselines("before")
        _log(f"warming up the worker: {warm_n} events (not counted)")
        apply_burst(target, warm.bodies, settings, cap)
        _log(
            f"burst: {n:,} events for {len(burst.home):,} volunteers "
            "(confirm per message), until all are applied"
        )
        reaction = apply_burst(target, burst.bodies, settings, cap)
        _log(
            f"applied {reaction.applied:,} in {reaction.seconds:.1f} s "
            f"({reaction.per_s:,.0f} events/s); checking"
        )
        outcome = verify(target, burst)
        _log(f"backlog: {n:,} events queued for the stopped worker, then resumed")
        drains = (drain_worker(target, backlog.bodies, settings, cap),)
        dead, _ = queue_counts(target.amqp_uri, WORKER_QUEUE + ".dlq")
        outcome.add(
            "backlog: every queued event applied, nothing dead-lettered",
            drains[0].messages == n and not drains[0].capped and dead == 0,
            f"{drains[0].messages:,} of {n:,} applied, {dead} in the DLQ",
        )
        _log("backlog baseline: a raw kombu consumer draining the same bodies")
        drains += (drain_raw(target.amqp_uri, backlog.bodies, target, settings),)
        baselines("after")
    load = (load_before, os.getloadavg()[0])
    report = _report(
        settings, n, size, reaction, raws, drains, outcome,
        time.monotonic() - started, load,
    )  # fmt: skip
    if outcome.failed:
        from tests.perf.runner import render

        path = write_json(report, settings.out_dir / f"{NAME}.json")
        print(render(report))
        print(f"\n(JSON: {path})\n", flush=True)
        raise AssertionError(
            f"{len(outcome.failed)} correctness check(s) failed: "
            + "; ".join(f"{c.name} ({c.detail})" for c in outcome.failed)
        )
    return report


def _drained(reaction: Reaction) -> str:
    seconds = reaction.outbox_drain_seconds
    if math.isnan(seconds):
        return "the worker's relay had NOT published all the requests' events yet."
    if seconds < 0.05:
        return (
            "the worker's relay (0.5 s timer) had published the requests' events "
            "by the time the last event was applied."
        )
    return (
        "the worker's relay published the requests' events "
        f"{seconds:.1f} s after the last event was applied."
    )


def pooled(runs: Sequence[Raw]) -> float:
    return sum(r.messages for r in runs) / sum(r.seconds for r in runs)


def _report(
    settings: Settings,
    n: int,
    size: float,
    reaction: Reaction,
    raws: dict[bool, list[Raw]],
    drains: tuple[Drain, Drain],
    outcome: Outcome,
    wall: float,
    load: tuple[float, float],
) -> Report:
    import kombu

    off, on = pooled(raws[False]), pooled(raws[True])
    rate = reaction.per_s
    flag = " (time cap)" if reaction.capped else ""
    publish_rate = reaction.events / reaction.publish_seconds
    rows: list[list[Any]] = [
        [
            "commendation worker: first publish → all applied" + flag,
            reaction.applied,
            reaction.seconds,
            rate,
            f"{ratio(rate, off):.3f}",
            f"{ratio(rate, on):.3f}",
        ],
        [
            "  … between 10 % and 90 % applied",
            reaction.events * 8 // 10,
            math.nan,
            reaction.steady_per_s(),
            f"{ratio(reaction.steady_per_s(), off):.3f}",
            f"{ratio(reaction.steady_per_s(), on):.3f}",
        ],
        [
            "  publishing the burst (confirm per message)",
            reaction.events,
            reaction.publish_seconds,
            publish_rate,
            f"{ratio(publish_rate, off):.3f}",
            f"{ratio(publish_rate, on):.3f}",
        ],
    ]
    for confirm, label in [
        (False, "baseline: kombu publish+consume, confirms off"),
        (True, "baseline: kombu publish+consume, confirm per message"),
    ]:
        runs = raws[confirm]
        per_s = pooled(runs)
        rows.append(
            [
                label,
                sum(r.messages for r in runs),
                sum(r.seconds for r in runs),
                per_s,
                f"{ratio(per_s, off):.3f}",
                f"{ratio(per_s, on):.3f}",
            ]
        )
    worker_drain, raw_drain = drains
    for drain, label in [
        (worker_drain, "backlog: worker applying them already queued"),
        (raw_drain, "backlog baseline: raw kombu consumer draining them"),
    ]:
        rows.append(
            [
                label + (" (time cap)" if drain.capped else ""),
                drain.messages,
                drain.seconds,
                drain.per_s,
                f"{ratio(drain.per_s, off):.3f}",
                f"{ratio(drain.per_s, on):.3f}",
            ]
        )
    f = outcome.facts
    cpu_ms = reaction.worker_cpu / max(reaction.applied, 1) * 1000
    db_ms = reaction.db_cpu / max(reaction.applied, 1) * 1000
    notes = [
        f"{n:,} hours.record.approved envelopes (~{size:.0f} bytes of JSON) for "
        f"{f['volunteers']:,} volunteers in Shaanxi townships, five approvals each; "
        "ratio = events/s of the row ÷ msgs/s of the baseline, same run, same "
        "vhost and bodies; baselines pooled over a run before and one after the "
        "burst ("
        + ", ".join(
            f"{'on' if c else 'off'}: " + " / ".join(f"{r.per_s:,.0f}" for r in raws[c])
            for c in (False, True)
        )
        + " msgs/s).",
        f"worker CPU {reaction.worker_cpu:.1f} s over {reaction.seconds:.1f} s "
        f"({cpu_ms:.2f} ms/event, {reaction.worker_cpu / reaction.seconds:.0%} of "
        f"one core); its PostgreSQL backends {reaction.db_cpu:.1f} s "
        f"({db_ms:.2f} ms/event); broker {reaction.broker_cpu:.1f} s. "
        f"Raw consumer CPU: {raws[False][0].consumer_cpu / n * 1000:.3f} ms/msg.",
        f"star requests: {f['star_requests_opened']:,} opened, "
        f"{f['star_requests_pending']:,} pending (1-5 stars: "
        + "/".join(f"{v:,}" for v in f["star_requests_by_stars"].values())
        + f"), {f['star_requests_superseded']:,} superseded by a higher tier; "
        f"{f['volunteers_crossing_a_threshold_within_the_burst']:,} volunteers "
        "crossed a threshold during the burst; " + _drained(reaction),
    ]
    notes.append(
        f"backlog (the publisher out of the way; another {n:,} bodies of the same "
        "kind for new volunteers, queued while the worker was stopped, timed from "
        f"its resumption): {worker_drain.per_s:,.0f} events/s = "
        f"{ratio(worker_drain.per_s, raw_drain.per_s):.3f}× a raw kombu consumer "
        f"draining the same bodies ({raw_drain.per_s:,.0f} msgs/s); CPU "
        f"{worker_drain.cpu / max(worker_drain.messages, 1) * 1000:.2f} ms/event "
        f"(raw {raw_drain.cpu / max(raw_drain.messages, 1) * 1000:.3f} ms/msg, "
        "its whole life)."
    )
    for c in outcome.checks:
        notes.append(f"check {'ok' if c.ok else 'FAILED'}: {c.name}: {c.detail}")
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
    data: dict[str, Any] = {
        "benchmark": NAME,
        "quick": settings.quick,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "kombu": kombu.__version__,
        "cpus": cpus,
        "events": n,
        "events_per_volunteer": EVENTS_PER_VOLUNTEER,
        "mean_body_bytes": round(size, 1),
        "raw_consumer_prefetch": PREFETCH,
        "burst_publish": "kombu, persistent, a publisher confirm per message "
        "(as the outbox relay)",
        "wall_seconds": round(wall, 1),
        "load_average_1m_before_after": [round(v, 2) for v in load],
        "results": {
            "worker": reaction.as_dict()
            | {
                "ratio_to_kombu_confirms_off": round(ratio(rate, off), 4),
                "ratio_to_kombu_confirms_on": round(ratio(rate, on), 4),
            },
            "kombu_confirms_off": {
                "msgs_per_s": round(off, 1),
                "runs": [r.as_dict() for r in raws[False]],
            },
            "kombu_confirms_on": {
                "msgs_per_s": round(on, 1),
                "runs": [r.as_dict() for r in raws[True]],
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
        },
        "stars": f,
        "checks": [
            {"name": c.name, "ok": c.ok, "detail": c.detail} for c in outcome.checks
        ],
        "stack_notes_not_measured_here": NOTES_FIGURES,
    }
    mode = "quick" if settings.quick else "full"
    failed = " — CHECKS FAILED" if outcome.failed else ""
    return Report(
        title=f"Star ratings: a burst of approved hours vs raw kombu ({mode}){failed}",
        columns=["what", "messages", "seconds", "per s", "vs off", "vs on"],
        rows=rows,
        data=data,
        notes=notes,
    )


BENCHMARK = Benchmark(
    name=NAME,
    summary="commendation worker applying a burst of approved hours vs raw kombu",
    run=run,
)


if __name__ == "__main__":
    # The raw consumer process: python -m tests.perf.bench_stars consume ...
    if len(sys.argv) == 7 and sys.argv[1] == "consume":
        uri, queue, count, prefetch, cap = sys.argv[2:]
        sys.exit(consume_main(uri, queue, int(count), int(prefetch), float(cap)))
    sys.exit("usage: python -m tests.perf.bench_stars consume URI QUEUE N PREFETCH CAP")
