"""The living province: thousands of volunteers homed across every county
of the province and thirteen months of their service, through the product's
own bulk paths, as an office would load its rolls and paper registers:
``services.registration.bulk.import_rows`` (the volunteers, verified) and
``services.hours.bulk.import_rows`` (the hours, approved on import; the
function ``zhiyuan import hours`` calls), so rollups, events, the time bank
and star ratings follow exactly as they would in production.

A few volunteers serve far more than the rest, so the stars (which the
commendation worker rates from these hours: :mod:`services.seed.stars`)
reach every level from one to five. The data is a deterministic function of
the province, the size and today's date; a second run finds the records of
the first (``recorded_by`` is :data:`ACTOR`) and imports nothing.

Example::

    report = seed(load(), "61", volunteers=3000)  # about 60k hour records
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from services.common import keys
from services.common.config import Config
from services.common.db import Database
from services.common.divisions import REFERENCE, name_of
from services.common.rollup import CST
from services.common.service_fields import SERVICE_FIELDS
from services.common.tenancy import Scope
from services.hours import bulk as hours_bulk
from services.hours.models import HourRecord
from services.registration import bulk as registration_bulk
from services.registration.idcard import make_id_number
from services.registration.models import Volunteer
from services.seed.registration import GIVEN, SURNAMES

SOURCE = "demo-province-1"
ACTOR = "seed-province"
DAYS = 400  # thirteen months back from yesterday
SLOTS = (8, 11, 14, 17)  # China-time start hours that never overlap
# (share of the volunteers, hours each reaches): five to one stars, then the
# many who serve now and then (thresholds 100, 300, 600, 1000, 1500).
TIERS = ((0.002, 1560), (0.004, 1080), (0.01, 650), (0.02, 330), (0.08, 125))
LIGHT = (0.0, 3.0, 6.0, 10.0, 16.0, 24.0)  # hours of the many
FIELDS = {  # service field → what the register says was done
    "elderly_care": "社区养老服务站助餐助洁",
    "civilisation": "文明交通劝导",
    "environment": "河道巡护与垃圾清理",
    "culture_education": "社区书屋课后辅导",
    "minors": "留守儿童陪伴",
    "medical": "义诊导诊服务",
    "emergency": "防汛应急值守",
    "large_events": "马拉松赛事服务",
}
FIELD_WEIGHTS = (30, 22, 14, 10, 8, 6, 6, 4)


@dataclass
class Report:
    volunteers: int = 0
    records: int = 0
    rejected: int = 0
    seconds: float = 0.0


def seed(cfg: Config, province: str = "61", volunteers: int = 3000) -> Report:
    """Import the province's volunteers and their hours unless done before."""
    started = time.perf_counter()
    report = Report()
    reg = Database(cfg.service("registration"))
    hours = Database(cfg.service("hours"))
    scope = Scope(province)
    try:
        with hours.session(scope) as s:
            done = s.execute(
                select(HourRecord.id).where(HourRecord.recorded_by == ACTOR).limit(1)
            ).first()
        if done:
            print("province: volunteers and hours already present / 已存在")
            return report
        rng = random.Random(f"{province}-{volunteers}")  # noqa: S311 - demo data
        today = datetime.now(CST).date()
        got = registration_bulk.import_rows(
            reg, scope, volunteer_rows(rng, province, volunteers, today),
            source=f"{SOURCE}-v{volunteers}", cipher=keys.pii_cipher(cfg),
            verified=True, actor=ACTOR,
        )  # fmt: skip
        report.volunteers, report.rejected = got.imported, got.rejected
        people = imported(reg, scope, f"{SOURCE}-v{volunteers}")
        print(f"province: {got.imported} volunteers imported / 志愿者已导入")
        rows = hour_rows(rng, people, today)
        done_h = hours_bulk.import_rows(
            hours, scope, rows, source=f"{SOURCE}-h{volunteers}", actor=ACTOR,
            volunteers=lambda sc, ns: registration_bulk.lookup(reg, sc, ns),
        )  # fmt: skip
        report.records, report.rejected = (
            done_h.imported,
            report.rejected + (done_h.rejected),
        )
        report.seconds = time.perf_counter() - started
        print(
            f"province: {done_h.imported} hour records imported in "
            f"{report.seconds:.0f} s / 服务时长记录已导入"
        )
        return report
    finally:
        reg.dispose()
        hours.dispose()


