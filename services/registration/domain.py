"""Registration's pure rules: service fields, roles, settings and their
inheritance. No I/O, no framework imports."""

from __future__ import annotations

from collections.abc import Iterable

# Text checks are the kernel's; the use cases call them by this name.
from services.common.checks import text as check_text
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.roles import ADMINS as ADMINS
from services.common.roles import IMPLIES
from services.common.roles import READERS as READERS
from services.common.service_fields import SERVICE_FIELDS, check_service_fields

# Roles are the kernel's (services.common.roles).


def held_roles(roles: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= IMPLIES.get(role, frozenset())
    return frozenset(out)


def check_grant(granter_roles: Iterable[str], requested: Iterable[str]) -> list[str]:
    """The requested roles, if the granter holds every one; else PermissionDenied."""
    requested = sorted(set(requested))
    if not requested:
        raise InvalidArgument.required("roles")
    unknown = [r for r in requested if r not in IMPLIES]
    if unknown:
        raise InvalidArgument(
            "roles",
            "roles.known",
            f"unknown role {unknown[0]!r}",
            f"未知角色“{unknown[0]}”",
        )
    missing = [r for r in requested if r not in held_roles(granter_roles)]
    if missing:
        raise PermissionDenied(
            f"you cannot grant the role {missing[0]!r}, which you do not hold",
            f"不能授予本人未持有的角色“{missing[0]}”",
        )
    return requested


def volunteer_number(province_code: str, serial: int) -> str:
    """Public volunteer number: 'ZY', province, 10-digit serial."""
    return f"ZY{province_code}{serial:010d}"


# Settings are the kernel's (every service reads them); re-exported here.
from services.common.settings import (  # noqa: E402
    SETTINGS,
    SettingSpec,
    effective_settings,
    parse_setting,
)

__all__ = [
    "SERVICE_FIELDS",
    "check_text",
    "SETTINGS",
    "SettingSpec",
    "check_service_fields",
    "effective_settings",
    "parse_setting",
]
