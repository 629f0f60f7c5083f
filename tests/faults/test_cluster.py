"""A three-node RabbitMQ cluster with quorum queues under a steady load, one
node killed (kill -9) at a time (issue 15): nothing lost, nothing applied
twice, no process restarted by hand.

The cluster is the test's own (:class:`tests.faults.cluster.RabbitCluster`:
three private nodes joined with ``rabbitmqctl join_cluster``). The real
commendation worker (``BROKER_QUORUM_QUEUES=true``) consumes
``hours.record.approved`` events in batches on a database of its own; its
``AMQP_URI`` lists the three nodes in kombu's failover form, so it connects
to node 0 first. A publisher thread plays the outbox relay: a steady stream
of events with publisher confirms, resending what was not confirmed (the
consumer's claims make a resend harmless), connected through the same
failover URI in the reverse order (node 2 first).

1. node 0, the one the worker and its relay are connected to, is killed
   mid-load: the worker must reconnect to another node by itself, while the
   quorum queues whose leaders were on node 0 elect new ones; node 0 is
   started again and rejoins;
2. node 2, the publisher's, is killed mid-load: the worker's connection
   stays, the publisher fails over, the load finishes on two nodes.

Then the worker's effects are reconciled exactly against the events sent
(``tests/faults/test_star_batch_faults.py``'s reconciliation: every event
claimed once, every volunteer's total, service-year hours, eligible tier and
pending request, queues, retry queues and DLQ empty, outbox published); the
same reconciliation is shown to fail on a claim removed, a claim of an event
never sent and a total counted twice.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from services.common.testing import Processes, platform_env
from tests.faults.cluster import RabbitCluster
from tests.faults.conftest import RETRY_ENV
from tests.faults.servers import PrivatePostgres, PrivateRabbit
from tests.faults.test_star_batch_faults import (
    QUEUE,
    StarStack,
    _poll,
    _seed_replica,
    problems,
)
from tests.perf.bench_stars import Burst, make_burst, shaanxi_townships

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

EVENTS = 400  # 80 volunteers, five approvals each
RATE = 25.0  # events a second, as a relay would send a steady trickle
QUIET_DEADLINE = 180.0
FAULT_DEADLINE = 120.0


class SteadyPublisher(threading.Thread):
    """Publishes ``bodies`` as the outbox relay does (JSON, persistent,
    ``message_id`` = event id, a confirm each), ``rate`` a second, up to
    :meth:`allow`'s count; an unconfirmed publish is sent again on a new
    connection (the failover URI moves on to a node that answers)."""

    def __init__(self, amqp_uri: str, bodies: list[dict[str, Any]], rate: float):
        super().__init__(name="steady-publisher", daemon=True)
        self.amqp_uri, self.bodies, self.rate = amqp_uri, bodies, rate
        self.allowed = 0
        self.confirmed = 0
        self.resent = 0
        self.errors: list[str] = []
        self.stop_event = threading.Event()

    def allow(self, count: int) -> None:
        self.allowed = min(count, len(self.bodies))

    def run(self) -> None:
        from kombu import Connection, Producer

        from services.common.outbox import exchange_for

        exchange, routing_key = exchange_for("hours.record.approved")
        conn: Connection | None = None
        for n, body in enumerate(self.bodies):
            while n >= self.allowed:
                if self.stop_event.wait(0.05):
                    return
            while not self.stop_event.is_set():
                try:
                    if conn is None:
                        conn = Connection(
                            self.amqp_uri,
                            transport_options={"confirm_publish": True},
                            connect_timeout=2,
                        )
                        conn.ensure_connection(
                            max_retries=20, interval_start=0.2, interval_step=0.2,
                            interval_max=1,
                        )  # fmt: skip
                    Producer(conn.default_channel, serializer="json").publish(
                        body,
                        exchange=exchange,
                        routing_key=routing_key,
                        declare=[exchange],
                        delivery_mode=2,
                        message_id=body["event_id"],
                        retry=False,
                    )
                    break
                except Exception as exc:  # noqa: BLE001 - the node went away
                    self.resent += 1
                    self.errors.append(repr(exc)[:200])
                    if conn is not None:
                        with contextlib.suppress(Exception):  # already gone
                            conn.release()
                    conn = None
                    time.sleep(0.2)
            self.confirmed = n + 1
            time.sleep(1 / self.rate)
        if conn is not None:
            conn.release()


@pytest.fixture(scope="module")
def cluster() -> Iterator[RabbitCluster]:
    c = RabbitCluster.create(3)
    try:
        c.start()
        yield c
    except BaseException:
        print(c.log())
        raise
    finally:
        c.destroy()


@pytest.fixture
def cluster_stack(
    servers: tuple[PrivatePostgres, PrivateRabbit],
    cluster: RabbitCluster,
    tmp_path: Path,
) -> Iterator[StarStack]:
    from services.common.config import load
    from services.common.migrations import upgrade

    pg, _ = servers
    name = f"zy_cluster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        pg.url().replace("+psycopg", "", 1), autocommit=True, connect_timeout=5
    ) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg.url(name)
    env = {
        **platform_env(tmp_path, {"commendation": url}, cluster.uri),
        "BROKER_QUORUM_QUEUES": "true",
        "LOG_LEVEL": "WARNING",
        "OTEL_TRACES_EXPORTER": "none",
        "DATABASE_POOL_SIZE": "2",
        **RETRY_ENV,
    }
    upgrade(load(env={**os.environ, **env}).service("commendation"))
    procs = Processes(env, tmp_path)
    # StarStack's kills are not used here: the cluster's nodes are killed.
    stack = StarStack(
        pg, cluster.nodes[0], url.replace("+psycopg", "", 1), cluster.uri, procs
    )
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


def test_a_node_killed_at_a_time_mid_load_loses_nothing_and_applies_nothing_twice(
    cluster: RabbitCluster, cluster_stack: StarStack
) -> None:
    from services.catalog import worker_classes
    from services.common.deadletter import delay_queue, dlq_name
    from services.common.settings import SETTINGS
    from services.common.worker import handler_queues

    stack = cluster_stack
    worker_pid = stack.worker.pid
    thresholds = list(SETTINGS["stars.thresholds_hours"].default)
    burst: Burst = make_burst(
        random.Random(20261207), EVENTS, shaanxi_townships(), 1,
        datetime(2026, 4, 1, 1, 0, tzinfo=UTC) - timedelta(days=1),
    )  # fmt: skip
    _seed_replica(stack, burst)

    # Every queue of the topology, its DLQ and the delay queues are quorum
    # queues, as the cluster reports them.
    names = [q.name for q in handler_queues(worker_classes())]
    delays = {delay_queue(float(d))[1].name for d in RETRY_ENV[
        "WORKER_RETRY_DELAYS_SECONDS"].split(",")}  # fmt: skip
    types = cluster.queue_types()
    wanted = {*names, *(dlq_name(n) for n in names), *delays}
    assert wanted <= set(types), sorted(wanted - set(types))[:5]
    assert {n: t for n, t in types.items() if t != "quorum"} == {}
    # The worker and its relay are connected to node 0 (first in its URI).
    before = cluster.connections_by_node()
    assert before.get(cluster.nodes[0].nodename, 0) >= 2, before

    reverse = ";".join(n.uri for n in reversed(cluster.nodes))
    publisher = SteadyPublisher(reverse, burst.bodies, RATE)
    publisher.allow(EVENTS // 2)
    publisher.start()
    figures: dict[str, Any] = {"events": EVENTS, "rate_per_s": RATE}
    try:
        # 1. kill -9 the node the worker consumes from, mid-load.
        _poll(lambda: stack.processed() >= EVENTS // 8, FAULT_DEADLINE,
              "an eighth applied", stack)  # fmt: skip
        # Best while a batch is open (its messages unacknowledged on the
        # dying node); the steady trickle leaves the worker idle between
        # small batches, so a few seconds of trying is enough.
        trying = time.monotonic() + 10
        while not stack.in_batch() and time.monotonic() < trying:
            time.sleep(0.01)
        batch_open = stack.in_batch()
        at_kill = stack.processed()
        t0 = time.monotonic()
        cluster.nodes[0].kill9()
        _poll(
            lambda: (
                stack.processed() >= at_kill + EVENTS // 8 and stack.consumers() > 0
            ),
            FAULT_DEADLINE,
            "the worker consuming again from another node",
            stack,
        )
        figures["worker_node_kill"] = {
            "applied_at_kill": at_kill,
            "batch_open_at_kill": batch_open,
            "published_at_kill": publisher.confirmed,
            "seconds_to_progress": round(time.monotonic() - t0, 1),
            "connections_before": before,
        }
        # The worker moved to node 1, the next in its URI, by itself (the
        # publisher is on node 2).
        after = cluster.connections_by_node()
        figures["worker_node_kill"]["connections_after"] = after
        assert cluster.nodes[0].nodename not in after, after
        assert after.get(cluster.nodes[1].nodename, 0) >= 2, after
        cluster.restart(0)
        figures["worker_node_kill"]["rejoined_after_s"] = round(
            time.monotonic() - t0, 1
        )
        # 2. kill -9 the publisher's node (not the worker's), mid-load.
        publisher.allow(EVENTS)
        _poll(lambda: publisher.confirmed >= EVENTS * 5 // 8, FAULT_DEADLINE,
              "five eighths published", stack)  # fmt: skip
        at_kill = stack.processed()
        published = publisher.confirmed
        t1 = time.monotonic()
        cluster.nodes[2].kill9()
        _poll(
            lambda: publisher.confirmed >= published + EVENTS // 16,
            FAULT_DEADLINE,
            "the publisher sending again through another node",
            stack,
        )
        figures["publisher_node_kill"] = {
            "applied_at_kill": at_kill,
            "published_at_kill": published,
            "seconds_to_progress": round(time.monotonic() - t1, 1),
        }
        _poll(lambda: publisher.confirmed == EVENTS, FAULT_DEADLINE,
              "every event published", stack)  # fmt: skip
    finally:
        publisher.stop_event.set()
        publisher.join(timeout=30)
    figures["publisher_resends"] = publisher.resent

    t_end = time.monotonic()
    deadline = t_end + QUIET_DEADLINE
    last: list[str] = ["not checked yet"]
    while time.monotonic() < deadline:
        assert stack.worker.poll() is None, stack.procs.log("commendation-worker")
        try:
            last = problems(stack, burst, thresholds)
        except Exception as exc:  # noqa: BLE001 - a node may still be electing
            last = [f"reconciliation failed: {exc!r}"]
        if not last:
            break
        time.sleep(0.5)
    figures["quiet_after_s"] = round(time.monotonic() - t_end, 1)
    log = stack.procs.log("commendation-worker")
    figures["worker_log"] = {
        "acks_lost": log.count("ack lost with the broker connection"),
        "batches_rerun": log.count("running its events one by one"),
        "retries": log.count("; retry in"),
    }
    print(f"\n[faults] three-node cluster: {figures}; problems {last[:10]}")
    assert not last, "\n".join(last) + "\n" + log[-5000:]
    # The same process all along: nobody restarted the worker.
    assert stack.worker.poll() is None and stack.worker.pid == worker_pid
    assert stack.queues()[QUEUE] == 0

    # The reconciliation compares exact ids and sums: it fails when one
    # event is missing, one was never sent, or one was counted twice.
    one = burst.bodies[0]
    vid = one["data"]["volunteer_id"]
    with psycopg.connect(stack.dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            "DELETE FROM processed_events WHERE event_id = %s", (one["event_id"],)
        )
        conn.execute(
            "INSERT INTO processed_events (consumer, event_id, processed_at)"
            " VALUES ('commendation.hours', %s, now())",
            (str(uuid.uuid4()),),
        )
        conn.execute(
            "UPDATE star_ratings SET total_hours = total_hours + %s"
            " WHERE volunteer_id = %s",
            (one["data"]["hours"], vid),
        )
    found = problems(stack, burst, thresholds)
    assert f"1 of {EVENTS} events never applied" in found, found
    assert "1 claims of events never sent" in found, found
    assert any("volunteers' totals differ" in f for f in found), found
