"""The star worker's batch consumer under faults (issue 10): a backlog of
approved-hours events is drained by the real commendation worker (batches
applied set-wise, :mod:`services.commendation.star_batch`) while its private
PostgreSQL is stopped mid-batch and its broker killed mid-batch; afterwards
every event's effect is there exactly once.

The worker runs on a database and a vhost of its own on the tier's private
servers, so the platform of ``test_faults.py`` (same servers, same queue
names on its vhost) neither feeds it nor takes its events. Exactly once is
reconciled against what was published: every event claimed once, each
volunteer's total, service-year hours (a delta applied twice or never shows
there), eligible tier and pending request, nothing left in the queue, its
retry queues or its DLQ, nothing left unpublished in the outbox.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from services.common.testing import Processes, platform_env
from tests.faults.conftest import RETRY_ENV
from tests.faults.servers import PrivatePostgres, PrivateRabbit, queue_depths
from tests.perf.bench_stars import Burst, make_burst, shaanxi_townships, tier

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CONSUMER = "commendation.hours"
QUEUE = "evt-hours-record.approved--commendation.on_record_approved"
EVENTS = 4000  # 800 volunteers, five approvals each
QUIET_DEADLINE = 180.0
FAULT_DEADLINE = 120.0


@dataclass
class StarStack:
    pg: PrivatePostgres
    mq: PrivateRabbit
    dsn: str  # the worker's database, as its owner (no row security)
    amqp_uri: str  # the worker's vhost
    procs: Processes

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        return self.procs.procs["commendation-worker"]

    def sql(self, query: str, *params: Any) -> list[Any]:
        """Rows of ``query`` on a connection of its own (the server may have
        been restarted since the last call)."""
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
            return list(conn.execute(query, params).fetchall())

    def processed(self) -> int:
        return int(
            self.sql(
                "SELECT count(*) FROM processed_events WHERE consumer = %s", CONSUMER
            )[0][0]
        )

    def in_batch(self) -> bool:
        """A worker's transaction is open on the database (a batch running)."""
        rows = self.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            " AND state IN ('active', 'idle in transaction')"
        )
        return rows[0][0] > 0

    def queues(self) -> dict[str, int]:
        """The star queue, its DLQ and the retry delay queues → messages."""
        from services.common.deadletter import delay_queue, dlq_name

        delays = RETRY_ENV["WORKER_RETRY_DELAYS_SECONDS"].split(",")
        names = [QUEUE, dlq_name(QUEUE)]
        names += sorted({delay_queue(float(d))[1].name for d in delays})
        return queue_depths(self.amqp_uri, names)

    def consumers(self) -> int:
        from kombu import Connection

        with Connection(self.amqp_uri, connect_timeout=5) as conn:
            channel = conn.channel()
            try:
                return int(channel.queue_declare(QUEUE, passive=True)[2])
            finally:
                with contextlib.suppress(Exception):
                    channel.close()


