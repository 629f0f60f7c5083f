"""The gateway's service position routes (志愿服务阵地, issue 14): lower-case
kinds and base levels become the proto's enums, an unknown kind or field is
a 400 naming it before any gRPC call, and the update is a PUT of every field
(fake stubs, no network; the real chain is in
tests/integration/test_positions.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.gateway.app import create_app
from services.gateway.backend import Backend
from tests.unit.test_gateway_errors import FakeStub

PID = "5f0c1c52-7c0e-4a57-9a63-0d8a8b1c2e11"


@pytest.fixture
def client_and_stub() -> Iterator[tuple[TestClient, Any]]:
    private, public = generate_keypair()
    issuer = TokenIssuer(private, "zhiyuan", "zhiyuan")
    stub = FakeStub()
    backend = Backend(registration=stub, health=FakeStub(), deadline=5.0)
    app = create_app(
        Config({}),
        backend=backend,
        verifier=TokenVerifier(public, "zhiyuan", "zhiyuan"),
    )
    token, _ = issuer.issue(
        subject="a1", username="yanta", scope_code="610113", roles=["tenant_admin"]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, stub


def test_create_maps_kind_and_base_level_to_the_enums(client_and_stub) -> None:  # type: ignore[no-untyped-def]
    client, stub = client_and_stub
    stub.replies["CreatePosition"] = pb.CreatePositionResponse(
        position=pb.Position(id=PID, name="基地", kind=pb.POSITION_KIND_BASE)
    )
    body = {
        "name": "大雁塔文明旅游志愿服务基地", "kind": "base", "base_level": "city",
        "division_code": "610113002", "address": "雁塔路", "opening_hours": "每日",
    }  # fmt: skip
    response = client.post("/api/v1/positions", json=body)
    assert response.status_code == 201, response.text
    method, request = stub.calls[0][:2]
    assert method == "CreatePosition"
    assert request.kind == pb.POSITION_KIND_BASE
    assert request.base_level == pb.BASE_LEVEL_CITY
    assert (request.division_code, request.opening_hours) == ("610113002", "每日")
    assert response.json()["position"]["id"] == PID


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "站", "kind": "school", "division_code": "610113002"}, "kind"),
        ({"name": "站", "division_code": "610113002"}, "kind"),
        ({"kind": "station", "division_code": "610113002"}, "name"),
        ({"name": "站", "kind": "station"}, "division_code"),
        (
            {
                "name": "站",
                "kind": "base",
                "base_level": "county",
                "division_code": "61",
            },
            "base_level",
        ),
        (
            {"name": "站", "kind": "station", "division_code": "610113002", "x": 1},
            "x",
        ),
    ],
)
def test_a_bad_body_is_refused_at_the_edge_naming_the_field(  # type: ignore[no-untyped-def]
    client_and_stub, body, field
):
    client, stub = client_and_stub
    response = client.post("/api/v1/positions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert stub.calls == []


def test_list_filters_by_kind_and_update_is_a_put(client_and_stub) -> None:  # type: ignore[no-untyped-def]
    client, stub = client_and_stub
    stub.replies["ListPositions"] = pb.ListPositionsResponse()
    response = client.get("/api/v1/positions?kind=station&division_code=610113")
    assert response.status_code == 200, response.text
    request = stub.calls[0][1]
    assert (request.kind, request.division_code) == (
        pb.POSITION_KIND_STATION, "610113",
    )  # fmt: skip
    assert client.get("/api/v1/positions?kind=school").status_code == 400
    stub.replies["UpdatePosition"] = pb.UpdatePositionResponse(
        position=pb.Position(id=PID)
    )
    body = {"name": "站", "kind": "street_centre", "division_code": "610113002"}
    response = client.put(f"/api/v1/positions/{PID}", json=body)
    assert response.status_code == 200, response.text
    method, request = stub.calls[-1][:2]
    assert method == "UpdatePosition" and request.id == PID
    assert request.kind == pb.POSITION_KIND_STREET_CENTRE
    stub.replies["GetPosition"] = pb.GetPositionResponse(position=pb.Position(id=PID))
    assert client.get(f"/api/v1/positions/{PID}").json()["position"]["id"] == PID
