"""The state ``make scale`` measures, built through the product's own paths,
and the references its answers are checked against.

- :class:`Platform`: one throw-away database per service, migrated, with the
  national division tree; every api role served from this process on free
  ports (``start_apis``); everything dropped on exit unless ``keep``.
- :func:`build`: volunteers through registration's bulk import (verified,
  encrypted and blind-indexed there), then hour records through hours' bulk
  import, province by province (an importer holds one province's scope).
- :func:`build_facts`: activity, recycling and commendation facts in
  proportion, by COPY as their write paths store them (none has a set-wise
  write path), their rollups through ``Rollup.bump_many``.
- ``reference_*`` (and ``REFERENCES``): the same answers by GROUP BY over
  the raw facts, as the database owner (no rollup, no row security).
- :func:`running_platform`: ``zhiyuan up`` on these databases (processes),
  for memory at idle and the dashboard over HTTP.

Used by ``tests/perf/bench_scale.py`` (timings) and
``tests/integration/test_scale_quick.py`` (answers equal GROUP BY).
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.perf.scale_data import Tree, hour_rows, volunteer_rows

SIZES = {  # volunteers, hour records
    "quick": (10_000, 100_000),
    "medium": (100_000, 1_000_000),
    "national": (1_000_000, 10_000_000),
}
FOCUS = "61"  # the province the benchmark and the check read most
CST_SQL = "Asia/Shanghai"
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class BuildReport:
    volunteers_imported: int = 0
    volunteers_rejected: int = 0
    records_imported: int = 0
    records_rejected: int = 0
    records_duplicates: int = 0
    volunteer_seconds: float = 0.0
    record_seconds: float = 0.0
    first_errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Platform:
    """Databases, configuration and (on demand) the api roles of one run."""

    def __init__(self, prefix: str = "zy_scale", keep: bool = False):
        self.prefix, self.keep = prefix, keep
        self._stack = contextlib.ExitStack()
        self.urls: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self.cfg: Any = None
        self.env: dict[str, str] = {}

    def __enter__(self) -> Platform:
        from services.catalog import SERVICES
        from services.common import testing
        from services.common.config import load
        from services.common.db import Database
        from services.common.migrations import upgrade
        from services.registration.bootstrap import load_divisions

        try:
            for name in SERVICES:
                url = testing.create_database(f"{self.prefix}_{name[:4]}")
                self.urls[name] = url
                if not self.keep:
                    self._stack.callback(testing.drop_database, url)
            tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
            self.env = testing.platform_env(
                tmp, self.urls, "amqp://guest:guest@127.0.0.1:5672/zy_scale_unused"
            ) | {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
            # Config from this run's environment, without touching os.environ
            # (a test session's platform may be running alongside).
            self.cfg = load(env={**os.environ, **self.env})
            for name in SERVICES:
                with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
                    upgrade(self.cfg.service(name))
            db = Database(self.cfg.service("registration"))
            try:
                with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
                    load_divisions(db)
            finally:
                db.dispose()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def owner(self, name: str) -> Engine:
        """An owner engine on a service's database (bypasses row security),
        for references and measurements only."""
        engine = create_engine(self.urls[name], pool_size=1, max_overflow=0)
        self._stack.callback(engine.dispose)
        return engine

    def database(self, name: str) -> Any:
        from services.common.db import Database

        db = Database(self.cfg.service(name))
        self._stack.callback(db.dispose)
        return db

    def start_apis(self) -> dict[str, str]:
        """Every service's api role in a thread of this process."""
        import grpc

        from services.catalog import SERVICES, api_entry

        stop = threading.Event()
        threads = []
        for name in SERVICES:
            t = threading.Thread(
                target=api_entry(name), args=(self.cfg, stop), daemon=True
            )
            t.start()
            threads.append(t)
            self.addresses[name] = self.cfg.service(name).grpc_address

        def halt() -> None:
            stop.set()
            for t in threads:
                t.join(timeout=15)

        self._stack.callback(halt)
        for address in self.addresses.values():
            channel = grpc.insecure_channel(address)
            try:
                grpc.channel_ready_future(channel).result(timeout=30)
            finally:
                channel.close()
        return self.addresses

    def token(
        self, scope: str = "", roles: tuple[str, ...] = ("province_admin",)
    ) -> str:
        from services.common.auth import TokenIssuer
        from services.common.testing import PRIVATE_PEM

        issuer = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
        value, _ = issuer.issue(
            subject="scale", username="scale", scope_code=scope or FOCUS,
            roles=list(roles), ttl=24 * 3600,
        )  # fmt: skip
        return value


