"""``make scale``'s state at a small size, as a correctness check: built
through the same code (the bulk imports, then activity, recycling and
commendation facts in proportion: tests/perf/scale_state.py), every
service's Summarize must answer what GROUP BY over the raw facts answers, for
random scopes and periods. Times are never asserted here; ``make scale``
prints them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.perf import scale_state as st

# Smaller than `--size quick` (10k/100k) so the suite stays quick on two
# shared cores; the code path is the same.
VOLUNTEERS, RECORDS = 1_000, 8_000
SEED = 20261204


@pytest.fixture(scope="module")
def platform() -> Iterator[tuple[st.Platform, st.BuildReport]]:
    with st.Platform(prefix="zy_scaletest") as pf:
        report = st.build(pf, VOLUNTEERS, RECORDS, seed=SEED, chunk_size=5_000)
        st.build_facts(pf, report.records_imported, seed=SEED)
        pf.start_apis()
        yield pf, report


def _months(rng: random.Random, n: int) -> list[st.Period]:
    today = datetime.now(UTC).astimezone(st._cst()).date()
    out = []
    for _ in range(n):
        back = rng.randint(1, 23)
        y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
        label = f"{y}-{m + 1:02d}"
        out.append(st.Period(label, label, label))
    return out


def _scopes(pf: st.Platform, rng: random.Random) -> list[str]:
    """The focus province, and a random city, county and township of it
    that have records, and another province with records."""
    from sqlalchemy import text

    with pf.owner("hours").connect() as conn:
        codes = [
            c
            for (c,) in conn.execute(
                text("SELECT DISTINCT division_code FROM hour_records")
            )
        ]
    inside = sorted(c for c in codes if c.startswith(st.FOCUS))
    outside = sorted({c[:2] for c in codes if not c.startswith(st.FOCUS)})
    town = rng.choice(inside)
    return [st.FOCUS, town[:4], town[:6], rng.choice(outside)]


def test_the_build_imported_through_the_bulk_paths(platform) -> None:  # type: ignore[no-untyped-def]
    pf, report = platform
    assert report.volunteers_imported == VOLUNTEERS, report.first_errors
    # A few records fall in a slot the volunteer already has (overlap): the
    # import refuses those, as one at a time would.
    assert report.records_imported >= RECORDS * 0.95, report.first_errors
    assert st.fact_count(pf.owner("hours"), "hour_records") == report.records_imported


def test_hours_summarize_equals_group_by(platform) -> None:  # type: ignore[no-untyped-def]
    pf, _ = platform
    rng = random.Random(SEED)
    owner = pf.owner("hours")
    checked = 0
    for code in _scopes(pf, rng):
        token = pf.token(code[:2])
        channel, stub, pb = st.summarize_stub(pf.addresses["hours"], "hours")
        try:
            chosen = _months(rng, 2)
            years = [st.Period(p.label[:4], f"{p.label[:4]}-01", f"{p.label[:4]}-12")
                     for p in chosen]  # fmt: skip
            for period in [*chosen, *years, st.periods()["all"]]:
                got, total = st.summarize(stub, pb, token, code, period)
                want = st.reference_hours(owner, code, period)
                metrics = sorted({k for v in want.values() for k in v}) or [
                    "hours", "records", "volunteers"
                ]  # fmt: skip
                wrong = st.mismatches(got, want, metrics)
                assert not wrong, (code, period, wrong[:5])
                checked += len(want)
        finally:
            channel.close()
    assert checked > 0  # the scopes were chosen where records are


def test_registration_summarize_equals_group_by(platform) -> None:  # type: ignore[no-untyped-def]
    pf, _ = platform
    owner = pf.owner("registration")
    this_month = datetime.now(UTC).astimezone(st._cst()).strftime("%Y-%m")
    periods = [
        st.Period(this_month, this_month, this_month),
        st.Period(this_month[:4], f"{this_month[:4]}-01", f"{this_month[:4]}-12"),
        st.periods()["all"],
    ]
    rng = random.Random(SEED + 1)
    checked = 0
    for code in _scopes(pf, rng)[:3]:
        channel, stub, pb = st.summarize_stub(
            pf.addresses["registration"], "registration"
        )
        try:
            for period in periods:
                got, _ = st.summarize(stub, pb, pf.token(code[:2]), code, period)
                want = st.reference_registration(owner, code, period)
                names = ["volunteers_registered", "volunteers_verified"]
                wrong = st.mismatches(got, want, names)
                assert not wrong, (code, period, wrong[:5])
                checked += len(want)
        finally:
            channel.close()
    assert checked > 0


@pytest.mark.parametrize("service", ["activity", "recycling", "commendation"])
def test_other_services_summarize_equals_group_by(platform, service) -> None:  # type: ignore[no-untyped-def]
    """Activity, recycling and commendation facts, written in proportion to
    the hours (``st.build_facts``): Summarize equals GROUP BY over them
    (``st.REFERENCES``) for random scopes, months with facts, their years
    and all time."""
    pf, _ = platform
    reference, metrics, table = st.REFERENCES[service]
    owner = pf.owner(service)
    assert st.fact_count(owner, table) > 0
    rng = random.Random(f"{SEED}-{service}")
    months = _fact_months(pf, service)
    chosen = [st.Period(m, m, m) for m in rng.sample(months, min(2, len(months)))]
    years = sorted({p.label[:4] for p in chosen})
    periods = [
        *chosen, *(st.Period(y, f"{y}-01", f"{y}-12") for y in years),
        st.periods()["all"],
    ]  # fmt: skip
    checked = 0
    channel, stub, pb = st.summarize_stub(pf.addresses[service], service)
    try:
        for code in _scopes(pf, rng):
            for period in periods:
                got, _ = st.summarize(stub, pb, pf.token(code[:2]), code, period)
                want = reference(owner, code, period)
                wrong = st.mismatches(got, want, list(metrics))
                assert not wrong, (code, period, wrong[:5])
                checked += len(want)
    finally:
        channel.close()
    assert checked > 0  # some scope and period held facts


# service → the months its facts count in (as its reference groups them)
_MONTHS = {
    "activity": f"SELECT DISTINCT {st._cst_month('checked_out_at')} FROM attendances"
    " WHERE checked_out_at IS NOT NULL",
    "recycling": "SELECT DISTINCT to_char(collected_on, 'YYYY-MM') FROM collections",
    "commendation": f"SELECT DISTINCT {st._cst_month('changed_at')} FROM star_changes",
}


def _fact_months(pf: st.Platform, service: str) -> list[str]:
    from sqlalchemy import text

    with pf.owner(service).connect() as conn:
        return sorted(m for (m,) in conn.execute(text(_MONTHS[service])) if m)
