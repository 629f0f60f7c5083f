"""Size a national deployment from the per-core rates ``make scale`` measured.

Reads ``docs/measurements/scale-national.txt`` (import rows/s and the raw COPY
baselines, Summarize and dashboard latencies, GetDivision, per-process RSS,
table sizes per row, GROUP BY baselines) and, for the figures that file does
not carry (the consumers' events/s, the import's database time), the
figures in ``docs/measurements/consumers.md``. Every input is printed with the
file and line it came from, so the plan changes when the measurements do; a
missing figure stops the script with a message naming it.

The plan: 230 million volunteers (``--volunteers``), a year of hour records
at Songjiang's rate per volunteer turned into records by Qian'an's hours per
participation (both from ../shared/DOMAIN.md), 31 provincial releases and a
national one, each province's share by its division count
(``--split townships``). See docs/scale.md for the method.

Example::

    .venv/bin/python tests/perf/plan_national.py             # markdown
    .venv/bin/python tests/perf/plan_national.py --json      # the same as JSON
    .venv/bin/python tests/perf/plan_national.py --headroom 2 --peak-factor 12
"""

from __future__ import annotations

import argparse
import csv
import gzip
import inspect
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[2]
MEASUREMENTS = ROOT / "docs" / "measurements" / "scale-national.txt"
OPEN_WORK = ROOT / "docs" / "measurements" / "consumers.md"
SHARED_DIVISIONS = ROOT.parent / "shared" / "data" / "divisions"
# The project's own copy of the same statistics-bureau files (identical CSVs).
PROJECT_DIVISIONS = ROOT / "services" / "common" / "reference"
SERVICES = ("registration", "activity", "hours", "recycling", "commendation")
SECONDS_PER_YEAR = 365 * 86_400
MIB = 1024**2
GIB = 1024**3

# DOMAIN.md: Songjiang 31.3 M hours for 449 k volunteers; Qian'an 2,810 hours
# in 2,600 participations (the only hours-per-record figure the seeds give).
SONGJIANG_HOURS, SONGJIANG_VOLUNTEERS = 31_300_000, 449_000
QIANAN_HOURS, QIANAN_PARTICIPATIONS = 2_810, 2_600

# Tables sized per service, and what their row count follows: ``record``
# (hour records kept), ``volunteer`` (registered volunteers),
# ``volunteer_year`` (volunteers × years kept), ``rollup`` (one row per
# division and stored period: dense at national size), ``fixed`` (as
# measured). Ratios to records or volunteers are those of the national build.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "registration": (
        ("volunteers", "volunteer"),
        ("registration_rollup", "rollup"),
        ("divisions", "fixed"),
    ),
    "activity": (
        ("sign_ups", "record"),
        ("attendances", "record"),
        ("sessions", "record"),
        ("projects", "record"),
        ("activity_rollup", "rollup"),
    ),
    "hours": (
        ("hour_records", "record"),
        ("hours_presence", "record"),
        ("hours_volunteer_totals", "volunteer"),
        ("hours_rollup", "rollup"),
    ),
    "recycling": (("collections", "record"), ("recycling_rollup", "rollup")),
    "commendation": (
        ("service_years", "volunteer_year"),
        ("star_ratings", "volunteer"),
        ("star_requests", "record"),
        ("star_changes", "record"),
        ("commendation_rollup", "rollup"),
    ),
}


class Flow(NamedTuple):
    """What one live hour record costs a service: events its worker takes,
    writes (costed at the hours worker's measured PostgreSQL time per
    event), gRPC write calls through its api, facts forwarded upstream, and
    the fact table it partitions when it outgrows one partition."""

    events_in: int
    writes: int
    api_writes: int
    federated: int
    fact_table: str


# From the event flow of docs/events.md: activity records check-in and
# check-out through its api (activity.attendance.checked_out) and forwards
# the attendance; hours' worker takes the check-out and writes the record;
# hours.record.approved reaches commendation (the rating) and registration
# (an inbox notification), and so does activity.signup.decided registration.
FLOWS = {
    "registration": Flow(2, 2, 0, 0, "volunteers"),
    "activity": Flow(0, 2, 2, 1, "attendances"),
    "hours": Flow(1, 1, 0, 1, "hour_records"),
    "recycling": Flow(0, 0, 0, 0, "collections"),
    "commendation": Flow(1, 1, 0, 0, "service_years"),
}


class MissingFigure(ValueError):
    """An input the plan needs is absent from the measurement files."""

    def __init__(self, name: str, where: str, looked_for: str) -> None:
        super().__init__(
            f"缺少测量数据 / missing measured figure: {name!r} not found in"
            f" {where} (looked for: {looked_for}); run `make scale` or give it"
        )
        self.figure = name


@dataclass(frozen=True)
class Figure:
    """One measured input: its value and the line it was read from."""

    name: str
    value: float
    unit: str
    source: str
    note: str = ""


@dataclass
class Inputs:
    """Everything read from the measurement files."""

    figures: dict[str, Figure] = field(default_factory=dict)
    # (service, table) -> (MiB with indexes, rows, source)
    tables: dict[tuple[str, str], tuple[float, float, str]] = field(
        default_factory=dict
    )
    idle_rss_mib: dict[str, float] = field(default_factory=dict)
    rss_source: str = ""

    def value(self, name: str) -> float:
        return self.figures[name].value


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