# -- building ------------------------------------------------------------------


def build(
    platform: Platform,
    volunteers: int,
    records: int,
    *,
    seed: int = 20261204,
    progress: Progress | None = None,
    chunk_size: int = 20_000,
) -> BuildReport:
    """Import ``volunteers`` and ``records`` through the bulk paths, one
    province (one importer's scope) at a time."""
    import time

    from services.common.keys import pii_cipher
    from services.common.tenancy import Scope
    from services.hours import bulk as hours_bulk
    from services.registration import bulk as registration_bulk

    report = BuildReport()
    rng = random.Random(seed)
    tree = Tree.load()
    homes = tree.zipf_townships(rng, volunteers, focus=FOCUS)
    by_province: dict[str, list[str]] = defaultdict(list)
    for home in homes:
        by_province[home[:2]].append(home)
    del homes
    reg_db = platform.database("registration")
    hours_db = platform.database("hours")
    cipher = pii_cipher(platform.cfg)
    today = datetime.now(UTC).date()
    done = 0
    if progress:  # the phase's clock starts here, not at its first chunk
        progress("volunteers", 0, volunteers)
    started = time.perf_counter()
    for province in sorted(by_province):
        rows = volunteer_rows(rng, by_province[province], tree.counties, today)
        base = done

        def tick(n: int, base: int = base) -> None:
            if progress:
                progress("volunteers", base + n, volunteers)

        got = registration_bulk.import_rows(
            reg_db, Scope(province), rows, source=f"scale-{seed}-v{province}",
            chunk_size=chunk_size, progress=tick, cipher=cipher, verified=True,
            actor="scale",
        )  # fmt: skip
        report.volunteers_imported += got.imported
        report.volunteers_rejected += got.rejected
        report.first_errors += [e.to_dict() for e in got.errors[:3]]
        done += len(by_province[province])
    report.volunteer_seconds = time.perf_counter() - started

    numbers = _numbers_by_province(platform)
    total_people = sum(len(v) for v in numbers.values()) or 1
    now = datetime.now(UTC).astimezone(_cst()).replace(tzinfo=None)
    done = 0
    if progress:
        progress("hour records", 0, records)
    started = time.perf_counter()
    for province in sorted(numbers):
        people = numbers[province]
        share = round(records * len(people) / total_people)
        if not share:
            continue
        rows = hour_rows(random.Random(f"{seed}-{province}"), people, share, now)
        base = done

        def tick_h(n: int, base: int = base) -> None:
            if progress:
                progress("hour records", base + n, records)

        got = hours_bulk.import_rows(
            hours_db, Scope(province), rows, source=f"scale-{seed}-h{province}",
            chunk_size=chunk_size, progress=tick_h,
            volunteers=lambda scope, ns: registration_bulk.lookup(reg_db, scope, ns),
            actor="scale",
        )  # fmt: skip
        report.records_imported += got.imported
        report.records_rejected += got.rejected
        report.records_duplicates += got.duplicates
        report.first_errors += [e.to_dict() for e in got.errors[:3]]
        done += share
    report.record_seconds = time.perf_counter() - started
    report.first_errors = report.first_errors[:10]
    return report


# -- the other services' facts -------------------------------------------------

# How each service's facts were built, printed in the table and the JSON.
HOW_BUILT = {
    "registration": "bulk import (services.registration.bulk.import_rows)",
    "hours": "bulk import (services.hours.bulk.import_rows)",
    "activity": (
        "set-wise SQL (COPY of projects, sessions, sign_ups, attendances as "
        "the write path stores them); rollup via services.common.rollup "
        "Rollup.bump_many (activity.models.ROLLUP)"
    ),
    "recycling": (
        "set-wise SQL (COPY of collections as record_collections stores "
        "them, no bins named); rollup via Rollup.bump_many "
        "(recycling.models.ROLLUP)"
    ),
    "commendation": (
        "set-wise SQL (star_ratings, service_years, approved star_requests "
        "and star_changes from the imported hours, default thresholds); "
        "rollup via Rollup.bump_many (commendation.models.ROLLUP)"
    ),
}


