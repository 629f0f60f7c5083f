"""Federation throughput (issue 15): rollup cells ("deltas") relayed by a
downstream and applied by an upstream, against raw kombu publish+consume with
publisher confirms of the same messages, in the same run.

Baseline: kombu publishes ``messages`` bodies of ``cells`` cells each, a
confirm per message, then takes them back with ``basic_get`` and acks them.
Subjects, on a throw-away hours database and vhost of the local servers:

- relay: the downstream's :class:`FederationRelay` drains
  ``federation_outbox`` (filled by the capture trigger from real rollup
  writes) into the local exchange;
- apply: the upstream's :class:`FederationApplier` takes the same number of
  messages from a downstream's queue, checks the subtree and applies each
  cell in a transaction per message.

Reported as cells per second and as a ratio to the baseline's cells per
second (the broker's bound on this machine). No timed assert.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from kombu import Connection, Producer, Queue

from services.common.config import load
from services.common.db import Database
from services.common.federation import (
    FederationConfig,
    FederationRelay,
    configure_capture,
    declare_in,
    declare_out,
    in_exchange,
)
from services.common.federation_apply import FederationApplier
from services.common.tenancy import Scope
from services.common.testing import (
    create_migrated_database,
    create_vhost,
    delete_vhost,
    drop_database,
    drop_templates,
)
from services.hours import rollups
from tests.perf.runner import Benchmark, Report, Settings, ratio, uninterruptible

NAME = "federation"
COUNTY = "610113"


def _say(message: str) -> None:
    print(f"  [{NAME}] {message}", file=sys.stderr, flush=True)


def _bodies(messages: int, cells: int) -> list[dict[str, object]]:
    vals = {"hours": 2.5, "records": 1.0, "volunteers": 1.0}
    return [
        {
            "downstream": "county",
            "source": "hours_rollup",
            "kind": "delta",
            "cells": [
                [f"{COUNTY}{c % 999 + 1:03d}", "2026-11", m * cells + c + 1, vals]
                for c in range(cells)
            ],
        }
        for m in range(messages)
    ]


def _baseline(uri: str, bodies: list[dict[str, object]]) -> float:
    """Seconds to publish (confirmed) and consume (acked) ``bodies``."""
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.default_channel
        queue = Queue("bench.federation.raw", durable=True)
        queue(channel).declare()
        producer = Producer(channel, serializer="json")
        started = time.perf_counter()
        for body in bodies:
            producer.publish(body, routing_key=queue.name, delivery_mode=2)
        bound = queue(channel)
        got = 0
        while got < len(bodies):
            message = bound.get(no_ack=False)
            if message is None:
                continue
            json.loads(message.body)
            message.ack()
            got += 1
        return time.perf_counter() - started


def _apply(db: Database, fed: FederationConfig, uri: str,
           bodies: list[dict[str, object]]) -> float:  # fmt: skip
    """Seconds for the upstream's applier to take and apply ``bodies``
    (published beforehand, confirmed, not timed)."""
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        declare_in(conn.default_channel, "county", "hours")
        producer = Producer(conn.default_channel, serializer="json")
        for body in bodies:
            producer.publish(body, exchange=in_exchange("county"),
                             routing_key="hours", delivery_mode=2)  # fmt: skip
    applier = FederationApplier(db, fed, uri, "hours", "hours_rollup")
    started = time.perf_counter()
    taken = 0
    try:
        while taken < len(bodies):
            taken += applier.apply_once(per_queue=100)
    finally:
        applier.close()
    return time.perf_counter() - started


def _relay(
    db: Database, fed: FederationConfig, uri: str, facts: int
) -> tuple[int, float]:
    """(cells relayed, seconds) for the downstream's relay to drain what
    ``facts`` approvals captured (written beforehand, not timed)."""
    configure_capture(db, fed)
    for start in range(0, facts, 50):
        rows = [
            {
                "volunteer_id": f"v{n}",
                "division_code": f"{COUNTY}{n % 999 + 1:03d}",
                "service_field": "elderly_care",
                "hours": Decimal("1.5"),
                "month": f"2026-{n % 12 + 1:02d}",
            }
            for n in range(start, min(facts, start + 50))
        ]
        with db.session(Scope(COUNTY)) as s:
            rollups.apply_approved(s, rows)
    with Connection(uri) as conn:
        declare_out(conn.default_channel)
    relay = FederationRelay(db, fed, uri, "hours", "hours_rollup")
    started = time.perf_counter()
    sent = 0
    try:
        while True:
            n = relay.relay_once()
            if not n:
                break
            sent += n
    finally:
        relay.close()
    return sent, time.perf_counter() - started


def run(settings: Settings) -> Report:
    messages = settings.pick(400, 60)
    cells = 20
    facts = settings.pick(2000, 300)
    bodies = _bodies(messages, cells)
    with contextlib.ExitStack() as stack:
        with uninterruptible():
            uri = create_vhost()
            stack.callback(delete_vhost, uri)
        with uninterruptible():
            url = create_migrated_database(load().service("hours"), "zy_bench_fed")
            stack.callback(drop_templates)
            stack.callback(drop_database, url)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (tmp / "downstreams.json").write_text(json.dumps(
            [{"name": "county", "subtree": COUNTY, "username": ""}]
        ))  # fmt: skip
        cfg = load().service("hours")
        db = Database(dataclasses.replace(cfg, database_url=url))
        stack.callback(db.dispose)
        fed = FederationConfig(
            role="downstream", name="county", subtree=COUNTY, upstream_uri="",
            downstreams_file=str(tmp / "downstreams.json"), management_url="",
            interval_seconds=0.1,
        )  # fmt: skip
        _say(f"baseline: {messages} messages × {cells} cells, kombu with confirms")
        base_s = _baseline(uri, bodies)
        _say("apply: the upstream's applier on the same messages")
        apply_s = _apply(db, fed, uri, bodies)
        _say(f"relay: {facts} approvals captured, then relayed")
        relayed, relay_s = _relay(db, fed, uri, facts)
    total = messages * cells
    base_rate, apply_rate = total / base_s, total / apply_s
    relay_rate = relayed / relay_s if relay_s else 0.0
    rows = [
        ["kombu publish+consume (confirms)", round(base_rate), 1.0],
        ["upstream apply", round(apply_rate), round(ratio(apply_rate, base_rate), 2)],
        ["downstream relay", round(relay_rate), round(ratio(relay_rate, base_rate), 2)],
    ]
    return Report(
        title=f"Federation deltas: {messages} messages × {cells} cells",
        columns=["path", "cells/s", "× baseline"],
        rows=rows,
        data={
            "messages": messages,
            "cells_per_message": cells,
            "baseline_cells_s": base_rate,
            "apply_cells_s": apply_rate,
            "relay_cells_s": relay_rate,
            "relayed_cells": relayed,
        },  # fmt: skip
        notes=[
            "the shovel between two nodes is not measured here: the fault "
            "tier's two-release test measures the end-to-end lag",
        ],
    )


BENCHMARK = Benchmark(NAME, "federation deltas relayed/applied vs raw kombu", run)
