"""Hours' pure rules, property by property: rounding, daily caps, overlap,
the time-bank ledger, the policy and certificate numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import FailedPrecondition
from services.common.service_fields import SERVICE_FIELDS
from services.common.settings import effective_settings
from services.hours import domain
from services.hours.models import ROLLUP_FIELDS
from services.hours.validation import NUMBER

SECONDS = st.integers(min_value=0, max_value=24 * 3600)
HOURS = st.decimals(min_value="0.01", max_value="24", places=2)


# -- rounding -------------------------------------------------------------------


@pytest.mark.parametrize("policy", domain.ROUNDINGS)
@given(a=SECONDS, b=SECONDS)
def test_rounding_is_monotone(policy: str, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert domain.round_hours(lo, policy) <= domain.round_hours(hi, policy)


@given(s=SECONDS)
def test_exact_rounding_is_within_half_a_hundredth(s: int) -> None:
    got = domain.round_hours(s, "exact")
    assert abs(got - Decimal(s) / 3600) <= Decimal("0.005")
    assert got == got.quantize(Decimal("0.01"))


@pytest.mark.parametrize("policy", ["half_hour", "chongqing"])
@given(s=SECONDS)
def test_half_hour_policies_give_halves_within_a_quarter(policy: str, s: int) -> None:
    got = domain.round_hours(s, policy)
    assert (got * 2) % 1 == 0  # a whole number of half hours
    assert abs(got - Decimal(s) / 3600) <= Decimal("0.25")
    assert got >= 0


# (minutes into the last started hour, hours it counts) at every boundary
CHONGQING = [(0, "0"), (1, "0"), (15, "0"), (16, "0.5"), (30, "0.5"), (45, "0.5")]
CHONGQING += [(46, "1"), (59, "1"), (60, "1")]


@pytest.mark.parametrize(("minutes", "expected"), CHONGQING)
@given(full=st.integers(min_value=0, max_value=12))
def test_chongqing_table_is_exact_at_the_boundaries(
    minutes: int, expected: str, full: int
) -> None:
    got = domain.round_hours(full * 3600 + minutes * 60, "chongqing")
    assert got == full + Decimal(expected)


@given(full=st.integers(min_value=0, max_value=12), extra=st.integers(1, 59))
def test_chongqing_a_second_past_a_boundary_moves_up(full: int, extra: int) -> None:
    base = full * 3600
    assert domain.round_hours(base + 900 + 1, "chongqing") == full + Decimal("0.5")
    assert domain.round_hours(base + 2700 + 1, "chongqing") == full + 1
    assert domain.round_hours(base + 900 - extra, "chongqing") == full


def test_unknown_rounding_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError):
        domain.round_hours(60, "ceil")
    with pytest.raises(ValueError):
        domain.round_hours(-1, "exact")


# -- daily caps -------------------------------------------------------------------


@given(
    cap=st.decimals(min_value="0.5", max_value="24", places=1),
    records=st.lists(st.tuples(st.integers(0, 3), HOURS), max_size=40),
)
def test_credited_hours_per_day_never_exceed_the_cap(
    cap: Decimal, records: list[tuple[int, Decimal]]
) -> None:
    per_day: dict[int, Decimal] = {}
    for day, rounded in records:
        before = per_day.get(day, Decimal(0))
        credited, capped = domain.apply_cap(before, rounded, cap)
        assert 0 <= credited <= rounded and capped >= 0
        assert credited + capped == rounded
        assert credited == min(rounded, max(Decimal(0), cap - before))
        per_day[day] = before + credited
    assert all(total <= cap for total in per_day.values())


# -- overlap -----------------------------------------------------------------------

INTERVAL = st.tuples(st.integers(0, 1000), st.integers(1, 120)).map(
    lambda t: domain.Interval(t[0], t[0] + t[1])
)


@given(st.lists(INTERVAL, max_size=40))
def test_accepted_intervals_are_pairwise_disjoint(intervals) -> None:  # type: ignore[no-untyped-def]
    accepted: list[domain.Interval] = []
    for iv in intervals:
        if any(iv.overlaps(other) for other in accepted):
            continue  # stored as rejected with reason "overlap"
        accepted.append(iv)
    for i, a in enumerate(accepted):
        for b in accepted[i + 1 :]:
            assert not a.overlaps(b) and not b.overlaps(a)
            assert a.end <= b.start or b.end <= a.start
    for iv in intervals:  # every refused interval collides with an accepted one
        assert iv in accepted or any(iv.overlaps(a) for a in accepted)


def test_touching_intervals_do_not_overlap() -> None:
    assert not domain.Interval(0, 60).overlaps(domain.Interval(60, 90))
    assert domain.Interval(0, 61).overlaps(domain.Interval(60, 90))


T0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
OFFSET = st.integers(-180, 600).map(lambda m: T0 + timedelta(minutes=m))


LENGTH = st.integers(1, 600).map(lambda m: timedelta(minutes=m))


@given(a=OFFSET, ab=LENGTH, c=OFFSET, cd=LENGTH)
def test_the_counted_interval_lies_inside_the_check_in_out_and_the_session(
    a: datetime, ab: timedelta, c: datetime, cd: timedelta
) -> None:
    # Ordered by construction (no assume: filtering starves a busy machine).
    b, d = a + ab, c + cd
    got = domain.counted_interval(a, b, c, d)
    if got is None:
        assert min(b, d) <= max(a, c)
    else:
        assert max(a, c) == got.start < got.end == min(b, d)


def test_service_day_is_the_china_time_day() -> None:
    late_utc = datetime(2026, 10, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 Nov in China
    assert domain.service_day(late_utc).isoformat() == "2026-11-01"


# -- time bank ----------------------------------------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "withdraw", "clawback"]), st.integers(0, 2), HOURS
    ),
    max_size=60,
)


@given(OPS)
def test_ledger_sums_to_zero_and_no_balance_goes_negative(ops) -> None:  # type: ignore[no-untyped-def]
    ledger = domain.Ledger()
    bank = "610113"
    for op, who, amount in ops:
        vol = f"v{who}"
        balance = ledger.balance(domain.volunteer_account(vol))
        before = dict(ledger.balances)
        if op == "deposit":
            ledger.post(domain.deposit(bank, vol, amount))
        elif op == "withdraw":
            if amount > balance:
                with pytest.raises(FailedPrecondition):
                    domain.withdrawal(bank, vol, amount, balance)
                assert ledger.balances == before
                continue
            ledger.post(domain.withdrawal(bank, vol, amount, balance))
        else:
            entries, short = domain.clawback(bank, vol, amount, balance)
            taken = -sum((e.amount for e in entries if e.account.startswith("vol")), 0)
            assert taken + short == amount and taken <= balance
            if entries:
                ledger.post(entries)
        assert sum(ledger.balances.values(), Decimal(0)) == 0
        assert all(sum(e.amount for e in tx) == 0 for tx in ledger.transactions)
        assert all(
            v >= 0 for a, v in ledger.balances.items() if a.startswith("volunteer:")
        )


def test_an_unbalanced_transaction_is_refused() -> None:
    ledger = domain.Ledger()
    with pytest.raises(ValueError):
        ledger.post(
            [domain.Entry("bank:61", Decimal("-1")), domain.Entry("v", Decimal(2))]
        )
    with pytest.raises(ValueError):
        domain.check_balanced([domain.Entry("bank:61", Decimal(0))])
    assert ledger.transactions == []


@given(hours=HOURS, ratio=st.decimals(min_value=0, max_value=2, places=3))
def test_deposit_is_hours_times_ratio_to_the_hundredth(
    hours: Decimal, ratio: Decimal
) -> None:
    got = domain.deposit_amount(hours, ratio)
    assert abs(got - hours * ratio) <= Decimal("0.005")


# -- policy, numbers, schema ----------------------------------------------------------


def test_policy_is_inherited_and_the_nearest_override_wins() -> None:
    overrides = {
        "61": {"hours.daily_cap": "10", "hours.rounding": json.dumps("half_hour")},
        "610113": {"hours.rounding": json.dumps("chongqing")},
    }
    policy = domain.Policy.from_settings(effective_settings("610113002", overrides))
    assert policy.rounding == "chongqing" and policy.daily_cap == 10
    assert policy.sources["hours.rounding"] == "610113"
    assert policy.sources["hours.daily_cap"] == "61"
    assert policy.excluded_kinds == {"donation"} and policy.deposit_ratio == 1
    sibling = domain.Policy.from_settings(effective_settings("610103", overrides))
    assert sibling.rounding == "half_hour"


@given(st.text(alphabet="0123456789", min_size=2, max_size=2), st.integers(1, 999_999))
def test_certificate_numbers_have_the_public_format(province: str, serial: int) -> None:
    number = domain.certificate_number(province, 2026, serial)
    assert NUMBER.match(number)
    assert number.startswith(f"ZYC-{province}-2026-{serial:06d}-")


def test_every_service_field_has_rollup_columns() -> None:
    # A new kernel field needs a migration adding its hours rollup columns.
    assert set(ROLLUP_FIELDS) == set(SERVICE_FIELDS)


def test_bank_is_the_county() -> None:
    assert domain.bank_code("610113002001") == "610113"
    assert domain.bank_code("6101") == "6101"
