"""The console's dashboard API against the running platform: every headline
figure equals the services' own Summarize read over gRPC with the same
token, the child rows add up to the node, a node outside the caller's scope
is a 403 with no figures, and the table exports as CSV and XLSX."""

from __future__ import annotations

import csv
import io

import grpc
import httpx
import pytest
from zhiyuan.common.v1 import common_pb2 as common

from services.common import protos
from services.seed.campaign_pickups import PICKUPS_KG
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

ADDITIVE = ["volunteers_registered", "volunteers_verified", "organisations",
            "projects", "hours_total", "tonnes", "bins_deployed", "stars", "awards",
            "hours_year"]  # fmt: skip


def grpc_total(env: dict, headers: dict, service: str, code: str) -> dict[str, float]:
    """The service's own answer, asked over gRPC with the caller's token."""
    module = protos.messages(service)
    address = env[f"{service.upper()}_GRPC_ADDRESS"]
    with grpc.insecure_channel(address) as channel:
        stub = protos.stub(service, channel)
        reply = stub.Summarize(
            module.SummarizeRequest(query=common.RollupQuery(division_code=code)),
            metadata=[("authorization", headers["authorization"])],
        )
    return dict(reply.rollup.total.metrics)


def expected_figures(env: dict, headers: dict, code: str) -> dict[str, float]:
    reg = grpc_total(env, headers, "registration", code)
    act = grpc_total(env, headers, "activity", code)
    hrs = grpc_total(env, headers, "hours", code)
    rec = grpc_total(env, headers, "recycling", code)
    com = grpc_total(env, headers, "commendation", code)
    return {
        "volunteers_registered": reg["volunteers_registered"],
        "volunteers_verified": reg["volunteers_verified"],
        "organisations": reg["organisations"] + reg["teams"],
        "projects": act["projects_published"],
        "hours_total": hrs["hours"],
        "tonnes": rec["kg_total"] / 1000,
        "bins_deployed": rec["bins_deployed"],
        "stars": sum(com[f"stars_{n}"] for n in range(1, 6)),
        "awards": com["awards"],
    }


def test_dashboard_figures_are_the_services_rollups(platform):  # type: ignore[no-untyped-def]
    base, env, _ = platform
    province = login(base, "sx-admin")
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=60, headers=province)
    board = http.get("/dashboard").json()
    assert board["node"]["code"] == "61" and board["breadcrumb"][0]["code"] == "61"
    want = expected_figures(env, province, "61")
    for name, value in want.items():
        assert board["headline"][name] == pytest.approx(value), name
    # The Shaanxi seed's reported 945 t and the winter campaign's pickups.
    seeded = 945.0 + PICKUPS_KG / 1000
    assert board["headline"]["tonnes"] == pytest.approx(seeded, abs=0.001)
    children = board["children"]
    assert children and all(len(c["code"]) == 4 for c in children)
    for name in ADDITIVE:
        assert sum(c[name] for c in children) == pytest.approx(
            board["headline"][name], abs=0.01
        ), name
    assert len(board["charts"]["hours_by_month"]) == 12
    assert sum(p["value"] for p in board["charts"]["hours_by_month"]) == pytest.approx(
        board["headline"]["hours_year"], abs=0.01
    )

    xian = http.get("/dashboard", params={"division_code": "6101"}).json()
    assert [c["code"] for c in xian["breadcrumb"]] == ["61", "6101"]
    row = next(c for c in children if c["code"] == "6101")
    for name in ADDITIVE:
        assert xian["headline"][name] == pytest.approx(row[name], abs=0.01), name


def test_a_node_outside_the_scope_is_refused(platform):  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=60, headers=county)
    mine = http.get("/dashboard")
    assert mine.status_code == 200
    assert mine.json()["breadcrumb"] == [{"code": "610113", "name": "雁塔区"}]
    for code in ("6102", "61", "610112"):
        refused = http.get("/dashboard", params={"division_code": code})
        assert refused.status_code == 403, refused.text
        assert "headline" not in refused.json()
        assert refused.json()["error"]["code"] == "PERMISSION_DENIED"
    assert (
        http.get("/dashboard/export", params={"division_code": "6102"}).status_code
        == 403
    )


def test_the_table_exports_as_csv_and_xlsx(platform):  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    base, _, _ = platform
    province = login(base, "sx-admin")
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=60, headers=province)
    board = http.get("/dashboard").json()
    got = http.get("/dashboard/export", params={"format": "csv"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["区划代码 code", "名称 name"]
    assert [r[0] for r in rows[1:]] == [c["code"] for c in board["children"]]
    xlsx = http.get("/dashboard/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.values)
    assert len(values) == len(board["children"]) + 1
    tonnes = values[0].index("回收（吨） tonnes")
    seeded = 945.0 + PICKUPS_KG / 1000  # the reported 945 t and the campaign's
    assert sum(v[tonnes] for v in values[1:]) == pytest.approx(seeded, abs=0.001)
