"""Federation, the upstream's side (see :mod:`services.common.federation`):
take each registered downstream's messages from its queue, refuse (park in
the DLQ, count, log at ERROR) any that names a cell outside the downstream's
registered subtree, and apply the others idempotently: a cell only moves to
a higher version. Deltas taken together are applied in one transaction; a
re-sync chunk alone, overwriting what it finds at its version or below; a
re-sync's end marker removes the downstream's cells it no longer had. A
relay's message carries its downstreams' cells too (``relayed``, by
origin), kept under ``<sender>/<origin>``.

Example::

    applier = FederationApplier(db, fed, amqp_uri, "hours", "hours_rollup")
    while applier.apply_once():
        pass
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Producer, Queue
from prometheus_client import Counter
from sqlalchemy import text

from services.common.db import Database, is_postgres
from services.common.deadletter import StateLog
from services.common.errors import TRANSIENT, failure_kind
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


# A downstream path: a relay's downstream's name, or names joined by "/".
ORIGIN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}(/[a-z0-9][a-z0-9_-]{0,62}){0,2}$")
KINDS = ("delta", "resync", "resync_end")
# A cell's period as the rollups store it: a month, a calendar year, all time.
PERIOD = re.compile(r"^(all|[0-9]{4}(-(0[1-9]|1[0-2]))?)$")


def check(body: Any, downstream: Downstream, user_id: str | None) -> None:
    """Refuse a message that is malformed, was published by another broker
    user, or names a cell outside the downstream's registered subtree (its
    own cells and those a relay forwards for its downstreams alike: the
    relay vouches for its downstreams, whose subtrees it checked)."""
    if user_id and user_id != downstream.username:
        raise Refused("user", f"published by {user_id!r}, not {downstream.username!r}")
    if not isinstance(body, dict) or body.get("kind") not in KINDS:
        raise Refused("malformed", "not a federation message")
    if body["kind"] == "resync_end":
        if not all(isinstance(body.get(k), int) for k in ("version", "total")):
            raise Refused("malformed", "an end marker names its version and total")
        return
    relayed = body.get("relayed", {})
    if not isinstance(body.get("cells"), list) or not isinstance(relayed, dict):
        raise Refused("malformed", "no cells")
    if body["kind"] == "resync" and not isinstance(body.get("version"), int):
        raise Refused("malformed", "a re-sync chunk names its version")
    for origin, cells in [("", body["cells"]), *relayed.items()]:
        if origin and not ORIGIN.match(str(origin)):
            raise Refused("malformed", f"bad origin {origin!r:.80}")
        if len(f"{downstream.name}/{origin}") > 255:  # the key's width
            raise Refused("malformed", f"origin too long {origin!r:.80}")
        if not isinstance(cells, list):
            raise Refused("malformed", f"no cells for origin {origin!r:.80}")
        for cell in cells:
            _check_cell(cell, downstream)


def _check_cell(cell: Any, downstream: Downstream) -> None:
    # Values are an object, or null: a cell its sender removed (a relay's).
    if not (
        isinstance(cell, list)
        and len(cell) == 4
        and isinstance(cell[2], int)
        and (cell[3] is None or isinstance(cell[3], dict))
    ):
        raise Refused("malformed", f"bad cell {cell!r:.80}")
    code = str(cell[0])
    if not (code.isdigit() and code.startswith(downstream.subtree)):
        raise Refused(
            "outside_subtree",
            f"division {code} is outside {downstream.name}'s subtree "
            f"{downstream.subtree}",
        )
    # What the columns and the readers take: a division code of at most 12
    # digits, a stored period, numbers named by short keys.
    if len(code) > 12 or not PERIOD.match(str(cell[1])):
        raise Refused("malformed", f"bad division or period in {cell!r:.80}")
    values = cell[3] or {}
    if not all(
        isinstance(k, str)
        and len(k) <= 63
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        for k, v in values.items()
    ):
        raise Refused("malformed", f"bad values in {cell!r:.80}")


def cells_of(sender: str, body: dict[str, Any]) -> list[list[Any]]:
    """A checked message's cells, each ``[path, code, period, version,
    vals]``: the sender's own under its name, a relayed one under
    ``<sender>/<origin>``."""
    if body["kind"] == "resync_end":
        return []
    groups = [(sender, body["cells"])]
    groups += [(f"{sender}/{o}", c) for o, c in body.get("relayed", {}).items()]
    return [[path, *cell] for path, cells in groups for cell in cells]


@dataclass
class _Batch:
    # Each delta message with its cells, [path, code, period, version, vals].
    items: list[tuple[Any, list[list[Any]]]] = field(default_factory=list)


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
                self._flush(channel, d, batch)
        except Exception as exc:
            self.close()
            self._broker.failed(exc)
            raise
        self._broker.ok()
        return taken

    def _handle(self, channel: Any, d: Downstream, message: Any, batch: _Batch) -> None:
        """Park a refused message at once; gather deltas into ``batch`` (one
        transaction for all); apply a re-sync chunk or end marker alone,
        after the deltas before it."""
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
        if body["kind"] != "delta":
            self._flush(channel, d, batch)
            try:
                self.apply(d.name, body)
            except Exception as exc:
                self._park_failed(channel, d, message, exc)
                return
            APPLIED.labels(d.name).inc(len(cells_of(d.name, body)))
            message.ack()
            return
        batch.items.append((message, cells_of(d.name, body)))

    def _flush(self, channel: Any, d: Downstream, batch: _Batch) -> None:
        """Apply the gathered deltas in one transaction, then ack them all (a
        crash in between redelivers them: applying again changes nothing).
        If that fails for good (not a database or broker outage), each is
        applied alone and the one at fault parked, so it cannot block the
        queue behind it."""
        items, batch.items = batch.items, []
        if not items:
            return
        try:
            self._upsert(d.name, [c for _, cells in items for c in cells], "<")
        except Exception as exc:
            if failure_kind(exc) == TRANSIENT:
                raise
            for message, cells in items:
                try:
                    self._upsert(d.name, cells, "<")
                except Exception as one:
                    self._park_failed(channel, d, message, one)
                    continue
                APPLIED.labels(d.name).inc(len(cells))
                message.ack()
            return
        APPLIED.labels(d.name).inc(sum(len(cells) for _, cells in items))
        for message, _ in items:
            message.ack()

    def _park_failed(
        self, channel: Any, d: Downstream, message: Any, exc: Exception
    ) -> None:
        """Park a message whose apply failed for good; an outage (database,
        broker) is raised instead, and the message comes back next tick."""
        if failure_kind(exc) == TRANSIENT:
            raise exc
        detail = f"{type(exc).__name__}: {exc}"
        self._park(channel, d, message, Refused("apply_failed", detail))

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
        """Apply one accepted message in one transaction: deltas only move a
        cell to a higher version; a re-sync chunk overwrites what it finds at
        its version or below (a cell corrupted by hand keeps its version);
        an end marker removes what the snapshot no longer had."""
        if body["kind"] == "resync_end":
            self._end_resync(downstream, body)
            return
        newer = "<=" if body["kind"] == "resync" else "<"
        self._upsert(downstream, cells_of(downstream, body), newer)

    def _upsert(self, downstream: str, rows: list[list[Any]], newer: str) -> None:
        latest: dict[tuple[str, str, str], list[Any]] = {}
        for path, code, period, version, vals in rows:
            key = (str(path), str(code), str(period))
            if key not in latest or latest[key][3] < int(version):
                latest[key] = [*key, int(version), vals]
        cells = json.dumps(
            [
                {"d": d, "c": c, "p": p, "ver": v, "v": vals}
                for d, c, p, v, vals in latest.values()
                if vals is not None
            ]
        )
        removed = json.dumps(
            [
                {"d": d, "c": c, "p": p, "ver": v}
                for d, c, p, v, vals in latest.values()
                if vals is None
            ]
        )
        t = self.table
        with self.db.session(None) as s:
            # A removal takes out only an older cell (none is kept of it: a
            # delta older still, arriving after it, would bring the cell back
            # until the next re-sync).
            s.execute(
                text(
                    f"DELETE FROM {t} f USING jsonb_to_recordset(CAST(:rm AS jsonb))"
                    " AS x(d text, c text, p text, ver bigint)"
                    " WHERE f.downstream = x.d AND f.division_code = x.c"
                    f" AND f.period = x.p AND f.version {newer} x.ver"
                ),
                {"rm": removed},
            )
            s.execute(
                text(
                    f"INSERT INTO {t} AS f (downstream, division_code, period,"
                    " vals, version, applied_at)"
                    " SELECT x.d, x.c, x.p, x.v, x.ver, now()"
                    " FROM jsonb_to_recordset(CAST(:cells AS jsonb))"
                    " AS x(d text, c text, p text, ver bigint, v jsonb)"
                    " ON CONFLICT (downstream, division_code, period) DO UPDATE"
                    " SET vals = EXCLUDED.vals, version = EXCLUDED.version,"
                    " applied_at = EXCLUDED.applied_at"
                    f" WHERE f.version {newer} EXCLUDED.version"
                ),
                {"cells": cells},
            )
            top = max((c[3] for c in latest.values()), default=0)
            self._touch(s, downstream, refused=0, version=top, delta=True)

    def _end_resync(self, downstream: str, body: dict[str, Any]) -> None:
        """Remove the downstream's cells (its relayed ones too) older than
        the snapshot, once every chunk is in: the cells at the snapshot's
        version or newer are at least as many as it sent. Else (a chunk
        missing) remove nothing and say so."""
        mine = (
            f" FROM {self.table} f WHERE (f.downstream = :d"
            " OR left(f.downstream, length(:d) + 1) = :d || '/')"
        )
        params = {"d": downstream, "v": int(body["version"])}
        with self.db.session(None) as s:
            held = s.execute(
                text(f"SELECT count(*){mine} AND f.version >= :v"), params
            ).scalar_one()
            if held < int(body["total"]):
                log.error(
                    "federation: re-sync %s from %s ended with %s of its %s cells"
                    " in; nothing removed (run the re-sync again)",
                    body["version"], downstream, held, body["total"],
                )  # fmt: skip
                return
            s.execute(text(f"DELETE{mine} AND f.version < :v"), params)
            self._touch(s, downstream, refused=0, version=0, delta=True)

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
    (a relayed path's: its sender's; none in an embedded release, which
    does not federate)."""
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
    last = {r.downstream: r.last_delta_at for r in links}
    # A relayed path (shaanxi/yanta) was last heard of through its sender.
    for c in cells:
        last.setdefault(c.downstream, last.get(c.downstream.split("/")[0]))
    return cells, last
