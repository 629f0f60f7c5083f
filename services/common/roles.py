"""The platform's roles, which registration grants in tokens, and the groups
services check against. Which group may do what is each service's choice;
the names and their implications are shared.

Example::

    principal.require_any(*ADMINS, "org_leader")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from services.common.errors import PermissionDenied

if TYPE_CHECKING:
    from services.common.auth import Principal

ADMINS = ("operator", "province_admin", "tenant_admin")
MANAGERS = (*ADMINS, "org_leader")  # run organisations' daily work
READERS = (*MANAGERS, "reviewer")  # may read tenant data in scope
REVIEWERS = ("reviewer", "tenant_admin", "province_admin")

# Roles a role implies: an admin may grant only what it holds, implied ones
# included (a provincial admin can appoint county admins).
IMPLIES: dict[str, frozenset[str]] = {
    "operator": frozenset(
        {
            "operator",
            "province_admin",
            "tenant_admin",
            "reviewer",
            "org_leader",
            "volunteer",
        }
    ),
    "province_admin": frozenset(
        {"province_admin", "tenant_admin", "reviewer", "org_leader", "volunteer"}
    ),
    "tenant_admin": frozenset({"tenant_admin", "reviewer", "org_leader", "volunteer"}),
    "reviewer": frozenset({"reviewer"}),
    "org_leader": frozenset({"org_leader"}),
    "volunteer": frozenset({"volunteer"}),
}


def require_organisation(
    p: Principal, organisation_id: str, field: str, also: Iterable[str] = ()
) -> None:
    """An org_leader acts only for its own organisation (or team).

    Holders of an ADMINS role, and of any role in ``also`` (e.g. reviewers
    where reviewing is the action), pass on scope alone. An org_leader
    passes only when ``organisation_id`` is exactly the one its token names
    (claim ``org``); a token without it is refused. Anyone else lacks the
    role. PERMISSION_DENIED names ``field``.

    Example::

        require_organisation(principal, project.organisation_id, "organisation_id")
    """
    if p.has_any(*ADMINS, *also):
        return
    if "org_leader" not in p.roles:
        raise PermissionDenied(
            f"this needs one of the roles {', '.join((*ADMINS, 'org_leader'))}",
            f"此操作需要以下角色之一：{'、'.join((*ADMINS, 'org_leader'))}",
            field=field,
            rule="role.required",
        )
    if not p.organisation_id:
        raise PermissionDenied(
            "this organisation leader account is bound to no organisation",
            "该组织负责人账号未绑定组织，不能代组织操作",
            field=field,
            rule="organisation.bound",
        )
    if (organisation_id or "") != p.organisation_id:
        raise PermissionDenied(
            "an organisation leader acts only for its own organisation",
            "组织负责人只能代表本组织操作",
            field=field,
            rule="organisation.own",
        )


def own_volunteer(p: Principal, field: str = "volunteer_id") -> str:
    """The volunteer a volunteer's own account is (its token's ``vol``
    claim): what the volunteer's own pages read and act for, never an id
    the request names. An account that is no volunteer's is refused with
    PERMISSION_DENIED naming ``field``.

    Example::

        records = repo.records_of(own_volunteer(p))
    """
    if "volunteer" not in p.roles or not p.volunteer_id:
        raise PermissionDenied(
            "only a volunteer's own account may do this",
            "只有志愿者本人的账号可以进行此操作",
            field=field,
            rule="volunteer.own",
        )
    return p.volunteer_id
