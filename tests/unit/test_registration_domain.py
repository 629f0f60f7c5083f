"""Registration's pure rules: settings inheritance, role grants, fields."""

from __future__ import annotations

import json

import pytest

from services.common.errors import InvalidArgument, PermissionDenied
from services.registration import domain


def as_dict(rows):  # type: ignore[no-untyped-def]
    return {key: (json.loads(value), source) for key, value, source in rows}


def test_defaults_apply_when_nobody_overrides():
    got = as_dict(domain.effective_settings("610113001", {}))
    assert got["stars.thresholds_hours"] == ([100, 300, 600, 1000, 1500], "")
    assert got["awards.notice_working_days"] == (5, "")
    assert set(got) == set(domain.SETTINGS)


def test_nearest_ancestor_wins():
    overrides = {
        "61": {"hours.daily_cap": "10", "hours.rounding": '"half_hour"'},
        "610113": {"hours.rounding": '"chongqing"'},
    }
    got = as_dict(domain.effective_settings("610113001", overrides))
    assert got["hours.daily_cap"] == (10, "61")
    assert got["hours.rounding"] == ("chongqing", "610113")
    # A sibling county inherits only from the province.
    assert as_dict(domain.effective_settings("610103", overrides))[
        "hours.rounding"
    ] == (
        "half_hour",
        "61",
    )


def test_a_node_override_beats_its_parent_for_itself():
    overrides = {"6101": {"hours.daily_cap": "8"}, "610113": {"hours.daily_cap": "6"}}
    assert as_dict(domain.effective_settings("610113", overrides))[
        "hours.daily_cap"
    ] == (
        6,
        "610113",
    )


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("nope", "1", "settings.known_key"),
        ("hours.daily_cap", "{", "settings.json"),
        ("hours.daily_cap", "30", "settings.hours.daily_cap"),
        (
            "stars.thresholds_hours",
            "[100, 300, 200, 1000, 1500]",
            "settings.stars.thresholds_hours",
        ),
        ("awards.notice_working_days", "3", "settings.awards.notice_working_days"),
        ("awards.notice_working_days", "true", "settings.awards.notice_working_days"),
        ("hours.rounding", '"banker"', "settings.hours.rounding"),
        ("stars.approval_level", '{"1": "county"}', "settings.stars.approval_level"),
    ],
)
def test_bad_settings_name_the_key_and_rule(key, value, rule):
    with pytest.raises(InvalidArgument) as err:
        domain.parse_setting(key, value)
    assert err.value.field == f"set_json.{key}"
    assert err.value.rule == rule


def test_admins_grant_only_roles_they_hold():
    assert domain.check_grant(["province_admin"], ["tenant_admin"]) == ["tenant_admin"]
    assert domain.check_grant(["tenant_admin"], ["reviewer", "org_leader"]) == [
        "org_leader",
        "reviewer",
    ]
    with pytest.raises(PermissionDenied):
        domain.check_grant(["tenant_admin"], ["province_admin"])
    with pytest.raises(PermissionDenied):
        domain.check_grant(["reviewer"], ["tenant_admin"])
    with pytest.raises(InvalidArgument):
        domain.check_grant(["operator"], ["emperor"])
    with pytest.raises(InvalidArgument):
        domain.check_grant(["operator"], [])


def test_service_fields_are_checked_and_deduplicated():
    assert domain.check_service_fields(["medical", "medical", "legal_aid"]) == [
        "medical",
        "legal_aid",
    ]
    with pytest.raises(InvalidArgument) as err:
        domain.check_service_fields(["medical", "astrology"])
    assert err.value.rule == "service_fields.known"


def test_volunteer_number_is_public_and_carries_no_personal_data():
    assert domain.volunteer_number("61", 42) == "ZY610000000042"
