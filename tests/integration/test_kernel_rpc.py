"""The kernel's gRPC glue against the real api role: health, forwarding the
caller's token on service-to-service calls, default deadlines."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from zhiyuan.registration.v1 import registration_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2_grpc as pb_grpc

from services.common import rpc
from services.common.auth import (
    Principal,
    reset_current_principal,
    set_current_principal,
)

pytestmark = pytest.mark.integration


def test_health_reports_serving(api):
    with grpc.insecure_channel(api) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "zhiyuan.registration.v1.RegistrationService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_the_callers_token_is_forwarded(api, token):
    stub = pb_grpc.RegistrationServiceStub(rpc.channel(api))
    request = pb.GetDivisionRequest(code="610113")
    with pytest.raises(grpc.RpcError) as err:  # no caller: nothing to forward
        stub.GetDivision(request)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    caller = Principal(
        "u", "u", "6101", frozenset({"reviewer"}), 0, token("6101", "reviewer")
    )
    ctx = set_current_principal(caller)
    try:
        assert stub.GetDivision(request).division.name == "雁塔区"
        with pytest.raises(grpc.RpcError) as err:  # still the caller's own scope
            stub.GetVolunteer(pb.GetVolunteerRequest(id="x"))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        reset_current_principal(ctx)


def test_a_default_deadline_applies_unless_the_caller_sets_one():
    seen = []

    def continuation(details, request):  # type: ignore[no-untyped-def]
        seen.append((details.timeout, dict(details.metadata)))

    fwd = rpc.ForwardToken(7.5, token=lambda: "t0k")
    base = rpc._Details("/x.Y/Z", None, None, None, None, None)
    fwd.intercept_unary_unary(continuation, base, object())
    explicit = rpc._Details(
        "/x.Y/Z", 2.0, [("authorization", "Bearer mine")], None, None, None
    )
    fwd.intercept_unary_unary(continuation, explicit, object())
    assert seen[0] == (7.5, {"authorization": "Bearer t0k"})
    # The caller's own deadline and credentials win.
    assert seen[1] == (2.0, {"authorization": "Bearer mine"})


def test_internal_errors_never_reach_the_client_as_tracebacks(stub, token):
    # A page token that decodes to something that is not a number.
    import base64

    bad = base64.urlsafe_b64encode(b"not-a-number").decode()
    with pytest.raises(grpc.RpcError) as err:
        stub.ListVolunteers(
            pb.ListVolunteersRequest(page={"page_token": bad}),
            metadata=[("authorization", f"Bearer {token('610113')}")],
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Traceback" not in (err.value.details() or "")
