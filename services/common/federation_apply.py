"""Federation, the upstream's side (see :mod:`services.common.federation`):
take each registered downstream's messages from its queue, refuse (park in
the DLQ, count, log at ERROR) any that names a cell outside the downstream's
registered subtree, and apply the others idempotently: a cell only moves to
a higher version. Deltas taken together are applied in one transaction; a
re-sync alone, overwriting what it finds at its version or below and
removing the downstream's cells it no longer has.

Example::

    applier = FederationApplier(db, fed, amqp_uri, "hours", "hours_rollup")
    while applier.apply_once():
        pass
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Producer, Queue
from prometheus_client import Counter
from sqlalchemy import text

from services.common.db import Database, is_postgres
from services.common.deadletter import StateLog
from services.common.federation import (
    Downstream,
    FederationConfig,
    declare_in,
    in_queue,
)

log = logging.getLogger(__name__)

REFUSED = Counter(
    "zhiyuan_federation_refused",
    "Federation messages refused (parked in the DLQ), by downstream and reason",
    ["downstream", "reason"],
)
APPLIED = Counter(
    "zhiyuan_federation_cells",
    "Federated cells received, by downstream",
    ["downstream"],
)


class Refused(Exception):
    """A message the upstream will not apply (parked, alerted)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def check(body: Any, downstream: Downstream, user_id: str | None) -> None:
    """Refuse a message that is malformed, was published by another broker
    user, or names a cell outside the downstream's registered subtree."""
    if user_id and user_id != downstream.username:
        raise Refused("user", f"published by {user_id!r}, not {downstream.username!r}")
    if not isinstance(body, dict) or body.get("kind") not in ("delta", "resync"):
        raise Refused("malformed", "not a federation message")
    cells = body.get("cells")
    if not isinstance(cells, list):
        raise Refused("malformed", "no cells")
    for cell in cells:
        if not (isinstance(cell, list) and len(cell) == 4):
            raise Refused("malformed", f"bad cell {cell!r:.80}")
        code = str(cell[0])
        if not (code.isdigit() and code.startswith(downstream.subtree)):
            raise Refused(
                "outside_subtree",
                f"division {code} is outside {downstream.name}'s subtree "
                f"{downstream.subtree}",
            )


@dataclass
class _Batch:
    messages: list[Any] = field(default_factory=list)
    cells: list[Any] = field(default_factory=list)


