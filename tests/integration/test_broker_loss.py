"""A worker's broker connection dying under it (the fault tier's broker
kill, made deterministic): settling a message on the dead connection never
raises into the worker, the message comes back, and the retry publisher
replaces a connection kept from before the loss instead of failing.

The connection's socket is shut down by hand: what a broker kill -9 leaves
behind before the consumer's thread has noticed (a write then fails with
EPIPE)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue

from services.common.deadletter import Raw, Republisher
from services.common.testing import wait_for
from services.common.worker import _Consumer

pytestmark = pytest.mark.integration


@pytest.fixture
def queue(amqp_uri: str) -> Iterator[Queue]:
    name = f"zy_broker_loss.{uuid.uuid4().hex[:8]}"
    exchange = Exchange(name, type="direct", durable=True)
    q = Queue(name, exchange=exchange, routing_key=name, durable=True)
    with Connection(amqp_uri, connect_timeout=5) as conn:
        q(conn.default_channel).declare()
    yield q
    with Connection(amqp_uri, connect_timeout=5) as conn:
        q(conn.default_channel).delete()
        exchange(conn.default_channel).delete()


def _publish(uri: str, queue: Queue, body: dict[str, Any]) -> None:
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer(conn.default_channel).publish(
            body, exchange=queue.exchange, routing_key=queue.routing_key,
            serializer="json", delivery_mode=2,
        )  # fmt: skip


def _get(conn: Connection, queue: Queue) -> Any:
    bound = queue(conn.channel())
    return wait_for(lambda: bound.get(no_ack=False), what=f"a message on {queue}")


def _cut(conn: Connection) -> None:
    """The socket dies, the client has not read the EOF yet."""
    conn.connection.transport.sock.shutdown(socket.SHUT_RDWR)


def test_an_ack_on_a_dead_connection_is_dropped_and_the_message_redelivered(
    amqp_uri: str, queue: Queue
) -> None:
    _publish(amqp_uri, queue, {"n": 1})
    conn = Connection(amqp_uri, connect_timeout=5)
    try:
        message = _get(conn, queue)
        _cut(conn)
        consumer = _Consumer(amqp_uri)
        consumer.ack_message(message)  # raised BrokenPipeError into nameko
        consumer.requeue_message(message)
    finally:
        conn.collect()
    with Connection(amqp_uri, connect_timeout=5) as again:
        redelivered = _get(again, queue)
        assert redelivered.payload == {"n": 1}
        assert redelivered.delivery_info["redelivered"]
        redelivered.ack()


def test_the_retry_publisher_replaces_a_connection_lost_since_its_last_use(
    amqp_uri: str, queue: Queue
) -> None:
    publisher = Republisher(amqp_uri)
    raw = Raw(b'{"n": 1}', {}, "application/json", "utf-8", "m-1")
    try:
        publisher.publish(
            raw, exchange=queue.exchange, routing_key=queue.routing_key, headers={}
        )
        assert publisher._conn is not None
        _cut(publisher._conn)
        publisher.publish(  # failed, and the event went to the DLQ instead
            raw, exchange=queue.exchange, routing_key=queue.routing_key, headers={}
        )
    finally:
        publisher.close()
    with Connection(amqp_uri, connect_timeout=5) as conn:
        got = [_get(conn, queue), _get(conn, queue)]
        assert [Raw.of(m).body for m in got] == [raw.body, raw.body]
        for m in got:
            m.ack()
