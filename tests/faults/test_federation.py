"""Two releases (issue 15): a county's release (610113) feeding its
province's (61) over RabbitMQ's shovel plugin, each release on its own
private RabbitMQ node and its own hours database, each with its own hours
worker process.

One module-scoped pair of releases; the scenarios run in order and each ends
with both sides agreeing exactly on every cell of the county's subtree.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
from kombu import Connection, Exchange, Producer
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb

from services.common.config import load
from services.common.federation import (
    FederationConfig,
    in_exchange,
    in_queue,
)
from services.common.federation_apply import read_federated
from services.common.federation_links import shovel_state
from services.common.tenancy import Scope
from services.common.testing import wait_for
from services.hours import rollups
from tests.faults.releases import Release

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
COUNTY, NEIGHBOUR = "610113", "610112"
PASSWORD = "county-" + uuid.uuid4().hex[:12]
TOWNSHIPS = [f"{COUNTY}{n:03d}" for n in (1, 2, 3, 4)]
FIELDS = ("elderly_care", "community", "emergency")
AGREE_SECONDS = 120.0


@pytest.fixture(scope="module")
def releases(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Release, Release]]:
    up_dir = tmp_path_factory.mktemp("province")
    down_dir = tmp_path_factory.mktemp("county")
    province = Release("province", up_dir, {
        "FEDERATION_ROLE": "upstream",
        "FEDERATION_NAME": "shaanxi",
        "FEDERATION_DOWNSTREAMS_FILE": str(up_dir / "downstreams.json"),
    })  # fmt: skip
    county: Release | None = None
    try:
        county = Release("county", down_dir, {
            "FEDERATION_ROLE": "downstream",
            "FEDERATION_NAME": "county",
            "FEDERATION_SUBTREE": COUNTY,
            "FEDERATION_UPSTREAM_URI": (
                f"amqp://federation-county:{PASSWORD}@127.0.0.1:{province.mq.port}/"
            ),
        })  # fmt: skip
        province.start_broker()
        county.start_broker()
        province.zhiyuan("federation", "register", "county", COUNTY,
                         "--password", PASSWORD)  # fmt: skip
        county.zhiyuan("federation", "link")
        province.start_worker()
        county.start_worker()
        province.start_api()
        county.start_api()
        fed = FederationConfig.from_config(load(env=county.procs.env))
        wait_for(
            lambda: shovel_state(fed, county.mq.uri) == "running",
            timeout=60,
            what="the county's shovel running",
        )
        yield province, county
    except BaseException:
        for r in (province, county):
            if r is not None:
                print(f"----- {r.name} worker -----\n{r.log()[-3000:]}")
                print(f"----- {r.name} rabbitmq -----\n{r.mq.log()[-2000:]}")
        raise
    finally:
        for r in (county, province):
            if r is not None:
                r.destroy()


def approve(county: Release, n: int, month: str = "2026-11") -> None:
    """``n`` approved hour records in the county, counted in its rollup the
    way approvals are (rollups.apply_approved, one transaction)."""
    rows = [
        {
            "volunteer_id": f"v{random.randrange(40)}",
            "division_code": random.choice(TOWNSHIPS),
            "service_field": random.choice(FIELDS),
            "hours": Decimal(random.randrange(1, 16)) / 2,
            "month": month,
        }
        for _ in range(n)
    ]
    with county.db().session(Scope(COUNTY)) as s:
        rollups.apply_approved(s, rows)


def county_cells(county: Release) -> dict[tuple[str, str], dict[str, float]]:
    """The county's own figures: every rollup cell of its subtree."""
    rows = county.sql(
        "SELECT division_code, period,"
        " to_jsonb(r) - 'level' - 'division_code' - 'period' AS vals"
        " FROM hours_rollup r WHERE left(division_code, 6) = :c",
        c=COUNTY,
    )
    return {(r.division_code, r.period): _floats(r.vals) for r in rows}


def province_cells(province: Release) -> dict[tuple[str, str], dict[str, float]]:
    """The province's federated figures of the county, as it reads them."""
    cells, _ = read_federated(province.db(), "hours_rollup", COUNTY)
    assert all(c.downstream == "county" for c in cells)
    return {(c.division_code, c.period): c.metrics for c in cells}


def _floats(vals: Any) -> dict[str, float]:
    return {k: float(v) for k, v in dict(vals).items()}


