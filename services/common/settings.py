"""Tenant settings: the keys every service reads, their defaults and rules,
and inheritance down the division tree (the nearest override wins).

Registration stores the overrides and announces each change
(``registration.settings.changed``); other services keep a replica of the
overrides and compute the same effective values with :func:`effective_settings`.

Example::

    effective_settings("610113001", {"61": {"hours.daily_cap": "10"}})
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import InvalidArgument
from services.common.service_fields import SERVICE_FIELDS
from services.common.tenancy import ancestors


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


def _medals(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and set(v) == {"gold", "silver", "bronze"}
        and all(isinstance(x, int | float) and x > 0 for x in v.values())
        and v["gold"] > v["silver"] > v["bronze"]
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
    "timebank.deposit_ratio": SettingSpec(
        1.0,
        lambda v: (
            isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 2
        ),
        "a number between 0 and 2 (time-bank hours per approved service hour)",
        "0到2之间的数（每审核通过1小时服务存入时间银行的小时数）",
    ),
    "honours.medal_hours": SettingSpec(
        {"gold": 4000, "silver": 3000, "bronze": 2000},
        _medals,
        "hours for gold > silver > bronze (five-star volunteers)",
        "金、银、铜奖所需小时数，须金 > 银 > 铜（限五星志愿者）",
    ),
    # Evaluations (评价) of hour records score 1 (差) to 5 (优): one scoring
    # at most this is poor (0: none is). Hours publishes it; commendation
    # reads what a poor one blocks.
    "evaluation.poor_max_score": SettingSpec(
        2,
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 4,
        "a whole score from 0 (no evaluation is poor) to 4",
        "0（不认定差评）到4之间的整数分",
    ),
    "evaluation.poor_blocks": SettingSpec(
        [],
        lambda v: (
            isinstance(v, list)
            and len(set(v)) == len(v)
            and all(x in {"stars", "nominations"} for x in v)
        ),
        "a list among stars, nominations: what a poor evaluation blocks",
        "差评影响的事项列表，取值为 stars（星级）、nominations（推选）",
    ),
    "honours.long_service_years": SettingSpec(
        10,
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 60,
        "a whole number of years between 1 and 60",
        "1到60之间的整数年",
    ),
    "awards.notice_working_days": SettingSpec(
        5,
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 5,
        "a whole number of working days, at least 5",
        "不少于5个工作日的整数",
    ),
    # Service fields whose projects may not open recruiting without an
    # insurance cover of their sessions (activity checks it on publishing).
    "insurance.required_fields": SettingSpec(
        ["emergency", "large_events"],
        lambda v: (
            isinstance(v, list)
            and len(set(v)) == len(v)
            and all(isinstance(x, str) and x in SERVICE_FIELDS for x in v)
        ),
        "a list of distinct service field codes (e.g. emergency, large_events)",
        "不重复的服务领域代码列表（如 emergency、large_events）",
    ),
    "notifications.channels": SettingSpec(
        ["in_app"],
        lambda v: (
            isinstance(v, list)
            and "in_app" in v
            and len(set(v)) == len(v)
            and all(x in {"in_app", "sms", "wechat"} for x in v)
        ),
        "a list of channels among in_app, sms, wechat that includes in_app",
        "通知渠道列表，取值为 in_app、sms、wechat，且须包含 in_app",
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


def value(rows: list[tuple[str, str, str]], key: str) -> Any:
    """The decoded value of ``key`` among :func:`effective_settings` rows."""
    for k, value_json, _ in rows:
        if k == key:
            return json.loads(value_json)
    raise KeyError(key)