class FederationApplier:
    """Upstream: applies what each registered downstream sent."""

    def __init__(
        self, db: Database, fed: FederationConfig, amqp_uri: str,
        service: str, rollup: str,
    ):  # fmt: skip
        self.db, self.fed, self.amqp_uri = db, fed, amqp_uri
        self.service, self.rollup = service, rollup
        self.table = f"federated_{rollup}"
        self._conn: Connection | None = None
        self._declared: set[str] = set()
        self._broker = StateLog(log, f"{service} federation apply: broker")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.release()
            self._conn = None
            self._declared.clear()

    def apply_once(self, per_queue: int = 50) -> int:
        """Take up to ``per_queue`` messages from each downstream's queue and
        apply or park each; returns how many messages were taken."""
        taken = 0
        try:
            if self._conn is None:
                self._conn = Connection(
                    self.amqp_uri,
                    transport_options={"confirm_publish": True},
                    connect_timeout=5,
                )
            channel = self._conn.default_channel
            for d in self.fed.downstreams():
                if d.name not in self._declared:
                    declare_in(channel, d.name, self.service)
                    self._declared.add(d.name)
                queue = Queue(in_queue(d.name, self.service), durable=True)(channel)
                batch = _Batch()
                for _ in range(per_queue):
                    message = queue.get(no_ack=False, accept=["json"])
                    if message is None:
                        break
                    taken += 1
                    self._handle(channel, d, message, batch)
                self._flush(d, batch)
        except Exception as exc:
            self.close()
            self._broker.failed(exc)
            raise
        self._broker.ok()
        return taken

    def _handle(self, channel: Any, d: Downstream, message: Any, batch: _Batch) -> None:
        """Park a refused message at once; gather deltas into ``batch`` (one
        transaction for all); apply a re-sync alone, after the deltas before
        it."""
        user_id = message.properties.get("user_id")
        try:
            try:
                body = json.loads(message.body)
            except ValueError as exc:
                raise Refused("undecodable", str(exc)) from exc
            check(body, d, user_id)
        except Refused as refused:
            self._park(channel, d, message, refused)
            return
        if body["kind"] == "resync":
            self._flush(d, batch)
            self.apply(d.name, body)
            APPLIED.labels(d.name).inc(len(body["cells"]))
            message.ack()
            return
        batch.messages.append(message)
        batch.cells.extend(body["cells"])

    def _flush(self, d: Downstream, batch: _Batch) -> None:
        """Apply the gathered deltas in one transaction, then ack them all (a
        crash in between redelivers them: applying again changes nothing)."""
        if not batch.messages:
            return
        self.apply(d.name, {"kind": "delta", "cells": batch.cells})
        APPLIED.labels(d.name).inc(len(batch.cells))
        for message in batch.messages:
            message.ack()
        batch.messages, batch.cells = [], []

    def _park(self, channel: Any, d: Downstream, message: Any, why: Refused) -> None:
        dlq = f"{in_queue(d.name, self.service)}.dlq"
        Producer(channel).publish(
            message.body,
            exchange="",
            routing_key=dlq,
            delivery_mode=2,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            headers={
                "x-zhiyuan-refused": why.reason,
                "x-zhiyuan-detail": why.detail[:500],
                "x-zhiyuan-downstream": d.name,
            },
            retry=False,
        )
        message.ack()
        REFUSED.labels(d.name, why.reason).inc()
        with self.db.session(None) as s:
            self._touch(s, d.name, refused=1, version=0, delta=False)
        log.error(
            "federation: refused a message from downstream %s (%s): %s; parked in %s",
            d.name, why.reason, why.detail, dlq,
        )  # fmt: skip

    def apply(self, downstream: str, body: dict[str, Any]) -> None:
        """Apply one accepted message in one transaction."""
        latest: dict[tuple[str, str], list[Any]] = {}
        for code, period, version, vals in body["cells"]:
            key = (str(code), str(period))
            if key not in latest or latest[key][2] < int(version):
                latest[key] = [key[0], key[1], int(version), vals]
        cells = json.dumps(
            [{"c": c, "p": p, "ver": v, "v": vals} for c, p, v, vals in latest.values()]
        )
        resync = body["kind"] == "resync"
        # A re-sync overwrites what it finds at its version or below (a cell
        # corrupted by hand keeps its version); a delta only what is older.
        newer = "<=" if resync else "<"
        t = self.table
        with self.db.session(None) as s:
            s.execute(
                text(
                    f"INSERT INTO {t} AS f (downstream, division_code, period,"
                    " vals, version, applied_at)"
                    " SELECT :d, x.c, x.p, x.v, x.ver, now()"
                    " FROM jsonb_to_recordset(CAST(:cells AS jsonb))"
                    " AS x(c text, p text, ver bigint, v jsonb)"
                    " ON CONFLICT (downstream, division_code, period) DO UPDATE"
                    " SET vals = EXCLUDED.vals, version = EXCLUDED.version,"
                    " applied_at = EXCLUDED.applied_at"
                    f" WHERE f.version {newer} EXCLUDED.version"
                ),
                {"d": downstream, "cells": cells},
            )
            if resync:
                s.execute(
                    text(
                        f"DELETE FROM {t} f WHERE f.downstream = :d"
                        " AND f.version < :v AND NOT EXISTS (SELECT 1 FROM"
                        " jsonb_to_recordset(CAST(:cells AS jsonb))"
                        " AS x(c text, p text)"
                        " WHERE x.c = f.division_code AND x.p = f.period)"
                    ),
                    {"d": downstream, "v": int(body["version"]), "cells": cells},
                )
            top = max((c[2] for c in latest.values()), default=0)
            self._touch(s, downstream, refused=0, version=top, delta=True)

    def _touch(self, s: Any, downstream: str, *, refused: int, version: int,
               delta: bool) -> None:  # fmt: skip
        s.execute(
            text(
                "INSERT INTO federation_links AS l (downstream, source,"
                " last_delta_at, last_version, refused)"
                " VALUES (:d, :src, CASE WHEN :delta THEN now() END, :v, :r)"
                " ON CONFLICT (downstream, source) DO UPDATE SET"
                " last_delta_at = coalesce(EXCLUDED.last_delta_at, l.last_delta_at),"
                " last_version = greatest(l.last_version, EXCLUDED.last_version),"
                " refused = l.refused + EXCLUDED.refused"
            ),
            {"d": downstream, "src": self.rollup, "v": version, "r": refused,
             "delta": delta},
        )  # fmt: skip


@dataclass(frozen=True)
class FederatedCell:
    downstream: str
    division_code: str
    period: str
    metrics: dict[str, float]


def read_federated(
    db: Database, rollup: str, subtree: str, periods: Sequence[str] = (),
    level: int | None = None,
) -> tuple[list[FederatedCell], dict[str, Any]]:  # fmt: skip
    """The federated cells under ``subtree`` (at ``level`` digits, in
    ``periods``; empty: all), and each downstream's time of last delta
    (none in an embedded release, which does not federate)."""
    if not is_postgres(db.engine):
        return [], {}
    where = ["left(f.division_code, length(:sub)) = :sub"]
    params: dict[str, Any] = {"sub": subtree}
    if periods:
        where.append("f.period = ANY(:periods)")
        params["periods"] = list(periods)
    if level is not None:
        where.append("length(f.division_code) = :level")
        params["level"] = level
    with db.session(None) as s:
        rows = s.execute(
            text(
                "SELECT downstream, division_code, period, vals"
                f" FROM federated_{rollup} f WHERE {' AND '.join(where)}"
                " ORDER BY division_code, period, downstream"
            ),
            params,
        ).all()
        links = s.execute(
            text(
                "SELECT downstream, last_delta_at FROM federation_links"
                " WHERE source = :src ORDER BY downstream"
            ),
            {"src": rollup},
        ).all()
    cells = [
        FederatedCell(
            r.downstream,
            r.division_code,
            r.period,
            {k: float(v) for k, v in dict(r.vals).items()},
        )  # fmt: skip
        for r in rows
    ]
    return cells, {r.downstream: r.last_delta_at for r in links}
