"""The state ``make scale`` measures, built through the product's own paths,
and the references its answers are checked against.

- :class:`Platform`: one throw-away database per service, migrated, with the
  national division tree; every api role served from this process on free
  ports (``start_apis``); everything dropped on exit unless ``keep``.
- :func:`build`: volunteers through registration's bulk import (verified,
  encrypted and blind-indexed there), then hour records through hours' bulk
  import, province by province (an importer holds one province's scope).
- ``reference_*``: the same answers by GROUP BY over the raw facts, as the
  database owner (no rollup, no row security).

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
        from services.registration.seed import load_divisions

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


def summarize_stub(address: str, service: str) -> tuple[Any, Any]:
    """(channel, callable(code, period) → {child: metrics}, total metrics)."""
    import importlib

    import grpc

    pb = importlib.import_module(f"zhiyuan.{service}.v1.{service}_pb2")
    pb_grpc = importlib.import_module(f"zhiyuan.{service}.v1.{service}_pb2_grpc")
    stub_class = getattr(pb_grpc, f"{service.title()}ServiceStub")
    channel = grpc.insecure_channel(address)
    return channel, stub_class(channel), pb


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