def _find(
    lines: list[tuple[int, str]], where: str, name: str, pattern: str
) -> tuple[re.Match[str], str]:
    regex = re.compile(pattern)
    for number, line in lines:
        match = regex.search(line)
        if match:
            return match, f"{where}:{number}"
    raise MissingFigure(name, where, pattern)


def _slowest(
    lines: list[tuple[int, str]], where: str, name: str, pattern: str, group: int
) -> tuple[float, str]:
    """The largest value of ``group`` over every line ``pattern`` matches."""
    regex = re.compile(pattern)
    found = [
        (float(m[group]), f"{where}:{number}")
        for number, line in lines
        if (m := regex.search(line))
    ]
    if not found:
        raise MissingFigure(name, where, pattern)
    return max(found)


def parse_measurements(text: str, where: str = "scale-national.txt") -> Inputs:
    """The figures of ``make scale``'s national table; raises
    :class:`MissingFigure` naming the first one absent."""
    lines = _lines(text)
    inputs = Inputs()
    figures = inputs.figures

    def put(name: str, value: float, unit: str, source: str, note: str = "") -> None:
        figures[name] = Figure(name, value, unit, source, note)

    for what, key in (("hours", "hours"), ("volunteers", "volunteers")):
        m, src = _find(
            lines,
            where,
            f"{what} bulk import",
            rf"^{what} bulk import\s+([\d,]+) rows/s\s+raw COPY ([\d,]+) rows/s",
        )
        put(f"{key}_import_rows_s", _number(m[1]), "rows/s", src, "one process")
        put(f"{key}_copy_rows_s", _number(m[2]), "rows/s", src, "raw COPY, same run")
    for service in SERVICES:
        summarize = rf"^{service} Summarize\(.*?\)\s+p50 ([\d.]+) / p99 ([\d.]+) ms"
        for group, stat in ((1, "p50"), (2, "p99")):
            value, src = _slowest(
                lines, where, f"{service} Summarize", summarize, group
            )
            put(f"{service}_summarize_{stat}_ms", value, "ms", src, f"slowest {stat}")
    m, src = _find(
        lines,
        where,
        "hours GROUP BY (province, all time)",
        r"^hours Summarize\(\d{2} by city, all\).*GROUP BY ([\d.]+) ms",
    )
    put(
        "hours_groupby_ms",
        float(m[1]),
        "ms",
        src,
        "GROUP BY, the province's records, all time",
    )
    m, src = _find(
        lines,
        where,
        "GetDivision, 1 caller(s)",
        r"^GetDivision, 1 caller\(s\)\s+p50 ([\d.]+) ms",
    )
    put("grpc_hop_p50_ms", float(m[1]), "ms", src, "one gRPC read, 1 caller")
    dashboard = r"^GET /api/v1/dashboard.*p50 ([\d.]+) / p99 ([\d.]+) ms"
    for group, stat in ((1, "p50"), (2, "p99")):
        value, src = _slowest(lines, where, "GET /api/v1/dashboard", dashboard, group)
        put(f"dashboard_{stat}_ms", value, "ms", src, f"slowest {stat}, HTTP")
    m, src = _find(
        lines, where, "platform at idle (MiB)", r"^platform at idle \(MiB\): (.*)$"
    )
    for part in m[1].split(","):
        m3 = re.match(r"\s*([\w-]+) ([\d.]+) RSS", part)
        if m3:
            inputs.idle_rss_mib[m3[1]] = float(m3[2])
    inputs.rss_source = src
    for role in ("gateway", *(f"{s}-{r}" for s in SERVICES for r in ("api", "worker"))):
        if role not in inputs.idle_rss_mib:
            raise MissingFigure(f"idle RSS of {role}", where, "platform at idle (MiB)")
    for service in SERVICES:
        m, src = _find(
            lines,
            where,
            f"table sizes of {service}",
            rf"^\s+{service}: (\w+ [\d,.]+ \(.*)$",
        )
        for part in re.finditer(r"(\w+) ([\d,.]+) \(([\d,]+) rows\)", m[1]):
            inputs.tables[(service, part[1])] = (
                _number(part[2]),
                _number(part[3]),
                src,
            )
        for table, _driver in TABLES[service]:
            mib_rows = inputs.tables.get((service, table))
            if mib_rows is None or mib_rows[1] <= 0:
                raise MissingFigure(
                    f"table size of {service}.{table}", where, f"{table} MiB (N rows)"
                )
    return inputs


