"""Two hops (issue 15): a county's release (610113, ``yanta``) feeding its
province's (61, ``shaanxi``), which is a relay, feeding the national
release; three releases, each with its own private RabbitMQ node, databases
and processes. The county's facts are recorded through its apis
(registration's RegisterVolunteer and VerifyVolunteer, hours'
RecordHonourHours and ApproveRecord).

One module-scoped chain of releases; the scenarios run in order, each ending
with every hop agreeing exactly.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.config import load
from services.common.federation import (
    OUT_QUEUE,
    FederationConfig,
    in_exchange,
    in_queue,
)
from services.common.federation_apply import read_federated
from services.common.federation_links import shovel_state
from services.common.federation_resync import resync
from services.common.tenancy import Scope
from services.common.testing import wait_for
from services.hours import rollups
from tests.faults.releases import Release
from tests.faults.test_federation import _period, _rows
from tests.helpers import new_id_number, new_phone

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
COUNTY, NEIGHBOUR, PROVINCE = "610113", "610112", "61"
TOWNSHIPS = [f"{COUNTY}{n:03d}" for n in (1, 2, 3)]
P_PASSWORD = "shaanxi-" + uuid.uuid4().hex[:12]  # the province's user at the nation
C_PASSWORD = "yanta-" + uuid.uuid4().hex[:12]  # the county's user at the province
AGREE_SECONDS = 180.0
Cells = dict[tuple[str, str, str], dict[str, float]]  # (path, code, period)


class Chain:
    def __init__(self, nation: Release, province: Release, county: Release):
        self.nation, self.province, self.county = nation, province, county

    def releases(self) -> tuple[Release, Release, Release]:
        return self.nation, self.province, self.county


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    made: list[Release] = []
    try:
        n_dir = tmp_path_factory.mktemp("nation")
        nation = Release("nation", n_dir, {
            "FEDERATION_ROLE": "upstream",
            "FEDERATION_NAME": "cn",
            "FEDERATION_DOWNSTREAMS_FILE": str(n_dir / "downstreams.json"),
        })  # fmt: skip
        made.append(nation)
        p_dir = tmp_path_factory.mktemp("province")
        province = Release("province", p_dir, {
            "FEDERATION_ROLE": "relay",
            "FEDERATION_NAME": "shaanxi",
            "FEDERATION_SUBTREE": PROVINCE,
            "FEDERATION_DOWNSTREAMS_FILE": str(p_dir / "downstreams.json"),
            "FEDERATION_UPSTREAM_URI": (
                f"amqp://federation-shaanxi:{P_PASSWORD}@127.0.0.1:{nation.mq.port}/"
            ),
        })  # fmt: skip
        made.append(province)
        county = Release("county", tmp_path_factory.mktemp("county"), {
            "FEDERATION_ROLE": "downstream",
            "FEDERATION_NAME": "yanta",
            "FEDERATION_SUBTREE": COUNTY,
            "FEDERATION_UPSTREAM_URI": (
                f"amqp://federation-yanta:{C_PASSWORD}@127.0.0.1:{province.mq.port}/"
            ),
        }, registration=True)  # fmt: skip
        made.append(county)
        for r in made:
            r.start_broker()
        nation.zhiyuan("federation", "register", "shaanxi", PROVINCE,
                       "--password", P_PASSWORD)  # fmt: skip
        province.zhiyuan("federation", "register", "yanta", COUNTY,
                         "--password", C_PASSWORD)  # fmt: skip
        province.zhiyuan("federation", "link")
        county.zhiyuan("federation", "link")
        for r in made:
            r.start_worker()
        county.start_api("registration")
        for r in made:
            r.start_api()
        for r in (province, county):
            fed = FederationConfig.from_config(load(env=r.procs.env))
            wait_for(
                lambda r=r, fed=fed: shovel_state(fed, r.mq.uri) == "running",
                timeout=60,
                what=f"the {r.name}'s shovel running",
            )
        yield Chain(nation, province, county)
    except BaseException:
        for r in made:
            print(f"----- {r.name} worker -----\n{r.log()[-3000:]}")
            print(f"----- {r.name} rabbitmq -----\n{r.mq.log()[-2000:]}")
        raise
    finally:
        for r in reversed(made):
            r.destroy()


# -- facts ----------------------------------------------------------------------
def record_through_the_api(county: Release, volunteers: int, records: int) -> float:
    """Register and verify ``volunteers`` in the county, then record and
    approve ``records`` honour-hour records for them over gRPC, one a day
    going back (two months' worth); when the first approval was answered
    (``time.monotonic()``)."""
    admin = (COUNTY, "tenant_admin")
    ids = []
    for _ in range(volunteers):
        got = county.call("RegisterVolunteer", reg.RegisterVolunteerRequest(
            name="两跳测试", id_number=new_id_number(COUNTY), phone=new_phone(),
            home_division_code=random.choice(TOWNSHIPS),
            service_fields=["elderly_care"], request_id=f"twohop-{uuid.uuid4()}",
        ), *admin, service="registration")  # fmt: skip
        county.call("VerifyVolunteer", reg.VerifyVolunteerRequest(
            id=got.volunteer.id), *admin, service="registration")  # fmt: skip
        ids.append(got.volunteer.id)
    today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    approved: list[float] = []
    for i in range(records):
        start = today - timedelta(days=1 + i)
        made = county.call("RecordHonourHours", pb.RecordHonourHoursRequest(
            volunteer_id=ids[i % len(ids)], division_code=random.choice(TOWNSHIPS),
            organisation_name="雁塔区志愿服务队", service_field="elderly_care",
            content="两跳联邦测试", session_start=start.isoformat(),
            session_end=(start + timedelta(hours=3)).isoformat(),
            hours=float(random.randrange(1, 7)) / 2, reason="两跳联邦测试",
            request_id=f"twohop-{uuid.uuid4()}",
        ), *admin)  # fmt: skip
        county.call("ApproveRecord", pb.ApproveRecordRequest(id=made.record.id), *admin)
        approved.append(time.monotonic())
    return approved[0]


def record_in_the_province(province: Release, n: int) -> None:
    """The province's own facts, in a county that has no release of its own
    (counted the way approvals are, one transaction)."""
    rows = [
        {
            "volunteer_id": f"p{random.randrange(10)}",
            "division_code": f"{NEIGHBOUR}00{random.randrange(1, 4)}",
            "service_field": "community",
            "hours": Decimal(random.randrange(1, 9)) / 2,
            "month": "2026-10",
        }
        for _ in range(n)
    ]
    with province.db().session(Scope(PROVINCE)) as s:
        rollups.apply_approved(s, rows)


# -- what each side holds ---------------------------------------------------------
def own_cells(r: Release, subtree: str, path: str) -> Cells:
    """A release's own rollup cells under ``subtree``, keyed as its upstream
    keeps them (under ``path``)."""
    rows = r.sql(
        "SELECT division_code, period,"
        " to_jsonb(x) - 'level' - 'division_code' - 'period' AS vals"
        " FROM hours_rollup x WHERE left(division_code, length(:s)) = :s",
        s=subtree,
    )
    return {(path, x.division_code, x.period): _floats(x.vals) for x in rows}


def federated(r: Release) -> Cells:
    """Every federated cell a release holds, keyed by its downstream path."""
    cells, _ = read_federated(r.db(), "hours_rollup", "")
    return {(c.downstream, c.division_code, c.period): c.metrics for c in cells}


def province_as_the_nation_should_hold_it(province: Release) -> Cells:
    """The province's own cells under ``shaanxi`` and its downstreams' under
    ``shaanxi/<origin>``."""
    out = own_cells(province, PROVINCE, "shaanxi")
    for (path, code, period), vals in federated(province).items():
        out[(f"shaanxi/{path}", code, period)] = vals
    return out


def _floats(vals: Any) -> dict[str, float]:
    return {k: float(v) for k, v in dict(vals).items()}


def agree(c: Chain, what: str) -> float:
    """Poll until the province holds exactly the county's cells and the
    nation exactly the province's own and relayed ones; seconds."""
    started = time.monotonic()

    def both() -> bool:
        county = own_cells(c.county, COUNTY, "yanta")
        return bool(county) and federated(c.province) == county and (
            federated(c.nation) == province_as_the_nation_should_hold_it(c.province)
        )  # fmt: skip

    try:
        wait_for(both, timeout=AGREE_SECONDS, interval=0.1, what=what)
    except BaseException:
        want = province_as_the_nation_should_hold_it(c.province)
        got = federated(c.nation)
        differ = sorted(
            k for k in want.keys() | got.keys() if want.get(k) != got.get(k)
        )
        notes = [f"nation: {len(differ)} of {len(want)} cells differ: {differ[:3]}"]
        for r in c.releases():
            notes.append(f"----- {r.name} worker -----\n{r.log()[-3000:]}")
        print("\n".join(notes), file=sys.stderr)
        raise
    return time.monotonic() - started


def summarize(r: Release, method: str, code: str, period: str, scope: str,
              role: str = "province_admin") -> Any:  # fmt: skip
    span = common.Period() if period == "all" else _period(period)
    level = common.DIVISION_LEVEL_TOWNSHIP if len(code) == 6 else 0
    query = common.RollupQuery(division_code=code, group_by=level, period=span)
    request = (
        pb.SummarizeRequest(query=query)
        if method == "Summarize"
        else pb.SummarizeFederatedRequest(query=query)
    )
    return r.call(method, request, scope, role)


def publish_as(r: Release, user: str, password: str, sender: str,
               body: dict[str, Any]) -> None:  # fmt: skip
    """Publish straight to ``r``'s broker as a registered downstream's user."""
    uri = f"amqp://{user}:{password}@127.0.0.1:{r.mq.port}/"
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.default_channel, serializer="json").publish(
            body,
            exchange=Exchange(in_exchange(sender), type="direct"),
            routing_key="hours",
            delivery_mode=2,
            retry=False,
        )