def agree(province: Release, county: Release, what: str) -> float:
    """Poll until the province holds exactly the county's cells; seconds."""
    started = time.monotonic()
    try:
        wait_for(
            lambda: (
                county_cells(county) == province_cells(province)
                and len(county_cells(county)) > 0
            ),
            timeout=AGREE_SECONDS,
            interval=0.05,
            what=what,
        )
    except BaseException:
        mine, theirs = county_cells(county), province_cells(province)
        differ = sorted(
            k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)
        )
        notes = [f"{len(differ)} of {len(mine)} cells differ, e.g. {differ[:3]}"]
        for r in (province, county):
            notes.append(f"----- {r.name} worker -----\n{r.log()[-4000:]}")
        print("\n".join(notes), file=sys.stderr)
        raise
    return time.monotonic() - started


def publish_as_county(province: Release, body: dict[str, Any],
                      exchange: str | None = None) -> None:  # fmt: skip
    """Publish straight to the province's broker with the county's own
    credentials (confirmed)."""
    uri = f"amqp://federation-county:{PASSWORD}@127.0.0.1:{province.mq.port}/"
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.default_channel, serializer="json").publish(
            body,
            exchange=Exchange(exchange or in_exchange("county"), type="direct"),
            routing_key="hours",
            delivery_mode=2,
            retry=False,
        )


def test_facts_reach_the_province_exactly(releases: tuple[Release, Release]) -> None:
    province, county = releases
    started = time.monotonic()
    for _ in range(5):
        approve(county, 20)
    lag = agree(province, county, "the province to hold the county's figures")
    total = time.monotonic() - started
    cells = county_cells(county)
    assert cells[(COUNTY, "all")]["records"] == 100
    # Only the county's subtree crosses: its city and province rows do not.
    assert not [k for k in province_cells(province) if not k[0].startswith(COUNTY)]
    _, links = read_federated(province.db(), "hours_rollup", COUNTY)
    assert links["county"] is not None
    # Through the apis: the province's SummarizeFederated equals the county's
    # own Summarize, row by row and in total, for each stored period.
    for period in ("all", "2026", "2026-11"):
        span = common.Period() if period == "all" else _period(period)
        query = common.RollupQuery(
            division_code=COUNTY, group_by=common.DIVISION_LEVEL_TOWNSHIP, period=span
        )
        own = county.call("Summarize", pb.SummarizeRequest(query=query),
                          COUNTY, "tenant_admin").rollup  # fmt: skip
        fed = province.call(
            "SummarizeFederated", pb.SummarizeFederatedRequest(query=query),
            "61", "province_admin",
        )  # fmt: skip
        assert _rows(fed.rollup) == _rows(own), period
        assert len(fed.rollup.rows) == len(TOWNSHIPS)
        assert [(x.downstream, x.subtree) for x in fed.links] == [("county", COUNTY)]
        assert fed.links[0].last_delta_at
    top = province.call(
        "SummarizeFederated",
        pb.SummarizeFederatedRequest(query=common.RollupQuery(division_code="61")),
        "61", "province_admin",
    ).rollup  # fmt: skip
    assert [r.division.code for r in top.rows] == ["6101"]
    assert dict(top.total.metrics) == cells[(COUNTY, "all")]
    print(f"\n[federation] lag first fact → agreement: {total:.2f} s "
          f"(after the last fact: {lag:.2f} s), {len(cells)} cells")  # fmt: skip


def _period(month_or_year: str) -> common.Period:
    if len(month_or_year) == 4:
        return common.Period(start_month=f"{month_or_year}-01",
                             end_month=f"{month_or_year}-12")  # fmt: skip
    return common.Period(start_month=month_or_year, end_month=month_or_year)


def _rows(rollup: Any) -> dict[str, dict[str, float]]:
    """Rows (and the total) of a Rollup, hours' own metrics only (the
    county's Summarize also carries position hours, which do not federate)."""
    names = [n for n in rollup.metric_names if n != "position_hours"]

    def pick(row: Any) -> dict[str, float]:
        return {n: row.metrics[n] for n in names if n in row.metrics}

    out = {r.division.code: pick(r) for r in rollup.rows}
    out["total"] = pick(rollup.total)
    return out