def _rabbitmqctl(mq: PrivateRabbit, *args: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed local tool
        ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", mq.nodename, *args],
        env=mq.env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _poll(
    predicate: Callable[[], Any], timeout: float, what: str, stack: StarStack
) -> Any:
    """Poll until ``predicate`` is truthy; fail (with the worker's log) if the
    deadline passes or the worker exits."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if stack.worker.poll() is not None:
            pytest.fail(
                f"the commendation worker exited ({stack.worker.returncode}):\n"
                + stack.procs.log("commendation-worker")[-5000:]
            )
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - a server may be restarting
            last = exc
        time.sleep(0.05)
    pytest.fail(
        f"timed out after {timeout} s waiting for {what}: {last!r}\n"
        + stack.procs.log("commendation-worker")[-5000:]
    )


@pytest.fixture
def star_stack(
    servers: tuple[PrivatePostgres, PrivateRabbit], tmp_path: Path
) -> Iterator[StarStack]:
    from services.common.config import load
    from services.common.migrations import upgrade

    pg, mq = servers
    name = f"zy_starfault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        pg.url().replace("+psycopg", "", 1), autocommit=True, connect_timeout=5
    ) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg.url(name)
    _rabbitmqctl(mq, "add_vhost", name)
    _rabbitmqctl(mq, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    amqp_uri = f"{mq.uri}{name}"
    env = {
        **platform_env(tmp_path, {"commendation": url}, amqp_uri),
        "LOG_LEVEL": "WARNING",
        "OTEL_TRACES_EXPORTER": "none",
        **RETRY_ENV,
    }
    upgrade(load(env={**os.environ, **env}).service("commendation"))
    procs = Processes(env, tmp_path)
    stack = StarStack(pg, mq, url.replace("+psycopg", "", 1), amqp_uri, procs)
    procs.start("commendation-worker", "services.cli.worker", "commendation")
    try:
        beat = Path(env["COMMENDATION_HEARTBEAT_FILE"])
        _poll(
            lambda: beat.exists() and stack.consumers() > 0,
            120,
            "the commendation worker's heartbeat and consumer",
            stack,
        )
        yield stack
    except BaseException:
        print(procs.log("commendation-worker")[-5000:])
        raise
    finally:
        procs.stop_all()


def _seed_replica(stack: StarStack, burst: Burst) -> None:
    """The volunteer replica registration's events would have built."""
    changed = datetime(2025, 1, 1, tzinfo=UTC)
    with (
        psycopg.connect(stack.dsn) as conn,
        conn.cursor() as cur,
        cur.copy(
            "COPY volunteers (id, volunteer_number, division_code, status,"
            " changed_at) FROM STDIN"
        ) as copy,
    ):
        for vid, home in burst.home.items():
            copy.write_row((vid, burst.number[vid], home, "verified", changed))


def _publish(stack: StarStack, burst: Burst) -> None:
    """As the outbox relay publishes: JSON, persistent, a confirm each."""
    from kombu import Connection, Producer

    from services.common.outbox import exchange_for

    exchange, routing_key = exchange_for("hours.record.approved")
    with Connection(
        stack.amqp_uri, transport_options={"confirm_publish": True}
    ) as conn:
        producer = Producer(conn.default_channel, serializer="json")
        for body in burst.bodies:
            producer.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                delivery_mode=2,
                message_id=body["event_id"],
                retry=False,
            )


def problems(stack: StarStack, burst: Burst, thresholds: list[float]) -> list[str]:
    """Every way the worker's effects differ from each event applied exactly
    once; [] when they do not."""
    found = [f"queue {q} holds {n}" for q, n in stack.queues().items() if n]
    claimed = dict(
        stack.sql(
            "SELECT event_id, count(*) FROM processed_events WHERE consumer = %s"
            " GROUP BY 1",
            CONSUMER,
        )
    )
    sent = {b["event_id"] for b in burst.bodies}
    missing = sent - set(claimed)
    if missing:
        found.append(f"{len(missing)} of {len(sent)} events never applied")
    if set(claimed) - sent:
        found.append(f"{len(set(claimed) - sent)} claims of events never sent")
    ratings = {
        v: (Decimal(total), eligible)
        for v, total, eligible in stack.sql(
            "SELECT volunteer_id, total_hours, eligible_stars FROM star_ratings"
        )
    }
    years = {
        (v, int(y)): Decimal(h)
        for v, y, h in stack.sql("SELECT volunteer_id, year, hours FROM service_years")
    }
    pending: dict[str, list[int]] = {}
    for v, stars in stack.sql(
        "SELECT volunteer_id, stars FROM star_requests WHERE status = 'pending'"
    ):
        pending.setdefault(v, []).append(int(stars))
    wrong_total = wrong_tier = wrong_years = wrong_pending = 0
    for vid in burst.home:
        final = burst.final(vid)
        total, eligible = ratings.get(vid, (None, None))
        wrong_total += total != final
        wrong_tier += eligible != tier(final, thresholds)
        want = [tier(final, thresholds)] if tier(final, thresholds) else []
        wrong_pending += pending.get(vid, []) != want
    for key, hours in burst.year_hours.items():
        wrong_years += years.get(key) != hours
    for what, n in [
        ("totals", wrong_total), ("eligible tiers", wrong_tier),
        ("service-year hours", wrong_years), ("pending requests", wrong_pending),
    ]:  # fmt: skip
        if n:
            found.append(f"{n} volunteers' {what} differ from the events sent")
    unpublished = stack.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    if unpublished[0][0]:
        found.append(f"the outbox holds {unpublished[0][0]} unpublished events")
    return found


