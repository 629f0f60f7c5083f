"""Batched consumption (worker.batch_event_handler): hours' check-out
consumer takes a burst of events in batches, applies each event once, and a
bad event in a batch fails alone into the DLQ (the rest of its batch is
applied). A real hours worker on its own vhost and database."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from services.common.config import load
from services.common.testing import (
    Processes,
    create_migrated_database,
    create_vhost,
    delete_vhost,
    drop_database,
    platform_env,
    wait_for,
)
from tests.integration.test_hours_flow import ACTIVITY, attendance
from tests.integration.test_worker_retry import depth, queue_exists

pytestmark = pytest.mark.integration
QUEUE = "evt-activity-attendance.checked_out--hours.on_attendance_checked_out"


@dataclasses.dataclass
class Hours:
    amqp_uri: str
    database_url: str
    procs: Processes

    def records(self, event_ids: set[str]) -> int:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT event_id FROM hour_records")).all()
        finally:
            engine.dispose()
        return sum(1 for (event_id,) in rows if event_id in event_ids)


@pytest.fixture(scope="module")
def hours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hours]:
    tmp = Path(tmp_path_factory.mktemp("batch"))
    amqp_uri = create_vhost()
    url = create_migrated_database(load().service("hours"), "zy_batch")
    try:
        env = platform_env(tmp, {"hours": url}, amqp_uri)
        env.update(WORKER_BATCH_SIZE="20", WORKER_UNKNOWN_ERROR_RETRIES="1")
        env["WORKER_RETRY_DELAYS_SECONDS"] = "0.2,0.5"
        procs = Processes(env, tmp)
        procs.start("hours-worker", "services.cli.worker", "hours")
        beat = Path(env["HOURS_HEARTBEAT_FILE"])
        wait_for(
            lambda: beat.exists() and queue_exists(amqp_uri, QUEUE),
            timeout=40,
            what="the hours worker up on its vhost",
        )
        yield Hours(amqp_uri, url, procs)
        procs.stop_all()
    finally:
        delete_vhost(amqp_uri)
        drop_database(url)


def publish_all(amqp_uri: str, bodies: list[dict[str, Any]]) -> None:
    from kombu import Connection

    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer(serializer="json")
        for body in bodies:
            producer.publish(
                body,
                exchange=ACTIVITY,
                routing_key="attendance.checked_out",
                declare=[ACTIVITY],
            )


def test_a_burst_is_applied_in_batches_once_and_a_bad_event_fails_alone(hours):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    good = [
        attendance(str(uuid.uuid4()), start + timedelta(minutes=i), 90)
        for i in range(60)
    ]
    bad = attendance(str(uuid.uuid4()), start, 90)
    del bad["data"]["volunteer_id"]
    burst = good[:30] + [bad] + good[30:] + good[:5]  # five delivered twice
    publish_all(hours.amqp_uri, burst)
    ids = {b["event_id"] for b in good}
    wait_for(lambda: hours.records(ids) == 60, timeout=60, what="60 records")
    wait_for(lambda: depth(hours.amqp_uri, f"{QUEUE}.dlq") == 1, what="the bad one")
    wait_for(lambda: depth(hours.amqp_uri, QUEUE) == 0, what="queue drained")
    assert hours.records(ids) == 60  # the repeated five made nothing twice
    log = hours.procs.log("hours-worker")
    # The bad event's batch failed and its events ran one by one: the
    # batch path was taken, and only the bad event was dead-lettered.
    assert f"on {QUEUE} failed" in log and "one by one" in log
    assert f"dead-lettered event {bad['event_id']}" in log
    assert log.count("dead-lettered event") == 1
