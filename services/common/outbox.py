"""Events through a transactional outbox, and idempotent consumption.

A service writes its event row in the same transaction as the change
(:func:`record`). The worker's relay (:class:`OutboxRelay`) publishes pending
rows to RabbitMQ with publisher confirms and marks them sent: a broker outage
delays events, it never loses them. Consumers call :func:`claim` in the
transaction of their effect, so a redelivered event is applied once.

Events are named ``<service>.<entity>.<verb>``; they go to the topic
exchange ``<service>.events`` with routing key ``<entity>.<verb>``, the shape
nameko's ``event_handler`` listens to.

Example::

    with db.session(scope) as s:
        s.add(volunteer)
        outbox.record(s, outbox_table, "registration.volunteer.registered",
                      division_code="610113", payload={...})
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu import Connection, Exchange, Producer
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from services.common import telemetry
from services.common.db import Database, is_postgres
from services.common.deadletter import StateLog

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("division_code", String(12), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
    )


def processed_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class Envelope:
    event_id: str
    event_type: str
    occurred_at: str
    division_code: str
    data: dict[str, Any]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Envelope:
        return cls(
            event_id=str(body["event_id"]),
            event_type=str(body["event_type"]),
            occurred_at=str(body["occurred_at"]),
            division_code=str(body["division_code"]),
            data=dict(body.get("data") or {}),
        )


def record(
    session: Session,
    table: Table,
    event_type: str,
    *,
    division_code: str,
    data: dict[str, Any],
) -> str:
    """Add an event to the outbox inside the caller's transaction."""
    row = _row(event_type, division_code, data)
    session.execute(insert(table).values(**row))
    return str(row["id"])


