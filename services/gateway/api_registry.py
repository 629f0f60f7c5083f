"""Routes: divisions and tenant settings, organisations and teams."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.service_fields import SERVICE_FIELDS, SERVICE_FIELDS_EN
from services.gateway.backend import Rpc
from services.gateway.models import OrganisationBody
from services.gateway.params import Division, PageSize, PageToken, page
from services.gateway.protojson import from_json, reply_doc

router = APIRouter(prefix="/api/v1")

KINDS = {
    "organisation": pb.ORGANISATION_KIND_ORGANISATION,
    "team": pb.ORGANISATION_KIND_TEAM,
}


# -- reference data ----------------------------------------------------------


@router.get(
    "/service-fields",
    tags=["divisions"],
    summary="Service fields / 服务领域",
)
def service_fields() -> dict[str, list[dict[str, str]]]:
    """The service fields every service accepts, by code, with their
    Chinese and English names. Public: it is reference data."""
    return {
        "fields": [
            {"code": code, "name_zh": zh, "name_en": SERVICE_FIELDS_EN[code]}
            for code, zh in SERVICE_FIELDS.items()
        ]
    }


# -- divisions ---------------------------------------------------------------


@router.get(
    "/divisions/{code}",
    tags=["divisions"],
    summary="One division / 行政区划",
    responses=reply_doc(pb.GetDivisionResponse),
)
async def get_division(code: str, rpc: Rpc) -> Any:
    """A division and its ancestors from the province down."""
    return await rpc("GetDivision", pb.GetDivisionRequest(code=code))


@router.get(
    "/divisions",
    tags=["divisions"],
    summary="Child divisions / 下级区划",
    responses=reply_doc(pb.ListDivisionsResponse),
)
async def list_divisions(
    rpc: Rpc,
    parent_code: Annotated[str, Query(description="Parent node / 上级区划")] = "",
    include_retired: Annotated[
        bool, Query(description="Include retired divisions / 含已撤销区划")
    ] = False,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> Any:
    """The children of a node."""
    request = pb.ListDivisionsRequest(
        parent_code=parent_code,
        include_retired=include_retired,
        page=page(page_size, page_token),
    )
    return await rpc("ListDivisions", request)


@router.get(
    "/divisions/{code}/settings",
    tags=["divisions"],
    summary="Effective tenant settings / 生效配置",
    responses=reply_doc(pb.GetEffectiveSettingsResponse),
)
async def get_settings(code: str, rpc: Rpc) -> Any:
    """Settings in force at a node, each with the node that set it."""
    request = pb.GetEffectiveSettingsRequest(division_code=code)
    return await rpc("GetEffectiveSettings", request)


# -- organisations -----------------------------------------------------------


@router.get(
    "/organisations",
    tags=["organisations"],
    summary="Organisations and teams / 组织与队伍",
    responses=reply_doc(pb.ListOrganisationsResponse),
)
async def list_organisations(
    rpc: Rpc,
    division_code: Division = "",
    parent_id: Annotated[
        str, Query(description="Direct children of this one / 上级组织")
    ] = "",
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> Any:
    """Organisations at a node or below, or the sub-teams of one."""
    request = pb.ListOrganisationsRequest(
        division_code=division_code,
        parent_id=parent_id,
        page=page(page_size, page_token),
    )
    return await rpc("ListOrganisations", request)


@router.post(
    "/organisations",
    tags=["organisations"],
    summary="Create an organisation or team / 创建组织或队伍",
    responses=reply_doc(pb.CreateOrganisationResponse, 201),
    status_code=201,
)
async def create_organisation(body: OrganisationBody, rpc: Rpc) -> Any:
    """Create an organisation (``kind=organisation``) or team (``team``)."""
    data = body.model_dump()
    data["kind"] = KINDS[data["kind"]]
    request = from_json(data, pb.CreateOrganisationRequest())
    return await rpc("CreateOrganisation", request)


@router.get(
    "/organisations/{organisation_id}",
    tags=["organisations"],
    summary="One organisation / 组织详情",
    responses=reply_doc(pb.GetOrganisationResponse),
)
async def get_organisation(organisation_id: str, rpc: Rpc) -> Any:
    """An organisation with its direct sub-teams."""
    request = pb.GetOrganisationRequest(id=organisation_id)
    return await rpc("GetOrganisation", request)
