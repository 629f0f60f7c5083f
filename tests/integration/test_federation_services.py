"""Federation of the other four services' rollups (issue 15): registration,
activity, recycling and commendation forward their rollup cells exactly as
hours does (tests/faults/test_federation.py runs hours across two releases).

For each service, two private databases of it: a county's release (the
downstream, capturing its subtree) and a province's (the upstream). Facts
are counted in the county's rollup through the service's own write path (a
unit of work's ``bump``, as every use case does); the trigger's outbox rows
carry each changed cell with a version; the province's
:class:`FederationApplier` takes them from its queue for the county on the
session's private vhost (what the shovel would have delivered) and applies
them; the province's ``summarize_federated`` then answers exactly what the
county's own ``summarize`` does, every metric, at two levels and for the
nation. A forged cell outside the county's registered subtree is refused
(parked, counted) and changes nothing.

Example::

    pytest tests/integration/test_federation_services.py -q -k activity
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer, Queue
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.federation import (
    FederationConfig,
    configure_capture,
    in_exchange,
    in_queue,
)
from services.common.federation_apply import FederationApplier, read_federated
from services.common.rollup_query import RollupResult
from services.common.tenancy import Level, Scope
from services.common.testing import create_migrated_database, drop_database
from services.common.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

SERVICES = ("registration", "activity", "recycling", "commendation")
COUNTY, NEIGHBOUR = "610113", "610112"
# (township, month, base): each fact in its own transaction, two of them on
# the same township so that a cell is written twice (its version grows).
FACTS = [
    ("610113001", "2026-03", 1.0),
    ("610113002", "2026-03", 2.0),
    ("610113001", "2026-04", 4.0),
    ("610113001", "2026-03", 8.0),
]
OUTSIDE = ("610112001", "2026-03", 16.0)  # the neighbour's: never captured
Cells = dict[tuple[str, str], dict[str, float]]


def _queries(service: str, db: Database) -> Any:
    """The service's read side, whose ``summarize`` and
    ``summarize_federated`` its api serves."""
    if service == "registration":
        from services.registration.queries import RegistrationQueries

        return RegistrationQueries(db, None)  # type: ignore[arg-type]
    if service == "activity":
        from services.activity.queries import ActivityQueries

        return ActivityQueries(db)
    if service == "recycling":
        from services.recycling.queries import RecyclingQueries

        return RecyclingQueries(db)
    from services.commendation.queries import CommendationQueries

    # Its summaries read only the context's database.
    return CommendationQueries(SimpleNamespace(db=db))  # type: ignore[arg-type]


def _fed(role: str, *, subtree: str = "", downstreams: str = "") -> FederationConfig:
    """The ``federation:`` section as a release so configured reads it."""
    env = {
        **os.environ,
        "FEDERATION_ROLE": role,
        "FEDERATION_NAME": "county" if role == "downstream" else "province",
        "FEDERATION_SUBTREE": subtree,
        "FEDERATION_DOWNSTREAMS_FILE": downstreams,
    }
    return FederationConfig.from_config(load(env=env))


def caller(scope: str, *roles: str) -> Principal:
    return Principal(
        "t", f"t-{scope}", scope, frozenset(roles or ("province_admin",)), 2**40
    )


@pytest.fixture(scope="module", params=SERVICES)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    amqp_uri: str,
) -> Iterator[SimpleNamespace]:
    """The service's county (downstream, capturing ``COUNTY``) and province
    (upstream, the county registered under a unique name) databases, the
    facts counted in the county, and the province's applier."""
    service = request.param
    models = __import__(f"services.{service}.models", fromlist=["ROLLUP"])
    svc = load().service(service)
    urls = [create_migrated_database(svc, f"zy_fed_{service[:4]}") for _ in "du"]
    down, up = (
        Database(type(svc)(**{**svc.__dict__, "database_url": u})) for u in urls
    )
    name = f"county-{uuid.uuid4().hex[:8]}"
    registered = Path(tmp_path_factory.mktemp("fed")) / "downstreams.json"
    registered.write_text(
        json.dumps([{"name": name, "subtree": COUNTY, "username": "guest"}]),
        encoding="utf-8",
    )
    applier = FederationApplier(
        up, _fed("upstream", downstreams=str(registered)), amqp_uri, service,
        models.ROLLUP.table_name,
    )  # fmt: skip
    try:
        configure_capture(down, _fed("downstream", subtree=COUNTY))
        uow = UnitOfWork(down, models.OUTBOX)
        for code, month, base in [*FACTS, OUTSIDE]:
            deltas = {m: base * (i + 1) for i, m in enumerate(models.ROLLUP.metrics)}
            with uow(Scope(code)) as work:
                work.bump(models.ROLLUP, code, month, **deltas)
        applier.apply_once()  # declares the county's queue and its DLQ
        yield SimpleNamespace(
            service=service, rollup=models.ROLLUP, down=down, up=up, name=name,
            applier=applier, uri=amqp_uri, up_url=urls[1],
            own=_queries(service, down), fed=_queries(service, up),
        )  # fmt: skip
    finally:
        applier.close()
        with Connection(amqp_uri) as conn:
            for queue in (in_queue(name, service), f"{in_queue(name, service)}.dlq"):
                Queue(queue)(conn.default_channel).delete()
            Exchange(in_exchange(name))(conn.default_channel).delete()
        for db in (down, up):
            db.dispose()
        for url in urls:
            drop_database(url)


