"""Federation of releases (issue 15): a downstream release (a county's)
forwards its rollup cells to an upstream one (its province's).

The path of a changed cell::

    rollup write ─trigger→ federation_outbox ─FederationRelay→ local exchange
    zhiyuan.federation.out → queue zhiyuan.federation.out ─shovel (on-confirm,
    the downstream's own credentials)→ upstream exchange
    zhiyuan.federation.in.<name> → queue zhiyuan.federation.in.<name>.<service>
    ─FederationApplier→ federated_<rollup>

- Capture: see :mod:`services.common.federation_schema` (values, not
  increments, each with a version that grows in commit order per cell).
- Transport: the relay publishes with publisher confirms and deletes the
  rows once confirmed; RabbitMQ's shovel plugin carries the messages to the
  upstream (``zhiyuan federation link``, :mod:`services.common.federation_links`).
- Apply (:mod:`services.common.federation_apply`): a message is accepted
  only if every cell lies inside the subtree its queue's downstream is
  registered for; otherwise it is parked whole in ``<queue>.dlq`` with the
  reason, counted and logged at ERROR (an alert).
  A cell is applied only if its version is higher than the one kept, so a
  message applied twice, or late, changes nothing.
- Re-sync: :func:`resync` sends a snapshot of every cell with one version;
  the upstream overwrites cells it holds at a lower or equal version and
  removes the downstream's cells the snapshot no longer has.

The routing key is the service (``hours``), so the other services federate
their rollups through the same link, each into its own upstream queue.

Example::

    fed = FederationConfig.from_config(load())
    FederationRelay(db, fed, amqp_uri, "hours", "hours_rollup").relay_once()
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kombu import Connection, Exchange, Producer, Queue
from sqlalchemy import text

from services.common.config import Config
from services.common.db import Database, is_postgres
from services.common.deadletter import StateLog
from services.common.errors import InvalidArgument

log = logging.getLogger(__name__)

OUT_EXCHANGE = "zhiyuan.federation.out"
OUT_QUEUE = "zhiyuan.federation.out"
ROLES = ("none", "downstream", "upstream")


def in_exchange(name: str) -> str:
    """The upstream's exchange a downstream ``name`` may write to (only it)."""
    return f"zhiyuan.federation.in.{name}"


def in_queue(name: str, service: str) -> str:
    return f"{in_exchange(name)}.{service}"


def username(name: str) -> str:
    """The broker user a downstream's shovel connects to the upstream as."""
    return f"federation-{name}"


@dataclass(frozen=True)
class Downstream:
    name: str
    subtree: str
    username: str


@dataclass(frozen=True)
class FederationConfig:
    """The ``federation:`` section of the config file."""

    role: str
    name: str
    subtree: str
    upstream_uri: str
    downstreams_file: str
    management_url: str
    interval_seconds: float

    @classmethod
    def from_config(cls, cfg: Config) -> FederationConfig:
        role = str(cfg.get("federation.role") or "none")
        if role not in ROLES:
            raise InvalidArgument(
                "federation.role", "one_of",
                f"FEDERATION_ROLE must be one of {', '.join(ROLES)}",
                f"联邦角色 FEDERATION_ROLE 须为 {'、'.join(ROLES)} 之一",
            )  # fmt: skip
        return cls(
            role=role,
            name=str(cfg.get("federation.name") or ""),
            subtree=str(cfg.get("federation.subtree") or ""),
            upstream_uri=str(cfg.get("federation.upstream_uri") or ""),
            downstreams_file=str(cfg.get("federation.downstreams_file") or ""),
            management_url=str(cfg.get("federation.management_url") or ""),
            interval_seconds=float(cfg.get("federation.interval_seconds") or 0.2),
        )

    def downstreams(self) -> list[Downstream]:
        """The registered downstreams (the JSON list in the file)."""
        path = Path(self.downstreams_file) if self.downstreams_file else None
        if path is None or not path.exists():
            return []
        raw = json.loads(path.read_text(encoding="utf-8") or "[]")
        return [
            Downstream(str(d["name"]), str(d["subtree"]), str(d["username"]))
            for d in raw
        ]


def configure_capture(db: Database, fed: FederationConfig) -> None:
    """Make the database capture (downstream) or not (any other role): the
    worker calls this at every start, so the setting follows the config."""
    if not is_postgres(db.engine):
        return  # an embedded (SQLite) release does not federate: no trigger
    subtree = fed.subtree if fed.role == "downstream" else ""
    with db.session(None) as s:
        s.execute(
            text("SELECT federation_configure(:n, :s)"),
            {"n": fed.name, "s": subtree},
        )