def parse_open_work(text: str, inputs: Inputs, where: str = "consumers.md") -> Inputs:
    """The consumers' rates and the import's database time, which the
    national table does not measure (its star-burst row reads "not
    measured"): taken from docs/measurements/consumers.md."""
    lines = _lines(text)
    why = "not in scale-national.txt"

    def put(name: str, value: float, unit: str, source: str, note: str) -> None:
        inputs.figures[name] = Figure(name, value, unit, source, note)

    m, src = _find(
        lines,
        where,
        "hours check-out consumer events/s and its ratio to raw kombu",
        r"= ([\d,]+) events/s.*?worker ([\d.]+) ms/event of CPU, its PostgreSQL"
        r" ([\d.]+) ms/event",
    )
    put("hours_worker_burst_s", _number(m[1]), "events/s", src, why)
    put("hours_worker_cpu_ms", float(m[2]), "ms/event", src, why)
    put("pg_ms_per_event", float(m[3]), "ms/event", src, f"{why}; PostgreSQL time")
    m, src = _find(
        lines,
        where,
        "hours consumer ratio to raw kombu",
        r"Hours' check-out consumer: ([\d.]+)x raw kombu",
    )
    put(
        "raw_kombu_msgs_s",
        inputs.value("hours_worker_burst_s") / float(m[1]),
        "msgs/s",
        src,
        f"{why}; = hours burst ÷ {m[1]} (publish+consume, confirm per message)",
    )
    m, src = _find(
        lines,
        where,
        "hours consumer backlog events/s",
        r"a backlog drains at ([\d,]+) events/s",
    )
    put("hours_worker_backlog_s", _number(m[1]), "events/s", src, why)
    m, src = _find(
        lines,
        where,
        "star worker burst events/s",
        r"Star burst.*?= ([\d,]+) events/s.*?backlog ([\d,]+) events/s",
    )
    put("stars_worker_burst_s", _number(m[1]), "events/s", src, why)
    put("stars_worker_backlog_s", _number(m[2]), "events/s", src, why)
    m, src = _find(
        lines,
        where,
        "hours import database time per 1M rows",
        r"per 1M rows, .*?against ~([\d,]+) s of database time",
    )
    put("import_db_ms_per_row", _number(m[1]) / 1_000, "ms/row", src, why)
    m, src = _find(
        lines,
        where,
        "commendation's imported-hours rate (volunteers/s)",
        r"one volunteer per transaction, ~([\d,]+) volunteers/s",
    )
    put("stars_import_volunteers_s", _number(m[1]), "volunteers/s", src, why)
    return inputs


def load_inputs(
    measurements: Path = MEASUREMENTS, open_work: Path = OPEN_WORK
) -> Inputs:
    """Both files parsed; sources are given relative to the repository."""

    def name(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(ROOT))
        except ValueError:
            return str(path)

    for path in (measurements, open_work):
        if not path.is_file():
            raise MissingFigure(
                "the measurement file", str(path), "a file from `make scale`"
            )
    inputs = parse_measurements(measurements.read_text("utf-8"), name(measurements))
    return parse_open_work(open_work.read_text("utf-8"), inputs, name(open_work))


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    cities: int
    counties: int
    townships: int
    villages: int = 0

    @property
    def tenants(self) -> int:
        """Nodes that may have administrators down to townships."""
        return 1 + self.cities + self.counties + self.townships


def divisions_dir() -> Path:
    return SHARED_DIVISIONS if SHARED_DIVISIONS.is_dir() else PROJECT_DIVISIONS


