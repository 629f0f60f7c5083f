"""``broker.quorum_queues`` on (issue 15): a real registration worker on a
private RabbitMQ node declares every durable queue as a quorum queue (read
back with ``rabbitmqctl list_queues name type arguments``), its retries still
go through the delay queues and its failures into the DLQ, a handler queue
dead-letters a message returned unacknowledged more often than
``broker.delivery_limit`` (as when it crashes the worker each time), and a
worker meeting the classic queues of before stops at start with a message
saying what to do (zh + en).

The node is the test's own (tests/faults/servers.py): never the machine's
shared broker, whose queues are classic."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection, Queue

from services.common import deadletter as dl
from services.common.testing import (
    Processes,
    drop_database,
    pg_admin_url,
    platform_env,
    wait_for,
)
from tests.faults.cluster import rabbitmqctl
from tests.faults.servers import PrivateRabbit
from tests.integration.test_worker_retry import (
    DLQ,
    QUEUE,
    Stage,
    dead_letter_of,
    depth,
    event,
    publish,
    queue_exists,
)

pytestmark = pytest.mark.integration
DELAYS = "0.3,0.5,1,2,3,5,8,13"
DELIVERY_LIMIT = 2


@pytest.fixture(scope="module")
def node() -> Iterator[PrivateRabbit]:
    mq = PrivateRabbit.create()
    try:
        mq.start()
        yield mq
    finally:
        mq.destroy()


def quorum_env(tmp: Path, amqp_uri: str, url: str) -> dict[str, str]:
    env = platform_env(tmp, {"registration": url}, amqp_uri)
    env.update(
        {
            "BROKER_QUORUM_QUEUES": "true",
            "BROKER_DELIVERY_LIMIT": str(DELIVERY_LIMIT),
            "WORKER_RETRY_DELAYS_SECONDS": DELAYS,
            "WORKER_UNKNOWN_ERROR_RETRIES": "2",
            "OTEL_TRACES_EXPORTER": "none",
        }
    )
    return env


@pytest.fixture(scope="module")
def stage(
    node: PrivateRabbit, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stage]:
    """A registration worker with quorum queues on the node's own vhost; its
    database is created only when a test asks (a real transient failure)."""
    tmp = tmp_path_factory.mktemp("quorum")
    vhost = f"zy_quorum_{uuid.uuid4().hex[:8]}"
    rabbitmqctl(node, "add_vhost", vhost)
    rabbitmqctl(node, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_uri = f"{node.uri}{vhost}"
    url = pg_admin_url().rsplit("/", 1)[0] + f"/zy_quorum_{uuid.uuid4().hex[:10]}"
    env = quorum_env(tmp, amqp_uri, url)
    procs = Processes(env, tmp)
    procs.start("registration-worker", "services.cli.worker", "registration")
    st = Stage(amqp_uri, url, procs)
    try:
        beat = Path(env["REGISTRATION_HEARTBEAT_FILE"])
        wait_for(
            lambda: beat.exists() and queue_exists(amqp_uri, QUEUE),
            timeout=60,
            what="the registration worker up on the private node",
        )
        yield st
    except BaseException:
        print(procs.log("registration-worker")[-5000:])
        raise
    finally:
        procs.stop_all()
        drop_database(url)
        drop_database(f"{url}_new")


def declared(node: PrivateRabbit, vhost: str) -> dict[str, tuple[str, str]]:
    """Queue → (type, arguments) as the node reports them."""
    out = rabbitmqctl(
        node, "list_queues", "-q", "-p", vhost, "name", "type", "arguments"
    )
    found = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] != "name":
            found[parts[0]] = (parts[1], parts[2])
    return found


def test_every_durable_queue_is_a_quorum_queue(node: PrivateRabbit, stage: Stage):
    from services.catalog import worker_classes
    from services.common.worker import handler_queues

    vhost = stage.amqp_uri.rsplit("/", 1)[1]
    # The relay declares every worker's handler queues, the handlers their
    # delay queues: all of them, their DLQs and the delays are there.
    handlers = [q.name for q in handler_queues(worker_classes())]
    delays = {dl.delay_queue(float(d))[1].name for d in DELAYS.split(",")}
    want = {*handlers, *(dl.dlq_name(n) for n in handlers), *delays}
    got = wait_for(
        lambda: (found := declared(node, vhost)) and want <= set(found) and found,
        timeout=30,
        what="every handler queue, DLQ and delay queue declared",
    )
    assert len(handlers) > 10
    not_quorum = {n: t for n, (t, _) in got.items() if t != "quorum"}
    # Nothing classic at all: the workers declare no nameko RPC or reply
    # queues (docs/broker.md), and every queue of Zhiyuan's is quorum.
    assert not_quorum == {}
    _, arguments = got[QUEUE]
    assert f'{{"x-delivery-limit",{DELIVERY_LIMIT}}}' in arguments
    assert '{"x-dead-letter-strategy","at-least-once"}' in arguments
    assert '{"x-dead-letter-exchange","zhiyuan.dlx"}' in arguments
    _, delay_args = got["zhiyuan.retry.300"]
    assert '{"x-message-ttl",300}' in delay_args
    assert '{"x-dead-letter-strategy","at-least-once"}' in delay_args
    assert "x-delivery-limit" not in got[DLQ][1]


def test_transient_failures_ride_the_quorum_delay_queues_until_applied(
    stage: Stage,
):
    events = [event(f"ZY6100000400{i:02d}") for i in range(3)]
    for body in events:
        publish(stage.amqp_uri, body)
    # No database yet: each event fails, waits in a quorum delay queue and
    # comes back, more than once; nothing is dead-lettered.
    wait_for(
        lambda: all(
            re.search(f"event {b['event_id']} .* attempt 2,", stage.log())
            for b in events
        ),
        timeout=40,
        what="every event failed and came back from a delay queue twice",
    )
    assert depth(stage.amqp_uri, DLQ) == 0
    stage.create_database()
    for body in events:
        wait_for(
            lambda body=body: stage.feed_copies(body["event_id"]) == 1,
            timeout=60,
            what=f"event {body['event_id']} applied once the database is back",
        )
    wait_for(lambda: depth(stage.amqp_uri, QUEUE) == 0, what="queue drained")
    assert all(stage.feed_copies(b["event_id"]) == 1 for b in events)
    assert not any(dead_letter_of(stage.amqp_uri, b["event_id"]) for b in events)


def test_a_permanent_failure_is_parked_in_its_quorum_dlq(stage: Stage):
    stage.create_database()
    body = {"event_id": str(uuid.uuid4()), "not": "an envelope"}
    publish(stage.amqp_uri, body)
    got = wait_for(
        lambda: dead_letter_of(stage.amqp_uri, body["event_id"]),
        timeout=40,
        what="the broken event in its DLQ",
    )
    headers = got["headers"]
    assert headers[dl.QUEUE] == QUEUE
    assert headers[dl.ATTEMPTS] == 3  # the first try and two quick retries
    assert headers[dl.KIND] == "unknown"
    assert "KeyError" in headers[dl.ERROR]
    assert stage.feed_copies(body["event_id"]) == 0


def test_a_message_returned_past_the_delivery_limit_is_dead_lettered(
    stage: Stage,
):
    """A worker that dies holding a message returns it unacknowledged; a
    quorum queue counts the returns and, past ``broker.delivery_limit``,
    moves it into the DLQ instead of handing it out forever. The worker is
    stopped first; each return is a channel closed on an unacked message,
    as a killed worker's connection does."""
    stage.procs.stop_all()
    message_id = f"crasher-{uuid.uuid4()}"
    with Connection(stage.amqp_uri, transport_options={"confirm_publish": True}) as c:
        c.Producer().publish(
            b'{"kills": "the worker"}',
            exchange="",
            routing_key=QUEUE,
            content_type="application/json",
            content_encoding="utf-8",
            message_id=message_id,
            delivery_mode=2,
        )
    deliveries = 0
    with Connection(stage.amqp_uri) as conn:
        for _ in range(DELIVERY_LIMIT + 3):
            channel = conn.channel()
            message = Queue(QUEUE, durable=True)(channel).get(no_ack=False)
            if message is not None:
                deliveries += 1
            channel.close()  # unacked: returned, its delivery count grows
            if message is None:
                break
    assert deliveries == DELIVERY_LIMIT + 1
    assert depth(stage.amqp_uri, QUEUE) == 0

    def parked() -> dict | None:
        with Connection(stage.amqp_uri) as conn:
            channel = conn.channel()
            try:
                queue = Queue(DLQ, durable=True)(channel)
                while (m := queue.get(no_ack=False)) is not None:
                    if m.properties.get("message_id") == message_id:
                        return dict(m.headers)
            finally:
                channel.close()
        return None

    headers = wait_for(parked, timeout=20, what="the crasher in the DLQ")
    assert headers["x-death"][0]["reason"] == "delivery_limit"
    assert headers["x-death"][0]["queue"] == QUEUE
    # The operator's list says who put it there and why.
    listed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "services.cli", "dlq", "list", "--queue", QUEUE],
        env={**os.environ, "AMQP_URI": stage.amqp_uri},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    line = next(ln for ln in listed.stdout.splitlines() if message_id in ln)
    assert "broker:delivery_limit" in line, listed.stdout
    assert "delivery_limit: dead-lettered by the broker" in line, listed.stdout


