"""The facts of the recycling demo (see :mod:`recycling_plan`): collection
events carrying the programme's tonnage in whole half-kilograms, donation
drives with their handouts, and residents' pickup bookings; and
:func:`plan`, the whole demo of a province, the same every time.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from services.recycling.quantities import split_exact
from services.seed.recycling_plan import (
    FIRST,
    LAST,
    Figures,
    PlannedBin,
    Tree,
    city_shares,
    day_between,
    figures_for,
    load_tree,
    plan_bins,
    plan_final_statuses,
    team,
)


@dataclass
class PlannedCollection:
    town: str
    team: str
    day: date
    bin_codes: list[str]
    half_kg: tuple[int, int, int]  # textiles, books, other


@dataclass
class PlannedDrive:
    town: str
    team: str
    title: str
    day: date
    items: tuple[int, int, int]
    households: int
    handouts: list[tuple[date, int, tuple[int, int, int]]]


def plan_collections(
    rng: random.Random, tree: Tree, f: Figures, bins: list[PlannedBin],
    booked: tuple[int, int, int],
) -> list[PlannedCollection]:  # fmt: skip
    """``f.events`` events, later years busier, carrying the programme's kg
    less what collected bookings ``booked`` (half-kg units by category)."""
    years = list(range(FIRST.year, LAST.year + 1))
    in_service = [b for b in bins if b.retired_on is None]
    by_town: dict[str, list[PlannedBin]] = defaultdict(list)
    for b in in_service:
        by_town[b.town].append(b)
    out = []
    for city, count in city_shares(tree, f.events).items():
        city_bins = [b for b in in_service if b.town[:4] == city]
        for _ in range(count):
            year = rng.choices(years, weights=[1 + i for i in range(len(years))])[0]
            day = day_between(
                rng, max(FIRST, date(year, 1, 1)), min(LAST, date(year, 12, 31))
            )
            ready = [b for b in city_bins if b.deployed_on <= day]
            if ready and rng.random() < 0.9:
                town = rng.choice(ready).town
                pool = [b for b in by_town[town] if b.deployed_on <= day]
                emptied = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
            else:  # a door-to-door or square collection, no bin emptied
                town, emptied = rng.choice(tree.towns_of_city[city]), []
            for b in emptied:
                b.last_emptied = max(b.last_emptied or day, day)
            codes = sorted(b.code for b in emptied)
            out.append(PlannedCollection(town, team(tree, town), day, codes, (0, 0, 0)))
    totals = [2 * f.textiles_kg - booked[0], 2 * f.books_kg - booked[1],
              2 * f.other_kg - booked[2]]  # fmt: skip
    sizes = [rng.lognormvariate(0, 0.5) for _ in out]
    shares = [
        split_exact(totals[0], sizes),
        split_exact(totals[1], [s * rng.choice((0, 0.5, 1, 1.5)) for s in sizes]),
        split_exact(totals[2], [s * rng.choice((0, 0, 1)) for s in sizes]),
    ]
    for i, c in enumerate(out):
        c.half_kg = (shares[0][i], shares[1][i], shares[2][i])
        assert c.half_kg[0] > 0, "every event collects textiles"
    return sorted(out, key=lambda c: (c.day, c.town, c.bin_codes))


def plan_drives(rng: random.Random, tree: Tree, f: Figures) -> list[PlannedDrive]:
    seasons = ("冬衣暖心", "春季衣物", "开学助学", "夏季清凉", "爱心衣橱")
    places: list[tuple[str, date]] = []
    for city, count in city_shares(tree, f.drives).items():
        for _ in range(count):
            town = rng.choice(tree.towns_of_city[city])
            places.append((town, day_between(rng, FIRST, LAST - timedelta(days=40))))
    sizes = [rng.lognormvariate(0, 0.4) for _ in places]
    garments = split_exact(f.garments, sizes)
    books = split_exact(f.drive_books, [s * rng.choice((0, 1, 1)) for s in sizes])
    other = split_exact(f.drive_other, [s * rng.choice((0, 1)) for s in sizes])
    homes = split_exact(f.households, sizes)
    out = []
    for i, (town, day) in enumerate(places):
        items = (garments[i], books[i], other[i])
        assert items[0] > 0 and homes[i] > 0, "every drive gives garments to homes"
        weights = [rng.uniform(1, 2) for _ in range(rng.randint(1, 3))]
        cuts = [split_exact(x, weights) for x in (*items, homes[i])]
        if any(cuts[3][k] == 0 or cuts[0][k] == 0 for k in range(len(weights))):
            weights, cuts = [1.0], [[x] for x in (*items, homes[i])]
        parts = len(weights)
        handouts = [
            (day + timedelta(days=3 + 10 * k + rng.randrange(7)), cuts[3][k],
             (cuts[0][k], cuts[1][k], cuts[2][k]))
            for k in range(parts)
        ]  # fmt: skip
        name = tree.names.get(town[:6], "")
        title = f"爱为宝·{name}{rng.choice(seasons)}捐赠活动"
        out.append(
            PlannedDrive(town, team(tree, town), title, day, items, homes[i], handouts)
        )
    return sorted(out, key=lambda d: (d.day, d.town))


@dataclass
class PlannedBooking:
    town: str
    name: str
    phone: str
    address: str
    note: str
    status: str  # where it ends: requested, assigned, collected or cancelled
    made_on: date | None  # None: made in the last days (still open)
    half_kg: tuple[int, int, int] = (0, 0, 0)


SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("秀兰", "建国", "桂英", "志强", "丽娟", "国华", "淑珍", "海燕", "文博", "晓燕")
NOTES = (
    "旧衣物两袋",
    "冬季棉衣一包",
    "儿童书籍一箱",
    "旧衣物和鞋子三袋",
    "床单被罩一包",
)


def plan_bookings(rng: random.Random, tree: Tree, f: Figures) -> list[PlannedBooking]:
    """Residents of the first city (Xi'an in Shaanxi) booking pickups online:
    the oldest collected or cancelled, the newest still open."""
    city = tree.cities[0]
    ends = (["collected"] * f.collected + ["cancelled"] * f.cancelled
            + ["assigned"] * f.assigned)  # fmt: skip
    ends += ["requested"] * (f.bookings - len(ends))
    out = []
    for i, status in enumerate(ends):
        town = rng.choice(tree.towns_of_city[city])
        place = "".join(tree.names.get(c, "") for c in (city, town[:6], town))
        address = f"{place}{rng.randint(1, 30)}号院{rng.randint(1, 12)}号楼{rng.randint(1, 6)}单元{rng.randint(101, 1802)}室"  # noqa: E501
        done = status in ("collected", "cancelled")
        made = day_between(rng, date(2026, 6, 1), date(2026, 10, 20)) if done else None
        out.append(
            PlannedBooking(
                town, rng.choice(SURNAMES) + rng.choice(GIVEN),
                f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", address,
                rng.choice(NOTES), status,
                made,
                (rng.randint(16, 120), rng.randint(0, 20), rng.randint(0, 6))
                if status == "collected" else (0, 0, 0),
            )
        )  # fmt: skip
        del i
    return out


@dataclass
class Plan:
    tree: Tree
    bins: list[PlannedBin]
    collections: list[PlannedCollection]
    drives: list[PlannedDrive]
    bookings: list[PlannedBooking]


def plan(province: str) -> Plan:
    """The whole demo of a province; the same every time."""
    rng = random.Random(f"aiweibao-{province}-2015")
    tree = load_tree(province)
    f = figures_for(province)
    bins = plan_bins(rng, tree, f)
    bookings = plan_bookings(rng, tree, f)
    booked = tuple(sum(b.half_kg[k] for b in bookings) for k in range(3))
    collections = plan_collections(rng, tree, f, bins, booked)  # type: ignore[arg-type]
    plan_final_statuses(rng, bins)
    return Plan(tree, bins, collections, plan_drives(rng, tree, f), bookings)