@dataclass
class FactsReport:
    """The activity, recycling and commendation facts written, and how long
    each took (the facts by COPY, the rollups through the product's
    ``Rollup.bump_many``)."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=lambda: dict(HOW_BUILT))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def build_facts(
    platform: Platform,
    records: int,
    *,
    seed: int = 20261204,
    progress: Progress | None = None,
) -> FactsReport:
    """Activity attendances (records / 10), recycling collections
    (records / 100) and commendation star ratings (every volunteer with
    approved hours) "in proportion" to ``records``. None of the three has a
    set-wise write path, so the facts are written by COPY exactly as their
    write paths store them, and their rollups are bumped through the
    product's own rollup code (``Rollup.bump_many``: the same cells, the
    same SECURITY DEFINER function), one transaction per province.
    Call after :func:`build` (it reads the volunteers and the hours)."""
    import time

    report = FactsReport()
    now = datetime.now(UTC).replace(microsecond=0)
    volunteers = _volunteers(platform)
    started = time.perf_counter()
    report.counts |= _build_activity(
        platform, random.Random(f"{seed}-activity"), volunteers,
        max(records // 10, 1), now, progress,
    )  # fmt: skip
    report.seconds["activity"] = time.perf_counter() - started
    homes = [v[2] for v in volunteers]
    del volunteers
    started = time.perf_counter()
    report.counts |= _build_recycling(
        platform, random.Random(f"{seed}-recycling"), homes,
        max(records // 100, 1), now, progress,
    )  # fmt: skip
    del homes
    report.seconds["recycling"] = time.perf_counter() - started
    started = time.perf_counter()
    report.counts |= _build_commendation(platform, now, progress)
    report.seconds["commendation"] = time.perf_counter() - started
    return report


def _volunteers(platform: Platform) -> list[tuple[str, str, str]]:
    with platform.owner("registration").connect() as conn:
        return [
            (str(a), str(b), str(c))
            for a, b, c in conn.execute(
                text(
                    "SELECT id, volunteer_number, home_division_code FROM volunteers "
                    "WHERE status = 'verified' ORDER BY volunteer_number"
                )
            )
        ]


def _copy(
    engine: Engine, table: str, columns: tuple[str, ...], rows: list[Any]
) -> None:
    if not rows:
        return
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None  # a psycopg connection
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
    finally:
        raw.close()


def _bump(
    engine: Engine, rollup: Any, rows: list[tuple[str, str, dict[str, float]]]
) -> None:
    """The product's rollup write for many facts: Rollup.bump_many in one
    transaction (each fact at its division and every ancestor, in its
    month, year and all time)."""
    from sqlalchemy.orm import Session

    if not rows:
        return
    with Session(engine) as s, s.begin():
        rollup.bump_many(s, rows)


def _build_activity(
    platform: Platform,
    rng: random.Random,
    volunteers: list[tuple[str, str, str]],
    attendances: int,
    now: datetime,
    progress: Progress | None,
) -> dict[str, int]:
    from services.activity.models import ROLLUP
    from services.common.rollup import month_of
    from tests.perf import scale_data as sd

    engine = platform.owner("activity")
    counts = dict.fromkeys(("projects", "sessions", "sign_ups", "attendances"), 0)
    buffers: dict[str, list[Any]] = {k: [] for k in counts}
    bumps: list[tuple[str, str, dict[str, float]]] = []

    def flush() -> None:
        for table, cols in (
            ("projects", sd.PROJECT_COLUMNS), ("sessions", sd.SESSION_COLUMNS),
            ("sign_ups", sd.SIGN_UP_COLUMNS), ("attendances", sd.ATTENDANCE_COLUMNS),
        ):  # fmt: skip
            _copy(engine, table, cols, buffers[table])
            buffers[table].clear()
        _bump(engine, ROLLUP, bumps)
        bumps.clear()
        if progress:
            progress("attendances", counts["attendances"], attendances)

    if progress:
        progress("attendances", 0, attendances)
    for facts in sd.activity_projects(rng, volunteers, attendances, now):
        code = str(facts.project[3])
        # What the write path bumps: the project in its publishing month,
        # each session in the month it takes place, each sign-up in the
        # month it was made, each attendance in the month it was closed.
        published = facts.project[22]
        bumps.append((code, month_of(published), {"projects_published": 1.0}))
        bumps += [(code, month_of(x[4]), {"sessions": 1.0}) for x in facts.sessions]
        bumps += [(code, month_of(x[11]), {"signups": 1.0}) for x in facts.sign_ups]
        bumps += [
            (code, month_of(x[9]), {"attendances": 1.0}) for x in facts.attendances
        ]
        buffers["projects"].append(facts.project)
        buffers["sessions"] += facts.sessions
        buffers["sign_ups"] += facts.sign_ups
        buffers["attendances"] += facts.attendances
        counts["projects"] += 1
        counts["sessions"] += len(facts.sessions)
        counts["sign_ups"] += len(facts.sign_ups)
        counts["attendances"] += len(facts.attendances)
        if len(buffers["attendances"]) >= 50_000:
            flush()
    flush()
    return counts


def _build_recycling(
    platform: Platform,
    rng: random.Random,
    homes: list[str],
    collections: int,
    now: datetime,
    progress: Progress | None,
) -> dict[str, int]:
    from services.recycling import domain
    from services.recycling.models import ROLLUP
    from tests.perf import scale_data as sd

    engine = platform.owner("recycling")
    today = now.astimezone(_cst()).date()
    rows: list[tuple[Any, ...]] = []
    done = 0

    def flush() -> None:
        nonlocal done
        _copy(engine, "collections", sd.COLLECTION_COLUMNS, rows)
        # record_collections bumps +1 event and the kg of each category
        # (Weights.metrics) in the month of the day collected.
        _bump(engine, ROLLUP, [
            (r[1], domain.month_of_day(r[4]), {
                "events": 1.0, "kg_textiles": float(r[5]), "kg_books": float(r[6]),
                "kg_other": float(r[7]), "kg_total": float(r[5] + r[6] + r[7]),
            })
            for r in rows
        ])  # fmt: skip
        done += len(rows)
        rows.clear()
        if progress:
            progress("collections", done, collections)

    if progress:
        progress("collections", 0, collections)
    for row in sd.collection_rows(rng, homes, collections, today):
        rows.append(row)
        if len(rows) >= 50_000:
            flush()
    flush()
    return {"collections": done}


def _build_commendation(
    platform: Platform, now: datetime, progress: Progress | None
) -> dict[str, int]:
    """What the star worker and the reviewers leave for every volunteer with
    approved hours: the rating (total, eligible tier, continuous years),
    the hours per calendar year, and, where a tier is reached, one approved
    request and its change 0 → tier the day after the volunteer's last
    service (default thresholds and levels: no tenant overrides here)."""
    import uuid

    from services.commendation import domain
    from services.commendation.models import ROLLUP
    from services.common.rollup import month_of
    from services.common.settings import SETTINGS

    thresholds = SETTINGS["stars.thresholds_hours"].default
    levels = SETTINGS["stars.approval_level"].default
    hours = platform.owner("hours")
    engine = platform.owner("commendation")
    total = fact_count(platform.owner("registration"), "volunteers")
    counts = dict.fromkeys(
        ("star_ratings", "service_years", "star_requests", "star_changes"), 0
    )
    out: dict[str, list[Any]] = {k: [] for k in counts}
    bumps: list[tuple[str, str, dict[str, float]]] = []
    latest = now - timedelta(hours=1)

    def flush() -> None:
        for table, cols in (
            ("star_ratings", (
                "volunteer_id", "volunteer_number", "division_code", "total_hours",
                "total_as_of", "stars", "eligible_stars", "continuous_years",
                "updated_at")),
            ("service_years", ("volunteer_id", "year", "division_code", "hours")),
            ("star_requests", (
                "id", "volunteer_id", "volunteer_number", "division_code", "stars",
                "approval_level", "approving_code", "hours_at_request", "status",
                "reason", "created_at", "decided_by", "decided_at")),
            ("star_changes", (
                "volunteer_id", "division_code", "from_stars", "to_stars", "kind",
                "reason", "actor", "changed_at")),
        ):  # fmt: skip
            _copy(engine, table, cols, out[table])
            counts[table] += len(out[table])
            out[table].clear()
        _bump(engine, ROLLUP, bumps)
        bumps.clear()

    def rate(
        vid: str, number: str, home: str, years: dict[int, Any], last: datetime
    ) -> None:
        from decimal import Decimal

        total_hours = sum(years.values(), Decimal(0))
        stars = domain.tier(total_hours, thresholds)
        out["star_ratings"].append((
            vid, number, home, total_hours, last, stars, stars,
            domain.continuous_years(y for y, h in years.items() if h > 0), now,
        ))  # fmt: skip
        out["service_years"] += [(vid, y, home, h) for y, h in years.items()]
        if stars:
            when = min(last + timedelta(days=1), latest)
            level = levels[str(stars)]
            out["star_requests"].append((
                str(uuid.uuid4()), vid, number, home, stars, level,
                domain.approving_code(home, level), total_hours, "approved", "",
                last, "scale-reviewer", when,
            ))  # fmt: skip
            out["star_changes"].append(
                (vid, home, 0, stars, "approved", "", "scale-reviewer", when)
            )
            bumps.append(
                (home, month_of(when), {f"stars_{stars}": 1.0, "star_approvals": 1.0})
            )

    sql = text(
        "SELECT volunteer_id, min(volunteer_number), min(division_code), "
        "extract(year FROM service_day)::int, sum(hours), max(ended_at) "
        "FROM hour_records WHERE status = 'approved' GROUP BY 1, 4 ORDER BY 1, 4"
    )
    if progress:
        progress("star ratings", 0, total)
    with hours.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=20_000)
        current: str | None = None
        years: dict[int, Any] = {}
        info: tuple[str, str, datetime] = ("", "", now)
        for vid, number, home, year, h, last in result.execute(sql):
            if vid != current:
                if current is not None:
                    rate(current, *info[:2], years, info[2])
                current, years, info = vid, {}, (number, home, last)
            years[year] = h
            info = (number, home, max(info[2], last))
            if len(out["star_ratings"]) >= 50_000:
                flush()
                if progress:
                    progress("star ratings", counts["star_ratings"], total)
        if current is not None:
            rate(current, *info[:2], years, info[2])
    flush()
    if progress:
        progress("star ratings", counts["star_ratings"], counts["star_ratings"])
    return counts


def _cst() -> Any:
    from services.common.rollup import CST

    return CST


def _numbers_by_province(platform: Platform) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with platform.owner("registration").connect() as conn:
        rows = conn.execute(
            text(
                "SELECT volunteer_number, home_division_code FROM volunteers "
                "WHERE status = 'verified' ORDER BY volunteer_number"
            )
        )
        for number, home in rows:
            out[home[:2]].append((number, home))
    return out


# -- periods, scopes and references --------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str  # "2026-11", "2026" or "all"
    start: str  # Summarize's start_month ('' = open)
    end: str

    def sql(self, column: str = "month") -> str:
        if self.label == "all":
            return "TRUE"
        if len(self.label) == 4:
            return f"{column} LIKE '{self.label}-%'"
        return f"{column} = '{self.label}'"


def periods(today: date | None = None) -> dict[str, Period]:
    """A month with data (last month), its calendar year, and all time."""
    today = today or datetime.now(UTC).astimezone(_cst()).date()
    last = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    year = last[:4]
    return {
        "month": Period(last, last, last),
        "year": Period(year, f"{year}-01", f"{year}-12"),
        "all": Period("all", "", ""),
    }


def child_length(code: str) -> int:
    return {2: 4, 4: 6, 6: 9, 9: 12}[len(code)]


def reference_hours(
    engine: Engine, code: str, period: Period
) -> dict[str, dict[str, float]]:
    """child code → metrics, by GROUP BY over approved hour records."""
    from services.hours.models import ROLLUP_FIELDS

    n = child_length(code)
    per_field = ", ".join(
        f"sum(hours) FILTER (WHERE service_field = '{f}') AS hours_{f}, "
        f"count(*) FILTER (WHERE service_field = '{f}') AS records_{f}, "
        f"count(DISTINCT volunteer_id) FILTER (WHERE service_field = '{f}') "
        f"AS volunteers_{f}"
        for f in ROLLUP_FIELDS
    )
    sql = (
        f"SELECT left(division_code, {n}) AS child, sum(hours) AS hours, "
        f"count(*) AS records, count(DISTINCT volunteer_id) AS volunteers, "
        f"{per_field} FROM hour_records WHERE status = 'approved' AND "
        f"division_code LIKE :prefix AND {period.sql()} GROUP BY 1"
    )
    return _grouped(engine, sql, code)


def reference_registration(
    engine: Engine, code: str, period: Period
) -> dict[str, dict[str, float]]:
    n = child_length(code)
    month = f"to_char(registered_at AT TIME ZONE '{CST_SQL}', 'YYYY-MM')"
    verified_month = f"to_char(reviewed_at AT TIME ZONE '{CST_SQL}', 'YYYY-MM')"
    sql = (
        f"SELECT left(home_division_code, {n}) AS child, "
        f"count(*) FILTER (WHERE {period.sql(month)}) AS volunteers_registered, "
        f"count(*) FILTER (WHERE status = 'verified' AND "
        f"{period.sql(verified_month)}) AS volunteers_verified "
        "FROM volunteers WHERE home_division_code LIKE :prefix GROUP BY 1"
    )
    return _grouped(engine, sql, code)


def _cst_month(column: str) -> str:
    return f"to_char({column} AT TIME ZONE '{CST_SQL}', 'YYYY-MM')"


# metric → (facts table, the time that sets its month, which rows count)
_ACTIVITY_FACTS = (
    ("projects_published", "projects", "published_at", "published_at IS NOT NULL"),
    ("sessions", "sessions", "starts_at", "TRUE"),
    ("signups", "sign_ups", "created_at", "TRUE"),
    ("attendances", "attendances", "checked_out_at", "checked_out_at IS NOT NULL"),
)


def reference_activity(
    engine: Engine, code: str, period: Period
) -> dict[str, dict[str, float]]:
    """projects_published, sessions, signups and attendances by GROUP BY
    over the facts, each in the month its write path counts it in."""
    n = child_length(code)
    facts = " UNION ALL ".join(
        f"SELECT division_code, {_cst_month(col)} AS month, '{metric}' AS metric "
        f"FROM {table} WHERE {where} AND division_code LIKE :prefix"
        for metric, table, col, where in _ACTIVITY_FACTS
    )
    counts = ", ".join(
        f"count(*) FILTER (WHERE metric = '{m}') AS {m}" for m in ACTIVITY_METRICS
    )
    sql = (
        f"SELECT left(division_code, {n}) AS child, {counts} FROM ({facts}) f "
        f"WHERE {period.sql()} GROUP BY 1"
    )
    return _grouped(engine, sql, code)


def reference_recycling(
    engine: Engine, code: str, period: Period
) -> dict[str, dict[str, float]]:
    """Collection events and their kg by GROUP BY over ``collections``."""
    n = child_length(code)
    month = "to_char(collected_on, 'YYYY-MM')"
    sql = (
        f"SELECT left(division_code, {n}) AS child, count(*) AS events, "
        "sum(textiles_kg) AS kg_textiles, sum(books_kg) AS kg_books, "
        "sum(other_kg) AS kg_other, "
        "sum(textiles_kg + books_kg + other_kg) AS kg_total "
        f"FROM collections WHERE division_code LIKE :prefix AND {period.sql(month)} "
        "GROUP BY 1"
    )
    return _grouped(engine, sql, code)


def reference_commendation(
    engine: Engine, code: str, period: Period
) -> dict[str, dict[str, float]]:
    """Stars per tier (changes into the tier less changes out of it) and
    approvals by GROUP BY over ``star_changes``, in the month of the change."""
    n = child_length(code)
    tiers = ", ".join(
        f"count(*) FILTER (WHERE to_stars = {t}) - "
        f"count(*) FILTER (WHERE from_stars = {t}) AS stars_{t}"
        for t in range(1, 6)
    )
    sql = (
        f"SELECT left(division_code, {n}) AS child, {tiers}, "
        "count(*) FILTER (WHERE kind = 'approved') AS star_approvals "
        "FROM star_changes WHERE division_code LIKE :prefix AND "
        f"{period.sql(_cst_month('changed_at'))} GROUP BY 1"
    )
    return _grouped(engine, sql, code)


ACTIVITY_METRICS = ("projects_published", "sessions", "signups", "attendances")
# service → (reference, the metrics it computes, the facts table it scans)
REFERENCES: dict[
    str, tuple[Callable[..., dict[str, dict[str, float]]], tuple[str, ...], str]
] = {
    "registration": (
        reference_registration,
        ("volunteers_registered", "volunteers_verified"),
        "volunteers",
    ),
    "activity": (reference_activity, ACTIVITY_METRICS, "attendances"),
    "recycling": (
        reference_recycling,
        ("events", "kg_textiles", "kg_books", "kg_other", "kg_total"),
        "collections",
    ),
    "commendation": (
        reference_commendation,
        (*(f"stars_{t}" for t in range(1, 6)), "star_approvals"),
        "star_changes",
    ),
}


def _grouped(engine: Engine, sql: str, code: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with engine.connect() as conn:
        result = conn.execute(text(sql), {"prefix": f"{code}%"})
        names = list(result.keys())[1:]
        for row in result:
            metrics = {k: float(v or 0) for k, v in zip(names, row[1:], strict=True)}
            if any(metrics.values()):
                out[row[0]] = metrics
    return out


def fact_count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# -- Summarize through gRPC ----------------------------------------------------


def summarize_stub(address: str, service: str) -> tuple[Any, Any, Any]:
    """(channel, the service's stub, its pb2 module)."""
    import grpc

    from services.common import protos

    channel = grpc.insecure_channel(address)
    return channel, protos.stub(service, channel), protos.messages(service)


def summarize(
    stub: Any, pb: Any, token: str, code: str, period: Period
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    from zhiyuan.common.v1 import common_pb2

    query = common_pb2.RollupQuery(
        division_code=code,
        period=common_pb2.Period(start_month=period.start, end_month=period.end),
    )
    reply = stub.Summarize(
        pb.SummarizeRequest(query=query),
        metadata=(("authorization", f"Bearer {token}"),),
        timeout=60,
    )
    rows = {
        r.division.code: {k: float(v) for k, v in r.metrics.items()}
        for r in reply.rollup.rows
        if any(r.metrics.values())
    }
    return rows, {k: float(v) for k, v in reply.rollup.total.metrics.items()}


def mismatches(
    got: dict[str, dict[str, float]],
    want: dict[str, dict[str, float]],
    metrics: list[str],
) -> list[str]:
    """Differences between Summarize's rows and GROUP BY's in ``metrics``
    (the ones GROUP BY computes); a child missing on one side reads as 0."""
    out = []
    for child in sorted(set(got) | set(want)):
        for name in metrics:
            a = got.get(child, {}).get(name, 0.0)
            b = want.get(child, {}).get(name, 0.0)
            if abs(a - b) > 0.005:
                out.append(f"{child} {name}: Summarize {a} ≠ GROUP BY {b}")
    return out


def rss_kib(pid: int | None = None) -> tuple[int, int]:
    """(current, peak) resident set size of a process in KiB (Linux /proc)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    values = dict(
        (line.split(":")[0], int(line.split()[1]))
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    )
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    import time

    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


# -- the whole platform as processes -------------------------------------------

DASHBOARD_ADMINS = {  # who → (scope, roles)
    # The national tenant (issue 15): every province's rollups, one round
    # trip per service, against the same 100 ms goal.
    "national": ("CN", ("province_admin",)),
    "province": ("61", ("province_admin",)),
    "city": ("6101", ("tenant_admin",)),
    "county": ("610113", ("tenant_admin",)),
}
PASSWORD = "scale-bench-2026"


@dataclass
class Running:
    """The platform as ``zhiyuan up`` runs it (every api, worker and the
    gateway, under the supervisor) on this run's databases."""

    base: str  # the gateway's URL
    env: dict[str, str]
    supervisor: int  # pid
    startup_seconds: float

    def children(self) -> dict[str, int]:
        """name (e.g. 'hours-api', 'gateway') → pid of the supervisor's
        children (a worker execs itself: same pid)."""
        out = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
                ppid = int(status.split("PPid:")[1].split()[0])
                if ppid != self.supervisor:
                    continue
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            out[_process_name([a.decode() for a in argv if a])] = int(entry.name)
        return out


def _process_name(argv: list[str]) -> str:
    if "services.cli.worker" in argv:
        return f"{argv[-1]}-worker"
    if "run" in argv:
        rest = argv[argv.index("run") + 1 :]
        return "-".join(rest) if rest[0] != "gateway" else "gateway"
    return " ".join(argv[-3:])


def memory_kib(pid: int) -> dict[str, int]:
    """rss, peak (VmHWM) and, where readable, pss of a process, in KiB."""
    now, peak = rss_kib(pid)
    out = {"rss": now, "peak": peak}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss"] = int(line.split()[1])
    except OSError:
        pass
    return out


def _until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    import time

    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if got := predicate():
                return got
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last
            last = exc
        time.sleep(0.5)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}: {last!r}")


def mark_outbox_delivered(platform: Platform) -> dict[str, int]:
    """The bulk imports leave their events in the outbox for the relay;
    the platform run here is measured at idle, so that backlog is marked
    relayed first (no consumer sees it: the star ratings were built from
    the same hours above). Returns the rows marked per service."""
    out = {}
    for name in platform.urls:
        with platform.owner(name).begin() as conn:
            out[name] = conn.execute(
                text(
                    "UPDATE outbox SET published_at = now() WHERE published_at IS NULL"
                )
            ).rowcount
    return out


@contextlib.contextmanager
def running_platform(
    platform: Platform, startup_timeout: float = 600
) -> Iterator[Running]:
    """``zhiyuan up`` (services/cli/supervisor.py) against this run's databases,
    with its own RabbitMQ vhost and ports; returns once the gateway's
    /readyz lists every api SERVING and every worker wrote its heartbeat.
    Everything it started is stopped on exit."""
    import shutil
    import time

    import httpx

    from services.catalog import SERVICES
    from services.common import testing

    vhost = testing.create_vhost()
    tmp = Path(tempfile.mkdtemp(prefix="zy_scale_up"))
    env = testing.platform_env(tmp, platform.urls, vhost) | {
        "OTEL_TRACES_EXPORTER": "none",
        "LOG_LEVEL": "WARNING",
        "PII_KEY": platform.env["PII_KEY"],
    }
    procs = testing.Processes(env, tmp)
    try:
        started = time.monotonic()
        proc = procs.start("platform", "services.cli", "up")
        base = f"http://{env['GATEWAY_LISTEN']}"

        def ready() -> bool:
            if proc.poll() is not None:
                raise SystemExit(procs.log("platform")[-3000:])
            body = httpx.get(f"{base}/readyz", timeout=5).json()
            beats = all(
                Path(env[f"{s.upper()}_HEARTBEAT_FILE"]).exists() for s in SERVICES
            )
            return bool(body.get("backends")) and not body.get("degraded") and beats

        _until(ready, startup_timeout, "every api SERVING and every worker's heartbeat")
        yield Running(base, env, proc.pid, time.monotonic() - started)
    except BaseException:
        if "platform" in procs.procs:
            print(procs.log("platform")[-3000:], file=__import__("sys").stderr)
        raise
    finally:
        procs.stop_all()
        testing.delete_vhost(vhost)
        shutil.rmtree(tmp, ignore_errors=True)


def settle(
    run: Running, window: int = 3, tolerance: float = 0.01, timeout: float = 180
) -> dict[str, dict[str, int]]:
    """Wait until the platform's total RSS stops moving (``window``
    samples 2 s apart within ``tolerance`` of each other), then each
    process's memory in KiB."""
    import time

    totals: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        total = sum(rss_kib(pid)[0] for pid in run.children().values())
        totals = [*totals[-(window - 1) :], total]
        if len(totals) == window and max(totals) - min(totals) <= tolerance * max(
            totals
        ):
            break
        time.sleep(2)
    return {name: memory_kib(pid) for name, pid in sorted(run.children().items())}


def login(run: Running, who: str) -> str:
    """An account for ``who`` (see DASHBOARD_ADMINS), created as `zhiyuan
    admin create` does, then a login through the gateway: its token."""
    import httpx

    from services.common.config import load
    from services.registration.bootstrap import create_account

    scope, roles = DASHBOARD_ADMINS[who]
    username = f"scale-{who}"
    cfg = load(env={**os.environ, **run.env})
    with contextlib.suppress(Exception):  # exists already: log in
        create_account(cfg, username, PASSWORD, scope, list(roles), username)
    r = httpx.post(
        f"{run.base}/api/v1/login",
        json={"username": username, "password": PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])