# -- scenarios ------------------------------------------------------------------
def test_county_facts_reach_the_nation_exactly(chain: Chain) -> None:
    nation, province, county = chain.releases()
    record_in_the_province(province, 12)
    wait_for(
        lambda: federated(nation) == province_as_the_nation_should_hold_it(province),
        timeout=AGREE_SECONDS,
        what="the nation to hold the province's own figures",
    )
    own_before = summarize(province, "Summarize", PROVINCE, "all", PROVINCE).rollup
    approved = 12
    first = record_through_the_api(county, volunteers=4, records=approved)
    after_last = agree(chain, "the nation to hold the county's figures")
    lag = time.monotonic() - first
    cells = own_cells(county, COUNTY, "yanta")
    assert cells[("yanta", COUNTY, "all")]["records"] == approved
    # Every hop equals the county's own Summarize, every metric, row by row,
    # for each stored period the records fall in.
    months = sorted({p for (_, _, p) in cells if len(p) == 7})
    assert months
    for period in ["all", months[0][:4], *months]:
        own = summarize(county, "Summarize", COUNTY, period, COUNTY).rollup
        at_province = summarize(province, "SummarizeFederated", COUNTY, period, "61")
        at_nation = summarize(nation, "SummarizeFederated", COUNTY, period, "CN")
        assert _rows(at_province.rollup) == _rows(own), period
        assert _rows(at_nation.rollup) == _rows(own), period
        assert [x.downstream for x in at_nation.links] == ["shaanxi/yanta"]
        assert at_nation.links[0].subtree == COUNTY
        assert at_nation.links[0].last_delta_at
    # The nation's row for the province: the province's own figures plus the
    # county's, each counted once.
    top = summarize(nation, "SummarizeFederated", "", "all", "CN").rollup
    assert [r.division.code for r in top.rows] == [PROVINCE]
    county_total = summarize(county, "Summarize", COUNTY, "all", COUNTY).rollup.total
    names = [n for n in top.metric_names if n != "position_hours"]
    assert "hours" in names and "records" in names
    for name in names:
        assert top.rows[0].metrics[name] == pytest.approx(
            own_before.total.metrics[name] + county_total.metrics[name]
        ), name
    # The province's own figures did not move.
    own_after = summarize(province, "Summarize", PROVINCE, "all", PROVINCE).rollup
    assert _rows(own_after) == _rows(own_before)
    print(
        f"\n[federation two hops] first approval → national agreement: {lag:.2f} s "
        f"({approved} records through the api; after the last approval "
        f"{after_last:.2f} s), {len(cells)} county cells"
    )