def load_provinces(
    folder: Path | None = None, villages: bool = False
) -> list[Province]:
    """The 31 provinces with their division counts (statistics-bureau codes)."""
    folder = folder or divisions_dir()
    counts: dict[str, dict[str, int]] = {}
    for level in ("cities", "areas", "streets"):
        with open(folder / f"{level}.csv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                slot = counts.setdefault(row["provinceCode"], {})
                slot[level] = slot.get(level, 0) + 1
    if villages:
        with gzip.open(folder / "villages.csv.gz", "rt", encoding="utf-8") as fh:
            for cells in csv.reader(fh):
                if cells and cells[0].isdigit():
                    slot = counts.setdefault(cells[0][:2], {})
                    slot["villages"] = slot.get("villages", 0) + 1
    with open(folder / "provinces.csv", encoding="utf-8") as fh:
        return [
            Province(
                code=row["code"],
                name=row["name"],
                cities=counts.get(row["code"], {}).get("cities", 0),
                counties=counts.get(row["code"], {}).get("areas", 0),
                townships=counts.get(row["code"], {}).get("streets", 0),
                villages=counts.get(row["code"], {}).get("villages", 0),
            )
            for row in csv.DictReader(fh)
        ]


def service_window_hours() -> tuple[float, str]:
    """Hours of the day service happens in, from the generator's daily slots
    (first start to the last start plus the longest session)."""
    from tests.perf import scale_data

    longest = 150 / 60
    return (
        max(scale_data._SLOTS) + longest - min(scale_data._SLOTS),
        "tests/perf/scale_data.py _SLOTS (8-17 h starts, ≤ 2.5 h each)",
    )


def build_years() -> tuple[float, str]:
    """Years of records the national build spread its records over."""
    from tests.perf import scale_data

    months = inspect.signature(scale_data.hour_rows).parameters["months"].default
    return months / 12, f"tests/perf/scale_data.py hour_rows(months={months})"


def federation_batch() -> tuple[int, str]:
    """Cells per federation message: the relay's batch, if the federation
    module is there; else 500, stated as an assumption."""
    try:
        from services.common.federation import FederationRelay
    except Exception:  # not there, or broken: the plan still prints
        return 500, "assumed (services.common.federation not importable)"
    batch = inspect.signature(FederationRelay.__init__).parameters["batch"].default
    return int(batch), f"services/common/federation.py FederationRelay(batch={batch})"


def cells_per_fact() -> int:
    """Rollup cells one township-level fact changes (ancestors × periods)."""
    from services.common.rollup import expand

    return len(expand("610113001", "2026-03"))


@dataclass
class Assumptions:
    """The plan's assumptions; each has a flag (see ``--help``)."""

    volunteers: float = 230_000_000
    hours_per_volunteer: float = SONGJIANG_HOURS / SONGJIANG_VOLUNTEERS
    record_hours: float = QIANAN_HOURS / QIANAN_PARTICIPATIONS
    years: float = 1.0
    peak_day_factor: float = 4.0
    peak_factor: float | None = None
    headroom: float = 1.5
    history_years: float = 1.0
    import_window_days: float = 30.0
    dashboard_views: float = 12.0
    partition_rows: float = 250_000_000
    pg_node_storage_gib: float = 2048.0
    pg_node_cores: int = 8
    pg_standbys: int = 1
    min_replicas: int = 2
    quorum: int = 3
    # None: the batch of the federation relay (services/common/federation.py).
    delta_batch: int | None = None
    split: str = "townships"


def _ceil(x: float) -> int:
    # Tolerates float noise (3.0000000001 is 3): a replica count is a whole
    # number of processes, never a fraction of one.
    return math.ceil(round(x, 9))


def _weight(p: Province, split: str) -> int:
    return {
        "townships": p.townships,
        "counties": p.counties,
        "villages": p.villages,
    }[split]


def worker_rates(inputs: Inputs) -> dict[str, tuple[float, str]]:
    """Events/s one worker process takes, per service: the lower of the
    measured burst and backlog rates; services without a measured consumer
    take the lowest measured rate as a stand-in."""
    hours = min(
        inputs.value("hours_worker_burst_s"), inputs.value("hours_worker_backlog_s")
    )
    stars = min(
        inputs.value("stars_worker_burst_s"), inputs.value("stars_worker_backlog_s")
    )
    lowest = min(hours, stars)
    return {
        "registration": (lowest, "stand-in: lowest measured worker rate"),
        "activity": (lowest, "stand-in: lowest measured worker rate"),
        "hours": (hours, "check-out consumer, min(burst, backlog)"),
        "recycling": (lowest, "stand-in: lowest measured worker rate"),
        "commendation": (stars, "star consumer, min(burst, backlog)"),
    }


def _table_rows(
    inputs: Inputs,
    service: str,
    table: str,
    driver: str,
    *,
    volunteers: float,
    records: float,
    tenants: float,
    a: Assumptions,
    years_built: float,
) -> tuple[float, float]:
    """(rows, bytes) of one table in one release."""
    mib, measured, _src = inputs.tables[(service, table)]
    measured_records = inputs.tables[("hours", "hour_records")][1]
    measured_volunteers = inputs.tables[("registration", "volunteers")][1]
    if driver == "record":
        rows = measured / measured_records * records
    elif driver == "volunteer":
        rows = measured / measured_volunteers * volunteers
    elif driver == "volunteer_year":
        rows = measured / (measured_volunteers * years_built) * volunteers * a.years
    elif driver == "rollup":
        # Dense: every tenant has a row per month and year kept, and 'all'.
        rows = tenants * (13 * a.years + 1)
    else:
        rows = measured
    return rows, rows * mib * MIB / measured


def plan(
    inputs: Inputs, provinces: Sequence[Province], a: Assumptions
) -> dict[str, Any]:
    """The sizing of every release, as plain data (see :func:`render`)."""
    if a.headroom < 1:
        raise ValueError("--headroom is a multiplier of the peak and must be ≥ 1")
    window_h, window_src = service_window_hours()
    diurnal = 24 / window_h
    peak = a.peak_factor if a.peak_factor is not None else diurnal * a.peak_day_factor
    years_built, years_src = build_years()
    cells = cells_per_fact()
    batch, batch_src = federation_batch()
    if a.delta_batch is not None:
        batch, batch_src = a.delta_batch, "--delta-batch"
    records_year = a.volunteers * a.hours_per_volunteer / a.record_hours
    window_s = a.import_window_days * 86_400
    pg_ms = inputs.value("pg_ms_per_event")
    write_call_ms = inputs.value("grpc_hop_p50_ms") + pg_ms
    rates = worker_rates(inputs)
    raw_kombu = inputs.value("raw_kombu_msgs_s")
    cell_bytes = (
        inputs.tables[("hours", "hours_rollup")][0]
        * MIB
        / inputs.tables[("hours", "hours_rollup")][1]
    )
    weights = {p.code: _weight(p, a.split) for p in provinces}
    total_weight = sum(weights.values())
    if total_weight <= 0:
        raise ValueError(f"no {a.split} in the division data: choose another --split")

    def pg(storage_gib: float, cores: float) -> tuple[int, int]:
        primaries = max(
            1,
            _ceil(storage_gib / a.pg_node_storage_gib),
            _ceil(cores / a.pg_node_cores),
        )
        return primaries, primaries * (1 + a.pg_standbys)

    releases: list[dict[str, Any]] = []
    for p in provinces:
        share = weights[p.code] / total_weight
        volunteers = a.volunteers * share
        per_year = records_year * share
        kept = per_year * a.years
        live = per_year / SECONDS_PER_YEAR * peak
        dashboards = p.tenants * a.dashboard_views / 3600
        history_rows = per_year * a.history_years
        services: dict[str, dict[str, Any]] = {}
        for s in SERVICES:
            rows: dict[str, float] = {}
            storage = 0.0
            for table, driver in TABLES[s]:
                n, size = _table_rows(
                    inputs,
                    s,
                    table,
                    driver,
                    volunteers=volunteers,
                    records=kept,
                    tenants=p.tenants,
                    a=a,
                    years_built=years_built,
                )
                rows[table] = n
                storage += size
            fact_rows = rows[FLOWS[s].fact_table]
            partitions = max(1, _ceil(fact_rows / a.partition_rows))
            import_rows_s = {
                "hours": history_rows / window_s,
                "registration": volunteers / window_s,
            }.get(s, 0.0)
            import_procs = {
                "hours": _ceil(import_rows_s / inputs.value("hours_import_rows_s")),
                "registration": _ceil(
                    import_rows_s / inputs.value("volunteers_import_rows_s")
                ),
                "commendation": _ceil(
                    volunteers / window_s / inputs.value("stars_import_volunteers_s")
                ),
            }.get(s, 0)
            cores = (
                (
                    live * FLOWS[s].writes * pg_ms
                    + import_rows_s * inputs.value("import_db_ms_per_row")
                )
                / 1000
                * a.headroom
            )
            primaries, instances = pg(storage / GIB, cores)
            events = live * FLOWS[s].events_in
            rate, _why = rates[s]
            workers = max(a.min_replicas, _ceil(events * a.headroom / rate))
            summarize_rate = 1000 / inputs.value(f"{s}_summarize_p50_ms")
            api_load = (
                dashboards / summarize_rate
                + live * FLOWS[s].api_writes * write_call_ms / 1000
            )
            api = max(a.min_replicas, _ceil(api_load * a.headroom))
            services[s] = {
                "rows": rows,
                "fact_table": FLOWS[s].fact_table,
                "fact_rows": fact_rows,
                "partitions": partitions,
                "storage_gib": storage / GIB,
                "pg_cores": cores,
                "pg_primaries": primaries,
                "pg_instances": instances,
                "events_s": events,
                "worker_rate_s": rate,
                "workers": workers,
                "api_load": api_load,
                "api": api,
                "import_processes": import_procs,
            }
        writes_s = live * sum(f.api_writes for f in FLOWS.values())
        gateway_load = dashboards * inputs.value("dashboard_p50_ms") / 1000 + (
            writes_s * write_call_ms / 1000
        )
        gateway = max(a.min_replicas, _ceil(gateway_load * a.headroom))
        fed_cells = live * sum(f.federated for f in FLOWS.values()) * cells
        fed_msgs = fed_cells / batch
        msgs = live * sum(f.events_in for f in FLOWS.values()) + fed_msgs
        broker = max(a.quorum, _ceil(msgs * a.headroom * a.quorum / raw_kombu))
        rss = inputs.idle_rss_mib
        memory = (
            sum(
                services[s]["api"] * rss[f"{s}-api"]
                + services[s]["workers"] * rss[f"{s}-worker"]
                for s in SERVICES
            )
            + gateway * rss["gateway"]
        )
        releases.append(
            {
                "code": p.code,
                "name": p.name,
                "cities": p.cities,
                "counties": p.counties,
                "townships": p.townships,
                "tenants": p.tenants,
                "share": share,
                "volunteers": volunteers,
                "records_per_year": per_year,
                "peak_records_s": live,
                "dashboards_s": dashboards,
                "services": services,
                "gateway_load": gateway_load,
                "gateway": gateway,
                "broker_msgs_s": msgs,
                "broker_nodes": broker,
                "federation_cells_s": fed_cells,
                "federation_msgs_s": fed_msgs,
                "federation_bytes_s": fed_cells * cell_bytes,
                "memory_floor_gib": memory / 1024,
            }
        )
    national = _national(inputs, provinces, releases, a, pg, rates, raw_kombu, cells)
    largest = max(releases, key=lambda r: r["services"]["hours"]["fact_rows"])
    measured_records = inputs.tables[("hours", "hour_records")][1]
    history_rows = records_year * a.history_years
    return {
        "assumptions": {**asdict(a), "peak_factor": peak, "delta_batch": batch},
        "derived": {
            "service_window_hours": window_h,
            "service_window_source": window_src,
            "diurnal_factor": diurnal,
            "peak_factor": peak,
            "build_years": years_built,
            "build_years_source": years_src,
            "cells_per_fact": cells,
            "delta_batch_source": batch_src,
            "records_per_year": records_year,
            "hours_per_year": a.volunteers * a.hours_per_volunteer,
            "average_records_s": records_year / SECONDS_PER_YEAR,
            "peak_records_s": records_year / SECONDS_PER_YEAR * peak,
            "write_call_ms": write_call_ms,
            "rollup_cell_bytes": cell_bytes,
            "history_rows": history_rows,
            "history_days_one_importer": history_rows
            / inputs.value("hours_import_rows_s")
            / 86_400,
            "history_days_raw_copy": history_rows
            / inputs.value("hours_copy_rows_s")
            / 86_400,
            "volunteer_import_days_one_importer": a.volunteers
            / inputs.value("volunteers_import_rows_s")
            / 86_400,
            "stars_catch_up_days_one_worker": a.volunteers
            / inputs.value("stars_import_volunteers_s")
            / 86_400,
            "largest_release": largest["code"],
            "groupby_largest_s": inputs.value("hours_groupby_ms")
            / measured_records
            * largest["services"]["hours"]["fact_rows"]
            / 1000,
            "summarize_p99_ms": max(
                inputs.value(f"{s}_summarize_p99_ms") for s in SERVICES
            ),
        },
        "worker_rates": {s: {"rate_s": r, "why": w} for s, (r, w) in rates.items()},
        "releases": releases,
        "national": national,
        "totals": _totals(releases, national),
        "inputs": [asdict(f) for f in inputs.figures.values()],
        "tables": [
            {
                "service": s,
                "table": t,
                "mib": inputs.tables[(s, t)][0],
                "rows": inputs.tables[(s, t)][1],
                "bytes_per_row": inputs.tables[(s, t)][0]
                * MIB
                / inputs.tables[(s, t)][1],
                "driver": d,
                "source": inputs.tables[(s, t)][2],
            }
            for s in SERVICES
            for t, d in TABLES[s]
        ],
        "idle_rss_mib": inputs.idle_rss_mib,
        "idle_rss_source": inputs.rss_source,
    }


def _national(
    inputs: Inputs,
    provinces: Sequence[Province],
    releases: Sequence[dict[str, Any]],
    a: Assumptions,
    pg: Any,
    rates: dict[str, tuple[float, str]],
    raw_kombu: float,
    cells: int,
) -> dict[str, Any]:
    """The national release: every province's rollups (forwarded deltas), no
    facts; its load is the federation intake and the national dashboards."""
    tenants = 1 + sum(p.tenants for p in provinces)
    fed_cells = sum(r["federation_cells_s"] for r in releases)
    fed_msgs = sum(r["federation_msgs_s"] for r in releases)
    pg_ms = inputs.value("pg_ms_per_event")
    services: dict[str, dict[str, Any]] = {}
    for s in SERVICES:
        table = f"{s}_rollup"
        mib, measured, _src = inputs.tables[(s, table)]
        rows = tenants * (13 * a.years + 1)
        storage = rows * mib * MIB / measured / GIB
        facts = (
            fed_cells
            / cells
            * FLOWS[s].federated
            / max(1, sum(f.federated for f in FLOWS.values()))
        )
        cores = facts * pg_ms / 1000 * a.headroom
        primaries, instances = pg(storage, cores)
        # Applying one fact's cells costs at most one measured event: the
        # hours consumer inserts a record and bumps the same cells.
        rate = rates["hours"][0]
        workers = max(a.min_replicas, _ceil(facts * a.headroom / rate))
        services[s] = {
            "rows": {table: rows},
            # No facts upstream: only rollups, which are not partitioned.
            "fact_table": "",
            "fact_rows": 0,
            "partitions": 0,
            "storage_gib": storage,
            "pg_cores": cores,
            "pg_primaries": primaries,
            "pg_instances": instances,
            "events_s": facts,
            "worker_rate_s": rate,
            "workers": workers,
            "api_load": 0.0,
            "api": a.min_replicas,
            "import_processes": 0,
        }
    return {
        "code": "CN",
        "name": "全国 national",
        "tenants": tenants,
        "services": services,
        "gateway": a.min_replicas,
        "broker_msgs_s": fed_msgs,
        "broker_nodes": max(
            a.quorum, _ceil(fed_msgs * a.headroom * a.quorum / raw_kombu)
        ),
        "federation_cells_s": fed_cells,
        "federation_msgs_s": fed_msgs,
        "federation_bytes_s": sum(r["federation_bytes_s"] for r in releases),
    }


def _totals(
    releases: Sequence[dict[str, Any]], national: dict[str, Any]
) -> dict[str, Any]:
    """Per service, the sum over the provincial releases and the national one."""
    out: dict[str, Any] = {}
    everything = [*releases, national]
    for s in SERVICES:
        out[s] = {
            key: sum(r["services"][s][key] for r in everything)
            for key in (
                "fact_rows",
                "storage_gib",
                "partitions",
                "pg_primaries",
                "pg_instances",
                "api",
                "workers",
                "import_processes",
            )
        }
        out[s]["fact_table"] = releases[0]["services"][s]["fact_table"]
    out["gateway"] = sum(r["gateway"] for r in everything)
    out["broker_nodes"] = sum(r["broker_nodes"] for r in everything)
    out["releases"] = len(everything)
    out["memory_floor_gib"] = sum(r["memory_floor_gib"] for r in releases)
    return out


def _n(x: float) -> str:
    """A count for people: 14.8 G, 230 M, 3.7 k, 12."""
    for size, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= size:
            return f"{x / size:,.1f}{suffix}"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


WHY = {
    "volunteers": ("--volunteers", "the national system's reported scale (issue 15)"),
    "hours_per_volunteer": (
        "--hours-per-volunteer",
        "Songjiang 31.3 M h / 449 k volunteers (DOMAIN.md); a cumulative total"
        " taken as one year's rate, so it over-sizes",
    ),
    "record_hours": (
        "--record-hours",
        "Qian'an 2,810 h in 2,600 participations (DOMAIN.md); the measurement"
        " file gives no hours per record (the generator draws 1.0-2.5 h, mean 1.75)",
    ),
    "years": ("--years", "years of records kept online (the issue asks for a year)"),
    "peak_day_factor": (
        "--peak-day-factor",
        "the busiest day against an average day: 3月5日 学雷锋日 and the year-end"
        " entry before assessments and star ratings (an assumption: no figure"
        " measured)",
    ),
    "peak_factor": (
        "--peak-factor",
        "peak-hour rate ÷ average rate = (24 h ÷ service window) × peak-day"
        " factor, unless given",
    ),
    "headroom": ("--headroom", "capacity ÷ peak load every row is sized for"),
    "history_years": (
        "--history-years",
        "years of records gathered into the releases at go-live (2020 Measures"
        " Art. 4), each through the bulk import",
    ),
    "import_window_days": ("--import-window-days", "days allowed for that import"),
    "dashboard_views": (
        "--dashboard-views",
        "dashboard loads per tenant (every node down to townships) in the peak"
        " hour; each load asks every service's Summarize once",
    ),
    "partition_rows": (
        "--partition-rows",
        "rows per partition before a fact table is split further (by city code"
        " or year): keeps an index rebuild and a VACUUM within hours",
    ),
    "pg_node_storage_gib": ("--pg-node-storage-gib", "usable disk per PostgreSQL node"),
    "pg_node_cores": ("--pg-node-cores", "cores per PostgreSQL node"),
    "pg_standbys": ("--pg-standbys", "streaming standbys per primary (CloudNativePG)"),
    "min_replicas": ("--min-replicas", "floor per role, so a PDB allows a drain"),
    "quorum": (
        "--quorum",
        "quorum queue members: each message costs every member, so a node's"
        " capacity is the measured rate ÷ members",
    ),
    "delta_batch": (
        "--delta-batch",
        "rollup cells per federation message (default: the federation relay's batch)",
    ),
    "split": (
        "--split",
        "how volunteers and records are spread over provinces: by division count"
        " (the division data carries no population)",
    ),
}


def _value(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def render(result: dict[str, Any]) -> str:
    """The plan as markdown: inputs, assumptions, the tables."""
    d = result["derived"]
    a = result["assumptions"]
    lines = ["### Inputs 输入 (measured)", ""]
    lines += _table(
        ["input", "value", "unit", "source", "note"],
        [
            (f["name"], f"{f['value']:,.2f}", f["unit"], f["source"], f["note"])
            for f in result["inputs"]
        ],
    )
    lines += [
        "",
        "Table sizes (with indexes) per row, and what the row count follows:",
        "",
    ]
    lines += _table(
        ["table", "MiB", "rows", "bytes/row", "grows with", "source"],
        [
            (
                f"{t['service']}.{t['table']}",
                f"{t['mib']:,.1f}",
                f"{t['rows']:,.0f}",
                f"{t['bytes_per_row']:,.0f}",
                t["driver"],
                t["source"],
            )
            for t in result["tables"]
        ],
    )
    rss = result["idle_rss_mib"]
    lines += [
        "",
        "Idle RSS per process (MiB, "
        + result["idle_rss_source"]
        + "): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(rss.items())),
        "",
        "Worker rate per process (events/s): "
        + ", ".join(
            f"{s} {w['rate_s']:,.0f} ({w['why']})"
            for s, w in result["worker_rates"].items()
        ),
        "",
        "Per live hour record (the event flow of docs/events.md; see the module):",
        "",
        *_table(
            ["service", "events in", "writes", "api write calls", "facts forwarded"],
            [
                (
                    s,
                    FLOWS[s].events_in,
                    FLOWS[s].writes,
                    FLOWS[s].api_writes,
                    FLOWS[s].federated,
                )
                for s in SERVICES
            ],
        ),
        "",
        "### Assumptions 假设",
        "",
    ]
    lines += _table(
        ["assumption", "value", "flag", "why"],
        [
            (
                k,
                _value(a[k]),
                WHY[k][0],
                WHY[k][1],
            )
            for k in WHY
        ],
    )
    lines += [
        "",
        f"Derived: {_n(d['hours_per_year'])} hours a year ="
        f" **{_n(d['records_per_year'])} hour records a year**;"
        f" {d['average_records_s']:,.0f} records/s on average,"
        f" **{d['peak_records_s']:,.0f}/s at the peak** (service window"
        f" {d['service_window_hours']:.1f} h from {d['service_window_source']}:"
        f" diurnal × {d['diurnal_factor']:.2f}, peak factor {d['peak_factor']:.1f});"
        f" one fact changes {d['cells_per_fact']} rollup cells"
        " (services.common.rollup.expand); the national build spread its records"
        f" over {d['build_years']:.0f} years ({d['build_years_source']}); a gRPC write"
        f" call costed at {d['write_call_ms']:.2f} ms (GetDivision p50 + PostgreSQL"
        " ms/event).",
        "",
        "### Per service, whole country 全国合计",
        "",
    ]
    t = result["totals"]
    lines += _table(
        [
            "service",
            "fact table",
            "rows kept",
            "storage GiB",
            "partitions",
            "PG primaries",
            "PG instances",
            "api replicas",
            "worker replicas",
            "import processes",
        ],
        [
            (
                s,
                t[s]["fact_table"],
                _n(t[s]["fact_rows"]),
                f"{t[s]['storage_gib']:,.0f}",
                t[s]["partitions"],
                t[s]["pg_primaries"],
                t[s]["pg_instances"],
                t[s]["api"],
                t[s]["workers"],
                t[s]["import_processes"],
            )
            for s in SERVICES
        ],
    )
    lines += [
        "",
        f"Releases {t['releases']} (31 provinces + national); gateway replicas"
        f" {t['gateway']}; RabbitMQ nodes {t['broker_nodes']}; memory floor of the"
        f" provincial processes at idle RSS {t['memory_floor_gib']:,.0f} GiB.",
        "",
        "### Releases 各省发布",
        "",
        "PG = PostgreSQL instances (primaries × (1 + standbys)) of the five services;"
        " api / workers = replicas of the five services (registration, activity,"
        " hours, recycling, commendation); import = bulk-import processes for the"
        " history window (hours + registration) and commendation catch-up workers.",
        "",
    ]
    rows = []
    for r in [*result["releases"], result["national"]]:
        sv = r["services"]
        rows.append(
            (
                f"{r['code']} {r['name']}",
                f"{r['tenants']:,}",
                _n(r["volunteers"]) if "volunteers" in r else "—",
                _n(r["records_per_year"]) if "records_per_year" in r else "—",
                f"{sum(sv[s]['storage_gib'] for s in SERVICES):,.0f}",
                sv["hours"]["partitions"],
                " / ".join(str(sv[s]["pg_instances"]) for s in SERVICES),
                " / ".join(str(sv[s]["api"]) for s in SERVICES),
                " / ".join(str(sv[s]["workers"]) for s in SERVICES),
                r["gateway"],
                r["broker_nodes"],
                " / ".join(
                    str(sv[s]["import_processes"])
                    for s in ("hours", "registration", "commendation")
                ),
                f"{r['federation_cells_s']:,.0f}",
            )
        )
    lines += _table(
        [
            "release",
            "tenants",
            "volunteers",
            "records/yr",
            "GiB",
            "hour partitions",
            "PG",
            "api",
            "workers",
            "gateway",
            "broker",
            "import h/r/c",
            "delta cells/s",
        ],
        rows,
    )
    n = result["national"]
    lines += [
        "",
        "### Federation 联邦增量",
        "",
        f"Every forwarded fact changes {d['cells_per_fact']} cells; at the peak the"
        f" provinces send **{n['federation_cells_s']:,.0f} cells/s** upstream,"
        f" {n['federation_msgs_s']:,.0f} messages/s at {a['delta_batch']} cells a"
        f" message ({d['delta_batch_source']}), about"
        f" {n['federation_bytes_s'] / MIB:,.1f} MiB/s (a stored rollup row,"
        f" {d['rollup_cell_bytes']:,.0f} bytes, per cell: a message carries each"
        " cell's values). The capture trigger writes one cell per rollup row a"
        " statement changed, so a bulk chunk's facts share cells: the figure is"
        " an upper bound for single writes.",
        "",
        "### At national size 全国规模下",
        "",
        f"- Summarize stays O(children × periods): p99 ≤ {d['summarize_p99_ms']:.1f} ms"
        f" measured; a GROUP BY over the largest release's records"
        f" ({d['largest_release']}) would take ≥ {d['groupby_largest_s']:,.0f} s"
        " (the measured GROUP BY time per record, linear).",
        f"- History import of {_n(d['history_rows'])} records: one importer"
        f" {d['history_days_one_importer']:,.0f} days, raw COPY"
        f" {d['history_days_raw_copy']:,.0f} days; {_n(a['volunteers'])} volunteers:"
        f" one importer {d['volunteer_import_days_one_importer']:,.1f} days;"
        " commendation's catch-up on imported hours, one worker"
        f" {d['stars_catch_up_days_one_worker']:,.0f} days: hence the import"
        " column.",
    ]
    return "\n".join(lines) + "\n"


INTEGERS = {"pg_node_cores", "pg_standbys", "min_replicas", "quorum"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    base = Assumptions()
    parser = argparse.ArgumentParser(
        prog="plan_national.py",
        description=(
            "Size a national Zhiyuan deployment (31 provincial releases and a"
            " national one) from the per-core rates `make scale` measured."
            " Prints the inputs with the file:line they came from, the"
            " assumptions, and the sizing tables (markdown, or --json)."
        ),
        epilog=(
            "`make plan` prints the tables; `make plan PLAN_ARGS='--update"
            " docs/scale.md'` rewrites the plan's generated block."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON, not markdown")
    parser.add_argument(
        "--update",
        type=Path,
        metavar="DOC",
        help="rewrite DOC's generated block (between the plan markers) instead of"
        " printing",
    )
    parser.add_argument(
        "--measurements",
        type=Path,
        default=MEASUREMENTS,
        help="make scale's national table (default: %(default)s)",
    )
    parser.add_argument(
        "--consumers",
        dest="open_work",
        metavar="FILE",
        type=Path,
        default=OPEN_WORK,
        help="measured figures the table lacks (default: %(default)s)",
    )
    parser.add_argument(
        "--divisions",
        type=Path,
        default=None,
        help="division CSVs (default ../shared/data/divisions, else the copy in"
        " services/common/reference)",
    )
    for key, (flag, why) in WHY.items():
        default = getattr(base, key)
        if key == "split":
            parser.add_argument(
                flag,
                choices=("townships", "counties", "villages"),
                default=default,
                help=f"{why} (default: {default})",
            )
        elif key in ("peak_factor", "delta_batch"):
            kind = float if key == "peak_factor" else int
            parser.add_argument(flag, type=kind, default=None, help=why)
        else:
            kind = int if isinstance(default, int) and key in INTEGERS else float
            parser.add_argument(
                flag,
                type=kind,
                default=kind(default),
                help=f"{why} (default: {_value(default)})",
            )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    a = Assumptions(**{k: getattr(args, k) for k in WHY})
    try:
        inputs = load_inputs(args.measurements, args.open_work)
        provinces = load_provinces(args.divisions, villages=a.split == "villages")
        result = plan(inputs, provinces, a)
    except (MissingFigure, ValueError, OSError) as exc:
        print(f"plan_national: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    elif args.update:
        try:
            update_doc(args.update, render(result))
        except (ValueError, OSError) as exc:
            print(f"plan_national: {exc}", file=sys.stderr)
            return 2
        print(f"plan_national: updated {args.update}")
    else:
        print(render(result), end="")
    return 0


BEGIN, END = "<!-- plan:begin -->", "<!-- plan:end -->"


def update_doc(path: Path, table: str) -> None:
    """Replace the generated block of ``path`` (between the plan markers)."""
    text = path.read_text("utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{path} needs one {BEGIN} and one {END} line")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", "utf-8")


if __name__ == "__main__":
    # Run as a file: the repository root holds the `services` and `tests` packages.
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