def homes(province: str) -> list[tuple[str, int]]:
    """Every township of the province (the county itself where the
    reference lists none), weighted: the capital's districts are busier."""
    with open(REFERENCE / "areas.csv", encoding="utf-8") as fh:
        counties = [r["code"] for r in csv.DictReader(fh) if r["code"][:2] == province]
    with open(REFERENCE / "streets.csv", encoding="utf-8") as fh:
        towns = [r["code"] for r in csv.DictReader(fh) if r["code"][:2] == province]
    by_county = {c: [t for t in towns if t[:6] == c] or [c] for c in counties}
    capital = min(c[:4] for c in counties)
    return [
        (town, 3 if county[:4] == capital else 1)
        for county, places in sorted(by_county.items())
        for town in places
    ]


def volunteer_rows(
    rng: random.Random, province: str, count: int, today: date
) -> Iterator[dict[str, str]]:
    """``count`` registration rows (the volunteer template's headers)."""
    places = homes(province)
    towns, weights = [p for p, _ in places], [w for _, w in places]
    seen: set[str] = set()
    for home in rng.choices(towns, weights=weights, k=count):
        while True:
            born = today - timedelta(days=rng.randint(18 * 366, 68 * 365))
            number = make_id_number(home[:6], born, rng.randrange(1, 999))
            if number not in seen:
                seen.add(number)
                break
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        yield {
            "name": name,
            "id_number": number,
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
            "home_division_code": home,
            "service_fields": SERVICE_FIELDS[rng.choice(list(FIELDS))],
        }


def imported(db: Database, scope: Scope, source: str) -> list[tuple[str, str]]:
    """(number, home) of the volunteers this source registered, in order."""
    prefix = f"import/{scope.code}/{source}/"
    with db.session(scope) as s:
        rows = s.execute(
            select(Volunteer.volunteer_number, Volunteer.home_division_code)
            .where(Volunteer.request_id.startswith(prefix, autoescape=True))
            .order_by(Volunteer.volunteer_number)
        ).tuples()
        return [(n, h) for n, h in rows]


def hour_rows(
    rng: random.Random, people: list[tuple[str, str]], today: date
) -> Iterator[dict[str, str]]:
    """Each volunteer's records (the hour template's headers), filed at the
    volunteer's home township, in distinct daily slots of the last
    :data:`DAYS` days: the tiers' few reach their hours, the rest serve a
    few times."""
    order = list(people)
    rng.shuffle(order)
    targets: list[float] = []
    for share, tier in TIERS:
        targets += [float(tier)] * max(1, round(share * len(order)))
    fields = list(FIELDS)
    for i, (number, home) in enumerate(order):
        target = targets[i] if i < len(targets) else rng.choice(LIGHT)
        field = rng.choices(fields, weights=FIELD_WEIGHTS)[0]
        slots = iter(rng.sample(range(DAYS * len(SLOTS)), DAYS * len(SLOTS)))
        served = 0.0
        while served < target:
            slot = next(slots)
            day = today - timedelta(days=1 + slot // len(SLOTS))
            minutes = rng.choice((90, 120, 150))
            start = datetime.combine(day, datetime.min.time()).replace(
                hour=SLOTS[slot % len(SLOTS)], minute=rng.choice((0, 15, 30))
            )
            end = start + timedelta(minutes=minutes)
            if rng.random() < 0.15:  # a volunteer helps in other fields too
                field_now = rng.choices(fields, weights=FIELD_WEIGHTS)[0]
            else:
                field_now = field
            served += minutes / 60
            yield {
                "volunteer_number": number,
                "division_code": home,
                "organisation_name": f"{name_of(home[:6])}志愿者协会",
                "service_field": field_now,
                "content": FIELDS[field_now],
                "session_start": f"{start:%Y-%m-%d %H:%M}",
                "session_end": f"{end:%Y-%m-%d %H:%M}",
                "hours": "",
                "reason": "纸质台账补录",
            }
