"""Routes of the registration service: login and accounts, divisions and
tenant settings, organisations and teams, volunteers' real-name registration
and review, the activity feed (see :mod:`services.gateway.transcode`).

They are table routes like the other services', marked ``strict``: the API
has always checked their query strings and bodies at the edge (required
fields, lower-case choices such as ``status=pending`` or ``kind=team``,
unknown fields refused), so :mod:`services.gateway.contract` builds that
check from the request messages. Two routes answer without gRPC:
``/me`` and ``/service-fields``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.rpc import CLIENT_ADDRESS_KEY
from services.common.service_fields import SERVICE_FIELDS, SERVICE_FIELDS_EN
from services.gateway.backend import Caller, RollupMe
from services.gateway.contract import REQUIRED, Rule
from services.gateway.errors import ErrorBody
from services.gateway.transcode import Route, register

router = APIRouter(prefix="/api/v1")


def _client_address(request: Request) -> tuple[tuple[str, str], ...]:
    """Where a login comes from, for counting failed logins per address."""
    client = request.client.host if request.client else ""
    return ((CLIENT_ADDRESS_KEY, client),) if client else ()


STATUS = Rule(
    choices={
        "pending": pb.VOLUNTEER_STATUS_PENDING,
        "verified": pb.VOLUNTEER_STATUS_VERIFIED,
        "rejected": pb.VOLUNTEER_STATUS_REJECTED,
        "merged": pb.VOLUNTEER_STATUS_MERGED,
    }
)
KIND = Rule(
    required=True,
    choices={
        "organisation": pb.ORGANISATION_KIND_ORGANISATION,
        "team": pb.ORGANISATION_KIND_TEAM,
    },
)
ROLE = Rule(choices={"member": "member", "leader": "leader"}, default="member")
TOO_MANY: dict[int | str, Any] = {
    429: {
        "model": ErrorBody,
        "description": "Too many failed logins: wait Retry-After seconds "
        "/ 登录失败次数过多，请稍后再试",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}
GUARDIAN = {f"guardian.{f}": REQUIRED for f in ("name", "phone", "relation", "consent")}
VOLUNTEER = {
    **{f: REQUIRED for f in ("name", "id_number", "phone", "home_division_code")},
    **GUARDIAN,
}


def route(method: str, path: str, rpc: str, summary: str, tag: str, **kw: Any) -> Route:
    """A registration route, checked at the edge."""
    return Route(method, path, "registration", rpc, summary, tag, strict=True, **kw)


ID, DIV, ORG, VOL = "identity", "divisions", "organisations", "volunteers"
TRANSFERS = "transfers"
MERGES = "merges"
DIRECTION = Rule(
    choices={
        "outgoing": pb.TRANSFER_DIRECTION_OUTGOING,
        "incoming": pb.TRANSFER_DIRECTION_INCOMING,
    }
)
TRANSFER_STATUS = Rule(
    choices={
        "pending": pb.TRANSFER_STATUS_PENDING,
        "accepted": pb.TRANSFER_STATUS_ACCEPTED,
        "refused": pb.TRANSFER_STATUS_REFUSED,
        "cancelled": pb.TRANSFER_STATUS_CANCELLED,
    }
)
POSITIONS = "positions"
POSITION_KINDS = {
    "guidance_centre": pb.POSITION_KIND_GUIDANCE_CENTRE,
    "street_centre": pb.POSITION_KIND_STREET_CENTRE,
    "station": pb.POSITION_KIND_STATION,
    "base": pb.POSITION_KIND_BASE,
}
POSITION_RULES = {
    "name": REQUIRED,
    "kind": Rule(required=True, choices=POSITION_KINDS),
    "base_level": Rule(
        choices={
            "district": pb.BASE_LEVEL_DISTRICT,
            "city": pb.BASE_LEVEL_CITY,
            "province": pb.BASE_LEVEL_PROVINCE,
            "national": pb.BASE_LEVEL_NATIONAL,
        }
    ),
    "division_code": REQUIRED,
}
ROUTES = [
    route("POST", "/login", "Login", "Log in / 登录", ID, public=True,
          body="LoginBody", rules={"username": REQUIRED, "password": REQUIRED},
          metadata=_client_address, responses=TOO_MANY,
          doc="Exchange a username and password for a signed access token. A "
          "self-registered volunteer may give the volunteer number or the "
          "11-digit phone as the username; the token then carries ``vol``. Too "
          "many failures for an account or from a client address: 429 with "
          "Retry-After."),
    route("POST", "/accounts", "CreateAccount", "Create an account / 创建账号", ID,
          status_code=201, body="AccountBody",
          rules={f: REQUIRED for f in ("username", "password", "scope_code")}),
    route("GET", "/accounts", "ListAccounts", "List accounts / 账号列表", ID),
    route("GET", "/divisions/{code}", "GetDivision", "One division / 行政区划", DIV,
          national=True),
    route("GET", "/divisions", "ListDivisions", "Child divisions / 下级区划", DIV,
          national=True),
    route("GET", "/divisions/{division_code}/settings", "GetEffectiveSettings",
          "Effective tenant settings / 生效配置", DIV),
    route("GET", "/organisations", "ListOrganisations",
          "Organisations and teams / 组织与队伍", ORG),
    route("POST", "/organisations", "CreateOrganisation",
          "Create an organisation or team / 创建组织或队伍", ORG, status_code=201,
          body="OrganisationBody",
          rules={"name": REQUIRED, "kind": KIND, "division_code": REQUIRED}),
    route("GET", "/organisations/{id}", "GetOrganisation",
          "One organisation / 组织详情", ORG),
    route("GET", "/volunteers", "ListVolunteers", "List volunteers / 志愿者列表",
          VOL, rules={"status": STATUS, "query": Rule(alias="q", max_length=40)},
          doc="Volunteers at a node or below, personal data masked. ``q`` "
          "finds one volunteer exactly, by number or by ID number, in scope."),
    route("POST", "/volunteers", "RegisterVolunteer",
          "Register a volunteer / 注册志愿者", VOL, status_code=201,
          body="VolunteerBody", rules=VOLUNTEER,
          header=("idempotency-key", "request_id"),
          doc="Real-name registration; a repeated request_id (or Idempotency-Key) "
          "returns the first result."),
    route("GET", "/volunteers/{id}", "GetVolunteer", "One volunteer / 志愿者详情",
          VOL),
    route("POST", "/volunteers/{id}/verify", "VerifyVolunteer",
          "Verify a registration / 审核通过", VOL),
    route("POST", "/volunteers/{id}/reject", "RejectVolunteer",
          "Reject a registration / 审核驳回", VOL, body="RejectBody",
          rules={"reason": REQUIRED}),
    route("POST", "/volunteers/{volunteer_id}/teams", "AddTeamMembership",
          "Join a team / 加入队伍", VOL, body="MembershipBody",
          rules={"organisation_id": REQUIRED, "role": ROLE}),
    # Transfers between regions (issue 14).
    route("GET", "/transfers", "ListTransfers",
          "Transfers in and out / 转移申请列表", TRANSFERS,
          rules={"direction": DIRECTION, "status": TRANSFER_STATUS},
          doc="Transfers whose old home (``outgoing``) or new home "
          "(``incoming``) lies in your subtree, or both; newest first."),
    route("POST", "/volunteers/{volunteer_id}/transfers", "RequestTransfer",
          "File a transfer for a volunteer / 代办转移申请", TRANSFERS,
          status_code=201, body="TransferBody",
          rules={f: REQUIRED for f in ("to_division_code", "consent",
                                       "consent_note")},
          doc="The old home's office files a transfer with the volunteer's "
          "consent (``consent_note``: where the signed form is kept)."),
    route("POST", "/transfers/{id}/accept", "AcceptTransfer",
          "Accept a transfer / 接收转移", TRANSFERS,
          doc="Only an office whose subtree holds the new home."),
    route("POST", "/transfers/{id}/refuse", "RefuseTransfer",
          "Refuse a transfer / 拒绝转移", TRANSFERS, body="RefuseTransferBody",
          rules={"reason": REQUIRED}),
    route("POST", "/transfers/{id}/cancel", "CancelTransfer",
          "Cancel a pending transfer / 撤回转移申请", TRANSFERS,
          doc="The volunteer's own request, or the old home's office."),
    # Duplicate registrations merged (issue 14).
    route("POST", "/volunteers/{survivor_id}/merge", "MergeVolunteers",
          "Merge a duplicate registration / 合并重复注册", MERGES,
          status_code=201, body="MergeBody",
          rules={"merged_id": REQUIRED, "reason": REQUIRED},
          doc="Merges ``merged_id`` into the volunteer in the path (both in "
          "your subtree): the duplicate is marked merged, its memberships and "
          "account move, its hours and rating follow. Audited; reversible."),
    route("POST", "/merges/{id}/revert", "RevertMerge",
          "Revert a merge / 撤销合并", MERGES, body="RevertMergeBody",
          rules={"reason": REQUIRED},
          doc="Undoes the merge exactly (both records in your subtree), "
          "saying why: ``reason`` is required (at most 500 characters) and "
          "kept with the merge as ``revert_reason``."),
    route("GET", "/merges", "ListMerges", "Merges / 合并记录", MERGES,
          doc="Merges touching your subtree, newest first; ``volunteer_id`` "
          "keeps one volunteer's (survivor or merged)."),
    # Service positions (志愿服务阵地, issue 14).
    route("GET", "/positions", "ListPositions",
          "Service positions / 服务阵地列表", POSITIONS,
          rules={"kind": Rule(choices=POSITION_KINDS)},
          doc="Positions at a node or below (default: your scope), by "
          "division and name; ``kind`` keeps one kind."),
    route("POST", "/positions", "CreatePosition",
          "Register a service position / 新建服务阵地", POSITIONS,
          status_code=201, body="PositionBody", rules=POSITION_RULES,
          doc="A guidance centre sits at a county, a street centre at a "
          "township, a station at a township or village, a base (with its "
          "``base_level``) at its level's division or below."),
    route("GET", "/positions/{id}", "GetPosition",
          "One service position / 服务阵地详情", POSITIONS),
    route("PUT", "/positions/{id}", "UpdatePosition",
          "Edit a service position / 修改服务阵地", POSITIONS,
          body="PositionUpdateBody", rules=POSITION_RULES,
          doc="Replaces every field, as creating takes them."),
    route("GET", "/feed", "ListActivityFeed", "Activity feed / 动态", "statistics"),
]  # fmt: skip

register(router, ROUTES)


@router.get("/service-fields", tags=[DIV], summary="Service fields / 服务领域")
def service_fields() -> dict[str, list[dict[str, str]]]:
    """The service fields every service accepts, by code, with their
    Chinese and English names. Public: it is reference data."""
    return {
        "fields": [
            {"code": code, "name_zh": zh, "name_en": SERVICE_FIELDS_EN[code]}
            for code, zh in SERVICE_FIELDS.items()
        ]
    }


@router.get("/me", tags=[ID], summary="Who am I / 当前用户")
async def me(principal: RollupMe, request: Request) -> dict[str, Any]:
    """The verified principal of the bearer token (no gRPC call); for a
    volunteer's own account also ``volunteer`` (masked) and ``account``,
    from registration's ``GetMe``."""
    out: dict[str, Any] = {
        "subject": principal.subject,
        "username": principal.username,
        "scope_code": principal.scope_code,
        "roles": sorted(principal.roles),
        "expires_at": principal.expires_at,
    }
    if principal.volunteer_id:
        caller = Caller(request.app.state.backend, principal.token)
        out.update(await caller("GetMe", pb.GetMeRequest()))
    return out
