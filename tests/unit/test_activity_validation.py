"""Activity's request checks: every failure names its field and rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.activity import validation
from services.common.errors import InvalidArgument


def raw(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "秦岭生态保护清洁行动",
        "description": "",
        "place": "环山路",
        "service_field": "environment",
        "kind": "service",
        "sessions": [
            ("2026-11-08T09:00:00+08:00", "2026-11-08T12:00:00+08:00", 10),
            ("2026-11-01T09:00:00+08:00", "2026-11-01T12:00:00+08:00", 10),
        ],
        "recruit_starts_at": "2026-10-20T00:00:00+08:00",
        "recruit_ends_at": "2026-11-08T12:00:00+08:00",
        "min_age": 16,
        "required_skills": [],
        "leader_approval": False,
        "emergency": False,
    }
    base.update(over)
    return base


def test_a_good_spec_is_parsed_with_sessions_in_time_order() -> None:
    spec = validation.project_spec(raw(), "610116")
    assert [s.starts_at.day for s in spec.sessions] == [1, 8]
    assert spec.sessions[0].starts_at == datetime(2026, 11, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("over", "division", "field", "rule"),
    [
        ({"title": " "}, "610116", "title", "title.required"),
        ({"title": "x" * 101}, "610116", "title", "title.max_length"),
        ({"place": ""}, "610116", "place", "place.required"),
        ({"service_field": ""}, "610116", "service_field", "service_field.required"),
        ({"service_field": "x"}, "610116", "service_field", "service_field.known"),
        ({"kind": ""}, "610116", "kind", "kind.required"),
        ({"kind": "?"}, "610116", "kind", "kind.known"),
        ({"sessions": []}, "610116", "sessions", "sessions.required"),
        (
            {"sessions": [("2026-11-08T09:00:00", "2026-11-08T12:00:00+08:00", 1)]},
            "610116",
            "sessions[0].starts_at",
            "sessions[0].starts_at.format",
        ),
        (
            {
                "sessions": [
                    ("2026-11-08T09:00:00+08:00", "2026-11-08T08:00:00+08:00", 1)
                ]
            },
            "610116",
            "sessions[0].ends_at",
            "sessions[0].ends_at.after_start",
        ),
        (
            {
                "sessions": [
                    ("2026-11-08T09:00:00+08:00", "2026-11-09T09:01:00+08:00", 1)
                ]
            },
            "610116",
            "sessions[0].ends_at",
            "sessions[0].ends_at.max_duration",
        ),
        (
            {
                "sessions": [
                    ("2026-11-08T09:00:00+08:00", "2026-11-08T12:00:00+08:00", 0)
                ]
            },
            "610116",
            "sessions[0].capacity",
            "capacity.range",
        ),
        (
            {"recruit_ends_at": "2026-11-08T12:00:01+08:00"},
            "610116",
            "recruit_ends_at",
            "recruit_ends_at.before_last_session",
        ),
        (
            {"recruit_starts_at": "2026-11-09T00:00:00+08:00"},
            "610116",
            "recruit_ends_at",
            "recruit_ends_at.after_start",
        ),
        ({"min_age": -1}, "610116", "eligibility.min_age", "min_age.range"),
        (
            {"required_skills": ["cooking"]},
            "610116",
            "eligibility.required_skills",
            "eligibility.required_skills.known",
        ),
        ({"emergency": True}, "610116", "emergency", "emergency.level"),
        ({"emergency": True}, "610116001", "emergency", "emergency.level"),
        (
            {"emergency": True, "leader_approval": True},
            "6101",
            "leader_approval",
            "leader_approval.emergency",
        ),
    ],
)
def test_each_rule_names_its_field(over, division, field, rule) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as err:
        validation.project_spec(raw(**over), division)
    assert (err.value.field, err.value.rule) == (field, rule)


@pytest.mark.parametrize("division", ["61", "6101"])
def test_emergency_campaigns_at_province_or_city(division: str) -> None:
    assert validation.project_spec(raw(emergency=True), division).emergency


def test_too_many_sessions() -> None:
    one = ("2026-11-08T09:00:00+08:00", "2026-11-08T12:00:00+08:00", 1)
    with pytest.raises(InvalidArgument) as err:
        validation.sessions([one] * 51)
    assert err.value.rule == "sessions.max_count"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("陕西省西安市长安区韦曲街道北街3号", "陕西省西安市****"),
        ("长安区", "***"),
    ],
)
def test_addresses_are_masked(address: str, masked: str) -> None:
    assert validation.mask_address(address) == masked