def outbox(w: SimpleNamespace) -> list[Any]:
    with w.down.session(None) as s:
        return list(
            s.execute(
                text(
                    "SELECT division_code, period, vals, version"
                    " FROM federation_outbox WHERE source = :src ORDER BY id"
                ),
                {"src": w.rollup.table_name},
            )
        )


def county_cells(w: SimpleNamespace) -> Cells:
    """The county's own rollup cells of its subtree (read in its scope)."""
    with w.down.session(Scope(COUNTY)) as s:
        rows = s.execute(
            text(
                "SELECT division_code, period,"
                " to_jsonb(r) - 'level' - 'division_code' - 'period' AS vals"
                f" FROM {w.rollup.table_name} r"
            )
        )
        return {(r.division_code, r.period): _floats(r.vals) for r in rows}


def province_cells(w: SimpleNamespace) -> Cells:
    cells, _ = read_federated(w.up, w.rollup.table_name, "")
    assert all(c.downstream == w.name for c in cells)
    return {(c.division_code, c.period): c.metrics for c in cells}


def _floats(vals: Any) -> dict[str, float]:
    return {k: float(v) for k, v in dict(vals).items()}


def publish(w: SimpleNamespace, cells: list[list[Any]]) -> None:
    """A delta message as the county's relay sends it, on the province's
    queue for the county (where the shovel delivers), confirmed."""
    body = {"downstream": w.name, "source": w.rollup.table_name, "kind": "delta",
            "cells": cells}  # fmt: skip
    with Connection(w.uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.default_channel, serializer="json").publish(
            body,
            exchange=Exchange(in_exchange(w.name), type="direct"),
            routing_key=w.service,
            delivery_mode=2,
            retry=False,
        )


def depth(w: SimpleNamespace, queue: str) -> int:
    with Connection(w.uri) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
        return int(count)


def summary(q: Any, method: str, p: Principal, node: str, level: Level,
            period: tuple[str, str]) -> RollupResult:  # fmt: skip
    found = getattr(q, method)(p, node, level, *period, False)
    return found[0] if isinstance(found, tuple) else found


def only(metrics: dict[str, float], names: Any) -> dict[str, float]:
    """The federated rollup's metrics of a Summarize row (registration's
    joins its positions, which are not federated)."""
    return {m: metrics[m] for m in names}


