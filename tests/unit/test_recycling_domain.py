"""Recycling's pure rules: the bin lifecycle and the "bins deployed" count,
weights and items, distributions within a drive, pickup windows, the
booking lifecycle, exact splits, request checks and the Shaanxi demo plan."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import FailedPrecondition, InvalidArgument
from services.recycling import domain
from services.recycling import validation as v
from services.recycling.quantities import (
    MAX_KG,
    Items,
    Weights,
    check_distribution,
    check_items,
    check_weights,
    kg,
    split_exact,
)

# -- bins ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("deployed", "full"),
        ("deployed", "maintenance"),
        ("deployed", "retired"),
        ("full", "deployed"),
        ("full", "maintenance"),
        ("full", "retired"),
        ("maintenance", "deployed"),
        ("maintenance", "retired"),
    ],
)
def test_legal_bin_transitions(current: str, target: str) -> None:
    assert domain.check_bin_transition(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("retired", "deployed"),
        ("retired", "full"),
        ("retired", "maintenance"),
        ("deployed", "deployed"),
        ("maintenance", "full"),
        ("full", "full"),
        ("deployed", "lost"),
        ("", "full"),
    ],
)
def test_illegal_bin_transitions_are_failed_preconditions(
    current: str, target: str
) -> None:
    with pytest.raises(FailedPrecondition) as err:
        domain.check_bin_transition(current, target)
    assert err.value.rule == "state.transition"
    assert err.value.message_zh and err.value.message_en


def test_deployment_and_retirement_move_the_deployed_count() -> None:
    assert domain.deployed_delta("", "deployed") == 1
    assert domain.deployed_delta("full", "retired") == -1
    assert domain.deployed_delta("maintenance", "retired") == -1
    assert domain.deployed_delta("deployed", "full") == 0
    assert domain.deployed_delta("full", "deployed") == 0


@given(st.lists(st.sampled_from(domain.BIN_STATUSES), max_size=12))
def test_any_lifecycle_sums_to_whether_the_bin_is_in_service(
    wanted: list[str],
) -> None:
    """However a bin moves, its deltas add up to 1 while in service, 0 once
    retired: summing the months gives the bins deployed now."""
    status, total = "", 0
    for target in ["deployed", *wanted]:
        if status and target not in domain.BIN_TRANSITIONS[status]:
            continue  # the use case would refuse it; nothing counted
        total += domain.deployed_delta(status, target)
        status = target
    assert total == (0 if status == "retired" else 1)


def test_emptying_puts_a_full_bin_back_in_service_unless_dated_before() -> None:
    filled = date(2026, 5, 10)
    assert domain.emptied_status("full", filled, date(2026, 5, 10)) == "deployed"
    assert domain.emptied_status("full", filled, date(2026, 5, 9)) == "full"
    assert domain.emptied_status("maintenance", filled, date(2026, 6, 1)) == (
        "maintenance"
    )
    assert domain.emptied_status("deployed", filled, date(2026, 6, 1)) == "deployed"


# -- weights and items -----------------------------------------------------------------


def test_weights_are_kept_to_one_decimal() -> None:
    assert kg(12.34) == Decimal("12.3") and kg(0.05) == Decimal("0.1")
    w = v.weights(10.26, 0, 2.5, "weights")
    assert (w.textiles, w.books, w.other, w.total) == (
        Decimal("10.3"),
        Decimal("0.0"),
        Decimal("2.5"),
        Decimal("12.8"),
    )
    assert w.metrics() == {
        "kg_textiles": 10.3,
        "kg_books": 0.0,
        "kg_other": 2.5,
        "kg_total": 12.8,
    }


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [
        ((-1, 0, 0), "weights.textiles_kg", "weights.textiles_kg.non_negative"),
        ((0, -0.5, 3), "weights.books_kg", "weights.books_kg.non_negative"),
        ((0, 0, 50_000.1), "weights.other_kg", "weights.other_kg.max"),
        ((1e300, 0, 0), "weights.textiles_kg", "weights.textiles_kg.max"),
        ((0, 0, 0), "weights", "weights.positive"),
        ((0.04, 0, 0), "weights", "weights.positive"),  # rounds to nothing
    ],
)
def test_weights_out_of_bounds_name_the_field(raw, field, rule) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as err:
        check_weights(v.weights(*raw, field="weights"))
    assert (err.value.field, err.value.rule) == (field, rule)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_weights_must_be_finite(bad: float) -> None:
    with pytest.raises(InvalidArgument) as err:
        v.weights(1, bad, 0, "weights")
    assert err.value.rule == "weights.books_kg.number"


def test_the_largest_weight_is_accepted() -> None:
    assert check_weights(Weights(MAX_KG, MAX_KG, MAX_KG)).total == 3 * MAX_KG


def test_items_need_at_least_one_piece_and_no_negative() -> None:
    assert check_items(Items(3, 0, 0)).total == 3
    for items, rule in [
        (Items(0, 0, 0), "items.positive"),
        (Items(-1, 5, 0), "items.garments.non_negative"),
        (Items(0, 0, 1_000_001), "items.other.max"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            check_items(items)
        assert err.value.rule == rule


def test_a_distribution_stays_within_the_drive() -> None:
    drive, given_so_far = Items(100, 20, 5), Items(60, 20, 0)
    check_distribution(drive, 10, given_so_far, 6, Items(40, 0, 5), 4)  # exactly all
    with pytest.raises(FailedPrecondition) as err:
        check_distribution(drive, 10, given_so_far, 6, Items(41, 0, 0), 1)
    assert (err.value.field, err.value.rule) == (
        "items.garments",
        "distribution.within_drive",
    )
    assert "40" in err.value.message_en
    with pytest.raises(FailedPrecondition) as err:
        check_distribution(drive, 10, given_so_far, 6, Items(0, 1, 0), 1)
    assert err.value.field == "items.books"
    with pytest.raises(FailedPrecondition) as err:
        check_distribution(drive, 10, given_so_far, 6, Items(1, 0, 0), 5)
    assert err.value.field == "households"


# -- bookings -------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_booking_lifecycle() -> None:
    assert domain.check_booking_transition("requested", "assigned") == "assigned"
    assert domain.check_booking_transition("assigned", "collected") == "collected"
    assert domain.check_booking_transition("requested", "cancelled") == "cancelled"
    assert domain.check_booking_transition("assigned", "cancelled") == "cancelled"
    for current, target in [
        ("requested", "collected"),
        ("collected", "cancelled"),
        ("cancelled", "assigned"),
        ("assigned", "assigned"),
    ]:
        with pytest.raises(FailedPrecondition):
            domain.check_booking_transition(current, target)


def test_a_window_in_the_future_of_at_most_a_week_is_accepted() -> None:
    start = NOW + timedelta(days=1)
    domain.check_window(start, start + timedelta(days=7), NOW)
    domain.check_window(
        NOW + timedelta(days=90), NOW + timedelta(days=90, hours=1), NOW
    )


@pytest.mark.parametrize(
    ("start", "end", "rule"),
    [
        (NOW, NOW + timedelta(hours=2), "window_start.future"),
        (NOW - timedelta(days=1), NOW + timedelta(hours=2), "window_start.future"),
        (NOW + timedelta(days=91), NOW + timedelta(days=92), "window_start.max_ahead"),
        (NOW + timedelta(days=1), NOW + timedelta(days=1), "window_end.after_start"),
        (NOW + timedelta(days=2), NOW + timedelta(days=1), "window_end.after_start"),
        (
            NOW + timedelta(days=1),
            NOW + timedelta(days=8, seconds=1),
            "window_end.max_duration",
        ),  # noqa: E501
    ],
)
def test_bad_windows_are_refused(start, end, rule) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as err:
        domain.check_window(start, end, NOW)
    assert err.value.rule == rule


# -- exact splits ----------------------------------------------------------------------


def test_split_exact_examples() -> None:
    assert split_exact(10, [1, 1, 1]) == [4, 3, 3]
    assert split_exact(7, [0, 2, 1]) == [0, 5, 2]
    assert split_exact(0, [1, 2]) == [0, 0]
    with pytest.raises(ValueError):
        split_exact(5, [0, 0])
    with pytest.raises(ValueError):
        split_exact(-1, [1])


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=60
    ).filter(lambda w: sum(w) > 0),
)
def test_split_exact_sums_exactly_and_stays_proportional(
    total: int, weights: list[float]
) -> None:
    shares = split_exact(total, weights)
    assert sum(shares) == total
    whole = math.fsum(weights)
    for share, w in zip(shares, weights, strict=True):
        assert abs(share - total * w / whole) <= 1 + 1e-6 * total
        assert share >= 0
    assert split_exact(total, weights) == shares  # deterministic


def test_half_kilograms_sum_exactly_as_floats_and_tenths_do_not() -> None:
    """Why the seed's weights are whole half-kilograms: the rollup's Float
    columns then add them without any rounding, in any order."""
    halves = split_exact(2 * 812_700, [1 + (i % 7) for i in range(1394)])
    as_kg = [h / 2 for h in halves]
    running = 0.0
    for x in as_kg:  # the order the rollup adds them in
        running += x
    assert running == 812_700.0 == math.fsum(as_kg)
    assert sum(reversed(as_kg)) == 812_700.0
    tenths = [0.1] * 10
    assert sum(tenths) != 1.0  # the trap one decimal alone would fall into


# -- request checks --------------------------------------------------------------------


def test_bin_codes() -> None:
    assert v.bin_code(" awb-6101-0001 ") == "AWB-6101-0001"
    for bad, rule in [
        ("", "code.required"),
        ("AW", "code.format"),
        ("-AWB1", "code.format"),
        ("AWB 1", "code.format"),
        ("回收箱1", "code.format"),
        ("A" * 33, "code.max_length"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            v.bin_code(bad)
        assert err.value.rule == rule, bad
    with pytest.raises(InvalidArgument) as err:
        v.bin_codes(["AWB-1", "awb-1"])
    assert err.value.rule == "bin_codes.unique"


def test_coordinates_both_or_neither_and_in_range() -> None:
    assert v.coordinates(None, None) == (None, None)
    assert v.coordinates(34.22, 108.95) == (34.22, 108.95)
    for lat, lng, field, rule in [
        (34.2, None, "place.longitude", "place.longitude.required"),
        (None, 108.9, "place.latitude", "place.latitude.required"),
        (90.5, 108.9, "place.latitude", "place.latitude.range"),
        (34.2, -180.01, "place.longitude", "place.longitude.range"),
        (math.nan, 108.9, "place.latitude", "place.latitude.range"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            v.coordinates(lat, lng)
        assert (err.value.field, err.value.rule) == (field, rule)


def test_days_are_past_dates_and_blank_is_today() -> None:
    today = date(2026, 11, 22)
    assert v.day("", "held_on", today) == today
    assert v.day("2026-11-21", "held_on", today) == date(2026, 11, 21)
    for bad, rule in [
        ("2026-11-23", "held_on.past"),
        ("2026-13-01", "held_on.format"),
        ("22/11/2026", "held_on.format"),
        ("1999-12-31", "held_on.min"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            v.day(bad, "held_on", today)
        assert err.value.rule == rule, bad


def test_month_of_a_day() -> None:
    assert domain.month_of_day(date(2026, 1, 31)) == "2026-01"
