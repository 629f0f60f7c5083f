"""``broker.quorum_queues`` and ``broker.delivery_limit`` read from the
config file, and the queue arguments each kind of queue gets (issue 15)."""

from __future__ import annotations

import pytest

from services.common.config import load
from services.common.deadletter import QueueKind, delay_queue
from services.common.worker import dlq_queue, handler_queue

QUEUE = ("hours", "record.approved", "commendation", "on_record_approved")


@pytest.mark.parametrize(
    ("value", "quorum"),
    [("true", True), ("on", True), ("1", True), ("false", False), ("0", False),
     ("no", False), ("", False)],
)  # fmt: skip
def test_the_switch_reads_yes_and_no(value: str, quorum: bool) -> None:
    cfg = load(env={"BROKER_QUORUM_QUEUES": value})
    assert QueueKind.from_config(cfg).quorum is quorum


def test_the_switch_is_off_by_default_with_a_delivery_limit_of_20() -> None:
    kind = QueueKind.from_config(load(env={}))
    assert kind == QueueKind(quorum=False, delivery_limit=20)


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_switch_neither_true_nor_false_names_the_key(value: str) -> None:
    with pytest.raises(ValueError, match="broker.quorum_queues") as err:
        QueueKind.from_config(load(env={"BROKER_QUORUM_QUEUES": value}))
    assert "只能是 true 或 false" in str(err.value)


@pytest.mark.parametrize("value", ["0", "-3", "many", "2.5"])
def test_a_delivery_limit_not_a_whole_number_from_one_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="broker.delivery_limit") as err:
        QueueKind.from_config(load(env={"BROKER_DELIVERY_LIMIT": value}))
    assert "投递次数上限" in str(err.value)


def test_switched_off_the_declarations_are_those_of_before() -> None:
    # A classic deployment must redeclare its queues without a difference,
    # or RabbitMQ refuses them (PRECONDITION_FAILED).
    q = handler_queue(*QUEUE)
    assert q.queue_arguments == {
        "x-dead-letter-exchange": "zhiyuan.dlx",
        "x-dead-letter-routing-key": f"{q.name}.dlq",
    }
    assert dlq_queue(q).queue_arguments == {}
    assert delay_queue(2.0)[1].queue_arguments == {
        "x-dead-letter-exchange": "",
        "x-message-ttl": 2000,
    }


def test_switched_on_every_durable_queue_is_quorum() -> None:
    kind = QueueKind(quorum=True, delivery_limit=7)
    q = handler_queue(*QUEUE, kind)
    assert q.name == handler_queue(*QUEUE).name  # the same queue names
    assert q.queue_arguments == {
        "x-dead-letter-exchange": "zhiyuan.dlx",
        "x-dead-letter-routing-key": f"{q.name}.dlq",
        "x-queue-type": "quorum",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 7,
    }
    assert dlq_queue(q, kind).queue_arguments == {"x-queue-type": "quorum"}
    assert delay_queue(2.0, kind)[1].queue_arguments == {
        "x-dead-letter-exchange": "",
        "x-message-ttl": 2000,
        "x-queue-type": "quorum",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
