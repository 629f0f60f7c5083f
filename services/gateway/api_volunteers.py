"""Routes: volunteers' real-name registration, review and team membership."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.gateway.backend import Rpc
from services.gateway.models import MembershipBody, RejectBody, VolunteerBody
from services.gateway.params import Division, PageSize, PageToken, page
from services.gateway.protojson import from_json, reply_doc

router = APIRouter(prefix="/api/v1")

STATUSES = {
    "pending": pb.VOLUNTEER_STATUS_PENDING,
    "verified": pb.VOLUNTEER_STATUS_VERIFIED,
    "rejected": pb.VOLUNTEER_STATUS_REJECTED,
}


@router.get(
    "/volunteers",
    tags=["volunteers"],
    summary="List volunteers / 志愿者列表",
    responses=reply_doc(pb.ListVolunteersResponse),
)
async def list_volunteers(
    rpc: Rpc,
    division_code: Division = "",
    status: Annotated[
        Literal["pending", "verified", "rejected"] | None,
        Query(description="Review status / 审核状态"),
    ] = None,
    page_size: PageSize = 0,
    page_token: PageToken = "",
    q: Annotated[
        str,
        Query(
            max_length=40,
            description="A volunteer number (ZY…) or a whole ID number / "
            "志愿者编号或完整身份证号",
        ),
    ] = "",
) -> Any:
    """Volunteers at a node or below, personal data masked. ``q`` finds one
    volunteer exactly, by number or by ID number, inside the same scope."""
    request = pb.ListVolunteersRequest(
        division_code=division_code,
        status=STATUSES[status] if status else pb.VOLUNTEER_STATUS_UNSPECIFIED,
        page=page(page_size, page_token),
        query=q,
    )
    return await rpc("ListVolunteers", request)


@router.post(
    "/volunteers",
    tags=["volunteers"],
    summary="Register a volunteer / 注册志愿者",
    responses=reply_doc(pb.RegisterVolunteerResponse, 201),
    status_code=201,
)
async def register_volunteer(
    body: VolunteerBody,
    rpc: Rpc,
    idempotency_key: Annotated[
        str | None,
        Header(description="Used as request_id when the body has none / 幂等键"),
    ] = None,
) -> Any:
    """Real-name registration; a repeated request_id returns the first result."""
    data = body.model_dump(exclude_none=True)
    if not data.get("request_id") and idempotency_key:
        data["request_id"] = idempotency_key
    request = from_json(data, pb.RegisterVolunteerRequest())
    return await rpc("RegisterVolunteer", request)


@router.get(
    "/volunteers/{volunteer_id}",
    tags=["volunteers"],
    summary="One volunteer / 志愿者详情",
    responses=reply_doc(pb.GetVolunteerResponse),
)
async def get_volunteer(volunteer_id: str, rpc: Rpc) -> Any:
    """A volunteer, personal data masked."""
    return await rpc("GetVolunteer", pb.GetVolunteerRequest(id=volunteer_id))


@router.post(
    "/volunteers/{volunteer_id}/verify",
    tags=["volunteers"],
    summary="Verify a registration / 审核通过",
    responses=reply_doc(pb.VerifyVolunteerResponse),
)
async def verify_volunteer(volunteer_id: str, rpc: Rpc) -> Any:
    """Move a pending registration to verified."""
    request = pb.VerifyVolunteerRequest(id=volunteer_id)
    return await rpc("VerifyVolunteer", request)


@router.post(
    "/volunteers/{volunteer_id}/reject",
    tags=["volunteers"],
    summary="Reject a registration / 审核驳回",
    responses=reply_doc(pb.RejectVolunteerResponse),
)
async def reject_volunteer(volunteer_id: str, body: RejectBody, rpc: Rpc) -> Any:
    """Move a pending registration to rejected, with a reason."""
    request = pb.RejectVolunteerRequest(id=volunteer_id, reason=body.reason)
    return await rpc("RejectVolunteer", request)


@router.post(
    "/volunteers/{volunteer_id}/teams",
    tags=["volunteers"],
    summary="Join a team / 加入队伍",
    responses=reply_doc(pb.AddTeamMembershipResponse),
)
async def add_team(volunteer_id: str, body: MembershipBody, rpc: Rpc) -> Any:
    """Add a volunteer to a team as member or leader."""
    request = pb.AddTeamMembershipRequest(
        volunteer_id=volunteer_id,
        organisation_id=body.organisation_id,
        role=body.role,
    )
    return await rpc("AddTeamMembership", request)
