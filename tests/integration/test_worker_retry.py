"""A worker's failed events: transient failures retried through RabbitMQ
delay queues until they succeed, the rest dead-lettered with headers saying
why, undecodable bodies dead-lettered too. A real registration worker runs on
its own vhost against a database that does not exist yet (a real
``OperationalError``), created while its events wait."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import create_engine, text

from services.common import deadletter as dl
from services.common.config import load
from services.common.testing import (
    Processes,
    create_migrated_database,
    create_vhost,
    delete_vhost,
    drop_database,
    pg_admin_url,
    platform_env,
    wait_for,
)

pytestmark = pytest.mark.integration
QUEUE = "evt-registration-volunteer.registered--registration.on_volunteer_registered"
DLQ = f"{QUEUE}.dlq"


@dataclasses.dataclass
class Stage:
    """A registration worker on its own vhost; its database is created only
    when a test calls :meth:`create_database`."""

    amqp_uri: str
    database_url: str
    procs: Processes
    created: bool = False

    def create_database(self) -> None:
        """Create and migrate the database under another name, then give it
        the worker's name: it appears whole, as after a restart."""
        if self.created:
            return
        name = self.database_url.rsplit("/", 1)[1]
        svc = load().service("registration")
        staging = create_migrated_database(svc, f"{name}_new").rsplit("/", 1)[1]
        admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{staging}" RENAME TO "{name}"'))
        admin.dispose()
        self.created = True

    def feed_copies(self, event_id: str) -> int:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        text("SELECT count(*) FROM activity_feed WHERE event_id = :e"),
                        {"e": event_id},
                    ).scalar_one()
                )
        finally:
            engine.dispose()

    def log(self) -> str:
        return self.procs.log("registration-worker")


def start_stage(tmp: Path, delays: str) -> Iterator[Stage]:
    """Used by this module and test_dlq_cli.py."""
    amqp_uri = create_vhost()
    url = pg_admin_url().rsplit("/", 1)[0] + f"/zy_retry_{uuid.uuid4().hex[:10]}"
    env = platform_env(tmp, {"registration": url}, amqp_uri)
    env["WORKER_RETRY_DELAYS_SECONDS"] = delays
    env["WORKER_UNKNOWN_ERROR_RETRIES"] = "2"
    procs = Processes(env, tmp)
    procs.start("registration-worker", "services.cli.worker", "registration")
    stage = Stage(amqp_uri, url, procs)
    try:
        beat = Path(env["REGISTRATION_HEARTBEAT_FILE"])
        wait_for(
            lambda: beat.exists() and queue_exists(amqp_uri, QUEUE),
            timeout=40,
            what="the registration worker up on its vhost",
        )
        yield stage
    finally:
        procs.stop_all()
        delete_vhost(amqp_uri)
        drop_database(url)
        drop_database(f"{url}_new")


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    # Long enough in total (~33 s) for the database to be created meanwhile.
    yield from start_stage(tmp_path_factory.mktemp("retry"), "0.3,0.5,1,2,3,5,8,13")


def queue_exists(amqp_uri: str, name: str) -> bool:
    with Connection(amqp_uri) as conn:
        try:
            Queue(name, durable=True)(conn.channel()).queue_declare(passive=True)
        except Exception:  # noqa: BLE001 - not declared yet
            return False
    return True


def depth(amqp_uri: str, name: str) -> int:
    with Connection(amqp_uri) as conn:
        q = Queue(name, durable=True)(conn.default_channel)
        return int(q.queue_declare(passive=True).message_count)


def event(volunteer_number: str = "ZY610000012345") -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "registration.volunteer.registered",
        "occurred_at": "2026-11-01T08:00:00+00:00",
        "division_code": "610113003",
        "data": {"volunteer_number": volunteer_number},
    }


def publish(amqp_uri: str, body: Any, **properties: Any) -> None:
    exchange = Exchange("registration.events", type="topic", durable=True)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer(serializer="json").publish(
            body,
            exchange=exchange,
            routing_key="volunteer.registered",
            declare=[exchange],
            **properties,
        )


