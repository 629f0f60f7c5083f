"""Synthetic but valid national data for ``make scale``: rows keyed by the
import templates' headers, fed to the product's own bulk imports.

- volunteers: GB 11643 ID numbers with real county address codes, birth
  dates of adults and the check digit; phones; Chinese names; a home
  township drawn with a Zipf skew (a few busy townships, a long tail);
- hour records: over the last 24 months, each for a volunteer of the
  record's own township, in one of four non-overlapping daily slots, with a
  service field drawn with its own skew.

Everything is deterministic for a seed, so a run can be repeated.

Example::

    tree = Tree.load()
    homes = tree.zipf_townships(random.Random(1), 10_000, focus="61")
    rows = volunteer_rows(random.Random(2), homes)
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.common.divisions import REFERENCE as DIVISIONS_REFERENCE
from services.common.service_fields import SERVICE_FIELDS

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕"
# Fields a record is filed under, most common first (Zipf over this order).
FIELDS = (
    "elderly_care",
    "civilisation",
    "environment",
    "culture_education",
    "minors",
    "medical",
    "poverty_relief",
    "emergency",
    "mental_health",
    "legal_aid",
    "large_events",
    "recycling",
)
assert set(FIELDS) <= set(SERVICE_FIELDS)
# Four daily slots that never overlap: start hour, and at most 2.5 h each.
_SLOTS = (8, 11, 14, 17)


def check_digit(first17: str) -> str:
    """GB 11643's ISO 7064 MOD 11-2 check character."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number(county: str, born: date, serial: int) -> str:
    """An 18-character citizen ID number; ``serial`` 0..999 (odd = male)."""
    first17 = f"{county}{born:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17)


@dataclass(frozen=True)
class Tree:
    """The reference division tree: county codes (for ID numbers) and
    township codes (homes and records)."""

    counties: tuple[str, ...]
    townships: tuple[str, ...]

    @classmethod
    def load(cls, root: Path = DIVISIONS_REFERENCE) -> Tree:
        def codes(name: str) -> tuple[str, ...]:
            with open(root / name, encoding="utf-8") as fh:
                return tuple(r["code"] for r in csv.DictReader(fh))

        return cls(codes("areas.csv"), codes("streets.csv"))

    def zipf_townships(
        self,
        rng: random.Random,
        count: int,
        *,
        focus: str = "61",
        focus_share: float = 0.3,
        exponent: float = 1.07,
    ) -> list[str]:
        """``count`` township codes: ``focus_share`` of them inside ``focus``
        (the province the benchmark reads most), the rest over the nation;
        within each, township popularity follows a Zipf law over a shuffled
        order (real registers are skewed, not uniform)."""
        inside = [t for t in self.townships if t.startswith(focus)]
        outside = [t for t in self.townships if not t.startswith(focus)]
        n_in = round(count * focus_share) if inside else 0
        picks = _zipf(rng, inside, n_in, exponent) + _zipf(
            rng, outside, count - n_in, exponent
        )
        rng.shuffle(picks)
        return picks


def _zipf(
    rng: random.Random, items: Sequence[str], count: int, exponent: float
) -> list[str]:
    if count <= 0 or not items:
        return []
    order = list(items)
    rng.shuffle(order)
    cumulative = list(
        itertools.accumulate(
            1.0 / (rank**exponent) for rank in range(1, len(order) + 1)
        )
    )
    total = cumulative[-1]
    return [
        order[min(bisect.bisect_left(cumulative, rng.random() * total), len(order) - 1)]
        for _ in range(count)
    ]


