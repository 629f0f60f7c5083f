"""The gateway's error table and its one error shape, with fake gRPC stubs.

No network: the app gets a fake backend whose stub methods are coroutines
that return canned replies or raise ``grpc.aio.AioRpcError``. The real
gateway against real processes is covered by the integration/e2e suites.
"""

from __future__ import annotations

import re

import grpc
import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from grpc.aio import AioRpcError, Metadata
from grpc_health.v1 import health_pb2
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.common.rpc import EN_KEY, FIELD_KEY, RULE_KEY, ZH_KEY
from services.gateway import errors
from services.gateway.app import create_app
from services.gateway.backend import Backend

S = grpc.StatusCode
CJK = re.compile(r"[\u4e00-\u9fff]")
DEADLINE = 7.5

EXPECTED = {
    S.INVALID_ARGUMENT: 400,
    S.NOT_FOUND: 404,
    S.ALREADY_EXISTS: 409,
    S.FAILED_PRECONDITION: 409,
    S.PERMISSION_DENIED: 403,
    S.UNAUTHENTICATED: 401,
    S.RESOURCE_EXHAUSTED: 429,
    S.DEADLINE_EXCEEDED: 504,
    S.UNAVAILABLE: 503,
}
UNLISTED = [c for c in S if c not in EXPECTED and c is not S.OK]


def rpc_error(code, details="boom", *, zh="", en="", field="", rule=""):
    trailers = []
    if zh:
        trailers.append((ZH_KEY, zh.encode()))
    if en:
        trailers.append((EN_KEY, en.encode()))
    if field:
        trailers.append((FIELD_KEY, field))
    if rule:
        trailers.append((RULE_KEY, rule))
    return AioRpcError(code, Metadata(), Metadata(*trailers), details)


class FakeStub:
    """Records every call; answers from ``replies`` (a message or an error)."""

    def __init__(self):
        self.calls: list[tuple[str, object, float, object]] = []
        self.replies: dict[str, object] = {}

    def __getattr__(self, method):
        async def call(request, *, timeout=None, metadata=None):
            self.calls.append((method, request, timeout, metadata))
            reply = self.replies[method]
            if isinstance(reply, BaseException):
                raise reply
            return reply

        return call


@pytest.fixture(scope="module")
def keys():
    private, public = generate_keypair()
    return TokenIssuer(private, "zhiyuan", "zhiyuan"), TokenVerifier(
        public, "zhiyuan", "zhiyuan"
    )


@pytest.fixture
def stub():
    return FakeStub()


@pytest.fixture
def health():
    return FakeStub()


@pytest.fixture
def client(keys, stub, health):
    backend = Backend(registration=stub, health=health, deadline=DEADLINE)
    app = create_app(Config({}), backend=backend, verifier=keys[1])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def token(keys):
    issued, _ = keys[0].issue(
        subject="a1", username="sx-admin", scope_code="61", roles=["province_admin"]
    )
    return issued


@pytest.fixture
def auth(token):
    return {"Authorization": f"Bearer {token}"}


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == code
    assert err["message_en"] and CJK.search(err["message_zh"])
    assert set(err) <= {"code", "message_en", "message_zh", "field", "rule"}
    assert "Traceback" not in response.text
    return err


# -- the table --------------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), EXPECTED.items())
def test_table_maps_listed_codes(code, status):
    assert errors.http_status(code) == status
    assert errors.HTTP_STATUS[code] == status


@pytest.mark.parametrize("code", UNLISTED, ids=lambda c: c.name)
def test_table_maps_every_other_code_to_bad_gateway(code):
    assert errors.http_status(code) == 502


def test_structured_error_keeps_field_rule_and_both_languages():
    err = rpc_error(
        S.INVALID_ARGUMENT,
        "phone: bad",
        en="must be a mainland mobile number",
        zh="须为大陆手机号",
        field="phone",
        rule="phone.format",
    )
    status, body = errors.rpc_error_body(err)
    assert status == 400
    assert body == {
        "code": "INVALID_ARGUMENT",
        "message_en": "must be a mainland mobile number",
        "message_zh": "须为大陆手机号",
        "field": "phone",
        "rule": "phone.format",
    }


@pytest.mark.parametrize("code", [S.UNAVAILABLE, S.DEADLINE_EXCEEDED, S.INTERNAL])
def test_unstructured_error_gets_a_generic_message_not_the_details(code):
    secret = "failed to connect to 10.0.0.7:50051 Traceback (most recent call"
    status, body = errors.rpc_error_body(rpc_error(code, secret))
    assert status == errors.http_status(code)
    assert body["code"] == code.name
    assert "10.0.0.7" not in str(body) and CJK.search(body["message_zh"])