def test_the_dashboards_show_the_county_beside_their_own(chain: Chain) -> None:
    """What the province's and the nation's admins see: the gateway's
    dashboard (the real app, made from each release's own config) carries
    the county's hours in its ``federated`` section, never in its own
    headline, with each link's time of last delta."""
    from fastapi.testclient import TestClient

    from services.gateway.app import create_app
    from tests.faults.load import bearer

    nation, province, county = chain.releases()
    county_hours = summarize(county, "Summarize", COUNTY, "all", COUNTY).rollup
    county_hours_total = county_hours.total.metrics["hours"]
    own = summarize(province, "Summarize", PROVINCE, "all", PROVINCE).rollup
    province_own_hours = own.total.metrics["hours"]
    assert county_hours_total > 0 and province_own_hours > 0

    def board(r: Release, scope: str) -> dict[str, Any]:
        headers = bearer(scope, "province_admin", f"{r.name}-dashboard")
        with TestClient(create_app(load(env=r.procs.env))) as client:
            got = client.get("/api/v1/dashboard", headers=headers)
        assert got.status_code == 200, got.text
        return dict(got.json())

    at_province = board(province, PROVINCE)
    assert at_province["headline"]["hours_total"] == pytest.approx(province_own_hours)
    fed = at_province["federated"]
    assert fed["headline"]["hours_total"] == pytest.approx(county_hours_total)
    assert [link["downstream"] for link in fed["links"]] == ["yanta"]
    assert fed["links"][0]["subtree"] == COUNTY
    assert fed["links"][0]["last_delta_at"] and not fed["links"][0]["stale"]
    rows = {row["code"]: row for row in fed["children"]}
    assert rows["6101"]["hours_total"] == pytest.approx(county_hours_total)

    at_nation = board(nation, "CN")
    fed = at_nation["federated"]
    assert fed["headline"]["hours_total"] == pytest.approx(
        province_own_hours + county_hours_total
    )
    links = sorted(link["downstream"] for link in fed["links"])
    assert links == ["shaanxi", "shaanxi/yanta"]
    rows = {row["code"]: row for row in fed["children"]}
    assert rows[PROVINCE]["hours_total"] == pytest.approx(
        province_own_hours + county_hours_total
    )
    # The county's own dashboard has no federated section (a downstream).
    assert "federated" not in board(county, COUNTY)


