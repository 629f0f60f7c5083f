"""Rules of special campaigns (专项行动), pure functions: who may publish
(a province or a city), the checked fields of a campaign, whether a fact
may be tagged to one (the campaign covers the fact's division, the fact's
day lies inside the window), and the figures of a summary, grouped by child
unit or by ISO week from the tagged facts.

Example:
    >>> campaign_spec("寒冬送温暖", "", "2026-11-15", "2027-03-25", ["dibao"]).ends_on
    datetime.date(2027, 3, 25)
    >>> iso_week(date(2026, 11, 16))
    '2026-W47'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from services.common.checks import day, text
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.rollup import CST
from services.common.tenancy import Level, Scope, child_level, level_of

# The fixed list of target groups (帮扶对象), with their Chinese names.
TARGET_GROUPS: dict[str, str] = {
    "dibao": "低保户",
    "flood_affected": "受灾户",
    "sick_disabled": "病残",
    "left_behind_children": "留守儿童",
    "elderly_alone": "独居老人",
    "disabled_children": "残疾儿童",
    "veterans": "退役军人",
}
PUBLISHERS = (Level.PROVINCE, Level.CITY)
# A campaign runs at most a year and a half (a winter campaign spans two
# calendar years).
LONGEST = timedelta(days=548)


@dataclass(frozen=True)
class CampaignSpec:
    title: str
    description: str
    starts_on: date
    ends_on: date
    target_groups: list[str]


def _printable(value: str, field: str, lines: bool = False) -> str:
    allowed = {"\n"} if lines else set()
    if any(unicodedata.category(c).startswith("C") and c not in allowed for c in value):
        raise InvalidArgument(
            field,
            f"{field}.characters",
            "must not contain control characters such as a bare CR",
            "不能包含回车等控制字符",
        )
    return value


def _ascii_day(value: str, field: str) -> date:
    """A YYYY-MM-DD day in ASCII digits: full-width digits are refused, as
    every other date field of the platform refuses them."""
    if not (value or "").strip().isascii():
        raise InvalidArgument(
            field,
            f"{field}.format",
            "must be a date written YYYY-MM-DD in ASCII digits, e.g. 2026-11-15",
            "须为半角数字的 YYYY-MM-DD 日期，如 2026-11-15",
        )
    return day(value, field)


def campaign_spec(
    title: str,
    description: str,
    starts_on: str,
    ends_on: str,
    target_groups: Iterable[str],
) -> CampaignSpec:
    """Every field checked, in the form's order, before anything is written."""
    checked_title = _printable(text(title, "title", 100), "title")
    checked_description = _printable(
        text(description, "description", 2000, required=False), "description", True
    )
    start = _ascii_day(starts_on, "starts_on")
    end = _ascii_day(ends_on, "ends_on")
    if end < start:
        raise InvalidArgument(
            "ends_on",
            "ends_on.after_start",
            "must not be before starts_on",
            "结束日期不能早于开始日期",
        )
    if end - start > LONGEST:
        raise InvalidArgument(
            "ends_on",
            "ends_on.max_length",
            "a campaign runs at most 548 days",
            "专项行动最长 548 天",
        )
    return CampaignSpec(
        checked_title, checked_description, start, end, groups(target_groups)
    )


def groups(values: Iterable[str]) -> list[str]:
    """Known target groups, each once, in the list's order; at least one."""
    given = [str(v).strip() for v in values]
    unknown = [v for v in given if v not in TARGET_GROUPS]
    if unknown:
        raise InvalidArgument(
            "target_groups",
            "target_groups.known",
            f"unknown target group {unknown[0]!r}; one of {', '.join(TARGET_GROUPS)}",
            f"未知的帮扶对象 {unknown[0]!r}，可选：{'、'.join(TARGET_GROUPS.values())}",
        )
    if not given:
        raise InvalidArgument.required("target_groups")
    return [g for g in TARGET_GROUPS if g in given]


def require_publisher(scope: Scope) -> str:
    """The caller's own node, if a province or a city."""
    if scope.level not in PUBLISHERS:
        raise PermissionDenied(
            "only a province or a city publishes a special campaign",
            "只有省级或市级可以发布专项行动",
            field="division_code",
            rule="campaign.publisher_level",
        )
    return scope.code


def check_tag(
    campaign_code: str,
    window: tuple[date, date],
    fact_code: str,
    days: Iterable[date],
    field: str = "campaign_id",
) -> None:
    """A fact at ``fact_code`` on ``days`` may be tagged: the campaign
    covers the division and every day lies in the window."""
    if not fact_code.startswith(campaign_code):
        raise InvalidArgument(
            field,
            f"{field}.covers",
            f"the campaign of {campaign_code} does not cover {fact_code}",
            f"该专项行动（{campaign_code}）不覆盖 {fact_code}",
        )
    start, end = window
    for d in days:
        if not start <= d <= end:
            raise InvalidArgument(
                field,
                f"{field}.window",
                f"{d.isoformat()} lies outside the campaign's window "
                f"{start.isoformat()} to {end.isoformat()}",
                f"{d.isoformat()} 不在专项行动期间（{start.isoformat()} 至 "
                f"{end.isoformat()}）内",
            )


def local_day(moment: datetime) -> date:
    """The day in China Standard Time of a moment."""
    return moment.astimezone(CST).date()


def iso_week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def child_key(node: str, code: str) -> str:
    """The child unit of ``node`` that ``code`` lies in (``node`` itself for
    its own facts or a village's)."""
    below = child_level(level_of(node))
    if below is None or len(code) < below.width:
        return node
    return code[: below.width]


@dataclass
class Figures:
    households: set[str] = field(default_factory=set)
    volunteers: set[str] = field(default_factory=set)
    hours: Decimal = Decimal("0")
    items: int = 0
    kg: Decimal = Decimal("0")
    visits: int = 0


@dataclass(frozen=True)
class Fact:
    """A tagged fact: a visit, an attendance of a tagged project, or a
    recycling delivery; what it adds to its group's figures."""

    division_code: str
    on: date
    recipient_id: str = ""
    volunteer_id: str = ""
    hours: Decimal = Decimal("0")
    items: int = 0
    kg: Decimal = Decimal("0")
    visit: bool = False


def summarise(
    facts: Iterable[Fact], node: str, by_week: bool
) -> tuple[dict[str, Figures], Figures]:
    """Figures per group (child unit or ISO week) and in all, distinct
    households and volunteers counted once per group and once in all."""
    rows: dict[str, Figures] = {}
    total = Figures()
    for f in facts:
        key = iso_week(f.on) if by_week else child_key(node, f.division_code)
        for target in (rows.setdefault(key, Figures()), total):
            if f.recipient_id:
                target.households.add(f.recipient_id)
            if f.volunteer_id:
                target.volunteers.add(f.volunteer_id)
            target.hours += f.hours
            target.items += f.items
            target.kg += f.kg
            target.visits += int(f.visit)
    return dict(sorted(rows.items())), total