@pytest.fixture(scope="module")
def applied(world: SimpleNamespace) -> SimpleNamespace:
    """The county's captured cells, published and applied at the province."""
    rows = outbox(world)
    publish(world, [[r.division_code, r.period, int(r.version), r.vals] for r in rows])
    assert world.applier.apply_once() == 1
    return world


def test_the_rollup_write_path_captures_the_subtrees_cells_with_versions(
    world: SimpleNamespace,
) -> None:
    rows = outbox(world)
    mine = county_cells(world)
    # Every changed cell of the county's subtree, and nothing outside it
    # (neither the neighbour's township nor the city and province above).
    assert {(r.division_code, r.period) for r in rows} == set(mine)
    assert all(r.division_code.startswith(COUNTY) for r in rows)
    # A cell written twice has two versions, growing in commit order; the
    # latest carries the cell's values as they stand.
    latest: dict[tuple[str, str], Any] = {}
    for r in rows:
        key = (r.division_code, r.period)
        assert r.version > 0
        if key in latest:
            assert r.version > latest[key].version
        latest[key] = r
    assert len(rows) > len(latest)
    assert {k: _floats(r.vals) for k, r in latest.items()} == mine
    first = world.rollup.metrics[0]
    assert mine[(COUNTY, "all")][first] == 15.0  # 1 + 2 + 4 + 8


def test_the_province_holds_the_countys_cells_exactly_once(
    applied: SimpleNamespace,
) -> None:
    w = applied
    assert province_cells(w) == county_cells(w)
    # The same message again, and an older value of a cell late: no change.
    rows = outbox(w)
    publish(w, [[r.division_code, r.period, int(r.version), r.vals] for r in rows])
    oldest = rows[0]
    stale = dict(_floats(oldest.vals), **{w.rollup.metrics[0]: -1.0})
    publish(w, [[oldest.division_code, oldest.period, int(oldest.version), stale]])
    assert w.applier.apply_once() == 2
    assert province_cells(w) == county_cells(w)


@pytest.mark.parametrize("period", [("", ""), ("2026-03", "2026-03")])
def test_summarize_federated_equals_the_countys_own_summarize(
    applied: SimpleNamespace, period: tuple[str, str]
) -> None:
    w = applied
    names = list(w.rollup.metrics)
    county = caller(COUNTY, "tenant_admin")
    own = summary(w.own, "summarize", county, COUNTY, Level.TOWNSHIP, period)
    assert any(own.total.values())
    own_rows = {c: only(m, names) for c, _, m in own.rows}
    own_total = only(own.total, names)
    # At the county, by township: the same rows and total, every metric.
    fed = summary(w.fed, "summarize_federated", caller("61"), COUNTY,
                  Level.TOWNSHIP, period)  # fmt: skip
    assert fed.metric_names == names
    assert {c: m for c, _, m in fed.rows} == own_rows
    assert fed.total == own_total
    # At the province, by county: one row, the county's total; the same for
    # the nation drilling down to the province.
    for who in (caller("61"), caller("CN")):
        fed = summary(w.fed, "summarize_federated", who, "61", Level.COUNTY, period)
        assert {c: m for c, _, m in fed.rows} == {COUNTY: own_total}
        assert fed.total == own_total
    # The nation, by province: the county's total in Shaanxi's row.
    result, links = w.fed.summarize_federated(
        caller("CN"), "", None, *period, False
    )  # fmt: skip
    assert result.node == "CN"
    assert {c: m for c, _, m in result.rows} == {"61": own_total}
    assert result.total == own_total
    assert [(d, root) for d, root, _ in links] == [(w.name, COUNTY)]
    assert links[0][2] is not None  # the time of the last delta


