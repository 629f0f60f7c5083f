"""Request checks for recycling: each raises INVALID_ARGUMENT naming the
field and the rule, before anything is read or written (pure functions).

Example:
    >>> bin_code(" awb-6101-0001 ")
    'AWB-6101-0001'
    >>> day("2026-03-01", "collected_on", date(2026, 3, 2))
    datetime.date(2026, 3, 1)
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal

from services.common import checks
from services.common.checks import ident as ident
from services.common.checks import text as text
from services.common.checks import utc_moment as utc_moment
from services.common.errors import InvalidArgument
from services.common.tenancy import Scope, validate_code
from services.recycling.quantities import MAX_ITEMS, MAX_KG, Weights, kg

BIN_CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{1,30}[A-Z0-9])$")
MAX_BINS_PER_COLLECTION = 200
FIRST_DAY = date(2000, 1, 1)


def division(scope: Scope, value: str, field: str = "division_code") -> str:
    """A well-formed code inside the caller's scope (PERMISSION_DENIED outside)."""
    if not (value or "").strip():
        raise InvalidArgument.required(field)
    return scope.require(validate_code(value, field), field)


def day(value: str, field: str, today: date) -> date:
    """A calendar day 'YYYY-MM-DD', not in the future; blank means today."""
    parsed = checks.day(value, field) if (value or "").strip() else today
    if parsed > today:
        raise InvalidArgument(
            field, f"{field}.past", "must not lie in the future", "不能晚于今天"
        )
    if parsed < FIRST_DAY:
        raise InvalidArgument(
            field, f"{field}.min", "must not be before 2000", "不能早于 2000 年"
        )
    return parsed


def not_before(value: date, earliest: date, field: str, what: str) -> date:
    if value < earliest:
        raise InvalidArgument(
            field,
            f"{field}.not_before",
            f"must not be before {what} ({earliest.isoformat()})",
            f"不能早于{_WHAT_ZH.get(what, what)}（{earliest.isoformat()}）",
        )
    return value


_WHAT_ZH = {
    "the bin's last change": "回收箱上次状态变更日期",
    "the drive": "捐赠活动日期",
    "the booking": "预约日期",
    "the bin's deployment": "回收箱投放日期",
}


def bin_code(value: str, field: str = "code") -> str:
    """Upper-case letters, digits and inner hyphens, 3 to 32 long."""
    code = text(value, field, 32).upper()
    if not BIN_CODE.match(code):
        raise InvalidArgument(
            field,
            f"{field}.format",
            "a bin code uses letters, digits and hyphens, e.g. AWB-6101-0001",
            "回收箱编号只能包含字母、数字和连字符，如 AWB-6101-0001",
        )
    return code


def bin_codes(values: list[str]) -> list[str]:
    codes = [bin_code(v, "bin_codes") for v in values]
    if len(codes) > MAX_BINS_PER_COLLECTION:
        raise InvalidArgument(
            "bin_codes",
            "bin_codes.max_items",
            f"at most {MAX_BINS_PER_COLLECTION} bins per collection",
            f"每次回收最多登记 {MAX_BINS_PER_COLLECTION} 个回收箱",
        )
    if len(set(codes)) != len(codes):
        raise InvalidArgument(
            "bin_codes", "bin_codes.unique", "a bin is listed twice", "回收箱编号重复"
        )
    return codes


def coordinates(
    lat: float | None, lng: float | None
) -> tuple[float | None, float | None]:
    """WGS-84 degrees, both or neither."""
    if lat is None and lng is None:
        return None, None
    if lat is None or lng is None:
        missing = "place.latitude" if lat is None else "place.longitude"
        raise InvalidArgument(
            missing,
            f"{missing}.required",
            "latitude and longitude go together",
            "经度和纬度须同时填写",
        )
    bounds = ((lat, "place.latitude", 90), (lng, "place.longitude", 180))
    for value, field, bound in bounds:
        if not math.isfinite(value) or not -bound <= value <= bound:
            raise InvalidArgument(
                field,
                f"{field}.range",
                f"must lie between -{bound} and {bound} degrees",
                f"须在 -{bound} 至 {bound} 度之间",
            )
    return lat, lng


def weights(textiles: float, books: float, other: float, field: str) -> Weights:
    """Raw numbers to :class:`Weights` (finite, one decimal); the bounds are
    :func:`quantities.check_weights`."""
    out = []
    for value, name in ((textiles, "textiles"), (books, "books"), (other, "other")):
        where = f"{field}.{name}_kg"
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidArgument(
                where, f"{where}.number", "must be a finite number", "须为有效数字"
            )
        # A huge value would exceed Decimal's 28 digits once in tenths; it is
        # far over the bound anyway, which check_weights then reports.
        value = max(-1e12, min(value, 1e12))
        out.append(kg(value))
    return Weights(*out)


def estimate(value: float, field: str, required: bool = True) -> Decimal:
    """An estimated weight: a finite number of kg up to 50,000 (one decimal),
    more than 0 when required (0 means none given otherwise)."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(
            field, f"{field}.number", "must be a finite number", "须为有效数字"
        )
    got = kg(max(-1e12, min(value, 1e12)))
    if got < 0 or got > MAX_KG:
        raise InvalidArgument(
            field,
            f"{field}.range",
            f"must lie between 0 and {MAX_KG} kg",
            f"须在 0 至 {MAX_KG} 千克之间",
        )
    if required and got == 0:
        raise InvalidArgument(
            field, f"{field}.positive", "must be more than 0 kg", "须大于 0 千克"
        )
    return got


def households(value: int, field: str, required: bool = True) -> int:
    if value < 0 or value > MAX_ITEMS:
        raise InvalidArgument(
            field,
            f"{field}.range",
            f"must lie between 0 and {MAX_ITEMS}",
            f"须在 0 至 {MAX_ITEMS} 之间",
        )
    if required and value == 0:
        raise InvalidArgument(
            field, f"{field}.positive", "must be at least 1", "至少为 1 户"
        )
    return value
