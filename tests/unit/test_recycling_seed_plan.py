"""The recycling demo's plan (no database): the Shaanxi figures exactly, real
divisions, dates and quantities the use cases accept, the same every time."""

from __future__ import annotations

from collections import Counter

from services.common.divisions import name_of
from services.seed.recycling_facts import plan
from services.seed.recycling_plan import LAST, SHAANXI, figures_for

DEMO = plan("61")


def test_shaanxi_figures_are_the_reported_ones() -> None:
    assert (SHAANXI.events, SHAANXI.total_kg, SHAANXI.bins) == (1394, 945_000, 650)
    assert (SHAANXI.drives, SHAANXI.garments) == (128, 21_482)


def test_the_plan_carries_exactly_the_figures() -> None:
    f = SHAANXI
    assert len(DEMO.collections) == f.events
    in_service = [b for b in DEMO.bins if b.retired_on is None]
    assert len(in_service) == f.bins and len(DEMO.bins) == f.bins + f.retired_bins
    assert len(DEMO.drives) == f.drives
    assert sum(d.items[0] for d in DEMO.drives) == f.garments
    halves = [
        sum(c.half_kg[k] for c in DEMO.collections)
        + sum(b.half_kg[k] for b in DEMO.bookings)
        for k in range(3)
    ]
    assert halves == [2 * f.textiles_kg, 2 * f.books_kg, 2 * f.other_kg]
    assert sum(halves) / 2 == 945_000.0
    assert Counter(b.status for b in DEMO.bookings) == {
        "collected": 16,
        "requested": 11,
        "assigned": 9,
        "cancelled": 4,
    }


def test_every_fact_is_one_the_use_cases_accept() -> None:
    towns = {b.town for b in DEMO.bins} | {c.town for c in DEMO.collections}
    assert all(len(t) == 9 and t.startswith("61") and name_of(t) for t in towns)
    codes = [b.code for b in DEMO.bins]
    assert len(set(codes)) == len(codes)
    bins = {b.code: b for b in DEMO.bins}
    for c in DEMO.collections:
        assert c.half_kg[0] > 0 and c.day <= LAST
        for code in c.bin_codes:
            b = bins[code]
            assert b.town == c.town and b.deployed_on <= c.day and b.retired_on is None
    for b in DEMO.bins:
        if b.retired_on is not None:
            assert b.deployed_on < b.retired_on and b.final is None
        if b.final is not None:
            assert b.final[1] > max(b.deployed_on, b.last_emptied or b.deployed_on)
    for d in DEMO.drives:
        given = [sum(h[2][k] for h in d.handouts) for k in range(3)]
        assert given == list(d.items) and sum(h[1] for h in d.handouts) == d.households
        assert all(d.day < h[0] <= LAST and h[1] > 0 for h in d.handouts)


def test_the_plan_is_the_same_every_time_and_spread_over_every_city() -> None:
    again = plan("61")
    assert [c.half_kg for c in again.collections] == [
        c.half_kg for c in DEMO.collections
    ]
    assert [b.code for b in again.bins] == [b.code for b in DEMO.bins]
    cities = {c.town[:4] for c in DEMO.collections}
    assert cities == {f"61{n:02d}" for n in range(1, 11)}


def test_other_provinces_get_a_small_proportional_demo() -> None:
    small = figures_for("44")
    demo = plan("44")
    assert small.events == round(1394 / 40) == len(demo.collections)
    assert len(demo.drives) == small.drives and small.garments == round(21_482 / 40)
    assert all(c.town.startswith("44") for c in demo.collections)