def test_a_cell_outside_the_registered_subtree_is_refused(
    applied: SimpleNamespace,
) -> None:
    w = applied
    before = province_cells(w)
    dlq = f"{in_queue(w.name, w.service)}.dlq"
    parked = depth(w, dlq)
    vals = {m: 1.0 for m in w.rollup.metrics}
    # The neighbour's cell beside one of the county's own, at a high
    # version: the whole message is refused.
    publish(w, [[f"{NEIGHBOUR}001", "2026-03", 10**9, vals],
                [f"{COUNTY}001", "2026-03", 10**9, vals]])  # fmt: skip
    assert w.applier.apply_once() == 1
    assert province_cells(w) == before
    assert depth(w, dlq) == parked + 1
    with w.up.session(None) as s:
        refused = s.execute(
            text("SELECT refused FROM federation_links WHERE downstream = :d"),
            {"d": w.name},
        ).scalar_one()
    assert refused >= 1


@pytest.mark.parametrize(
    "cell",
    [
        ["6101130010011", "2026-03", 10**9, {}],  # 13 digits
        [f"{COUNTY}001", "2026-13", 10**9, {}],  # no such month
        [f"{COUNTY}001", "2026-03\r", 10**9, {}],  # a bare CR
        [f"{COUNTY}001", "2026-03", 10**9, {"hours": "12"}],  # not a number
        [f"{COUNTY}001", "2026-03", "7", {}],  # version not an integer
    ],
    ids=["long_code", "bad_month", "bare_cr", "text_value", "text_version"],
)
def test_a_malformed_cell_is_refused_whole(
    applied: SimpleNamespace, cell: list[Any]
) -> None:
    w = applied
    before = province_cells(w)
    dlq = f"{in_queue(w.name, w.service)}.dlq"
    parked = depth(w, dlq)
    vals = {m: 1.0 for m in w.rollup.metrics}
    publish(w, [[f"{COUNTY}002", "2026-03", 10**9, vals], cell])
    assert w.applier.apply_once() == 1
    assert province_cells(w) == before
    assert depth(w, dlq) == parked + 1


def test_a_message_that_fails_to_apply_for_good_is_parked_not_blocking(
    applied: SimpleNamespace,
) -> None:
    """A delta the database refuses for a reason no retry cures (here a
    CHECK the test adds to the upstream's table) is parked with reason
    ``apply_failed``; the deltas taken with it and after it are applied."""
    w = applied
    table = f"federated_{w.rollup.table_name}"
    dlq = f"{in_queue(w.name, w.service)}.dlq"
    poison = f"{COUNTY}099"
    owner = create_engine(w.up_url, poolclass=NullPool)  # the table's owner
    with owner.begin() as conn:
        conn.execute(
            text(
                f"ALTER TABLE {table} ADD CONSTRAINT zy_test_refuse"
                f" CHECK (division_code <> '{poison}')"
            )
        )
    try:
        parked = depth(w, dlq)
        vals = {m: 3.0 for m in w.rollup.metrics}
        publish(w, [[f"{COUNTY}003", "2026-05", 10**9, vals]])
        publish(w, [[poison, "2026-05", 10**9, vals]])
        publish(w, [[f"{COUNTY}004", "2026-05", 10**9, vals]])
        assert w.applier.apply_once() == 3
        cells = province_cells(w)
        assert (f"{COUNTY}003", "2026-05") in cells
        assert (f"{COUNTY}004", "2026-05") in cells
        assert (poison, "2026-05") not in cells
        assert depth(w, dlq) == parked + 1
        with Connection(w.uri) as conn:
            queue = Queue(dlq)(conn.default_channel)
            message = None
            for _ in range(depth(w, dlq)):  # the last parked is the poison
                message = queue.get(no_ack=True)
            assert message is not None
            assert message.headers["x-zhiyuan-refused"] == "apply_failed"
            assert "CheckViolation" in message.headers["x-zhiyuan-detail"]
        assert w.applier.apply_once() == 0  # nothing left behind it
    finally:
        with owner.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT zy_test_refuse"))
        owner.dispose()