def _at_share(stack: StarStack, share: float) -> Callable[[], bool]:
    """True once ``share`` of the burst is applied and a batch is open."""
    return lambda: stack.processed() >= share * EVENTS and stack.in_batch()


def test_star_batches_exactly_once_through_database_stops_and_broker_kills(
    star_stack: StarStack,
) -> None:
    """4,000 approvals drained in batches through two immediate database
    stops, a broker kill -9 and both in a row, each while a batch is open:
    the worker keeps consuming and every event counts once."""
    from services.common.settings import SETTINGS

    stack = star_stack
    thresholds = list(SETTINGS["stars.thresholds_hours"].default)
    burst = make_burst(
        random.Random(20261205), EVENTS, shaanxi_townships(), 1,
        datetime(2026, 4, 1, 1, 0, tzinfo=UTC) - timedelta(days=1),
    )  # fmt: skip
    _seed_replica(stack, burst)
    # A backlog: the worker is paused while the burst is published, so every
    # fault below lands while batches are being applied.
    os.kill(stack.worker.pid, signal.SIGSTOP)
    try:
        _publish(stack, burst)
    finally:
        os.kill(stack.worker.pid, signal.SIGCONT)
    faults: list[str] = []
    # 1. PostgreSQL stopped (immediate) while a batch is open.
    _poll(_at_share(stack, 0.1), FAULT_DEADLINE, "10 % applied, a batch open", stack)
    stack.pg.stop_immediate()
    faults.append("database stop")
    stack.pg.start()
    # 2. The broker killed while a batch is open.
    _poll(_at_share(stack, 0.3), FAULT_DEADLINE, "30 % applied, a batch open", stack)
    stack.mq.kill9()
    stack.mq.start()
    faults.append("broker kill -9")
    # 3. Both, as the platform's fault tier does: the broker killed, then
    #    the database stopped while the worker recovers.
    _poll(_at_share(stack, 0.5), FAULT_DEADLINE, "50 % applied, a batch open", stack)
    stack.mq.kill9()
    stack.mq.start()
    _poll(stack.in_batch, FAULT_DEADLINE, "a batch open after the broker's return",
          stack)  # fmt: skip
    stack.pg.stop_immediate()
    stack.pg.start()
    faults.append("broker kill -9, then database stop")
    # 4. PostgreSQL stopped once more mid-batch, after the recoveries.
    _poll(_at_share(stack, 0.75), FAULT_DEADLINE, "75 % applied, a batch open", stack)
    stack.pg.stop_immediate()
    stack.pg.start()
    faults.append("database stop")
    t_back = time.monotonic()
    last: list[str] = ["not checked yet"]

    deadline = time.monotonic() + QUIET_DEADLINE
    while time.monotonic() < deadline:
        assert stack.worker.poll() is None, stack.procs.log("commendation-worker")
        try:
            last = problems(stack, burst, thresholds)
        except Exception as exc:  # noqa: BLE001 - a server may still be starting
            last = [f"reconciliation failed: {exc!r}"]
        if not last:
            break
        time.sleep(0.5)
    log = stack.procs.log("commendation-worker")
    hit = log.count("running its events one by one")
    print(
        f"\n[faults] star batches: {EVENTS} events, faults {faults}, "
        f"batches failed by them {hit}, "
        f"pipelines cut {log.count('error ignored terminating <psycopg.Pipeline')}, "
        f"acks lost {log.count('ack lost with the broker connection')}, "
        f"quiet {time.monotonic() - t_back:.1f} s after the last; problems {last}"
    )
    assert not last, "\n".join(last) + "\n" + log[-5000:]
    assert hit > 0, "no fault landed while a batch was being applied"
