"""A certificate's training and awards lines as printed, from the records
activity and commendation hold (:mod:`.lines_client`): one line an entry,
oldest first, at most :data:`LIMIT` a section and then a count of the rest
(the certificate is one page). The certificate stores the lines it printed,
so the same text is printed again whatever the records say later.

Example::

    training_lines([TrainingLine("应急救护培训", "2026-03-14T02:00:00+00:00", 2.0)])
    # ('2026年03月14日 应急救护培训（2学时）',)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from services.common.rollup import CST
from services.common.times import parse
from services.hours.lines_client import AwardLine, TrainingLine

LIMIT = 10
STARS = "一二三四五"
CATEGORIES = {
    "individual": "个人",
    "collective": "集体",
    "project": "项目",
    "station": "站点",
}


def training_lines(found: Sequence[TrainingLine]) -> tuple[str, ...]:
    lines = [
        f"{_day(parse(x.starts_at).astimezone(CST).date())} {x.course_title}"
        f"（{_hours(x.hours)}学时）"
        for x in found
    ]
    return _capped(lines)


def award_lines(found: Sequence[AwardLine]) -> tuple[str, ...]:
    return _capped([_award(a) for a in found])


def _award(a: AwardLine) -> str:
    day = _day(date.fromisoformat(a.awarded_on))
    where = f"（{a.division_name}）" if a.division_name else ""
    if a.kind == "star_rating":
        tier = STARS[a.stars - 1] if 1 <= a.stars <= len(STARS) else str(a.stars)
        return f"{day} {tier}星级志愿者{where}"
    category = CATEGORIES.get(a.category, a.category)
    detail = "，".join(x for x in (category, a.division_name) if x)
    return f"{day} {a.round_title}" + (f"（{detail}）" if detail else "")


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= LIMIT:
        return tuple(lines)
    return (*lines[:LIMIT], f"等{len(lines)}项")


def _day(day: date) -> str:
    return day.strftime("%Y年%m月%d日")


def _hours(value: float) -> str:
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return format(amount.normalize(), "f")