def test_a_worker_meeting_classic_queues_stops_with_a_clear_message(
    node: PrivateRabbit, tmp_path: Path
):
    """The queues of before are classic; the switch is turned on without a
    new vhost: the worker refuses to start and says why and what to do."""
    from services.common.worker import declare_handler_queue, handler_queue

    vhost = f"zy_classic_{uuid.uuid4().hex[:8]}"
    rabbitmqctl(node, "add_vhost", vhost)
    rabbitmqctl(node, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_uri = f"{node.uri}{vhost}"
    # evt-<source>-<event_type>--<service>.<method>
    source, rest = QUEUE.removeprefix("evt-").split("-", 1)
    event_type, consumer = rest.split("--")
    service, method = consumer.split(".")
    with Connection(amqp_uri) as conn:
        declare_handler_queue(
            conn.default_channel, handler_queue(source, event_type, service, method)
        )
    url = pg_admin_url().rsplit("/", 1)[0] + f"/zy_quorum_{uuid.uuid4().hex[:10]}"
    env = quorum_env(tmp_path, amqp_uri, url)
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "services.cli.worker", "registration"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert f"queue '{QUEUE}' already exists on the broker" in output
    assert "BROKER_QUORUM_QUEUES" in output
    assert "docs/broker.md" in output
    assert f"队列 '{QUEUE}' 已以不同参数存在于 RabbitMQ 中" in output
    assert "新的 vhost" in output
    # It ends on the message itself (en, then zh), not on a traceback.
    en, zh = done.stderr.strip().splitlines()[-2:]
    assert en.startswith(f"registration worker: queue '{QUEUE}'"), done.stderr
    assert zh.startswith(f"队列 '{QUEUE}'"), done.stderr
    print(f"\n[quorum] the worker stopped {time.monotonic() - started:.1f} s in")
    types = declared(node, vhost)
    assert types[QUEUE][0] == "classic"  # left as it was