def test_federated_reads_stay_in_scope(releases: tuple[Release, Release]) -> None:
    """SummarizeFederated's division_code: a neighbour's, a parent's and a
    random code are refused; nothing is written by a read."""
    province, _ = releases
    before = province.sql("SELECT * FROM federated_hours_rollup ORDER BY 2, 3")

    def ask(code: str, scope: str, role: str = "tenant_admin") -> Any:
        query = common.RollupQuery(division_code=code)
        return province.call(
            "SummarizeFederated", pb.SummarizeFederatedRequest(query=query), scope, role
        )

    for code, scope in ((COUNTY, NEIGHBOUR), ("6101", COUNTY), ("619999", COUNTY)):
        with pytest.raises(grpc.RpcError) as err:
            ask(code, scope)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, code
        assert "Traceback" not in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as err:
        ask("61x", "61", "province_admin")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # A neighbour of the county, in scope, sees none of the county's figures.
    empty = ask(NEIGHBOUR, NEIGHBOUR).rollup
    assert not empty.rows and not any(empty.total.metrics.values())
    assert province.sql("SELECT * FROM federated_hours_rollup ORDER BY 2, 3") == before


def test_forged_delta_for_a_neighbour_is_refused(
    releases: tuple[Release, Release],
) -> None:
    province, county = releases
    agree(province, county, "agreement before the forgery")
    before = province.sql("SELECT * FROM federated_hours_rollup ORDER BY 2, 3")
    dlq = in_queue("county", "hours") + ".dlq"
    forged = {
        "downstream": "county",
        "source": "hours_rollup",
        "kind": "delta",
        "cells": [
            [f"{COUNTY}001", "all", 10**12, {"hours": 1.0}],
            [f"{NEIGHBOUR}001", "all", 10**12, {"hours": 99999.0, "records": 1.0}],
        ],
    }
    publish_as_county(province, forged)
    wait_for(lambda: province.depth(dlq) == 1, timeout=60, what="the forgery parked")
    wait_for(
        lambda: "610112001" in province.log() and "ERROR" in province.log(),
        timeout=30,
        what="an ERROR log naming the neighbour's code",
    )
    refused = province.sql(
        "SELECT refused FROM federation_links WHERE downstream = 'county'"
    )
    assert refused[0].refused == 1
    # The whole message was refused: not even the county's own cell moved.
    after = province.sql("SELECT * FROM federated_hours_rollup ORDER BY 2, 3")
    assert after == before
    assert not province.sql(
        "SELECT 1 FROM federated_hours_rollup WHERE division_code LIKE '610112%'"
    )
    # The county's user may write to its own exchange only.
    with pytest.raises(Exception, match="(?i)access_refused|403"):
        publish_as_county(province, forged, exchange=in_exchange("other"))


def test_link_outage_and_duplicates(releases: tuple[Release, Release]) -> None:
    province, county = releases
    county.mq.kill9()
    for _ in range(5):
        approve(county, 10, month="2026-12")
    # The facts wait in the county's database while its broker is down.
    assert county.sql("SELECT count(*) AS n FROM federation_outbox")[0].n > 0
    county.mq.start()
    outage = agree(province, county, "agreement after the link came back")
    print(f"\n[federation] agreement {outage:.2f} s after the county's node "
          "restarted")  # fmt: skip
    # A delta delivered twice, and a stale one, change nothing.
    row = province.sql(
        "SELECT division_code, period, vals, version FROM federated_hours_rollup"
        " WHERE division_code = :c AND period = 'all'",
        c=COUNTY,
    )[0]
    cell = [row.division_code, row.period, row.version, row.vals]
    again = {"downstream": "county", "source": "hours_rollup", "kind": "delta",
             "cells": [cell]}  # fmt: skip
    stale_vals = {**row.vals, "hours": row.vals["hours"] + 1000}
    stale = {**again, "cells": [[row.division_code, row.period, row.version - 1,
                                 stale_vals]]}  # fmt: skip
    before = province.sql("SELECT * FROM federated_hours_rollup ORDER BY 2, 3")
    received = province.cells_received("county")
    publish_as_county(province, again)
    publish_as_county(province, stale)
    # Both were taken and applied (the worker counts the cells it applied).
    wait_for(
        lambda: province.cells_received("county") == received + 2,
        timeout=30,
        what="the duplicate and the stale delta applied",
    )
    after = province.sql("SELECT division_code, period, vals, version"
                         " FROM federated_hours_rollup ORDER BY 1, 2")  # fmt: skip
    assert [(r.division_code, r.period, r.vals, r.version) for r in after] == [
        (r.division_code, r.period, r.vals, r.version) for r in before
    ]
    assert county_cells(county) == province_cells(province)


