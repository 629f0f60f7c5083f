"""The gateway and the nation (scope ``CN``): every route of the app, found
by walking its routing table (so a route added later is covered), refuses a
national caller with 403 and rule ``scope.national`` before any gRPC call,
except the rollups, the dashboard and the division tree, which it may read;
the dashboard then shows the nation by province and drills down (fake
stubs, no network; the real chain is in tests/e2e/test_console_national.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from zhiyuan.common.v1 import common_pb2 as common

from services.catalog import SERVICES
from services.common import protos
from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.gateway.app import create_app
from services.gateway.backend import Backend
from tests.unit.test_gateway_errors import FakeStub

# What the nation may call, written out here (not taken from the gateway).
NATIONAL_ROUTES = {
    ("GET", "/api/v1/dashboard"),
    ("GET", "/api/v1/dashboard/export"),
    ("GET", "/api/v1/rollups/{service}"),
    ("GET", "/api/v1/divisions"),
    ("GET", "/api/v1/divisions/{code}"),
    ("GET", "/api/v1/me"),
}
PRIVATE, PUBLIC = generate_keypair()
ISSUER = TokenIssuer(PRIVATE, "zhiyuan", "zhiyuan")


def bearer(scope: str, *roles: str) -> dict[str, str]:
    token, _ = ISSUER.issue(
        subject="s", username="u", scope_code=scope,
        roles=list(roles or ("province_admin",)),
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world() -> Iterator[tuple[TestClient, dict[str, FakeStub]]]:
    stubs = {name: FakeStub() for name in SERVICES}
    backend = Backend(
        registration=stubs["registration"],
        health=FakeStub(),
        deadline=5,
        others={n: (s, FakeStub()) for n, s in stubs.items() if n != "registration"},
    )
    app = create_app(
        Config({}),
        backend=backend,
        verifier=TokenVerifier(PUBLIC, "zhiyuan", "zhiyuan"),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, stubs


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the app's API, from its OpenAPI document."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), path)
        for path, ops in paths.items()
        for method in ops
        if path.startswith("/api/v1")
    ]


def _url(path: str) -> str:
    return re.sub(r"{\w+}", "610113", path)


def _calls(stubs: dict[str, FakeStub]) -> int:
    return sum(len(s.calls) for s in stubs.values())


def test_every_other_route_refuses_the_nation_before_any_call(world) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    routes = _routes(client)
    assert len(routes) > 100  # the walk found the app's routes
    assert set(routes) >= NATIONAL_ROUTES
    refused = 0
    for method, path in routes:
        if (method, path) in NATIONAL_ROUTES:
            continue
        anonymous = client.request(method, _url(path), json={})
        if anonymous.status_code != 401:
            continue  # public: it asks nobody who they are, the nation included
        before = _calls(stubs)
        got = client.request(method, _url(path), json={}, headers=bearer("CN"))
        assert got.status_code == 403, (method, path, got.status_code, got.text)
        assert _calls(stubs) == before, (method, path)  # no service was asked
        error = got.json()["error"]
        assert error["rule"] == "scope.national", (method, path)
        assert "全国" in error["message_zh"] and "national" in error["message_en"]
        refused += 1
    assert refused > 100


def _rollup(*rows: tuple[str, float]) -> Any:
    return common.Rollup(
        rows=[
            common.RollupRow(
                division=common.DivisionRef(code=code), metrics=_metrics(value)
            )
            for code, value in rows
        ],
        total=common.RollupRow(metrics=_metrics(sum(v for _, v in rows))),
    )


def _metrics(v: float) -> dict[str, float]:
    names = ["volunteers_registered", "volunteers_verified", "organisations",
             "teams", "projects_published", "hours", "kg_total", "bins_deployed",
             "awards", *(f"stars_{n}" for n in range(1, 6))]  # fmt: skip
    return dict.fromkeys(names, v)


def _answer(stubs: dict[str, FakeStub], *rows: tuple[str, float]) -> None:
    for name, stub in stubs.items():
        reply = protos.messages(name).SummarizeResponse(rollup=_rollup(*rows))
        stub.replies["Summarize"] = reply


def test_the_nation_sees_a_dashboard_by_province(world) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    _answer(stubs, ("61", 3.0), ("62", 5.0))
    got = client.get("/api/v1/dashboard", headers=bearer("CN"))
    assert got.status_code == 200, got.text
    board = got.json()
    assert board["node"] == {"code": "CN", "name": "全国", "level": "nation"}
    assert board["breadcrumb"] == [{"code": "CN", "name": "全国"}]
    assert [c["code"] for c in board["children"]] == ["61", "62"]
    assert board["headline"]["hours_total"] == 8.0
    # Every service was asked for the nation by province.
    for name, stub in stubs.items():
        queries = [req.query for method, req, _, _ in stub.calls]
        assert queries and all(q.division_code == "CN" for q in queries), name
        assert {q.group_by for q in queries} == {common.DIVISION_LEVEL_PROVINCE}


def test_the_nation_drills_down_into_a_city(world) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    _answer(stubs, ("610113", 2.0))
    got = client.get("/api/v1/dashboard?division_code=6101", headers=bearer("CN"))
    assert got.status_code == 200, got.text
    crumbs = [c["code"] for c in got.json()["breadcrumb"]]
    assert crumbs == ["CN", "61", "6101"]
    for stub in stubs.values():
        assert all(req.query.division_code == "6101" for _, req, _, _ in stub.calls)


def test_a_province_cannot_ask_for_the_nation(world) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    got = client.get("/api/v1/dashboard?division_code=CN", headers=bearer("61"))
    assert got.status_code == 403 and got.json()["error"]["rule"] == "scope.contains"
    assert _calls(stubs) == 0


def test_the_nation_reads_a_rollup_by_province(world) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    _answer(stubs, ("61", 1.0))
    got = client.get(
        "/api/v1/rollups/hours?group_by=province&division_code=CN",
        headers=bearer("CN"),
    )
    assert got.status_code == 200, got.text
    ((_, req, _, _),) = stubs["hours"].calls
    assert req.query.group_by == common.DIVISION_LEVEL_PROVINCE


@pytest.mark.parametrize("scope", ["cn", "CN ", "ＣＮ"])
def test_other_spellings_of_the_nation_get_no_national_route(world, scope) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    # Elsewhere the services refuse the claim (tests/security/test_tokens.py);
    # the dashboard checks it before asking them.
    got = client.get("/api/v1/dashboard", headers=bearer(scope))
    assert got.status_code == 403, got.text
    assert got.json()["error"]["rule"] == "scope.malformed"
    assert _calls(stubs) == 0


def test_a_forged_national_token_is_unauthenticated(world) -> None:  # type: ignore[no-untyped-def]
    client, stubs = world
    other, _ = generate_keypair()
    token, _ = TokenIssuer(other, "zhiyuan", "zhiyuan").issue(
        subject="s", username="u", scope_code="CN", roles=["province_admin"]
    )
    for path in ("/api/v1/dashboard", "/api/v1/volunteers", "/api/v1/me"):
        got = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 401, (path, got.text)
    assert _calls(stubs) == 0
