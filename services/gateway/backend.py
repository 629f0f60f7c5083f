"""The gateway's gRPC side: one ``grpc.aio`` channel per service made in the
app's lifespan, the caller's bearer token verified here then forwarded on
every call, and a deadline on every call.

Routes ask for an :data:`Rpc` (authenticated) or :data:`PublicRpc` and await
``rpc("GetVolunteer", request)`` to get the reply as JSON-ready data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import grpc
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

from services.catalog import SERVICES
from services.common import protos, rpc
from services.common.auth import Principal
from services.common.config import Config
from services.common.errors import Unauthenticated
from services.common.tenancy import national_refusal
from services.gateway.protojson import to_json

# A backend's health check: short, so /readyz answers well inside a probe's
# timeout even while an api hangs.
READY_TIMEOUT = 1.0


@dataclass
class Backend:
    """Stubs the routes call; tests may hand in fakes with the same methods.

    ``registration`` and ``health`` are registration's; ``others`` maps the
    other services' names to (stub, health stub)."""

    registration: Any
    health: Any
    deadline: float
    close: Callable[[], Awaitable[Any]] | None = None
    others: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def stub(self, service: str) -> Any:
        if service == "registration":
            return self.registration
        return self.others[service][0]

    def services(self) -> list[str]:
        return ["registration", *self.others]

    async def states(self) -> dict[str, str]:
        """Each service api's health as this gateway sees it, asked at once
        (``SERVING``, ``NOT_SERVING``, ``UNAVAILABLE``, ...): for people and
        dashboards; the gateway's own readiness does not depend on it."""
        checks = [("registration", self.health)] + [
            (name, health) for name, (_, health) in self.others.items()
        ]
        found = await asyncio.gather(*(_check(n, h) for n, h in checks))
        return dict(zip([n for n, _ in checks], found, strict=True))


async def _check(name: str, health: Any) -> str:
    request = health_pb2.HealthCheckRequest(service=protos.service_name(name))
    try:
        reply = await health.Check(request, timeout=READY_TIMEOUT)
    except grpc.RpcError as err:
        return str(err.code().name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def connect(cfg: Config) -> Backend:
    """Open one traced aio channel per service (inside the running loop)."""
    channels, stubs = [], {}
    for name in SERVICES:
        interceptors = aio_client_interceptors(
            filter_=filters.negate(filters.health_check())
        )
        address = cfg.service(name).grpc_address
        channel = grpc.aio.insecure_channel(
            address, interceptors=interceptors, options=rpc.CHANNEL_OPTIONS
        )
        stubs[name] = (protos.stub(name, channel), health_pb2_grpc.HealthStub(channel))
        channels.append(channel)

    async def close() -> None:
        for channel in channels:
            await channel.close()

    registration, health = stubs.pop("registration")
    return Backend(
        registration=registration,
        health=health,
        deadline=float(cfg["grpc.deadline_seconds"]),
        close=close,
        others=stubs,
    )


bearer_scheme = HTTPBearer(
    auto_error=False,
    description="Access token from POST /api/v1/login / 登录获得的访问令牌",
)


async def verified(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The verified caller, the nation included; 401 before any gRPC call
    when the token is bad. Only routes that read rollups or the division
    tree take it (:data:`RollupMe`, :data:`RollupRpc`)."""
    if creds is None or not creds.credentials:
        raise Unauthenticated.missing_token()
    return request.app.state.verifier.verify(creds.credentials)


async def authenticate(principal: Annotated[Principal, Depends(verified)]) -> Principal:
    """The verified caller of any other route: a national principal is
    refused here (403, rule ``scope.national``), so a route that forgets to
    choose is closed to the nation, as each service's interceptor is."""
    if principal.national:
        raise national_refusal()
    return principal


class Caller:
    """Calls a service with the caller's own token and the deadline."""

    def __init__(self, backend: Backend, token: str = ""):
        self.backend, self.token = backend, token

    async def call(
        self,
        method: str,
        message: Message,
        service: str = "registration",
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Message:
        """The reply message itself (for replies that are not JSON); ``extra``
        metadata goes along with the token."""
        auth = (("authorization", f"Bearer {self.token}"),) if self.token else ()
        metadata = (*auth, *extra) or None
        stub_method = getattr(self.backend.stub(service), method)
        return await stub_method(
            message, timeout=self.backend.deadline, metadata=metadata
        )

    async def __call__(
        self, method: str, message: Message, service: str = "registration"
    ) -> dict[str, Any]:
        return to_json(await self.call(method, message, service))


def _authenticated(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Caller:
    return Caller(request.app.state.backend, principal.token)


def _rollup_reader(
    request: Request, principal: Annotated[Principal, Depends(verified)]
) -> Caller:
    return Caller(request.app.state.backend, principal.token)


def _public(request: Request) -> Caller:
    return Caller(request.app.state.backend)


Rpc = Annotated[Caller, Depends(_authenticated)]
PublicRpc = Annotated[Caller, Depends(_public)]
Me = Annotated[Principal, Depends(authenticate)]
# Rollups (Summarize, the dashboard) and the division tree: the nation too.
RollupRpc = Annotated[Caller, Depends(_rollup_reader)]
RollupMe = Annotated[Principal, Depends(verified)]
