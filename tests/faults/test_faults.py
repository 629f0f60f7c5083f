"""The fault tier (issue 11): the platform on a private PostgreSQL cluster and
RabbitMQ node, killed and starved mid-load, then reconciled exactly.

Every scenario polls its reconciliation (tests/faults/reconcile.py) until the
platform is quiet or a deadline passes, and records its figures (load, fault,
recovery time, counts) in test-artifacts/faults.json for the closing note.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.faults import reconcile
from tests.faults.conftest import Platform
from tests.faults.load import Load, Outcome

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
QUIET_DEADLINE = 90.0
OUTAGE_SECONDS = 30.0


def settle(plat: Platform, outcome, since: float, **kw) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    """Poll the reconciliation until it finds nothing; (seconds since
    ``since`` when it first did, the last problems seen). Requests accepted
    in earlier scenarios (one platform serves them all) count too."""
    if outcome is not None:
        everything = Outcome()
        for earlier in [*plat.outcomes, outcome]:
            everything.merge(earlier)
        plat.outcomes.append(outcome)
        outcome = everything
    deadline = time.monotonic() + QUIET_DEADLINE
    found: list[str] = ["not checked yet"]
    while time.monotonic() < deadline:
        try:
            found = reconcile.problems(plat, outcome, **kw)
        except Exception as exc:  # noqa: BLE001 - a server may still be starting
            found = [f"reconciliation failed: {exc!r}"]
        if not found:
            return time.monotonic() - since, []
        time.sleep(0.5)
    return time.monotonic() - since, found


def test_broker_kill_and_database_stop_under_load(platform: Platform) -> None:
    plat = platform
    with Load(plat.base, plat.organisation) as load:
        load.wait_accepted(5)
        before = len(load.out.approved)
        t_fault = time.monotonic()
        plat.mq.kill9()
        load.wait_accepted(0)
        plat.mq.start()
        t_broker_back = time.monotonic()
        broker_down = t_broker_back - t_fault
        load.wait_accepted(5)
        plat.pg.stop_immediate()
        t_db = time.monotonic()
        time.sleep(3)  # the outage itself: three seconds without a database
        plat.pg.start()
        t_db_back = time.monotonic()
        load.wait_accepted(5, timeout=90)
    outcome = load.out
    recovery, found = settle(plat, outcome, t_db_back)
    plat.record(
        "broker kill -9, then database immediate stop, under load",
        {
            "load": outcome.summary(),
            "broker_down_seconds": round(broker_down, 1),
            "database_down_seconds": round(t_db_back - t_db, 1),
            "recovery_seconds": round(recovery, 1),
            "approved_before_fault": before,
            **reconcile.counts(plat),
            "problems": found[:20],
        },
    )
    assert not found, "\n".join(found[:50])
    assert not outcome.unexpected, outcome.unexpected[:10]


def test_a_consumers_database_refusing_connections_for_30s(platform: Platform) -> None:
    """Activity consumes every registration event; its database refuses all
    connections for 30 s while volunteers keep being registered. The workers'
    transient retries (delay queues) must ride it out: nothing dead-lettered."""
    plat = platform
    before = reconcile.counts(plat)
    with Load(plat.base, plat.organisation) as load:
        load.wait_accepted(3)
        plat.allow_connections("activity", False)
        t_fault = time.monotonic()
        during = len(load.out.volunteers)
        try:
            time.sleep(OUTAGE_SECONDS)  # the outage itself, while the load runs
            during = len(load.out.volunteers) - during
        finally:
            plat.allow_connections("activity", True)
        t_back = time.monotonic()
        load.wait_accepted(3)
    recovery, found = settle(plat, load.out, t_back)
    plat.record(
        "activity's database refuses connections",
        {
            "load": load.out.summary(),
            "volunteers_registered_during_outage": during,
            "outage_seconds": round(t_back - t_fault, 1),
            "recovery_seconds": round(recovery, 1),
            "before": before,
            **reconcile.counts(plat),
            "problems": found[:20],
        },
    )
    assert during > 0, "no event reached activity's queue during the outage"
    assert not found, "\n".join(found[:50])
    assert not load.out.unexpected, load.out.unexpected[:10]


def test_a_worker_killed_mid_flow(platform: Platform) -> None:
    """kill -9 hours' and commendation's workers while approvals flow (each
    consumes record.approved, hours' also relays its outbox), start them
    again: nothing lost, nothing applied twice."""
    plat = platform
    with Load(plat.base, plat.organisation) as load:
        load.wait_accepted(3)
        killed = {n: plat.kill9(f"{n}-worker") for n in ("hours", "commendation")}
        t_fault = time.monotonic()
        load.wait_accepted(3)
        for name in killed:
            plat.start_worker(name)
        t_back = time.monotonic()
        load.wait_accepted(3)
    recovery, found = settle(plat, load.out, t_back)
    plat.record(
        "worker kill -9 (hours, commendation) mid-flow",
        {
            "load": load.out.summary(),
            "killed_pids": killed,
            "workers_down_seconds": round(t_back - t_fault, 1),
            "recovery_seconds": round(recovery, 1),
            **reconcile.counts(plat),
            "problems": found[:20],
        },
    )
    assert not found, "\n".join(found[:50])
    assert not load.out.unexpected, load.out.unexpected[:10]


POISON_QUEUE = "evt-activity-attendance.checked_out--hours.on_attendance_checked_out"


def test_poison_messages_land_in_the_dlq_and_only_they(platform: Platform) -> None:
    """A body that is not JSON, a content type no worker accepts and a
    payload that breaks a rule go to the DLQ of their one consumer (hours'
    check-out handler), and ``zhiyuan dlq list`` shows them; nothing else is
    dead-lettered and nothing of them is applied."""
    from kombu import Connection, Exchange, Producer

    plat = platform
    ids = [f"poison-{n}-{uuid.uuid4()}" for n in range(3)]
    bad_rule = {
        "event_id": str(uuid.uuid4()),
        "event_type": "activity.attendance.checked_out",
        "occurred_at": "2026-12-01T10:00:00+00:00",
        "division_code": "610113",
        # no check-in or check-out time: a check-out cannot become hours
        "data": {"attendance_id": "a-1", "volunteer_id": str(uuid.uuid4())},
    }
    messages = [
        (b"{not json at all", "application/json"),
        (b"volunteer=1", "text/plain"),
        (json.dumps(bad_rule).encode(), "application/json"),
    ]
    exchange = Exchange("activity.events", type="topic", durable=True)
    with Connection(plat.mq.uri, transport_options={"confirm_publish": True}) as c:
        producer = Producer(c.default_channel)
        for message_id, (body, content_type) in zip(ids, messages, strict=True):
            producer.publish(
                body,
                exchange=exchange,
                routing_key="attendance.checked_out",
                content_type=content_type,
                content_encoding="utf-8",
                message_id=message_id,
                delivery_mode=2,
            )
    t_sent = time.monotonic()
    took, found = settle(plat, None, t_sent, allowed_dlq={f"{POISON_QUEUE}.dlq": 3})
    listed = plat.zhiyuan("dlq", "list")
    plat.record(
        "poison messages",
        {
            "published": 3,
            "dead_lettered_seconds": round(took, 1),
            "dlq_list_exit": listed.returncode,
            "problems": found[:20],
        },
    )
    assert not found, "\n".join(found[:50])
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert f"{POISON_QUEUE}.dlq: 3" in listed.stdout, listed.stdout
    assert bad_rule["event_id"] in listed.stdout, listed.stdout
    applied = plat.sql(
        "hours",
        "SELECT count(*) FROM processed_events WHERE event_id = :id",
        id=bad_rule["event_id"],
    )[0][0]
    assert applied == 0
    purged = plat.zhiyuan("dlq", "purge", "--queue", POISON_QUEUE, "--yes")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert plat.queues()[f"{POISON_QUEUE}.dlq"] == 0