def test_validation_body_names_nested_field_and_rule():
    exc = RequestValidationError(
        [
            {
                "loc": ("body", "guardian", "consent"),
                "type": "bool_parsing",
                "msg": "Input should be a valid boolean",
            }
        ]
    )
    body = errors.validation_body(exc)
    assert body["field"] == "guardian.consent"
    assert body["rule"] == "guardian.consent.type"
    assert body["code"] == "INVALID_ARGUMENT" and CJK.search(body["message_zh"])


# -- through the app ---------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), [*EXPECTED.items(), (S.INTERNAL, 502)])
def test_grpc_status_becomes_http_status(client, stub, auth, code, status):
    stub.replies["GetVolunteer"] = rpc_error(
        code, "x", en="volunteer 'V1' was not found", zh="未找到志愿者“V1”"
    )
    response = client.get("/api/v1/volunteers/V1", headers=auth)
    err = assert_error_shape(response, status, code.name)
    assert err["message_zh"] == "未找到志愿者“V1”"
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_field_and_rule_reach_the_client(client, stub, auth):
    stub.replies["RegisterVolunteer"] = rpc_error(
        S.INVALID_ARGUMENT,
        en="checksum does not match",
        zh="身份证号校验位错误",
        field="id_number",
        rule="id_number.checksum",
    )
    body = {
        "name": "张三",
        "id_number": "110105194912310021",
        "phone": "13812345678",
        "home_division_code": "610113001001",
    }
    response = client.post("/api/v1/volunteers", json=body, headers=auth)
    err = assert_error_shape(response, 400, "INVALID_ARGUMENT")
    assert (err["field"], err["rule"]) == ("id_number", "id_number.checksum")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic YTpi"}],
)
def test_missing_or_bad_token_is_401_before_any_grpc_call(client, stub, headers):
    response = client.get("/api/v1/volunteers/V1", headers=headers)
    assert_error_shape(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"
    assert stub.calls == []


def test_expired_token_is_401(client, keys):
    expired, _ = keys[0].issue(
        subject="a1", username="u", scope_code="61", roles=[], ttl=-60
    )
    headers = {"Authorization": f"Bearer {expired}"}
    assert_error_shape(
        client.get("/api/v1/me", headers=headers), 401, "UNAUTHENTICATED"
    )


def test_unauthenticated_wins_over_bad_input(client, stub):
    response = client.post("/api/v1/volunteers", json={"bogus": 1})
    assert_error_shape(response, 401, "UNAUTHENTICATED")


def test_the_callers_token_is_forwarded_with_the_deadline(client, stub, auth, token):
    stub.replies["GetVolunteer"] = pb.GetVolunteerResponse(
        volunteer=pb.Volunteer(id="V1", status=pb.VOLUNTEER_STATUS_PENDING)
    )
    response = client.get("/api/v1/volunteers/V1", headers=auth)
    assert response.status_code == 200
    volunteer = response.json()["volunteer"]
    assert volunteer["id"] == "V1" and volunteer["status"] == "VOLUNTEER_STATUS_PENDING"
    assert volunteer["team_ids"] == [] and volunteer["birth_year"] == 0
    method, request, timeout, metadata = stub.calls[0]
    assert (method, request.id, timeout) == ("GetVolunteer", "V1", DEADLINE)
    assert tuple(metadata) == (("authorization", f"Bearer {token}"),)


def test_login_is_public_and_sends_no_token(client, stub):
    stub.replies["Login"] = pb.LoginResponse(access_token="t", expires_at=2**40)
    body = {"username": "sx-admin", "password": "password-123"}
    response = client.post("/api/v1/login", json=body)
    assert response.status_code == 200
    assert response.json()["expires_at"] == 2**40
    # No token; only the client's address, for failed-login counting.
    assert stub.calls[0][3] == (("zhiyuan-client-address", "testclient"),)


# -- validation errors become 400 in the same shape -----------------------------

VOLUNTEER = {
    "name": "张三",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
    "home_division_code": "610113001001",
}


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "rule"),
    [
        ("post", "/api/v1/volunteers", {"name": "张三"}, "id_number", "required"),
        (
            "post",
            "/api/v1/volunteers",
            {**VOLUNTEER, "guardian": {"name": "a", "phone": "b", "relation": "c"}},
            "guardian.consent",
            "required",
        ),
        (
            "post",
            "/api/v1/volunteers",
            {**VOLUNTEER, "service_fields": "elderly_care"},
            "service_fields",
            "type",
        ),
        ("post", "/api/v1/volunteers", {**VOLUNTEER, "age": 3}, "age", "unknown"),
        (
            "post",
            "/api/v1/organisations",
            {"name": "n", "kind": "club", "division_code": "61"},
            "kind",
            "known",
        ),
        (
            "post",
            "/api/v1/volunteers/V1/teams",
            {"organisation_id": "O1", "role": "captain"},
            "role",
            "known",
        ),
        ("get", "/api/v1/volunteers?status=lost", None, "status", "known"),
        ("get", "/api/v1/volunteers?page_size=many", None, "page_size", "type"),
        ("get", "/api/v1/divisions?page_size=9999", None, "page_size", "range"),
        (
            "get",
            "/api/v1/rollups/registration?group_by=street",
            None,
            "group_by",
            "known",
        ),
        (
            "get",
            "/api/v1/rollups/registration?end_month=2024-13",
            None,
            "end_month",
            "format",
        ),
    ],
)
def test_validation_error_is_400_naming_field_and_rule(
    client, stub, auth, method, path, body, field, rule
):
    response = client.request(method, path, json=body, headers=auth)
    err = assert_error_shape(response, 400, "INVALID_ARGUMENT")
    assert err["field"] == field
    assert err["rule"] == f"{field}.{rule}"
    assert stub.calls == []