def record_many(
    session: Session, table: Table, events: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[str]:
    """:func:`record` for many ``(event_type, division_code, data)`` in one
    statement (a batch handler's events); their ids, in order."""
    rows = [_row(t, code, data) for t, code, data in events]
    if rows:
        session.execute(insert(table), rows)
    return [str(r["id"]) for r in rows]


def _row(event_type: str, division_code: str, data: dict[str, Any]) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    return {
        "id": event_id,
        "event_type": event_type,
        "division_code": division_code,
        "payload": {
            "event_id": event_id,
            "event_type": event_type,
            "occurred_at": now().isoformat(),
            "division_code": division_code,
            "data": data,
        },
        "headers": telemetry.inject(),
        "created_at": now(),
        "attempts": 0,
    }


def claim(session: Session, table: Table, consumer: str, event_id: str) -> bool:
    """Record that ``consumer`` handled ``event_id``; False if it already had.

    Call inside the transaction that applies the event's effect.
    """
    stmt = _CLAIMS.get(table.name)
    if stmt is None:
        stmt = _CLAIMS[table.name] = cached_insert(
            table, "consumer", "event_id", "processed_at",
            tail="ON CONFLICT DO NOTHING RETURNING event_id",
        )  # fmt: skip
    # rowcount is not reliable through the ORM session; RETURNING is.
    got = session.execute(
        stmt, {"consumer": consumer, "event_id": event_id, "processed_at": now()}
    )
    return got.scalar_one_or_none() is not None


def claim_many(
    session: Session, table: Table, consumer: str, event_ids: Sequence[str]
) -> set[str]:
    """:func:`claim` for many events: the ids handled now (not done before),
    in one statement on PostgreSQL. An id given twice is claimed once."""
    wanted = list(dict.fromkeys(event_ids))
    if not wanted:
        return set()
    if session.get_bind().dialect.name != "postgresql":
        return {e for e in wanted if claim(session, table, consumer, e)}
    got = session.execute(
        text(
            f"INSERT INTO {table.name} (consumer, event_id, processed_at)"
            " SELECT :consumer, e, :at FROM unnest(CAST(:ids AS text[])) AS t(e)"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"consumer": consumer, "ids": wanted, "at": now()},
    )
    return {str(e) for e in got.scalars()}


_CLAIMS: dict[str, TextClause] = {}


def cached_insert(table: Table, *columns: str, tail: str) -> TextClause:
    """``INSERT INTO table (columns) VALUES (:column, ...) <tail>`` as text
    with the columns' types: the same SQL for PostgreSQL and SQLite, and,
    unlike the dialects' ``insert().on_conflict_*()`` (SQLAlchemy 2.0 gives
    those no cache key), compiled once per process instead of per call.
    Build it once at import time and execute it with the values."""
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    return text(
        f"INSERT INTO {table.name} ({names}) VALUES ({values}) {tail}"
    ).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def exchange_for(event_type: str) -> tuple[Exchange, str]:
    service, _, routing_key = event_type.partition(".")
    return Exchange(f"{service}.events", type="topic", durable=True), routing_key


class OutboxRelay:
    """Publishes pending outbox rows with publisher confirms, oldest first."""

    def __init__(self, db: Database, table: Table, amqp_uri: str, batch: int = 200):
        self.db, self.table, self.amqp_uri, self.batch = db, table, amqp_uri, batch
        self._conn: Connection | None = None
        self._broker = StateLog(log, "outbox relay: broker")

    def _producer(self) -> Producer:
        if self._conn is None:
            self._conn = Connection(
                self.amqp_uri,
                transport_options={"confirm_publish": True},
                connect_timeout=5,
            )
        return Producer(self._conn.default_channel, serializer="json")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.release()
            self._conn = None

    def backlog(self) -> int:
        from sqlalchemy import func

        with self.db.session(None) as s:
            return s.execute(
                select(func.count()).where(self.table.c.published_at.is_(None))
            ).scalar_one()

    def purge(
        self,
        older_than: timedelta = timedelta(days=7),
        processed: Table | None = None,
        remember: timedelta = timedelta(days=90),
    ) -> int:
        """Delete rows published before ``older_than`` ago, and, when given the
        consumer's ``processed`` table, event ids handled before ``remember``
        ago (a broker redelivers within minutes, never months). Returns how
        many outbox rows went."""
        t = self.table
        with self.db.session(None) as s:
            gone = s.execute(
                delete(t)
                .where(
                    t.c.published_at.is_not(None), t.c.published_at < now() - older_than
                )
                .returning(t.c.seq)
            ).all()
            if processed is not None:
                s.execute(
                    delete(processed).where(processed.c.processed_at < now() - remember)
                )
        return len(gone)

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows were sent."""
        t = self.table
        with self.db.session(None) as s:
            query = (
                select(t.c.id, t.c.event_type, t.c.payload, t.c.headers)
                .where(t.c.published_at.is_(None))
                .order_by(t.c.seq)
                .limit(self.batch)
            )
            if is_postgres(self.db.engine):
                query = query.with_for_update(skip_locked=True)
            rows = s.execute(query).all()
            if not rows:
                return 0
            try:
                producer = self._producer()
                for row in rows:
                    self._publish(producer, row)
            except Exception as exc:
                self.close()
                self._broker.failed(exc)  # once, then a reminder a minute
                s.execute(
                    update(t)
                    .where(t.c.id.in_([r.id for r in rows]))
                    .values(attempts=t.c.attempts + 1, last_error=str(exc)[:500])
                )
                return 0
            self._broker.ok()
            s.execute(
                update(t)
                .where(t.c.id.in_([r.id for r in rows]))
                .values(published_at=now())
            )
            return len(rows)

    def _publish(self, producer: Producer, row: Any) -> None:
        exchange, routing_key = exchange_for(row.event_type)
        parent = telemetry.extract(row.headers or {})
        with telemetry.tracer().start_as_current_span(
            f"outbox publish {row.event_type}",
            context=parent,
            kind=telemetry.trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "rabbitmq", "event.type": row.event_type},
        ):
            headers = {f"nameko.{k}": v for k, v in telemetry.inject().items()}
            producer.publish(
                row.payload,
                exchange=exchange,
                routing_key=routing_key,
                declare=[exchange],
                delivery_mode=2,
                headers=headers,
                message_id=row.id,
                retry=False,
            )
