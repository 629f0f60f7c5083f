"""Registration's pure rules: service fields, roles, settings and their
inheritance. No I/O, no framework imports."""

from __future__ import annotations

import unicodedata
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


def check_name(value: str, field: str, max_length: int, required: bool = True) -> str:
    """:func:`check_text` that also refuses control characters (a line
    break, a bare CR, a tab, a zero-width format character) inside a name,
    which would break exports and logs and hide what a reader sees."""
    value = check_text(value, field, max_length, required)
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise InvalidArgument(
            field,
            f"{field}.characters",
            "must not contain line breaks or other control characters",
            "不能包含换行符等控制字符",
        )
    return value


MAX_SKILLS, MAX_SKILL_LENGTH = 10, 20


def check_skills(skills: Iterable[str]) -> list[str]:
    """Up to ``MAX_SKILLS`` short skills (each at most ``MAX_SKILL_LENGTH``
    characters, no control characters), trimmed, repeats dropped in order.

    Example:
        >>> check_skills([" first aid ", "First aid", "driving"])
        ['first aid', 'driving']
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in skills:
        skill = check_name(raw, "skills", MAX_SKILL_LENGTH)
        if skill.casefold() not in seen:
            seen.add(skill.casefold())
            out.append(skill)
    if len(out) > MAX_SKILLS:
        raise InvalidArgument(
            "skills",
            "skills.max_items",
            f"name at most {MAX_SKILLS} skills",
            f"最多填写 {MAX_SKILLS} 项技能",
        )
    return out


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