def dead_letters(amqp_uri: str) -> list[dict[str, Any]]:
    """Every message in the DLQ (headers and raw body), left in place."""
    found = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue = Queue(DLQ, durable=True)(channel)
        while (message := queue.get(no_ack=False)) is not None:
            found.append({"headers": dict(message.headers), "body": message.body})
        channel.close()  # unacked: back into the queue
    return found


def dead_letter_of(amqp_uri: str, event_id: str) -> dict[str, Any] | None:
    for m in dead_letters(amqp_uri):
        if m["headers"].get(dl.EVENT_ID) == event_id:
            return m
    return None


def test_transient_failure_is_retried_until_the_database_is_back(stage):
    events = [event(f"ZY6100000200{i:02d}") for i in range(4)]
    for body in events:
        publish(stage.amqp_uri, body)
    # The database does not exist: each event fails and waits in a delay
    # queue, the worker is not blocked, nothing reaches the DLQ.
    wait_for(
        lambda: all(
            re.search(f"event {b['event_id']} .* attempt 2,", stage.log())
            for b in events
        ),
        timeout=30,
        what="every event failed and retried at least twice",
    )
    assert depth(stage.amqp_uri, DLQ) == 0
    stage.create_database()
    for body in events:
        wait_for(
            lambda body=body: stage.feed_copies(body["event_id"]) == 1,
            timeout=40,
            what=f"event {body['event_id']} applied after the database came back",
        )
    wait_for(lambda: depth(stage.amqp_uri, QUEUE) == 0, what="queue drained")
    assert all(stage.feed_copies(b["event_id"]) == 1 for b in events)
    ids = {b["event_id"] for b in events}
    assert not [
        m for m in dead_letters(stage.amqp_uri) if m["headers"][dl.EVENT_ID] in ids
    ]
    log = stage.log()
    assert "Traceback" not in log
    # The relay's timer ticked many times while the database was missing,
    # and said so once (a reminder only after a minute).
    assert log.count("outbox relay: database unavailable") == 1
    assert "outbox relay: database available again" in log


def test_permanent_failure_is_dead_lettered_after_its_retries(stage):
    body = {"event_id": str(uuid.uuid4()), "not": "an envelope"}
    publish(stage.amqp_uri, body)
    got = wait_for(
        lambda: dead_letter_of(stage.amqp_uri, body["event_id"]),
        timeout=30,
        what="the broken event in the DLQ",
    )
    headers = got["headers"]
    assert headers[dl.QUEUE] == QUEUE
    assert headers[dl.ATTEMPTS] == 3  # the first try and two quick retries
    assert headers[dl.KIND] == "unknown"
    assert "KeyError" in headers[dl.ERROR]
    assert headers[dl.FAILED_AT].startswith("20")
    assert "x-death" not in headers
    log = stage.log()
    assert f"dead-lettered event {body['event_id']}" in log
    assert f"from queue {QUEUE}" in log


@pytest.mark.parametrize(
    ("raw", "content_type", "error"),
    [
        (b'{"event_id": "not json', "application/json", "DecodeError"),
        (b"\x80\x03}q\x00.", "application/x-python-serialize", "ContentDisallowed"),
    ],
    ids=["not-json", "unaccepted-content-type"],
)
def test_undecodable_message_is_dead_lettered_not_dropped(
    stage, raw, content_type, error
):
    message_id = str(uuid.uuid4())
    publish(
        stage.amqp_uri,
        raw,
        content_type=content_type,
        content_encoding="binary",
        message_id=message_id,
    )
    got = wait_for(
        lambda: dead_letter_of(stage.amqp_uri, message_id),
        timeout=20,
        what="the undecodable message in the DLQ",
    )
    assert got["body"] == raw  # kept byte for byte
    assert got["headers"][dl.KIND] == "undecodable"
    assert got["headers"][dl.ATTEMPTS] == 1
    assert error.lower() in got["headers"][dl.ERROR].lower()