def test_resync_repairs_a_corrupted_upstream(
    releases: tuple[Release, Release],
) -> None:
    province, county = releases
    agree(province, county, "agreement before the corruption")
    province.sql(
        "UPDATE federated_hours_rollup SET vals = jsonb_set(vals, '{hours}', '12345')"
        " WHERE division_code = :c AND period = 'all'",
        c=COUNTY,
    )
    province.sql(
        "INSERT INTO federated_hours_rollup VALUES ('county', :c, '2020-01',"
        " '{\"hours\": 7}', 1, now())",
        c=f"{COUNTY}009",
    )
    assert county_cells(county) != province_cells(province)
    out = county.zhiyuan("federation", "resync")
    assert "cells sent" in out
    took = agree(province, county, "agreement after the re-sync")
    print(f"\n[federation] re-sync repaired the province in {took:.2f} s")


def test_unregister_revokes_a_downstream_and_purges_what_it_sent(
    releases: tuple[Release, Release],
) -> None:
    """A second downstream, registered for another county, sends a delta
    (applied), is unregistered: its credentials stop working at once, it
    leaves the downstreams file, and --purge removes its queues and the
    figures it (and a release below it) sent; the county's link is
    untouched. An unknown name is refused with the rule."""
    province, county = releases
    spare, other = "spare", "610115"
    password = "spare-" + uuid.uuid4().hex[:12]
    province.zhiyuan("federation", "register", spare, other, "--password", password)
    uri = f"amqp://federation-{spare}:{password}@127.0.0.1:{province.mq.port}/"

    def send(cells: list[list[Any]]) -> None:
        with Connection(uri, transport_options={"confirm_publish": True}) as conn:
            Producer(conn.default_channel, serializer="json").publish(
                {"downstream": spare, "source": "hours_rollup", "kind": "delta",
                 "cells": cells},
                exchange=Exchange(in_exchange(spare), type="direct"),
                routing_key="hours", delivery_mode=2, retry=False,
            )  # fmt: skip

    send([[f"{other}001", "all", 5, {"hours": 4.0, "records": 2.0}]])
    wait_for(
        lambda: province.sql(
            "SELECT 1 FROM federated_hours_rollup WHERE downstream = :d", d=spare
        ),
        timeout=60, what="the spare's delta applied",
    )  # fmt: skip
    # As if a relay below it had forwarded a cell of its own downstream.
    province.sql(
        "INSERT INTO federated_hours_rollup VALUES (:d, :c, 'all',"
        " '{\"hours\": 1}', 6, now())",
        d=f"{spare}/below", c=f"{other}002",
    )  # fmt: skip
    agree(province, county, "agreement before the unregistration")
    county_rows = province.sql(
        "SELECT * FROM federated_hours_rollup WHERE downstream = 'county' ORDER BY 2, 3"
    )

    out = json.loads(
        province.zhiyuan(
            "federation", "unregister", spare, "--purge", "--service", "hours"
        )
    )
    assert out["user_deleted"] is True
    assert out["queues_deleted"] == [
        in_queue(spare, "hours"),
        in_queue(spare, "hours") + ".dlq",
    ]
    assert out["rows_removed"] == {"hours": 2}
    status = json.loads(province.zhiyuan("federation", "status"))
    assert [d["name"] for d in status["downstreams"]] == ["county"]
    with pytest.raises(Exception, match="(?i)access_refused|403"):
        send([[f"{other}001", "all", 7, {"hours": 9.0}]])
    assert not province.sql(
        "SELECT 1 FROM federated_hours_rollup WHERE downstream LIKE 'spare%'"
    )
    assert not province.sql(
        "SELECT 1 FROM federation_links WHERE downstream = :d", d=spare
    )
    assert (
        province.sql(
            "SELECT * FROM federated_hours_rollup WHERE downstream = 'county'"
            " ORDER BY 2, 3"
        )
        == county_rows
    )
    # The county's link still carries facts.
    approve(county, 3)
    agree(province, county, "agreement after another downstream left")

    refused = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "services.cli", "federation", "unregister", spare],
        env=province.procs.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "federation.name" in refused.stderr + refused.stdout
    assert "未登记" in refused.stderr + refused.stdout
