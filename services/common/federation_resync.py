"""Federation's full re-sync (``zhiyuan federation resync``; see
:mod:`services.common.federation`): a downstream (or relay) release reads a
snapshot of its subtree with one version and sends it in chunks, then an end
marker.

- The snapshot is read in one short transaction, writers held off for the
  moment of the read (``federation_snapshot_all``), and spooled to a
  temporary file, so neither the lock nor the process's memory grows with
  the subtree: a province's tens of thousands of villages × periods are
  sent ``chunk`` cells a message (default 2,000).
- Every chunk (``kind: resync``) carries the snapshot's version; the upstream
  overwrites the cells it holds at that version or below. Only the end
  marker (``kind: resync_end``: version, chunks and cells sent) lets it
  remove the downstream's cells the snapshot no longer has, and only when it
  holds at least as many of the downstream's cells at that version or newer
  as the snapshot had. A re-sync cut before its end marker (the command
  stopped, the broker gone) therefore removes nothing; running it again
  completes it. A chunk delivered twice changes nothing.
- Through a relay (a province's release): the snapshot holds its own cells
  and every cell its downstreams sent, each with its origin, so the nation's
  copy of the whole province, counties included, is corrected in one run.

Example::

    sent = resync(db, fed, amqp_uri, "hours", "hours_rollup", chunk=2000,
                  progress=lambda done, total: print(done, "/", total))
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

from kombu import Connection, Producer
from sqlalchemy import text

from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.federation import (
    FederationConfig,
    chunk_size,
    declare_out,
    message,
    publish,
)

Progress = Callable[[int, int], None]  # cells sent, cells in the snapshot


class Cell(NamedTuple):
    origin: str
    division_code: str
    period: str
    vals: Any
    version: int


def resync(
    db: Database, fed: FederationConfig, amqp_uri: str, service: str, rollup: str,
    chunk: int | None = None, progress: Progress | None = None,
) -> int:  # fmt: skip
    """Send a snapshot of every cell of the subtree (own and, for a relay,
    relayed) in chunks with one version, then the end marker; the number of
    cells sent. ``progress`` is called after each chunk; an exception it
    raises stops the re-sync before its end marker (nothing is removed)."""
    if not fed.forwards or not fed.subtree:
        raise InvalidArgument(
            "federation.role", "downstream",
            "a re-sync is sent by a downstream or relay release (FEDERATION_ROLE="
            "downstream or relay, with FEDERATION_SUBTREE set)",
            "只有下级或中继部署（FEDERATION_ROLE=downstream 或 relay，且设置了"
            " FEDERATION_SUBTREE）才能发起全量重新同步",
        )  # fmt: skip
    size = chunk_size(chunk if chunk is not None else fed.resync_chunk, "chunk")
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        marker, total = snapshot(db, rollup, fed.subtree, spool)
        spool.seek(0)
        with Connection(
            amqp_uri, transport_options={"confirm_publish": True}, connect_timeout=5
        ) as conn:
            declare_out(conn.default_channel)
            producer = Producer(conn.default_channel, serializer="json")
            sent = chunks = 0
            for cells in _read(spool, size, marker):
                body = message(fed.name, rollup, "resync", cells,
                               version=marker, chunk=chunks)  # fmt: skip
                publish(producer, body, service)
                sent, chunks = sent + len(cells), chunks + 1
                if progress is not None:
                    progress(sent, total)
            end = {"downstream": fed.name, "source": rollup, "kind": "resync_end",
                   "version": marker, "chunks": chunks, "total": total}  # fmt: skip
            publish(producer, end, service)
    return total


def snapshot(
    db: Database, rollup: str, subtree: str, spool: IO[str]
) -> tuple[int, int]:
    """Write the subtree's cells to ``spool`` (JSON lines ``[origin, code,
    period, vals]``); the snapshot's version and its number of cells."""
    total, marker = 0, 0
    with db.session(None) as s:
        rows = s.execute(
            text(
                "SELECT origin, division_code, period, vals, version"
                " FROM federation_snapshot_all(:src, :sub)"
            ).execution_options(stream_results=True, max_row_buffer=5000),
            {"src": rollup, "sub": subtree},
        )
        for r in rows:
            marker = int(r.version)
            spool.write(json.dumps([r.origin, r.division_code, r.period, r.vals]))
            spool.write("\n")
            total += 1
        if not total:
            # Still in the snapshot's transaction: writers wait, so the
            # sequence stands at the snapshot's version.
            version = s.execute(text("SELECT last_value FROM federation_version"))
            marker = int(version.scalar_one())
    return marker, total


def _read(spool: IO[str], size: int, version: int) -> Iterator[list[Cell]]:
    cells: list[Cell] = []
    for line in spool:
        origin, code, period, vals = json.loads(line)
        cells.append(Cell(origin, code, period, vals, version))
        if len(cells) == size:
            yield cells
            cells = []
    if cells:
        yield cells
