"""The gateway's activity routes of a volunteer's own pages, and the leader's
QR code route: each names a real RPC and its path fields, no request of a
/me route can name a volunteer, and the QR code goes out as SVG (fake stubs,
no network; the real chain is in tests/integration)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from zhiyuan.activity.v1 import activity_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.gateway.app import create_app
from services.gateway.backend import Backend
from services.gateway.me.activity import ROUTES
from services.gateway.transcode import messages
from tests.unit.test_gateway_errors import FakeStub

OWN_RPCS = {
    "ListMyProjects",
    "GetMyProject",
    "SignUpMe",
    "WithdrawMe",
    "ListMySignUps",
    "CheckInMe",
    "CheckOutMe",
    "ListMyTraining",
}


def test_every_route_names_a_real_rpc_and_its_path_fields() -> None:
    for route in ROUTES:
        request, _ = messages(route)
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in request.DESCRIPTOR.fields_by_name, (route.path, name)
    assert {r.rpc for r in ROUTES} == OWN_RPCS | {"GetCheckInQrCode"}
    assert {r.rpc for r in ROUTES if r.path.startswith("/me/")} == OWN_RPCS


def test_no_own_request_can_name_a_volunteer() -> None:
    for route in ROUTES:
        if not route.path.startswith("/me/"):
            continue
        request, _ = messages(route)
        names = set(request.DESCRIPTOR.fields_by_name)
        assert not {n for n in names if "volunteer" in n}, (route.rpc, names)


@pytest.fixture
def client_and_stub():
    private, public = generate_keypair()
    issuer = TokenIssuer(private, "zhiyuan", "zhiyuan")
    stub = FakeStub()
    backend = Backend(
        registration=FakeStub(),
        health=FakeStub(),
        deadline=5,
        others={"activity": (stub, FakeStub())},
    )
    app = create_app(
        Config({}),
        backend=backend,
        verifier=TokenVerifier(public, "zhiyuan", "zhiyuan"),
    )
    token, _ = issuer.issue(
        subject="leader", username="leader", scope_code="610113", roles=["org_leader"]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, stub, {"Authorization": f"Bearer {token}"}


def test_the_qr_code_goes_out_as_svg(client_and_stub) -> None:
    client, stub, headers = client_and_stub
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    stub.replies["GetCheckInQrCode"] = pb.GetCheckInQrCodeResponse(svg=svg, code="1")
    got = client.get("/api/v1/sessions/s-1/code.svg", headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("image/svg+xml")
    assert got.content == svg
    ((method, request, _, _),) = stub.calls
    assert (method, request.session_id) == ("GetCheckInQrCode", "s-1")


def test_a_check_in_body_fills_code_and_session(client_and_stub) -> None:
    client, stub, headers = client_and_stub
    stub.replies["CheckInMe"] = pb.CheckInMeResponse(
        attendance=pb.Attendance(id="a-1", session_id="s-1")
    )
    got = client.post("/api/v1/me/check-in", json={"code": "042195"}, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["attendance"]["id"] == "a-1"
    ((method, request, _, _),) = stub.calls
    assert (method, request.code, request.session_id) == ("CheckInMe", "042195", "")
    got = client.post(
        "/api/v1/me/check-in",
        json={"code": "042195", "volunteer_id": "someone-else"},
        headers=headers,
    )
    assert got.status_code == 400 and got.json()["error"]["field"] == "volunteer_id"
    assert len(stub.calls) == 1  # refused at the edge, never sent