def test_forged_relayed_delta_outside_the_province_is_refused(chain: Chain) -> None:
    nation, _, _ = chain.releases()
    agree(chain, "agreement before the forgery")
    before = nation.sql("SELECT * FROM federated_hours_rollup ORDER BY 1, 2, 3")
    dlq = in_queue("shaanxi", "hours") + ".dlq"
    forged = {
        "downstream": "shaanxi",
        "source": "hours_rollup",
        "kind": "delta",
        "cells": [],
        "relayed": {
            "yanta": [[f"{COUNTY}001", "all", 10**12, {"hours": 1.0}]],
            "xian": [["620102001", "all", 10**12, {"hours": 9999.0}]],
        },
    }
    publish_as(nation, "federation-shaanxi", P_PASSWORD, "shaanxi", forged)
    wait_for(lambda: nation.depth(dlq) == 1, timeout=60, what="the forgery parked")
    wait_for(
        lambda: "620102001" in nation.log(),
        timeout=30,
        what="an ERROR log naming the code outside 61",
    )
    assert nation.sql("SELECT * FROM federated_hours_rollup ORDER BY 1, 2, 3") == before
    refused = nation.sql(
        "SELECT refused FROM federation_links WHERE downstream = 'shaanxi'"
    )
    assert refused[0].refused == 1


def corrupt_the_nation(nation: Release) -> None:
    nation.sql(
        "UPDATE federated_hours_rollup SET vals = jsonb_set(vals, '{hours}', '12345')"
        " WHERE downstream = 'shaanxi/yanta' AND division_code = :c"
        " AND period = 'all'",
        c=COUNTY,
    )
    nation.sql(
        "INSERT INTO federated_hours_rollup VALUES ('shaanxi/yanta', :c,"
        " '2020-01', '{\"hours\": 7}', 1, now()) ON CONFLICT DO NOTHING",
        c=f"{COUNTY}009",
    )


def test_chunked_resync_through_the_relay_repairs_the_nation(chain: Chain) -> None:
    nation, province, _ = chain.releases()
    agree(chain, "agreement before the corruption")
    corrupt_the_nation(nation)
    assert federated(nation) != province_as_the_nation_should_hold_it(province)
    out = province.zhiyuan("federation", "resync", "--service", "hours", "--chunk", "7")
    held = len(province_as_the_nation_should_hold_it(province))
    assert f"{held} cells sent" in out and f"{-(-held // 7)} chunks" in out, out
    took = agree(chain, "agreement after the chunked re-sync")
    # Every chunk and the end marker taken and acked: nothing left behind.
    queue = in_queue("shaanxi", "hours")
    wait_for(lambda: nation.depth(queue) == 0, timeout=30, what="the queue drained")
    assert nation.depth(queue + ".dlq") == 1  # the forgery only
    print(f"\n[federation two hops] chunked re-sync ({held} cells, 7 a message)"
          f" repaired the nation in {took:.2f} s")  # fmt: skip


