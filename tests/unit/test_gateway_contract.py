"""Registration's table routes, checked at the edge (``strict``): what the
HTTP API accepts is turned into the request message the service receives.
A fake registration stub records the calls; no network."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.gateway.app import create_app
from services.gateway.backend import Backend
from tests.unit.test_gateway_errors import FakeStub


@pytest.fixture(scope="module")
def keys():
    private, public = generate_keypair()
    issuer = TokenIssuer(private, "zhiyuan", "zhiyuan")
    return issuer, TokenVerifier(public, "zhiyuan", "zhiyuan")


@pytest.fixture
def stub():
    return FakeStub()


@pytest.fixture
def client(keys, stub):
    backend = Backend(registration=stub, health=FakeStub(), deadline=5.0)
    app = create_app(Config({}), backend=backend, verifier=keys[1])
    token, _ = keys[0].issue(
        subject="a1", username="sx-admin", scope_code="61", roles=["province_admin"]
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def test_query_choices_alias_and_page_fill_the_list_request(client, stub):
    stub.replies["ListVolunteers"] = pb.ListVolunteersResponse()
    url = "/api/v1/volunteers?status=pending&q=ZY001&page_size=5&page_token=t"
    response = client.get(url + "&division_code=6101")
    assert response.status_code == 200, response.text
    request = stub.calls[0][1]
    assert request.status == pb.VOLUNTEER_STATUS_PENDING
    assert (request.query, request.division_code) == ("ZY001", "6101")
    assert (request.page.page_size, request.page.page_token) == (5, "t")


def test_a_repeated_query_parameter_fills_a_repeated_field(client, stub):
    """The console asks the names of a page's volunteers in one call."""
    stub.replies["ListVolunteers"] = pb.ListVolunteersResponse()
    response = client.get("/api/v1/volunteers?ids=a&ids=b&page_size=100")
    assert response.status_code == 200, response.text
    request = stub.calls[0][1]
    assert list(request.ids) == ["a", "b"] and request.page.page_size == 100
    assert client.get("/api/v1/volunteers").status_code == 200
    assert list(stub.calls[1][1].ids) == []


def test_a_too_long_query_is_refused_before_any_call(client, stub):
    response = client.get("/api/v1/volunteers?q=" + "1" * 41)
    assert response.status_code == 400
    assert response.json()["error"]["rule"] == "q.max_length"
    assert stub.calls == []


def test_path_fields_and_a_route_without_body(client, stub):
    stub.replies["VerifyVolunteer"] = pb.VerifyVolunteerResponse()
    assert client.post("/api/v1/volunteers/V1/verify").status_code == 200
    assert stub.calls[0][1].id == "V1"


def test_a_choice_left_out_takes_its_default(client, stub):
    stub.replies["AddTeamMembership"] = pb.AddTeamMembershipResponse()
    body = {"organisation_id": "O1"}
    assert client.post("/api/v1/volunteers/V1/teams", json=body).status_code == 200
    request = stub.calls[0][1]
    assert (request.volunteer_id, request.organisation_id, request.role) == (
        "V1",
        "O1",
        "member",
    )


def test_a_nested_message_reaches_the_service(client, stub):
    stub.replies["RegisterVolunteer"] = pb.RegisterVolunteerResponse()
    guardian = {"name": "张父", "phone": "13800000000", "relation": "father"}
    body = {
        "name": "张小",
        "id_number": "61011320150101001X",
        "phone": "13812345678",
        "home_division_code": "610113001001",
        "service_fields": ["elderly_care"],
        "guardian": {**guardian, "consent": True},
    }
    response = client.post("/api/v1/volunteers", json=body)
    assert response.status_code == 201, response.text
    request = stub.calls[0][1]
    assert request.guardian.consent is True and request.guardian.name == "张父"
    assert list(request.service_fields) == ["elderly_care"]


def test_every_registration_route_is_a_table_route() -> None:
    from services.gateway.api_registry import ROUTES

    assert len(ROUTES) == 28 and all(r.strict for r in ROUTES)
    assert {r.service for r in ROUTES} == {"registration"}
