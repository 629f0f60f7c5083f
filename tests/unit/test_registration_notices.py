"""The words of a volunteer's notifications, built from each event's data,
the deliveries a tenant's channels make, and the channels setting's rule."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.common.settings import effective_settings, parse_setting, value
from services.registration import inbox, notices


@pytest.mark.parametrize(
    ("status", "title_en", "zh_part"),
    [
        ("approved", "Sign-up approved", "已获得名额"),
        ("waitlisted", "On the waitlist", "候补名单"),
        ("promoted", "Promoted from the waitlist", "由候补转为正式报名"),
        ("rejected", "Sign-up not accepted", "未获通过"),
    ],
)
def test_a_decided_sign_up_names_the_project_and_the_decision(
    status: str, title_en: str, zh_part: str
) -> None:
    got = notices.notice(
        "activity.signup.decided",
        {"status": status, "project_title": "关爱老人", "volunteer_id": "v"},
    )
    assert got.kind == f"signup.{status}"
    assert got.title_en == title_en
    assert "“关爱老人”" in got.body_zh and zh_part in got.body_zh
    assert "“关爱老人”" in got.body_en


def test_approved_hours_say_how_many_and_which_month() -> None:
    got = notices.notice(
        "hours.record.approved", {"hours": 2.5, "service_month": "2026-05"}
    )
    assert (got.kind, got.title_zh) == ("hours.approved", "服务时长已审核通过")
    assert got.body_zh == "您 2026-05 的 2.5 小时服务时长已审核通过。"
    assert got.body_en == "2.5 h of your service in 2026-05 were approved."


def test_a_correction_shows_its_sign_and_reason() -> None:
    down = notices.notice(
        "hours.record.corrected",
        {"delta_hours": -1.25, "service_month": "2026-04", "reason": "签退时间有误"},
    )
    assert down.kind == "hours.corrected"
    assert (
        down.body_zh == "您 2026-04 的服务时长更正了 -1.25 小时，原因：签退时间有误。"
    )
    assert (
        down.body_en
        == "Your hours for 2026-04 were corrected by -1.25 h: 签退时间有误."
    )
    up = notices.notice(
        "hours.record.corrected", {"delta_hours": 3, "service_month": "2026-04"}
    )
    assert up.body_en == "Your hours for 2026-04 were corrected by +3 h."


def test_a_certificate_and_stars() -> None:
    cert = notices.notice(
        "hours.certificate.issued",
        {"certificate_number": "ZYC-61-2026-000001-ABCD", "hours": 12.0},
    )
    assert cert.kind == "certificate.issued"
    assert "ZYC-61-2026-000001-ABCD（12 小时）" in cert.body_zh
    stars = notices.notice("commendation.stars.approved", {"to_stars": 3})
    assert (stars.kind, stars.body_zh) == (
        "stars.approved",
        "恭喜！您已被评为3星级志愿者。",
    )
    assert "3-star" in stars.body_en


def test_an_event_or_status_it_does_not_know_is_refused() -> None:
    with pytest.raises(KeyError):
        notices.notice("hours.record.submitted", {})
    with pytest.raises(KeyError):
        notices.notice("activity.signup.decided", {"status": "withdrawn"})


def test_hours_are_written_as_people_write_them() -> None:
    assert [notices.hours(x) for x in (2, 2.0, 2.5, 2.50, 1.333333)] == [
        "2",
        "2",
        "2.5",
        "2.5",
        "1.33",
    ]


def test_the_inbox_always_delivers_and_other_channels_have_no_adapter() -> None:
    assert [d.channel for d in inbox.adapters(["in_app"])] == ["in_app"]
    got = inbox.adapters(["in_app", "sms", "wechat"])
    assert [type(d).__name__ for d in got] == ["InApp", "NoAdapter", "NoAdapter"]
    assert [d.channel for d in got] == ["in_app", "sms", "wechat"]


def test_the_channels_setting_defaults_to_the_inbox_and_is_inherited() -> None:
    assert value(effective_settings("610113001", {}), inbox.CHANNEL_KEY) == ["in_app"]
    rows = effective_settings(
        "610113001", {"6101": {inbox.CHANNEL_KEY: '["in_app", "sms"]'}}
    )
    assert value(rows, inbox.CHANNEL_KEY) == ["in_app", "sms"]
    assert parse_setting(inbox.CHANNEL_KEY, '["wechat", "in_app"]') == [
        "wechat",
        "in_app",
    ]


@pytest.mark.parametrize(
    "bad", ['["sms"]', '["in_app", "email"]', '["in_app", "in_app"]', '"in_app"']
)
def test_the_channels_setting_keeps_the_inbox_and_known_channels(bad: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_setting(inbox.CHANNEL_KEY, bad)
    assert err.value.field == "set_json.notifications.channels"
    assert err.value.rule == "settings.notifications.channels"
