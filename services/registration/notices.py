"""The words of a volunteer's notifications (issue 13): for each event that
concerns a volunteer, its kind and a title and body in Chinese and English,
built from the event's data alone (pure: no I/O).

Example::

    notice("hours.record.approved", {"hours": 2.5, "service_month": "2026-05"})
    # Notice(kind="hours.approved", title_zh="服务时长已审核通过", ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The events a volunteer's inbox follows (``<service>.<entity>.<verb>``).
EVENTS = (
    "activity.signup.decided",
    "hours.record.approved",
    "hours.record.corrected",
    "hours.certificate.issued",
    "commendation.stars.approved",
)

SIGNUP = {
    "approved": ("报名已通过", "Sign-up approved",
                 "您报名的“{t}”已获得名额。", "You have a place in “{t}”."),
    "waitlisted": ("已进入候补", "On the waitlist",
                   "“{t}”名额已满，您已进入候补名单，有空位时将自动递补。",
                   "“{t}” is full: you are on the waitlist and move up when a "
                   "place is freed."),
    "promoted": ("候补已转正", "Promoted from the waitlist",
                 "“{t}”有空位，您已由候补转为正式报名。",
                 "A place was freed in “{t}”: you have it now."),
    "rejected": ("报名未通过", "Sign-up not accepted",
                 "您报名的“{t}”未获通过。", "Your sign-up for “{t}” was not accepted."),
}  # fmt: skip


@dataclass(frozen=True)
class Notice:
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


def hours(value: Any) -> str:
    """Hours as people write them: 2, 2.5, never 2.50 or 2.0."""
    number = round(float(value), 2)
    return f"{number:g}"


def notice(event_type: str, data: dict[str, Any]) -> Notice:
    """The notification of one event (one of :data:`EVENTS`); a KeyError for
    an event or a sign-up status it does not know."""
    if event_type == "activity.signup.decided":
        status = str(data["status"])
        zh, en, body_zh, body_en = SIGNUP[status]
        title = str(data.get("project_title") or "")
        return Notice(
            f"signup.{status}", zh, en, body_zh.format(t=title), body_en.format(t=title)
        )
    if event_type == "hours.record.approved":
        h, month = hours(data["hours"]), data.get("service_month", "")
        return Notice(
            "hours.approved", "服务时长已审核通过", "Hours approved",
            f"您 {month} 的 {h} 小时服务时长已审核通过。",
            f"{h} h of your service in {month} were approved.",
        )  # fmt: skip
    if event_type == "hours.record.corrected":
        delta = float(data["delta_hours"])
        sign = "+" if delta >= 0 else "-"
        h, month = hours(abs(delta)), data.get("service_month", "")
        reason = str(data.get("reason") or "").strip()
        return Notice(
            "hours.corrected", "服务时长已更正", "Hours corrected",
            f"您 {month} 的服务时长更正了 {sign}{h} 小时"
            + (f"，原因：{reason}" if reason else "") + "。",
            f"Your hours for {month} were corrected by {sign}{h} h"
            + (f": {reason}" if reason else "") + ".",
        )  # fmt: skip
    if event_type == "hours.certificate.issued":
        number, h = data["certificate_number"], hours(data["hours"])
        return Notice(
            "certificate.issued", "时长证明已开具", "Certificate issued",
            f"您的志愿服务时长证明 {number}（{h} 小时）已开具，可在“我的证明”下载。",
            f"Your certificate {number} ({h} h) is ready to download under "
            "My certificates.",
        )  # fmt: skip
    if event_type == "commendation.stars.approved":
        stars = int(data["to_stars"])
        return Notice(
            "stars.approved", "星级已评定", "Star rating granted",
            f"恭喜！您已被评为{stars}星级志愿者。",
            f"Congratulations: you are now a {stars}-star volunteer.",
        )  # fmt: skip
    raise KeyError(event_type)
