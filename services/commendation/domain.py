"""Commendation's rules, free of I/O: star tiers and who approves them,
medals and long service, the review chain of a nomination, working days,
and the fraud signals read from a volunteer's hour records.

Example::

    >>> tier(Decimal("640"), [100, 300, 600, 1000, 1500])
    3
    >>> stages("610113001", office=True, round_code="61")
    ['610113', '6101', '61']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from services.common.rollup import CST
from services.common.tenancy import Level, ancestors, truncate

LEVEL_BY_NAME = {"county": Level.COUNTY, "city": Level.CITY, "province": Level.PROVINCE}
# The levels that review nominations on their way up.
REVIEW_WIDTHS = (Level.COUNTY.width, Level.CITY.width, Level.PROVINCE.width)
MEDALS = ("gold", "silver", "bronze")


def today() -> date:
    """Today in China time: deadlines and notices are China dates."""
    return datetime.now(CST).date()


def tier(total: Decimal | float, thresholds: Sequence[float]) -> int:
    """The stars (0-5) that ``total`` approved hours reach."""
    return sum(1 for t in thresholds if Decimal(str(total)) >= Decimal(str(t)))


def approving_code(home: str, level_name: str) -> str:
    """The division that approves a tier: the home division's ancestor at
    the configured level (the home division itself if it is higher)."""
    level = LEVEL_BY_NAME[level_name]
    return truncate(home, level) if len(home) >= level.width else home


def medal(stars: int, total: Decimal | float, hours: Mapping[str, float]) -> str:
    """Gold, silver or bronze for a five-star volunteer with enough hours."""
    if stars < 5:
        return ""
    for name in MEDALS:
        if Decimal(str(total)) >= Decimal(str(hours[name])):
            return name
    return ""


@dataclass(frozen=True)
class Progress:
    """The way from a volunteer's approved stars to the next star."""

    next_star: int  # 0 at five stars
    next_hours: Decimal  # the next star's threshold (0 at five stars)
    hours_to_next: Decimal
    share: float  # 0..1


def progress(
    stars: int, total: Decimal | float, thresholds: Sequence[float]
) -> Progress:
    """How far ``total`` approved hours have gone from the approved star's
    threshold (0 for none) to the next one's, as the star rule's
    ``thresholds`` put them. Hours that fell below the approved star's
    threshold (thresholds raised since) count as no way yet; hours past the
    next threshold (a request awaiting review) as the whole way.

    Example::

        >>> progress(1, Decimal("200"), [100, 300, 600, 1000, 1500]).share
        0.5
        >>> progress(5, Decimal("1600"), [100, 300, 600, 1000, 1500]).next_star
        0
    """
    if stars >= len(thresholds):
        return Progress(0, Decimal(0), Decimal(0), 1.0)
    hours = Decimal(str(total))
    low = Decimal(str(thresholds[stars - 1])) if stars > 0 else Decimal(0)
    high = Decimal(str(thresholds[stars]))
    span = high - low
    share = (hours - low) / span if span > 0 else Decimal(hours >= high)
    share = min(Decimal(1), max(Decimal(0), share))
    return Progress(
        stars + 1, high, max(Decimal(0), high - hours), round(float(share), 4)
    )


def continuous_years(years: Iterable[int]) -> int:
    """The longest run of consecutive calendar years in ``years``."""
    best = run = 0
    previous = None
    for y in sorted(set(years)):
        run = run + 1 if previous is not None and y == previous + 1 else 1
        best, previous = max(best, run), y
    return best


def stages(unit_code: str, office: bool, round_code: str) -> list[str]:
    """The divisions that review a nomination, lowest first: every county,
    city and province ancestor of the nominating unit within the round's
    subtree, ending with the round's own division. A division office does
    not review its own nomination (nominating is its check), so its own
    level is left out; an organisation's nomination is checked by the
    office of the division it belongs to."""
    out = [
        code
        for code in ancestors(unit_code)
        if len(code) in REVIEW_WIDTHS and len(code) >= len(round_code)
    ]
    if round_code not in out:
        out.insert(0, round_code)  # a round opened at a township, say
    if office:
        out = [c for c in out if c != unit_code]
    return sorted(out, key=len, reverse=True)


def child_of(code: str, round_code: str) -> str:
    """The round's child unit ``code`` counts against for the quota (the
    round's own division when ``code`` is the round's division)."""
    below = [a for a in ancestors(code) if len(a) > len(round_code)]
    return below[0] if below else round_code


def add_working_days(start: date, days: int) -> date:
    """The last day of a notice of ``days`` working days (Monday-Friday)
    that starts on ``start`` (or the next working day). Public holidays
    are not known here: a tenant that needs them sets more days."""
    d = start
    while d.weekday() >= 5:
        d += timedelta(days=1)
    counted = 1
    while counted < days:
        d += timedelta(days=1)
        if d.weekday() < 5:
            counted += 1
    return d


@dataclass(frozen=True)
class Signal:
    code: str
    detail_en: str
    detail_zh: str

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "detail_en": self.detail_en,
            "detail_zh": self.detail_zh,
        }


@dataclass(frozen=True)
class RecordFacts:
    """What fraud checks need from one approved hour record."""

    hours: float
    effective_hours: float
    duration_seconds: int


# Rounding may credit up to an hour more than a short check-in lasted
# (Chongqing: 45 minutes count as 1 h); beyond half as much again and one
# hour more, the record is far above what the session allowed.
ABOVE_FACTOR, ABOVE_MARGIN = 1.5, 1.0


def signals(records: Sequence[RecordFacts], barred_until: date | None) -> list[Signal]:
    """Fraud signals for a nominee, from approved records and any bar."""
    out: list[Signal] = []
    corrected = [r for r in records if r.effective_hours != r.hours]
    reversed_ = [r for r in corrected if r.effective_hours == 0]
    amended = len(corrected) - len(reversed_)
    if amended:
        out.append(
            Signal(
                "hours_corrected",
                f"{amended} approved record(s) were corrected afterwards",
                f"{amended} 条已审核时长记录事后被更正",
            )
        )
    if reversed_:
        out.append(
            Signal(
                "hours_reversed",
                f"{len(reversed_)} approved record(s) were reversed",
                f"{len(reversed_)} 条已审核时长记录被撤销",
            )
        )
    above = [
        r
        for r in records
        if r.hours > r.duration_seconds / 3600 * ABOVE_FACTOR + ABOVE_MARGIN
    ]
    if above:
        out.append(
            Signal(
                "hours_above_duration",
                f"{len(above)} record(s) credit far more than the session lasted",
                f"{len(above)} 条记录的时长远超活动实际时长",
            )
        )
    if barred_until is not None:
        out.append(
            Signal(
                "barred",
                f"barred for falsified hours until {barred_until.isoformat()}",
                f"因虚报时长被禁止参评，至 {barred_until.isoformat()}",
            )
        )
    return out
