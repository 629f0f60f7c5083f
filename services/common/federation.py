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
- Relay: a release both upstream and downstream (role ``relay``, a
  province's) forwards its own cells and, in ``relayed``, the cells its
  downstreams sent, grouped by origin (a cell it removed: values ``null``);
  its upstream keeps those under ``<sender>/<origin>``, inside the sender's
  registered subtree.
- Re-sync (:mod:`services.common.federation_resync`): a snapshot in chunks
  with one version, then an end marker; the upstream overwrites cells it
  holds at a lower or equal version and, at the end marker only, removes the
  downstream's cells the snapshot no longer has.

The routing key is the service (``hours``), so the other services federate
their rollups through the same link, each into its own upstream queue.

Example::

    fed = FederationConfig.from_config(load())
    FederationRelay(db, fed, amqp_uri, "hours", "hours_rollup").relay_once()
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
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
ROLES = ("none", "downstream", "upstream", "relay")
# A relay is both: upstream for its registered downstreams, downstream to its
# own upstream, forwarding its own cells and theirs (each with its origin).
FORWARDING = ("downstream", "relay")
ACCEPTING = ("upstream", "relay")
RESYNC_CHUNK = 2000


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
    resync_chunk: int = RESYNC_CHUNK

    @property
    def forwards(self) -> bool:
        """Captures and relays its cells upstream (downstream or relay)."""
        return self.role in FORWARDING

    @property
    def accepts(self) -> bool:
        """Applies its registered downstreams' cells (upstream or relay)."""
        return self.role in ACCEPTING

    @classmethod
    def from_config(cls, cfg: Config) -> FederationConfig:
        role = str(cfg.get("federation.role") or "none")
        if role not in ROLES:
            raise InvalidArgument(
                "federation.role", "one_of",
                f"FEDERATION_ROLE must be one of {', '.join(ROLES)}",
                f"联邦角色 FEDERATION_ROLE 须为 {'、'.join(ROLES)} 之一",
            )  # fmt: skip
        if role == "relay":
            _require(cfg, "subtree", "FEDERATION_SUBTREE", "本部署在上级登记的辖区代码")
            _require(cfg, "downstreams_file", "FEDERATION_DOWNSTREAMS_FILE",
                     "下级部署登记文件")  # fmt: skip
        return cls(
            role=role,
            name=str(cfg.get("federation.name") or ""),
            subtree=str(cfg.get("federation.subtree") or ""),
            upstream_uri=str(cfg.get("federation.upstream_uri") or ""),
            downstreams_file=str(cfg.get("federation.downstreams_file") or ""),
            management_url=str(cfg.get("federation.management_url") or ""),
            interval_seconds=float(cfg.get("federation.interval_seconds") or 0.2),
            resync_chunk=chunk_size(cfg.get("federation.resync_chunk")),
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


def _require(cfg: Config, key: str, env: str, zh: str) -> None:
    if not str(cfg.get(f"federation.{key}") or ""):
        raise InvalidArgument(
            f"federation.{key}", "required",
            f"FEDERATION_ROLE=relay is upstream and downstream at once: set {env}",
            f"联邦角色 relay（中继：既是上级又是下级）须设置 {env}（{zh}）",
        )  # fmt: skip


def chunk_size(value: Any, field: str = "federation.resync_chunk") -> int:
    """A re-sync's cells per message: 1-50,000 (default 2,000)."""
    raw = str(value if value not in (None, "") else RESYNC_CHUNK)
    if not raw.isdigit() or not 1 <= int(raw) <= 50_000:
        raise InvalidArgument(
            field, "range",
            "FEDERATION_RESYNC_CHUNK (--chunk) is a whole number of cells"
            " per message from 1 to 50000",
            "FEDERATION_RESYNC_CHUNK（--chunk，每条消息的单元数）"
            "须为 1 至 50000 的整数",
        )  # fmt: skip
    return int(raw)


def configure_capture(db: Database, fed: FederationConfig) -> None:
    """Make the database capture (downstream, relay) or not (any other role):
    the worker calls this at every start, so the setting follows the config."""
    if not is_postgres(db.engine):
        return  # an embedded (SQLite) release does not federate: no trigger
    subtree = fed.subtree if fed.forwards else ""
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


def publish(producer: Producer, body: dict[str, Any], service: str) -> None:
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
                    "SELECT id, origin, division_code, period, vals, version"
                    " FROM federation_outbox WHERE source = :src ORDER BY id"
                    " LIMIT :n FOR UPDATE SKIP LOCKED"
                ),
                {"src": self.rollup, "n": self.batch},
            ).all()
            if not rows:
                return 0
            latest: dict[tuple[str, str, str], Any] = {}
            for r in rows:
                key = (r.origin, r.division_code, r.period)
                if key not in latest or latest[key].version < r.version:
                    latest[key] = r
            body = message(self.fed.name, self.rollup, "delta", latest.values())
            try:
                publish(self._producer(), body, self.service)
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


def message(
    name: str, rollup: str, kind: str, rows: Iterable[Any], **extra: Any
) -> dict[str, Any]:
    """A federation message: this release's own cells in ``cells``, the
    cells its downstreams sent (a relay) in ``relayed`` by origin; each cell
    ``[division_code, period, version, vals]``."""
    own: list[list[Any]] = []
    relayed: dict[str, list[list[Any]]] = {}
    for r in rows:
        cell = [r.division_code, r.period, int(r.version), r.vals]
        (relayed.setdefault(r.origin, []) if r.origin else own).append(cell)
    body: dict[str, Any] = {"downstream": name, "source": rollup, "kind": kind,
                            "cells": own, **extra}  # fmt: skip
    if relayed:
        body["relayed"] = relayed
    return body
