"""The gateway's insurance routes of a project: each names a real RPC and
its path fields, the cover is written by PUT with a JSON body, and the
insurer's list goes out as the CSV bytes the service made (fake stubs, no
network; the real chain is in tests/integration/test_activity_insurance.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from zhiyuan.activity.v1 import activity_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.gateway.api_services import ACTIVITY
from services.gateway.app import create_app
from services.gateway.backend import Backend
from services.gateway.transcode import messages
from tests.unit.test_gateway_errors import FakeStub

INSURANCE = {
    "SetInsuranceCover",
    "GetInsuranceCover",
    "ListInsuredVolunteers",
    "ExportInsuredVolunteers",
}
PID = "5f0c1c52-7c0e-4a57-9a63-0d8a8b1c2e11"


def test_every_insurance_rpc_has_a_route_naming_its_path_fields() -> None:
    routes = [r for r in ACTIVITY if r.rpc in INSURANCE]
    assert {r.rpc for r in routes} == INSURANCE
    for route in routes:
        request, _ = messages(route)
        assert re.findall(r"{(\w+)}", route.path) == ["project_id"]
        assert "project_id" in request.DESCRIPTOR.fields_by_name


@pytest.fixture
def client_and_stub() -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
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
        subject="a", username="yanta", scope_code="610113", roles=["tenant_admin"]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, stub, {"Authorization": f"Bearer {token}"}


def test_a_cover_is_put_with_the_project_from_the_path(
    client_and_stub: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, stub, headers = client_and_stub
    stub.replies["SetInsuranceCover"] = pb.SetInsuranceCoverResponse(
        cover=pb.InsuranceCover(project_id=PID, policy_number="PEAC1"),
        status=pb.InsuranceStatus(required=True, covers_sessions=True),
    )
    body = {
        "insurer": "中国人民财产保险",
        "policy_number": "PEAC1",
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
    }
    got = client.put(f"/api/v1/projects/{PID}/insurance", json=body, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["status"]["required"] is True
    ((method, request, _, _),) = stub.calls
    assert (method, request.project_id, request.ends_on) == (
        "SetInsuranceCover",
        PID,
        "2026-12-31",
    )


def test_the_insurers_list_goes_out_as_csv(
    client_and_stub: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, stub, headers = client_and_stub
    csv = "\ufeff姓名,证件类型\r\n张三,居民身份证\r\n".encode()
    stub.replies["ExportInsuredVolunteers"] = pb.ExportInsuredVolunteersResponse(
        csv=csv
    )
    got = client.get(
        f"/api/v1/projects/{PID}/insurance/volunteers.csv", headers=headers
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert got.content == csv
    ((method, request, _, _),) = stub.calls
    assert (method, request.project_id) == ("ExportInsuredVolunteers", PID)


def test_the_openapi_document_lists_the_insurance_paths() -> None:
    from services.common.config import load

    paths = create_app(load()).openapi()["paths"]
    base = "/api/v1/projects/{project_id}/insurance"
    assert {"get", "put"} <= set(paths[base])
    assert "get" in paths[f"{base}/volunteers"]
    csv = paths[f"{base}/volunteers.csv"]["get"]["responses"]["200"]["content"]
    assert "text/csv; charset=utf-8" in csv