def volunteer_rows(
    rng: random.Random, homes: Sequence[str], counties: Sequence[str], today: date
) -> Iterator[dict[str, str]]:
    """One registration row per home township (the volunteer template's
    headers); ID numbers are unique within the run. The ID's address code
    is the county of the home when that county exists, else a random one
    (people move)."""
    known = set(counties)
    seen: set[str] = set()
    for home in homes:
        county = home[:6] if home[:6] in known else rng.choice(counties)
        while True:
            born = today - timedelta(days=rng.randint(18 * 366, 70 * 365))
            number = id_number(county, born, rng.randint(0, 999))
            if number not in seen:
                seen.add(number)
                break
        yield {
            "name": rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=2)),
            "id_number": number,
            "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
            "home_division_code": home,
            "service_fields": "",
        }


def hour_rows(
    rng: random.Random,
    volunteers: Sequence[tuple[str, str]],
    count: int,
    now: datetime,
    months: int = 24,
) -> Iterator[dict[str, str]]:
    """``count`` hour-record rows (the hour template's headers) for
    ``volunteers`` ((number, home township) pairs), over the last ``months``
    months in China time, each filed at the volunteer's home township. Busy
    volunteers exist: they are drawn with a mild Zipf skew."""
    if not volunteers:
        return
    cumulative = list(
        itertools.accumulate(1.0 / (r**0.6) for r in range(1, len(volunteers) + 1))
    )
    total = cumulative[-1]
    field_weights = [1.0 / (r**1.2) for r in range(1, len(FIELDS) + 1)]
    days = months * 30
    today = now.date()
    for _ in range(count):
        i = min(
            bisect.bisect_left(cumulative, rng.random() * total), len(cumulative) - 1
        )
        number, home = volunteers[i]
        day = today - timedelta(days=rng.randint(2, days))
        start = datetime.combine(day, datetime.min.time()).replace(
            hour=rng.choice(_SLOTS), minute=rng.choice((0, 15, 30))
        )
        end = start + timedelta(minutes=rng.choice((60, 90, 120, 150)))
        field = rng.choices(FIELDS, weights=field_weights)[0]
        yield {
            "volunteer_number": number,
            "division_code": home,
            "organisation_name": f"{home}志愿服务队",
            "service_field": field,
            "content": "社区志愿服务",
            "session_start": f"{start:%Y-%m-%d %H:%M}",
            "session_end": f"{end:%Y-%m-%d %H:%M}",
            "hours": "",
            "reason": "纸质台账补录",
        }


# -- the other services' facts -------------------------------------------------
# Rows as tuples in the column order of each table (see ``*_COLUMNS``), for
# COPY. Times are aware datetimes (UTC); days are dates.

PROJECT_COLUMNS = (
    "id", "organisation_id", "organisation_name", "division_code", "title",
    "description", "place", "service_field", "kind", "recruit_starts_at",
    "recruit_ends_at", "min_age", "required_skills", "leader_approval",
    "emergency", "status", "publisher_subject", "publisher_name",
    "reviewer_name", "comment", "created_at", "updated_at", "published_at",
    "closed_at",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "project_id", "division_code", "emergency", "starts_at", "ends_at",
    "capacity", "secret",
)  # fmt: skip
SIGN_UP_COLUMNS = (
    "id", "session_id", "project_id", "division_code", "volunteer_id",
    "volunteer_number", "volunteer_division_code", "status", "queue_number",
    "reason", "created_by", "created_at", "decided_at",
)  # fmt: skip
ATTENDANCE_COLUMNS = (
    "id", "session_id", "project_id", "sign_up_id", "division_code",
    "volunteer_id", "volunteer_number", "volunteer_division_code",
    "checked_in_at", "checked_out_at", "closed_by",
)  # fmt: skip
COLLECTION_COLUMNS = (
    "id", "division_code", "organisation_id", "organisation_name",
    "collected_on", "textiles_kg", "books_kg", "other_kg",
    "activity_project_id", "activity_session_id", "note", "recorded_by",
    "recorded_at",
)  # fmt: skip
SESSIONS_PER_PROJECT = 4
ATTENDEES_PER_SESSION = 25


