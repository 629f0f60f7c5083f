"""Registration's pure rules: service fields, roles, settings and their
inheritance. No I/O, no framework imports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import InvalidArgument, PermissionDenied
from services.common.tenancy import ancestors

# Service fields named in the reports (DOMAIN.md), as stable codes.
SERVICE_FIELDS: dict[str, str] = {
    "elderly_care": "养老助老",
    "minors": "未成年人保护",
    "medical": "医疗卫生",
    "mental_health": "心理健康",
    "emergency": "应急救援",
    "legal_aid": "法律援助",
    "poverty_relief": "帮扶救助",
    "environment": "生态环保与垃圾分类",
    "civilisation": "文明创建",
    "culture_education": "文化教育",
    "large_events": "大型活动服务",
    "recycling": "爱为宝回收",
}

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
ADMINS = ("operator", "province_admin", "tenant_admin")
READERS = (*ADMINS, "reviewer", "org_leader")


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


def check_service_fields(
    values: Iterable[str], field: str = "service_fields"
) -> list[str]:
    values = list(dict.fromkeys(values))
    for value in values:
        if value not in SERVICE_FIELDS:
            raise InvalidArgument(
                field,
                f"{field}.known",
                f"unknown service field {value!r}; known: {', '.join(SERVICE_FIELDS)}",
                f"未知的服务领域“{value}”",
            )
    return values


def check_text(value: str, field: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidArgument.required(field)
    if len(value) > max_length:
        raise InvalidArgument.too_long(field, max_length)
    return value


def volunteer_number(province_code: str, serial: int) -> str:
    """Public volunteer number: 'ZY', province, 10-digit serial."""
    return f"ZY{province_code}{serial:010d}"


# --- tenant settings -------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    check: Callable[[Any], bool]
    rule_en: str
    rule_zh: str


def _increasing_positive(v: Any) -> bool:
    return (
        isinstance(v, list)
        and len(v) == 5
        and all(isinstance(x, int | float) and x > 0 for x in v)
        and all(a < b for a, b in zip(v, v[1:], strict=False))
    )


def _levels(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and set(v) == {"1", "2", "3", "4", "5"}
        and all(x in {"county", "city", "province"} for x in v.values())
    )


SETTINGS: dict[str, SettingSpec] = {
    "stars.thresholds_hours": SettingSpec(
        [100, 300, 600, 1000, 1500],
        _increasing_positive,
        "five increasing positive hour thresholds",
        "五个递增的正数小时门槛",
    ),
    "stars.approval_level": SettingSpec(
        {"1": "county", "2": "county", "3": "city", "4": "city", "5": "province"},
        _levels,
        "a level (county, city, province) for each of the stars 1-5",
        "为1至5星分别指定审批层级（county、city、province）",
    ),
    "hours.rounding": SettingSpec(
        "exact",
        lambda v: v in {"exact", "half_hour", "chongqing"},
        "one of exact, half_hour, chongqing",
        "取值为 exact、half_hour 或 chongqing",
    ),
    "hours.daily_cap": SettingSpec(
        12,
        lambda v: isinstance(v, int | float) and 0 < v <= 24,
        "a number of hours between 0 and 24",
        "0到24之间的小时数",
    ),
    "hours.excluded_kinds": SettingSpec(
        ["donation"],
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of activity kinds",
        "活动类型列表",
    ),
    "awards.categories": SettingSpec(
        ["individual", "collective", "project", "station"],
        lambda v: (
            isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v)
        ),
        "a non-empty list of category names",
        "非空的类别名称列表",
    ),
    "awards.notice_working_days": SettingSpec(
        5,
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 5,
        "a whole number of working days, at least 5",
        "不少于5个工作日的整数",
    ),
}


def parse_setting(key: str, value_json: str) -> Any:
    field = f"set_json.{key}"
    spec = SETTINGS.get(key)
    if spec is None:
        raise InvalidArgument(
            field,
            "settings.known_key",
            f"unknown setting {key!r}",
            f"未知的设置项“{key}”",
        )
    try:
        value = json.loads(value_json)
    except ValueError as exc:
        raise InvalidArgument(
            field, "settings.json", "the value must be JSON", "取值必须是 JSON"
        ) from exc
    if not spec.check(value):
        raise InvalidArgument(field, f"settings.{key}", spec.rule_en, spec.rule_zh)
    return value


def effective_settings(
    node: str, overrides: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str, str]]:
    """(key, value_json, source_code) for ``node``: the nearest ancestor's
    override wins, else the platform default (source '').

    ``overrides`` maps a division code to its {key: value_json}.
    """
    chain = list(reversed(ancestors(node)))  # the node first, the province last
    out = []
    for key, spec in SETTINGS.items():
        found = next(
            (
                (code, overrides[code][key])
                for code in chain
                if key in overrides.get(code, {})
            ),
            None,
        )
        if found:
            out.append((key, found[1], found[0]))
        else:
            out.append((key, json.dumps(spec.default, ensure_ascii=False), ""))
    return out
