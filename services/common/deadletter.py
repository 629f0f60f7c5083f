"""Retries through RabbitMQ and the dead-letter queues, shared by the
workers (:mod:`services.common.worker`) and ``zhiyuan dlq`` (no nameko here).

A failed event is never slept on. A transient failure (database, broker or a
called service unavailable; a serialization failure, deadlock or unique race)
is published, with publisher confirms, to the delay queue of its attempt:
``zhiyuan.retry.<ms>``, bound to a fanout exchange of the same name, whose
messages expire after ``<ms>`` and dead-letter through the default exchange
by their routing key, the handler's own queue. Only then is the original
acked, so a crash in between duplicates the event (consumers are
idempotent) and never loses it. The attempt is counted in the
``x-zhiyuan-attempt`` header, not in ``redelivered``.

When the retries are spent, or at once for a permanent failure (an
undecodable body, a broken rule), the message goes to ``<queue>.dlq`` on the
``zhiyuan.dlx`` exchange, its headers saying queue, event, error, attempts
and when. ``zhiyuan dlq replay`` moves it back.

With ``broker.quorum_queues`` on (:class:`QueueKind`), every one of these
durable queues is a quorum queue (docs/broker.md): a handler queue also has
an ``x-delivery-limit``, so a message that kills the worker each time it is
delivered lands in its DLQ instead of coming back forever, and queues that
dead-letter do it at least once (a message is not dropped when the target
queue's leader is away).

Example::

    policy = RetryPolicy.from_config(load())
    policy.delay(attempt=1, kind=TRANSIENT)   # 1.0: retry in a second
    policy.delay(attempt=9, kind=TRANSIENT)   # None: dead-letter it
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Exchange, Queue

from services.common.config import Config
from services.common.errors import (  # noqa: F401 - PERMANENT: doctests
    PERMANENT,
    TRANSIENT,
    UNKNOWN,
    one_line,
)

log = logging.getLogger(__name__)

DLX = Exchange("zhiyuan.dlx", type="direct", durable=True)
ATTEMPT = "x-zhiyuan-attempt"
QUEUE, EVENT_ID, EVENT_TYPE = (
    "x-zhiyuan-queue",
    "x-zhiyuan-event-id",
    "x-zhiyuan-event-type",
)
ERROR, KIND, ATTEMPTS = "x-zhiyuan-error", "x-zhiyuan-failure", "x-zhiyuan-attempts"
FAILED_AT, REPLAYED = "x-zhiyuan-failed-at", "x-zhiyuan-replayed"
DLQ_HEADERS = (QUEUE, EVENT_ID, EVENT_TYPE, ERROR, KIND, ATTEMPTS, FAILED_AT)
# RabbitMQ's own dead-lettering bookkeeping: copied onto a republished
# message, x-death would make the broker see a cycle and drop it.
BROKER_HEADERS = ("x-death", "x-first-death-", "x-last-death-")

DEFAULT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DEFAULT_DELIVERY_LIMIT = 20


@dataclass(frozen=True)
class QueueKind:
    """How Zhiyuan declares its durable queues: classic (the default, the
    arguments they always had) or quorum (``broker.quorum_queues``).

    Example:
        >>> QueueKind().durable({"x-message-ttl": 1000})
        {'x-message-ttl': 1000}
        >>> QueueKind(quorum=True).durable({})
        {'x-queue-type': 'quorum'}
        >>> sorted(QueueKind(quorum=True, delivery_limit=5).handler({}))
        ['x-dead-letter-strategy', 'x-delivery-limit', 'x-overflow', 'x-queue-type']
    """

    quorum: bool = False
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    @classmethod
    def from_config(cls, cfg: Config) -> QueueKind:
        raw = cfg.get("broker.delivery_limit")
        if raw in (None, ""):
            raw = DEFAULT_DELIVERY_LIMIT
        if not isinstance(raw, int) or raw < 1:
            raise ValueError(
                f"broker.delivery_limit (BROKER_DELIVERY_LIMIT): a whole number"
                f" from 1, not {raw!r} / 投递次数上限 broker.delivery_limit"
                f" 须为不小于 1 的整数，而不是 {raw!r}"
            )
        return cls(quorum=cfg.flag("broker.quorum_queues"), delivery_limit=raw)

    @property
    def name(self) -> str:
        return "quorum" if self.quorum else "classic"

    def durable(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A durable queue's arguments (a DLQ: it dead-letters nothing)."""
        if not self.quorum:
            return dict(arguments)
        return {**arguments, "x-queue-type": "quorum"}

    def dead_lettering(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A queue that dead-letters (a delay queue, a handler queue).

        A quorum queue dead-letters at most once unless told otherwise: a
        message expiring while its target's leader is being elected would be
        dropped. At least once needs ``x-overflow: reject-publish`` (no
        length limit is set, so nothing is ever rejected for it)."""
        if not self.quorum:
            return dict(arguments)
        return {
            **self.durable(arguments),
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def handler(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A handler queue: dead-lettering, and (quorum) a delivery limit."""
        out = self.dead_lettering(arguments)
        if self.quorum:
            out["x-delivery-limit"] = self.delivery_limit
        return out


CLASSIC = QueueKind()


class QueueMismatch(RuntimeError):
    """The broker holds a queue under other arguments than ours (classic
    against quorum, another delivery limit): RabbitMQ refuses to redeclare
    it (PRECONDITION_FAILED) and it cannot be changed in place."""


def declare(entity: Any, kind: QueueKind) -> None:
    """``entity.declare()`` (a bound kombu queue or exchange), turning the
    broker's PRECONDITION_FAILED on a queue into a :class:`QueueMismatch`
    that tells the operator what to do (zh + en)."""
    from amqp.exceptions import PreconditionFailed

    try:
        entity.declare()
    except PreconditionFailed as exc:
        name = getattr(entity, "name", "?")
        raise QueueMismatch(
            f"queue {name!r} already exists on the broker with other arguments"
            f" than this process declares ({exc.reply_text or exc}). This"
            f" process declares {kind.name} queues (broker.quorum_queues ="
            f" {str(kind.quorum).lower()}, BROKER_QUORUM_QUEUES); a queue"
            " cannot change type in place. Set the switch back, or move to a"
            " new vhost, or drain the queues and delete them (docs/broker.md)."
            f"\n队列 {name!r} 已以不同参数存在于 RabbitMQ 中；本进程按"
            f" {'仲裁队列（quorum）' if kind.quorum else '经典队列（classic）'}"
            " 声明（broker.quorum_queues / BROKER_QUORUM_QUEUES）。队列类型不能"
            "原地更改：请恢复原设置，或改用新的 vhost，或先排空并删除这些队列"
            "（见 docs/broker.md）。"
        ) from exc


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


def handler_queue_of(dlq: str) -> str:
    return dlq.removesuffix(".dlq")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before each retry, by failure kind.

    ``delays[i]`` is the wait after attempt ``i + 1``; transient failures get
    them all (about nine minutes by default: a database restart or failover),
    failures of unknown kind the first ``unknown_retries``, permanent ones
    none.

    Example:
        >>> p = RetryPolicy((1.0, 2.0, 5.0), unknown_retries=1)
        >>> [p.delay(a, TRANSIENT) for a in (1, 2, 3, 4)]
        [1.0, 2.0, 5.0, None]
        >>> p.delay(1, UNKNOWN), p.delay(2, UNKNOWN), p.delay(1, PERMANENT)
        (1.0, None, None)
    """

    delays: tuple[float, ...] = DEFAULT_DELAYS
    unknown_retries: int = 2

    @classmethod
    def from_config(cls, cfg: Config) -> RetryPolicy:
        raw = cfg.get("worker.retry_delays_seconds")
        delays = parse_delays(raw) if raw not in (None, "") else DEFAULT_DELAYS
        unknown = cfg.get("worker.unknown_error_retries")
        return cls(delays, int(unknown) if unknown not in (None, "") else 2)

    def delay(self, attempt: int, kind: str) -> float | None:
        """Seconds to wait after failed ``attempt`` (1-based); None: give up."""
        allowed = {TRANSIENT: len(self.delays), UNKNOWN: self.unknown_retries}
        if attempt > min(allowed.get(kind, 0), len(self.delays)):
            return None
        return self.delays[attempt - 1]


def parse_delays(raw: Any) -> tuple[float, ...]:
    """``"1,2,5"`` (or a number, or a list) → ``(1.0, 2.0, 5.0)``.

    Example:
        >>> parse_delays("0.5, 1,2"), parse_delays(3)
        ((0.5, 1.0, 2.0), (3.0,))
    """
    if isinstance(raw, int | float):
        items: list[Any] = [raw]
    elif isinstance(raw, str):
        items = [p for p in raw.replace(";", ",").split(",") if p.strip()]
    else:
        items = list(raw)
    delays = tuple(float(p) for p in items)
    if not delays or any(d <= 0 for d in delays):
        raise ValueError(f"worker.retry_delays_seconds: positive numbers, not {raw!r}")
    return delays


def delay_queue(seconds: float, kind: QueueKind = CLASSIC) -> tuple[Exchange, Queue]:
    """The fanout exchange and queue holding messages for ``seconds``; on
    expiry they go back through the default exchange to their routing key.

    The queue's own ``x-message-ttl`` times them (one delay per queue, so
    they expire in the order they came, as a quorum queue expires them:
    from its head)."""
    ms = int(round(seconds * 1000))
    name = f"zhiyuan.retry.{ms}"
    exchange = Exchange(name, type="fanout", durable=True)
    queue = Queue(
        name,
        exchange=exchange,
        durable=True,
        queue_arguments=kind.dead_lettering(
            {"x-dead-letter-exchange": "", "x-message-ttl": ms}
        ),
    )
    return exchange, queue


def declare_delays(channel: Any, policy: RetryPolicy, kind: QueueKind) -> None:
    for seconds in sorted(set(policy.delays)):
        exchange, queue = delay_queue(seconds, kind)
        exchange(channel).declare()
        declare(queue(channel), kind)


def clean_headers(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The headers a republished copy keeps: not the broker's dead-letter
    bookkeeping, not a previous failure's description."""
    return {
        k: v
        for k, v in (headers or {}).items()
        if not k.startswith(BROKER_HEADERS) and k not in DLQ_HEADERS
    }