@dataclass
class ProjectFacts:
    """One completed service project as the activity write path leaves it:
    published, its sessions held, each attendee signed up (confirmed),
    checked in at the start and checked out by the leader at the end."""

    project: tuple[Any, ...]
    sessions: list[tuple[Any, ...]]
    sign_ups: list[tuple[Any, ...]]
    attendances: list[tuple[Any, ...]]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def activity_projects(
    rng: random.Random,
    volunteers: Sequence[tuple[str, str, str]],
    attendances: int,
    now: datetime,
    months: int = 24,
) -> Iterator[ProjectFacts]:
    """Projects (each 4 sessions of up to 25 attendees) until ``attendances``
    attendances: a project is held in the home township of a volunteer drawn
    at random (so projects follow where volunteers live), its attendees are
    volunteers of the same province. ``volunteers``: (id, number, home);
    ``now``: aware."""
    if not volunteers or attendances <= 0:
        return
    by_province: dict[str, list[tuple[str, str, str]]] = {}
    for v in volunteers:
        by_province.setdefault(v[2][:2], []).append(v)
    field_weights = [1.0 / (r**1.2) for r in range(1, len(FIELDS) + 1)]
    left = attendances
    while left > 0:
        home = rng.choice(volunteers)[2]
        pool = by_province[home[:2]]
        field = rng.choices(FIELDS, weights=field_weights)[0]
        published = now - timedelta(
            days=rng.randint(12, months * 30), minutes=rng.randint(0, 600)
        )
        pid, org = _uuid(rng), _uuid(rng)
        sessions, sign_ups, rows = [], [], []
        for j in range(SESSIONS_PER_PROJECT):
            if left <= 0:
                break
            starts = (published + timedelta(days=2 * (j + 1))).replace(
                minute=0, second=0, microsecond=0
            )
            ends = starts + timedelta(hours=2)
            sid = _uuid(rng)
            sessions.append((
                sid, pid, home, False, starts, ends, ATTENDEES_PER_SESSION + 5,
                rng.randbytes(32),
            ))  # fmt: skip
            k = min(ATTENDEES_PER_SESSION, len(pool), left)
            for q, (vid, number, vhome) in enumerate(rng.sample(pool, k), start=1):
                signed = published + timedelta(minutes=rng.randint(1, 2 * 24 * 60))
                uid = _uuid(rng)
                sign_ups.append((
                    uid, sid, pid, home, vid, number, vhome, "confirmed", q, "",
                    "scale", signed, None,
                ))  # fmt: skip
                rows.append((
                    _uuid(rng), sid, pid, uid, home, vid, number, vhome, starts,
                    ends, "leader",
                ))  # fmt: skip
            left -= k
        last_end = sessions[-1][5]
        project = (
            pid, org, f"{home}志愿服务队", home, f"{field} 志愿服务项目",
            "社区志愿服务", "社区服务站", field, "service",
            published - timedelta(days=1), published + timedelta(days=1), 18,
            "[]", False, False, "completed", "scale-publisher", "scale",
            "scale-reviewer", "", published - timedelta(days=2), last_end,
            published, last_end,
        )  # fmt: skip
        yield ProjectFacts(project, sessions, sign_ups, rows)


def collection_rows(
    rng: random.Random,
    homes: Sequence[str],
    count: int,
    today: date,
    months: int = 24,
) -> Iterator[tuple[object, ...]]:
    """``count`` recycling collection events (no bins named), each in a
    township drawn from ``homes`` (so they follow where volunteers live),
    on a day of the last ``months`` months; weights in kg with one decimal,
    at least one category above 0."""
    for _ in range(count):
        code = rng.choice(homes)
        day = today - timedelta(days=rng.randint(2, months * 30))
        kg = [Decimal(rng.randint(0, 5000)) / 10 for _ in range(3)]
        if not any(kg):
            kg[0] = Decimal("0.5")
        yield (
            _uuid(rng), code, "", f"{code}回收站", day, *kg, "", "", "",
            "scale", datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            + timedelta(hours=4),
        )  # fmt: skip