def test_malformed_json_is_400(client, auth):
    response = client.post(
        "/api/v1/login",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    err = assert_error_shape(response, 400, "INVALID_ARGUMENT")
    assert (err["field"], err["rule"]) == ("body", "body.json")


def test_idempotency_key_header_fills_request_id(client, stub, auth):
    stub.replies["RegisterVolunteer"] = pb.RegisterVolunteerResponse()
    headers = {**auth, "Idempotency-Key": "k-1"}
    assert (
        client.post("/api/v1/volunteers", json=VOLUNTEER, headers=headers).status_code
        == 201
    )
    body = {**VOLUNTEER, "request_id": "from-body"}
    client.post("/api/v1/volunteers", json=body, headers=headers)
    assert [c[1].request_id for c in stub.calls] == ["k-1", "from-body"]


def test_organisation_kind_maps_to_the_enum(client, stub, auth):
    stub.replies["CreateOrganisation"] = pb.CreateOrganisationResponse()
    body = {"name": "雁塔一队", "kind": "team", "division_code": "610113"}
    assert (
        client.post("/api/v1/organisations", json=body, headers=auth).status_code == 201
    )
    assert stub.calls[0][1].kind == pb.ORGANISATION_KIND_TEAM


# -- other errors keep the shape ----------------------------------------------


def test_unknown_route_is_404_in_the_same_shape(client):
    assert_error_shape(client.get("/api/v1/nowhere"), 404, "NOT_FOUND")


def test_gateway_bug_is_500_without_a_stack_trace(client, stub, auth):
    stub.replies["GetVolunteer"] = RuntimeError("secret internals")
    response = client.get("/api/v1/volunteers/V1", headers=auth)
    assert_error_shape(response, 500, "INTERNAL")
    assert "secret internals" not in response.text


def test_health_and_readiness(client, health):
    assert client.get("/healthz").status_code == 200
    health.replies["Check"] = health_pb2.HealthCheckResponse(
        status=health_pb2.HealthCheckResponse.SERVING
    )
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["backends"] == {"registration": "SERVING"}
    # An api down is reported, but the gateway itself can still serve.
    health.replies["Check"] = rpc_error(S.UNAVAILABLE)
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["backends"] == {"registration": "UNAVAILABLE"}
    assert response.json()["degraded"] == ["registration"]
    assert health.calls[-1][2] == 1.0


def test_openapi_documents_400_not_422(client):
    doc = client.get("/openapi.json").json()
    assert "志愿" in doc["info"]["title"] and doc["info"]["version"]
    assert {t["name"] for t in doc["tags"]} >= {"volunteers", "identity"}
    post = doc["paths"]["/api/v1/volunteers"]["post"]
    assert "422" not in post["responses"] and "400" in post["responses"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["VolunteerBody"]["properties"]["name"][
        "description"
    ]