def failure_headers(
    *, queue: str, event_id: str, event_type: str, error: BaseException | str,
    kind: str, attempts: int,
) -> dict[str, Any]:  # fmt: skip
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return {
        QUEUE: queue,
        EVENT_ID: event_id,
        EVENT_TYPE: event_type,
        ERROR: text[:1000],
        KIND: kind,
        ATTEMPTS: attempts,
        FAILED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class Raw:
    """A message as it travels: undecoded body and the properties kept."""

    body: bytes
    headers: dict[str, Any]
    content_type: str | None
    content_encoding: str | None
    message_id: str | None = None

    @classmethod
    def of(cls, message: Any) -> Raw:
        """From a kombu message (received by a consumer or by basic_get)."""
        body = message.body
        if isinstance(body, str):
            body = body.encode(message.content_encoding or "utf-8")
        return cls(
            body=bytes(body),
            headers=dict(message.headers or {}),
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            message_id=message.properties.get("message_id"),
        )


class Republisher:
    """One confirmed publishing connection, shared by a process's handlers
    (green threads take turns: a confirm is waited for on the connection)."""

    def __init__(self, amqp_uri: str, kind: QueueKind = CLASSIC):
        self.amqp_uri, self.kind = amqp_uri, kind
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def publish(
        self,
        raw: Raw,
        *,
        exchange: Exchange | str,
        routing_key: str,
        headers: dict[str, Any],
        declare: list[Any] | None = None,
        expiration: float | None = None,
    ) -> None:
        """Publish ``raw`` unchanged but for ``headers``; returns once the
        broker confirmed it (raises if it could not).

        A connection kept from before a broker restart fails on its first
        use: the publish is tried once more on a new one (a retry that was
        confirmed but not reported is then sent twice, which consumers'
        claims make harmless), so the broker's return does not send the
        next failing event to the DLQ instead of its retry."""
        with self._lock:
            for attempt in (1, 2):
                kept = self._conn is not None
                try:
                    conn = self._connection()
                    producer = conn.Producer(conn.default_channel)
                    properties = (
                        {"message_id": raw.message_id} if raw.message_id else {}
                    )
                    producer.publish(
                        raw.body,
                        exchange=exchange,
                        routing_key=routing_key,
                        headers=headers,
                        content_type=raw.content_type or "application/octet-stream",
                        content_encoding=raw.content_encoding or "binary",
                        delivery_mode=2,
                        declare=declare or [],
                        retry=False,
                        expiration=expiration,
                        **properties,
                    )
                    return
                except Exception:
                    with contextlib.suppress(Exception):
                        self.close()
                    if not kept or attempt == 2:
                        raise

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(
                self.amqp_uri,
                transport_options={"confirm_publish": True},
                connect_timeout=5,
            )
            self._conn.ensure_connection(max_retries=1)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            finally:
                self._conn = None

    def retry_later(self, raw: Raw, queue: str, attempt: int, seconds: float) -> None:
        """Send ``raw`` back to ``queue`` in ``seconds`` as attempt ``attempt``."""
        exchange, delayed = delay_queue(seconds, self.kind)
        headers = {**clean_headers(raw.headers), ATTEMPT: attempt}
        # The delay queue's own TTL times the message; a classic queue also
        # gets it per message, as it always has.
        expiration = None if self.kind.quorum else seconds
        self.publish(
            raw, exchange=exchange, routing_key=queue, headers=headers,
            declare=[exchange, delayed], expiration=expiration,
        )  # fmt: skip

    def dead_letter(self, raw: Raw, queue: str, failure: dict[str, Any]) -> None:
        """Put ``raw`` into ``<queue>.dlq`` with the failure's headers."""
        headers = {**clean_headers(raw.headers), **failure}
        self.publish(raw, exchange=DLX, routing_key=dlq_name(queue), headers=headers)


class StateLog:
    """Logs a failing thing once when it fails, once when it recovers, and a
    reminder at most every ``every`` seconds in between (not a traceback per
    attempt).

    Example::

        state = StateLog(log, "hours outbox relay: database")
        state.failed(exc)   # "… unavailable: <exc>" once, then reminders
        state.ok()          # "… available again after 12 s"
    """

    def __init__(self, logger: logging.Logger, what: str, every: float = 60.0):
        self.logger, self.what, self.every = logger, what, every
        self.down_since: float | None = None
        self._last = 0.0
        self.suppressed = 0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = self._last = now
            self.logger.warning("%s unavailable: %s", self.what, one_line(exc))
        elif now - self._last >= self.every:
            self._last = now
            self.logger.warning(
                "%s still unavailable after %.0f s (%d failures since the last "
                "report): %s",
                self.what, now - self.down_since, self.suppressed, one_line(exc),
            )  # fmt: skip
            self.suppressed = 0
        else:
            self.suppressed += 1

    def ok(self) -> None:
        if self.down_since is not None:
            self.logger.warning(
                "%s available again after %.0f s",
                self.what, time.monotonic() - self.down_since,
            )  # fmt: skip
            self.down_since, self.suppressed = None, 0
