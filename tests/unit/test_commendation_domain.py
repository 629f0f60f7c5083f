"""Commendation's pure rules: tiers, approving levels, medals, long service,
the review chain, quota units, working days and fraud signals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.commendation import domain
from services.commendation.domain import RecordFacts

DEFAULT = [100, 300, 600, 1000, 1500]


@pytest.mark.parametrize(
    ("hours", "stars"),
    [(0, 0), (99.99, 0), (100, 1), (299.99, 1), (300, 2), (600, 3), (999, 3),
     (1000, 4), (1499.99, 4), (1500, 5), (40000, 5)],
)  # fmt: skip
def test_tier_counts_thresholds_reached(hours: float, stars: int) -> None:
    assert domain.tier(Decimal(str(hours)), DEFAULT) == stars


@given(
    st.decimals(min_value=0, max_value=5000, places=2), st.decimals(0, 500, places=2)
)
def test_more_hours_never_fewer_stars(total: Decimal, extra: Decimal) -> None:
    assert domain.tier(total + extra, DEFAULT) >= domain.tier(total, DEFAULT)


def test_approving_code_is_the_home_ancestor_at_the_level() -> None:
    assert domain.approving_code("610113001001", "county") == "610113"
    assert domain.approving_code("610113001", "city") == "6101"
    assert domain.approving_code("610113", "province") == "61"
    # A volunteer registered at a city office: the city approves county tiers.
    assert domain.approving_code("6101", "county") == "6101"


@pytest.mark.parametrize(
    ("stars", "hours", "medal"),
    [(5, 4000, "gold"), (5, 3999, "silver"), (5, 3000, "silver"),
     (5, 2000, "bronze"), (5, 1999, ""), (4, 5000, "")],
)  # fmt: skip
def test_medals_need_five_stars_and_hours(stars: int, hours: int, medal: str) -> None:
    rule = {"gold": 4000, "silver": 3000, "bronze": 2000}
    assert domain.medal(stars, hours, rule) == medal


def test_continuous_years_is_the_longest_run() -> None:
    assert domain.continuous_years([]) == 0
    assert domain.continuous_years([2020]) == 1
    assert domain.continuous_years([2015, 2016, 2017, 2019, 2020]) == 3
    assert domain.continuous_years([2024, 2023, 2023, 2022]) == 3


@pytest.mark.parametrize(
    ("unit", "office", "round_code", "expected"),
    [
        ("610113001", True, "61", ["610113", "6101", "61"]),  # township office
        ("610113", False, "61", ["610113", "6101", "61"]),  # an organisation
        ("610113", True, "61", ["6101", "61"]),  # the county office itself
        ("6101", True, "61", ["61"]),
        ("61", True, "61", []),  # the round's own unit cannot nominate
        ("610113001", True, "6101", ["610113", "6101"]),  # a city's round
        ("610113001002", True, "610113001", ["610113001"]),  # a township's round
    ],
)
def test_review_chain(unit: str, office: bool, round_code: str, expected: list) -> None:  # type: ignore[type-arg]
    assert domain.stages(unit, office, round_code) == expected


def test_quota_counts_against_the_rounds_child() -> None:
    assert domain.child_of("610113001", "61") == "6101"
    assert domain.child_of("6101", "61") == "6101"
    assert domain.child_of("610113001", "6101") == "610113"
    assert domain.child_of("61", "61") == "61"


def test_working_days_skip_weekends() -> None:
    # Monday 2026-11-23: five working days end on Friday.
    assert domain.add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 27)
    # Thursday: Thu, Fri, Mon, Tue, Wed.
    assert domain.add_working_days(date(2026, 11, 26), 5) == date(2026, 12, 2)
    # Saturday: the notice starts on Monday.
    assert domain.add_working_days(date(2026, 11, 28), 5) == date(2026, 12, 4)


def test_signals_read_corrections_reversals_and_inflated_hours() -> None:
    records = [
        RecordFacts(3.0, 3.0, 3 * 3600),  # clean
        RecordFacts(1.0, 1.0, 45 * 60),  # Chongqing rounding: not a signal
        RecordFacts(4.0, 2.0, 4 * 3600),  # amended
        RecordFacts(2.0, 0.0, 2 * 3600),  # reversed
        RecordFacts(8.0, 8.0, 2 * 3600),  # far above the session
    ]
    got = {s.code: s for s in domain.signals(records, date(2027, 5, 1))}
    assert set(got) == {"hours_corrected", "hours_reversed", "hours_above_duration",
                        "barred"}  # fmt: skip
    assert got["hours_corrected"].detail_en.startswith("1 ")
    assert "2027-05-01" in got["barred"].detail_zh
    assert domain.signals(records[:2], None) == []


@pytest.mark.parametrize(
    ("stars", "hours", "expected"),
    [
        (0, 0, (1, 100, 100, 0.0)),
        (0, 40, (1, 100, 60, 0.4)),
        (1, 200, (2, 300, 100, 0.5)),  # from 100 h to 300 h
        (2, 300, (3, 600, 300, 0.0)),  # just reached two stars
        (2, 700, (3, 600, 0, 1.0)),  # past the next: awaiting review
        (3, 500, (4, 1000, 500, 0.0)),  # thresholds raised since approval
        (4, 1400, (5, 1500, 100, 0.8)),
        (5, 1600, (0, 0, 0, 1.0)),
    ],
)
def test_progress_runs_from_this_stars_threshold_to_the_next(
    stars: int, hours: int, expected: tuple[int, int, int, float]
) -> None:
    got = domain.progress(stars, Decimal(hours), DEFAULT)
    assert (got.next_star, got.next_hours, got.hours_to_next, got.share) == expected


@given(
    st.integers(0, 5),
    st.decimals(0, 5000, places=2, allow_nan=False, allow_infinity=False),
)
def test_progress_stays_between_0_and_1(stars: int, hours: Decimal) -> None:
    got = domain.progress(stars, hours, DEFAULT)
    assert 0 <= got.share <= 1 and got.hours_to_next >= 0
    assert got.next_star == (0 if stars == 5 else stars + 1)
