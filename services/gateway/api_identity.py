"""Routes: login, the current principal, and accounts (delegated admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.rpc import CLIENT_ADDRESS_KEY
from services.gateway.backend import Me, PublicRpc, Rpc
from services.gateway.models import AccountBody, ErrorBody, LoginBody
from services.gateway.params import PageSize, PageToken, page
from services.gateway.protojson import from_json, reply_doc, to_json

router = APIRouter(prefix="/api/v1")


@router.post(
    "/login",
    tags=["identity"],
    summary="Log in / 登录",
    responses={
        **reply_doc(pb.LoginResponse),
        429: {
            "model": ErrorBody,
            "description": "Too many failed logins: wait Retry-After seconds "
            "/ 登录失败次数过多，请稍后再试",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
)
async def login(body: LoginBody, rpc: PublicRpc, request: Request) -> Any:
    """Exchange a username and password for a signed access token. Too many
    failures for an account or from a client address: 429 with Retry-After."""
    client = request.client.host if request.client else ""
    reply = await rpc.call(
        "Login",
        from_json(body.model_dump(), pb.LoginRequest()),
        extra=((CLIENT_ADDRESS_KEY, client),) if client else (),
    )
    return to_json(reply)


@router.get("/me", tags=["identity"], summary="Who am I / 当前用户")
async def me(principal: Me) -> dict[str, Any]:
    """The verified principal of the bearer token (no gRPC call)."""
    return {
        "subject": principal.subject,
        "username": principal.username,
        "scope_code": principal.scope_code,
        "roles": sorted(principal.roles),
        "expires_at": principal.expires_at,
    }


@router.post(
    "/accounts",
    tags=["identity"],
    summary="Create an account / 创建账号",
    responses=reply_doc(pb.CreateAccountResponse, 201),
    status_code=201,
)
async def create_account(body: AccountBody, rpc: Rpc) -> Any:
    """Create an account inside the caller's subtree with roles it holds."""
    request = from_json(body.model_dump(), pb.CreateAccountRequest())
    return await rpc("CreateAccount", request)


@router.get(
    "/accounts",
    tags=["identity"],
    summary="List accounts / 账号列表",
    responses=reply_doc(pb.ListAccountsResponse),
)
async def list_accounts(
    rpc: Rpc,
    scope_code: Annotated[
        str, Query(description="Accounts at or below this node / 管辖区划")
    ] = "",
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> Any:
    """Accounts whose scope lies inside the given node (default: yours)."""
    request = pb.ListAccountsRequest(
        scope_code=scope_code, page=page(page_size, page_token)
    )
    return await rpc("ListAccounts", request)
