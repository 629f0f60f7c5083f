"""The gateway's gRPC side: one ``grpc.aio`` channel per service made in the
app's lifespan, the caller's bearer token verified here then forwarded on
every call, and a deadline on every call.

Routes ask for an :data:`Rpc` (authenticated) or :data:`PublicRpc` and await
``rpc("GetVolunteer", request)`` to get the reply as JSON-ready data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import grpc
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters
from zhiyuan.registration.v1 import registration_pb2_grpc

from services.common.auth import Principal
from services.common.config import Config
from services.common.errors import Unauthenticated
from services.gateway.protojson import to_json

REGISTRATION = "zhiyuan.registration.v1.RegistrationService"
READY_TIMEOUT = 2.0


@dataclass
class Backend:
    """Stubs the routes call; tests may hand in fakes with the same methods."""

    registration: Any
    health: Any
    deadline: float
    close: Callable[[], Awaitable[Any]] | None = None

    async def ready(self) -> str | None:
        """None when registration answers SERVING within 2 s, else why not."""
        request = health_pb2.HealthCheckRequest(service=REGISTRATION)
        try:
            reply = await self.health.Check(request, timeout=READY_TIMEOUT)
        except grpc.RpcError as err:
            return f"registration api: {err.code().name}"  # type: ignore[attr-defined]
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            return f"registration api: {status}"
        return None


def connect(cfg: Config) -> Backend:
    """Open the traced aio channel (call inside the running event loop)."""
    interceptors = aio_client_interceptors(
        filter_=filters.negate(filters.health_check())
    )
    address = cfg.service("registration").grpc_address
    channel = grpc.aio.insecure_channel(address, interceptors=interceptors)
    return Backend(
        registration=registration_pb2_grpc.RegistrationServiceStub(channel),
        health=health_pb2_grpc.HealthStub(channel),
        deadline=float(cfg["grpc.deadline_seconds"]),
        close=channel.close,
    )


bearer_scheme = HTTPBearer(
    auto_error=False,
    description="Access token from POST /api/v1/login / 登录获得的访问令牌",
)


async def authenticate(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The verified caller; 401 before any gRPC call when the token is bad."""
    if creds is None or not creds.credentials:
        raise Unauthenticated.missing_token()
    return request.app.state.verifier.verify(creds.credentials)


class Caller:
    """Calls registration with the caller's own token and the deadline."""

    def __init__(self, backend: Backend, token: str = ""):
        self.backend, self.token = backend, token

    async def __call__(self, method: str, message: Message) -> dict[str, Any]:
        metadata = (("authorization", f"Bearer {self.token}"),) if self.token else None
        stub_method = getattr(self.backend.registration, method)
        reply = await stub_method(
            message, timeout=self.backend.deadline, metadata=metadata
        )
        return to_json(reply)


def _authenticated(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Caller:
    return Caller(request.app.state.backend, principal.token)


def _public(request: Request) -> Caller:
    return Caller(request.app.state.backend)


Rpc = Annotated[Caller, Depends(_authenticated)]
PublicRpc = Annotated[Caller, Depends(_public)]
Me = Annotated[Principal, Depends(authenticate)]
