"""What the recycling demo holds, planned before anything is written: a pure,
deterministic function of the province (a fixed random seed over the real
cities, counties and townships of the shipped division reference).

For Shaanxi (61) the plan reproduces the 爱为宝 programme's reported figures
exactly: 1,394 collection events, 945 tonnes collected (bins, events and
collected bookings together), 650 bins in service, 128 donation drives,
21,482 garments donated. Weights are whole half-kilograms, so every float sum
of them is exact and the rollup equals the figures to the last digit.
Other provinces get the same shape at a fortieth of the size.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta

from services.common.divisions import REFERENCE
from services.recycling.quantities import split_exact


@dataclass(frozen=True)
class Figures:
    events: int
    textiles_kg: int
    books_kg: int
    other_kg: int
    bins: int  # in service at the end
    retired_bins: int
    drives: int
    garments: int
    drive_books: int
    drive_other: int
    households: int
    bookings: int
    collected: int
    assigned: int
    cancelled: int

    @property
    def total_kg(self) -> int:
        return self.textiles_kg + self.books_kg + self.other_kg


SHAANXI = Figures(
    events=1394, textiles_kg=812_700, books_kg=94_500, other_kg=37_800, bins=650,
    retired_bins=18, drives=128, garments=21_482, drive_books=3_206,
    drive_other=1_187, households=3_590, bookings=40, collected=16, assigned=9,
    cancelled=4,
)  # fmt: skip
SCALE = 40  # other provinces: a fortieth


def figures_for(province: str) -> Figures:
    if province == "61":
        return SHAANXI
    small = {k: max(1, round(v / SCALE)) for k, v in vars(SHAANXI).items()}
    small.update(retired_bins=0, bookings=4, collected=1, assigned=1, cancelled=1)
    return replace(SHAANXI, **small)


# Population of Shaanxi's cities (10,000s, 7th census, rounded): where the
# programme's work is spread. Other provinces weigh their cities equally.
SHAANXI_WEIGHTS = {
    "6101": 1300, "6102": 70, "6103": 330, "6104": 400, "6105": 460,
    "6106": 230, "6107": 320, "6108": 360, "6109": 250, "6110": 200,
}  # fmt: skip
CENTRES = {  # approximate city centres (WGS-84), for bin coordinates
    "6101": (34.34, 108.94), "6102": (34.90, 108.95), "6103": (34.36, 107.24),
    "6104": (34.33, 108.71), "6105": (34.50, 109.51), "6106": (36.59, 109.49),
    "6107": (33.07, 107.02), "6108": (38.29, 109.73), "6109": (32.69, 109.03),
    "6110": (33.87, 109.94),
}  # fmt: skip
FIRST, LAST = date(2015, 6, 1), date(2026, 10, 31)
SPOTS = ("社区服务站旁", "小区东门", "菜市场入口", "党群服务中心门口", "公交站旁")


@dataclass
class Tree:
    names: dict[str, str]
    cities: list[str]
    towns_of_city: dict[str, list[str]]


def load_tree(province: str) -> Tree:
    names: dict[str, str] = {}
    cities: list[str] = []
    towns: dict[str, list[str]] = defaultdict(list)
    files = (("cities.csv", "provinceCode"), ("streets.csv", "cityCode"))
    for filename, parent in files:
        with open(REFERENCE / filename, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("provinceCode") != province:
                    continue
                names[row["code"]] = row["name"]
                if filename == "cities.csv":
                    cities.append(row["code"])
                else:
                    towns[row[parent]].append(row["code"])
    with open(REFERENCE / "areas.csv", encoding="utf-8") as fh:
        names.update((r["code"], r["name"]) for r in csv.DictReader(fh))
    kept = [c for c in sorted(cities) if towns.get(c)]
    return Tree(names, kept, {c: sorted(towns[c]) for c in kept})


@dataclass
class PlannedBin:
    code: str
    town: str
    address: str
    latitude: float
    longitude: float
    deployed_on: date
    retired_on: date | None = None
    last_emptied: date | None = None
    final: tuple[str, date] | None = None  # a last change: full or maintenance


def day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def city_shares(tree: Tree, total: int) -> dict[str, int]:
    weights = [SHAANXI_WEIGHTS.get(c, 1) for c in tree.cities]
    return dict(zip(tree.cities, split_exact(total, weights), strict=True))


def team(tree: Tree, town: str) -> str:
    return f"{tree.names.get(town[:6], '')}爱为宝志愿服务队"


def plan_bins(rng: random.Random, tree: Tree, f: Figures) -> list[PlannedBin]:
    out: list[PlannedBin] = []
    active = city_shares(tree, f.bins)
    retired = city_shares(tree, f.retired_bins) if f.retired_bins else {}
    for city in tree.cities:
        lat0, lng0 = CENTRES.get(city, (34.0, 108.0))
        for n in range(active[city] + retired.get(city, 0)):
            town = rng.choice(tree.towns_of_city[city])
            spot = rng.choice(SPOTS)
            address = "".join(tree.names.get(c, "") for c in (city, town[:6], town))
            old = n >= active[city]  # the retired ones were among the first
            first, last = (FIRST, date(2019, 12, 31)) if old else (FIRST, LAST)
            out.append(
                PlannedBin(
                    f"AWB-{city}-{n + 1:04d}", town, address + spot,
                    round(lat0 + rng.uniform(-0.12, 0.12), 6),
                    round(lng0 + rng.uniform(-0.12, 0.12), 6),
                    day_between(rng, first, last),
                )
            )  # fmt: skip
            if old:
                out[-1].retired_on = day_between(
                    rng, date(2020, 1, 1), date(2024, 12, 31)
                )
    return out


def plan_final_statuses(rng: random.Random, bins: list[PlannedBin]) -> None:
    """A few bins in service end up full or under maintenance, after their
    last emptying (and every date before the plan's last day)."""
    for b in bins:
        if b.retired_on is not None or rng.random() > 0.08:
            continue
        since = max(b.deployed_on, b.last_emptied or b.deployed_on)
        if since >= LAST:
            continue
        status = "full" if rng.random() < 0.7 else "maintenance"
        b.final = (status, day_between(rng, since + timedelta(days=1), LAST))