def declare_out(channel: Any) -> Queue:
    """The local exchange and the queue the shovel drains."""
    exchange = Exchange(OUT_EXCHANGE, type="topic", durable=True)
    queue = Queue(OUT_QUEUE, exchange=exchange, routing_key="#", durable=True)
    queue(channel).declare()
    return queue


def declare_in(channel: Any, name: str, service: str) -> tuple[Queue, Queue]:
    """A downstream's exchange, its service queue and that queue's DLQ, on
    the upstream."""
    exchange = Exchange(in_exchange(name), type="direct", durable=True)
    queue = Queue(
        in_queue(name, service), exchange=exchange, routing_key=service, durable=True
    )
    queue(channel).declare()
    dlq = Queue(f"{queue.name}.dlq", durable=True)
    dlq(channel).declare()
    return queue, dlq


def _publish(producer: Producer, body: dict[str, Any], service: str) -> None:
    producer.publish(
        body,
        exchange=OUT_EXCHANGE,
        routing_key=service,
        delivery_mode=2,
        retry=False,
    )


class FederationRelay:
    """Downstream: publishes captured cells (confirmed), then deletes them."""

    def __init__(
        self, db: Database, fed: FederationConfig, amqp_uri: str,
        service: str, rollup: str, batch: int = 500,
    ):  # fmt: skip
        self.db, self.fed, self.amqp_uri = db, fed, amqp_uri
        self.service, self.rollup, self.batch = service, rollup, batch
        self._conn: Connection | None = None
        self._broker = StateLog(log, f"{service} federation relay: broker")

    def _producer(self) -> Producer:
        if self._conn is None:
            self._conn = Connection(
                self.amqp_uri,
                transport_options={"confirm_publish": True},
                connect_timeout=5,
            )
            declare_out(self._conn.default_channel)
        return Producer(self._conn.default_channel, serializer="json")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.release()
            self._conn = None

    def relay_once(self) -> int:
        """Publish one batch of captured cells; how many rows went."""
        with self.db.session(None) as s:
            rows = s.execute(
                text(
                    "SELECT id, division_code, period, vals, version"
                    " FROM federation_outbox WHERE source = :src ORDER BY id"
                    " LIMIT :n FOR UPDATE SKIP LOCKED"
                ),
                {"src": self.rollup, "n": self.batch},
            ).all()
            if not rows:
                return 0
            latest: dict[tuple[str, str], Any] = {}
            for r in rows:
                key = (r.division_code, r.period)
                if key not in latest or latest[key].version < r.version:
                    latest[key] = r
            body = {
                "downstream": self.fed.name,
                "source": self.rollup,
                "kind": "delta",
                "cells": [
                    [r.division_code, r.period, int(r.version), r.vals]
                    for r in latest.values()
                ],
            }
            try:
                _publish(self._producer(), body, self.service)
            except Exception as exc:
                self.close()
                self._broker.failed(exc)
                raise
            self._broker.ok()
            s.execute(
                text("DELETE FROM federation_outbox WHERE id = ANY(:ids)"),
                {"ids": [r.id for r in rows]},
            )
            return len(rows)


def resync(db: Database, fed: FederationConfig, amqp_uri: str,
           service: str, rollup: str) -> int:  # fmt: skip
    """Send a snapshot of every cell of the subtree, flagged as a re-sync;
    the number of cells sent."""
    if fed.role != "downstream" or not fed.subtree:
        raise InvalidArgument(
            "federation.role", "downstream",
            "a re-sync is sent by a downstream release (FEDERATION_ROLE="
            "downstream with FEDERATION_SUBTREE set)",
            "只有下级部署（FEDERATION_ROLE=downstream 且设置了 FEDERATION_SUBTREE）"
            "才能发起全量重新同步",
        )  # fmt: skip
    with db.session(None) as s:
        rows = s.execute(
            text("SELECT * FROM federation_snapshot(:src, :sub)"),
            {"src": rollup, "sub": fed.subtree},
        ).all()
        # Still in the snapshot's transaction: writers wait, so the sequence
        # stands at the snapshot's version.
        version = s.execute(text("SELECT last_value FROM federation_version"))
        marker = int(rows[0].version) if rows else int(version.scalar_one())
    body = {
        "downstream": fed.name,
        "source": rollup,
        "kind": "resync",
        "version": marker,
        "cells": [[r.division_code, r.period, marker, r.vals] for r in rows],
    }
    with Connection(
        amqp_uri, transport_options={"confirm_publish": True}, connect_timeout=5
    ) as conn:
        declare_out(conn.default_channel)
        _publish(Producer(conn.default_channel, serializer="json"), body, service)
    return len(rows)
