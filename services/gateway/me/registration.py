"""The registration service's routes for a volunteer's own pages (see
:mod:`services.gateway.me`): self-registration and the division picker of
its form, both public. ``GET /api/v1/me`` stays in
:mod:`services.gateway.api_registry`, which adds the caller's own volunteer
and account (``GetMe``) when the token is a volunteer's."""

from __future__ import annotations

from typing import Any

from services.gateway.api_registry import GUARDIAN, _client_address
from services.gateway.contract import REQUIRED
from services.gateway.errors import ErrorBody
from services.gateway.transcode import Route

R = "registration"
TOO_MANY: dict[int | str, Any] = {
    429: {
        "model": ErrorBody,
        "description": "Too many registrations from this address: wait "
        "Retry-After seconds / 该网络地址注册次数过多，请稍后再试",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}
SELF_REGISTRATION = {
    **{
        f: REQUIRED
        for f in ("name", "id_number", "phone", "home_division_code", "password")
    },
    **GUARDIAN,
}

ROUTES: list[Route] = [
    Route("POST", "/me/register", R, "SelfRegister",
          "Register yourself as a volunteer / 志愿者自助注册", "me", public=True,
          status_code=201, strict=True, body="SelfRegisterBody",
          rules=SELF_REGISTRATION, header=("idempotency-key", "request_id"),
          metadata=_client_address, responses=TOO_MANY,
          doc="Real-name registration by the volunteer: a pending volunteer of "
          "the home township or village (the office verifies it) and an "
          "account that signs in by volunteer number or phone. An ID number "
          "already registered: 409, never saying where. Rate-limited per "
          "client address: 429 with Retry-After."),
    Route("POST", "/me/refresh", R, "RefreshMyToken",
          "A new token for my account / 刷新我的登录令牌", "me",
          doc="A volunteer's token for the same account with the account's "
          "scope as it is now (after a transfer was accepted, the new "
          "home's). The account must still be active and bound to the "
          "token's volunteer, and the volunteer not merged away: otherwise "
          "401 (sign in again); a staff token is 403."),
    Route("GET", "/public/divisions", R, "ListPublicDivisions",
          "Divisions for the registration form / 注册用行政区划", "me",
          public=True, strict=True,
          doc="The active children of ``parent_code`` (empty: the provinces), "
          "codes and names only."),
    Route("GET", "/me/notifications", R, "ListMyNotifications",
          "My notifications / 我的通知", "me",
          doc="The caller's inbox, newest first (``unread=true``: the unread "
          "ones only), and ``unread_count``: how many are unread in all."),
    Route("POST", "/me/notifications/{notification_id}/read", R,
          "MarkNotificationRead", "Mark a notification read / 标记通知为已读",
          "me",
          doc="One of the caller's own notifications; another's is 404 like "
          "an unknown id."),
    Route("POST", "/me/notifications/read-all", R, "MarkAllNotificationsRead",
          "Mark all my notifications read / 全部标记为已读", "me"),
    Route("POST", "/me/transfers", R, "RequestMyTransfer",
          "Ask to transfer to my new home / 申请转移至新居住地", "me",
          status_code=201, strict=True, body="MyTransferBody",
          rules={"to_division_code": REQUIRED, "consent": REQUIRED},
          doc="The caller's own transfer to a township or village of the new "
          "home, with consent to the text the answer records; the new home's "
          "office accepts or refuses it."),
    Route("GET", "/me/transfers", R, "ListMyTransfers",
          "My transfers / 我的转移申请", "me"),
    Route("POST", "/me/transfers/{id}/cancel", R, "CancelTransfer",
          "Cancel my pending transfer / 撤回我的转移申请", "me"),
]  # fmt: skip
