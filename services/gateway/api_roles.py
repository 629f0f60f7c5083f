"""Route: the platform's roles and the groups services check against, so
the web console decides which links and tools to show from the same lists
the services enforce (services/common/roles.py), not a copy of them."""

from __future__ import annotations

from fastapi import APIRouter

from services.common import roles

router = APIRouter(prefix="/api/v1")


@router.get("/roles", tags=["identity"], summary="Roles and role groups / 角色")
def role_groups() -> dict[str, object]:
    """Every role and the groups of roles the services check. Public: it is
    reference data, like the service fields; it says nothing about anyone.

    Example: ``GET /api/v1/roles`` →
    ``{"roles": ["operator", ...], "groups": {"managers": [...], ...}}``
    """
    return {
        "roles": list(roles.IMPLIES),
        "groups": {
            "admins": list(roles.ADMINS),
            "managers": list(roles.MANAGERS),
            "readers": list(roles.READERS),
            "reviewers": list(roles.REVIEWERS),
        },
    }