def test_a_county_resync_repairs_both_hops(chain: Chain) -> None:
    """What a county's re-sync changes at the province (a cell overwritten,
    a stale one removed at the end marker) the relay forwards to the nation,
    the removal included."""
    nation, province, county = chain.releases()
    agree(chain, "agreement before corrupting the province")
    province.sql(
        "UPDATE federated_hours_rollup SET vals = jsonb_set(vals, '{hours}', '12345')"
        " WHERE downstream = 'yanta' AND division_code = :c AND period = 'all'",
        c=COUNTY,
    )
    province.sql(
        "INSERT INTO federated_hours_rollup VALUES ('yanta', :c, '2020-01',"
        " '{\"hours\": 7}', 1, now())",
        c=f"{COUNTY}009",
    )
    # The relay forwards even a change made by hand: the nation copies it.
    wait_for(
        lambda: nation.sql(
            "SELECT 1 FROM federated_hours_rollup WHERE downstream = 'shaanxi/yanta'"
            " AND period = '2020-01'"
        ),
        timeout=60,
        what="the nation to copy the province's stale cell",
    )
    out = county.zhiyuan("federation", "resync", "--service", "hours", "--chunk", "4")
    assert "cells sent" in out
    took = agree(chain, "agreement after the county's re-sync")
    assert not nation.sql(
        "SELECT 1 FROM federated_hours_rollup WHERE period = '2020-01'"
    )
    print(
        f"\n[federation two hops] a county's re-sync repaired both hops in {took:.2f} s"
    )


class Cut(Exception):
    """Stops a re-sync after some chunks, as an interrupted command would."""


def test_cut_resync_removes_nothing_and_a_duplicate_chunk_changes_nothing(
    chain: Chain,
) -> None:
    nation, province, _ = chain.releases()
    agree(chain, "agreement before the cut re-sync")
    corrupt_the_nation(nation)
    fed = FederationConfig.from_config(load(env=province.procs.env))
    received = nation.cells_received("shaanxi")

    def cut_after_two(done: int, total: int) -> None:
        if done >= 10:
            raise Cut

    with pytest.raises(Cut):
        resync(province.db(), fed, province.mq.uri, "hours", "hours_rollup",
               chunk=5, progress=cut_after_two)  # fmt: skip
    try:
        wait_for(
            lambda: nation.cells_received("shaanxi") >= received + 10,
            timeout=60,
            what="the nation to apply the two chunks sent",
        )
    except BaseException:
        q = in_queue("shaanxi", "hours")
        print(
            received,
            nation.cells_received("shaanxi"),
            nation.depth(q),
            nation.depth(q + ".dlq"),
            province.depth(OUT_QUEUE),
            nation.log()[-3000:],
            province.log()[-3000:],
            file=sys.stderr,
        )
        raise
    # The stale cell the snapshot does not have is still there: no end marker.
    assert nation.sql(
        "SELECT 1 FROM federated_hours_rollup WHERE period = '2020-01'"
    ), "a re-sync cut before its end marker removed a cell"
    # A chunk delivered twice: the same cells at the same version.
    row = nation.sql(
        "SELECT downstream, division_code, period, vals, version"
        " FROM federated_hours_rollup WHERE downstream = 'shaanxi/yanta'"
        " AND period = 'all' ORDER BY division_code LIMIT 1"
    )[0]
    chunk = {
        "downstream": "shaanxi", "source": "hours_rollup", "kind": "resync",
        "version": int(row.version), "chunk": 0, "cells": [],
        "relayed": {"yanta": [[row.division_code, row.period, int(row.version),
                               row.vals]]},
    }  # fmt: skip
    before = nation.sql("SELECT * FROM federated_hours_rollup ORDER BY 1, 2, 3")
    count = nation.cells_received("shaanxi")
    publish_as(nation, "federation-shaanxi", P_PASSWORD, "shaanxi", chunk)
    publish_as(nation, "federation-shaanxi", P_PASSWORD, "shaanxi", chunk)
    wait_for(
        lambda: nation.cells_received("shaanxi") == count + 2,
        timeout=30,
        what="the duplicate chunk applied twice",
    )
    after = nation.sql("SELECT * FROM federated_hours_rollup ORDER BY 1, 2, 3")
    assert [r[:5] for r in after] == [r[:5] for r in before]
    # Run again to the end: the stale cell goes, every hop agrees.
    province.zhiyuan(
        "federation", "resync", "--service", "hours", "--chunk", "5", "--quiet"
    )
    agree(chain, "agreement after the re-sync run again")
    assert not nation.sql(
        "SELECT 1 FROM federated_hours_rollup WHERE period = '2020-01'"
    )
    assert json.loads(province.zhiyuan("federation", "status"))["role"] == "relay"
