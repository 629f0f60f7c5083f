"""Recording hours: ``RecordCases.ingest`` one event at a time and
``ingest_batch`` in batches, against raw PostgreSQL inserts of the same rows
measured in the same run.

Subject: the hours use cases on a throw-away, migrated hours database (empty
policy replica: the platform's defaults), fed realistic check-out drafts:
volunteers in Shaanxi townships, a few records each on different days of
January to March, none refused. One at a time is what the worker does per
event (one transaction each); a batch is one transaction of ``BATCH`` drafts.
Both keep every rule: the event claim, the source check, the policy, the
volunteer lock, overlap and the daily cap (rollups and events only come with
approval, which is not measured here). Baselines: the rows the subject
stored, inserted again into plain tables of the same columns (no keys,
indexes or row security) with psycopg ``executemany`` in one transaction,
and with ``COPY`` (median of a few: they are short). The work runs in
rounds, each one at a time, in batches (alternating which goes first) and
both baselines on that round's rows, so a table that grows or a neighbour
that gets busy weighs on all four alike. Every phase counts its rows in the
database afterwards."""

from __future__ import annotations

import contextlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from tests.perf.runner import (
    Benchmark,
    Interrupted,
    Report,
    Settings,
    percentile,
    ratio,
    uninterruptible,
)

NAME = "hours"
BATCH = 200
CONSUMER = "hours.attendance"  # the worker's consumer name for check-outs
RECORDS_PER_VOLUNTEER = 4
BASELINE_REPS = 5  # of each baseline per round, median kept (they are short)
# Nothing here talks to RabbitMQ (ingesting writes no outbox rows, nothing
# relays): a closed loopback port makes any attempt fail instead of touching
# a broker, so no vhost is created.
NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"

# From /work/shared/STACK_NOTES.md (2-core Debian 12, medians of three runs).
# Context only: NOT measured by this run, on possibly different hardware.
NOTES_FIGURES = {
    "PostgreSQL COPY, 6 columns (psycopg 3)": 271_568.0,
    "SQLAlchemy Core executemany (no RETURNING)": 58_465.0,
    "SQLAlchemy insert().returning() executemany": 16_280.0,
}

# Shaanxi counties (code, name); townships are <county><001..012>.
COUNTIES = [
    ("610102", "新城区"), ("610103", "碑林区"), ("610104", "莲湖区"),
    ("610111", "灞桥区"), ("610112", "未央区"), ("610113", "雁塔区"),
    ("610116", "长安区"), ("610302", "渭滨区"), ("610402", "秦都区"),
    ("610502", "临渭区"), ("610602", "宝塔区"), ("610702", "汉台区"),
    ("610802", "榆阳区"), ("610902", "汉滨区"), ("611002", "商州区"),
]  # fmt: skip
CONTENT = {
    "elderly_care": "敬老院陪伴老人",
    "minors": "社区四点半课堂",
    "environment": "河道垃圾清理",
    "civilisation": "文明交通劝导",
    "culture_education": "社区图书室整理",
    "emergency": "防汛应急值守",
    "large_events": "西安马拉松赛道服务",
    "medical": "义诊导医",
}
CHINA_OFFSET = timedelta(hours=8)


# --- the database ---------------------------------------------------------


@dataclass
class Target:
    app: Any  # HoursApp
    admin: Any  # psycopg.Connection as the database owner: counts, baselines
    columns: list[str]


@contextlib.contextmanager
def hours_database(log: Callable[[str], None]) -> Iterator[Target]:
    """A migrated hours database and the use cases on it. Everything is
    removed on exit, whatever the reason."""
    import psycopg

    from services.common import testing

    with contextlib.ExitStack() as stack:
        log("creating a throw-away database")
        with uninterruptible():
            database_url = testing.create_database("zy_bench")
            stack.callback(testing.drop_database, database_url)
            log(f"created database {database_url.rsplit('/', 1)[1]}")
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zy_bench")))
        env = testing.platform_env(tmp, {"hours": database_url}, NO_BROKER)
        env |= {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
        stack.enter_context(patch.dict(os.environ, env))

        from services.common.config import load
        from services.common.db import Database
        from services.common.migrations import upgrade
        from services.hours.application import HoursApp
        from services.hours.models import HourRecord

        cfg = load()
        log("migrating")
        with contextlib.redirect_stdout(io.StringIO()):
            upgrade(cfg.service("hours"))
        db = Database(cfg.service("hours"))
        stack.callback(db.dispose)  # before the drop (callbacks run last first)
        admin = psycopg.connect(database_url.replace("+psycopg", "", 1))
        stack.callback(admin.close)
        columns = [c.name for c in HourRecord.__table__.columns]
        with admin.transaction():
            for table in ("raw_executemany", "raw_copy"):
                admin.execute(f"CREATE TABLE {table} (LIKE hour_records)")
        yield Target(HoursApp(db), admin, columns)
        log("dropping the database")


# --- the drafts -----------------------------------------------------------


def drafts(rng: random.Random, n: int) -> list[tuple[str, Any]]:
    """``n`` check-out drafts as (event_id, draft), interleaved across
    volunteers: each volunteer serves in one township, on different days
    (never overlapping, always under the daily cap)."""
    from services.hours.domain import Interval
    from services.hours.usecases.records import Draft

    def ident() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    first_day = datetime(2026, 1, 5, tzinfo=UTC)
    out: list[tuple[str, Any]] = []
    volunteers = -(-n // RECORDS_PER_VOLUNTEER)
    for _ in range(volunteers):
        county, county_name = rng.choice(COUNTIES)
        township = f"{county}{rng.randint(1, 12):03d}"
        volunteer_id, org_id = ident(), ident()
        number = f"ZY{county}{rng.randint(0, 999_999):06d}"
        days = rng.sample(range(85), RECORDS_PER_VOLUNTEER)  # January to March
        for day in days[: n - len(out)]:
            field = rng.choice(list(CONTENT))
            # 08:00-16:00 China time, 1 to 4 hours in 5-minute steps.
            start = (
                first_day + timedelta(days=day, hours=rng.randint(8, 16)) - CHINA_OFFSET
            )
            end = start + timedelta(minutes=5 * rng.randint(12, 48))
            event_id = ident()
            draft = Draft(
                source="attendance", source_id=ident(),
                volunteer_id=volunteer_id, volunteer_number=number,
                division_code=township, organisation_id=org_id,
                organisation_name=f"{county_name}志愿者协会", service_field=field,
                activity_kind="service", content=CONTENT[field],
                started_at=start, ended_at=end, interval=Interval(start, end),
                recorded_by="activity:leader", event_id=event_id,
            )  # fmt: skip
            out.append((event_id, draft))
    rng.shuffle(out)  # check-outs of many volunteers arrive interleaved
    return out


# --- measuring -------------------------------------------------------------


@dataclass
class Phase:
    records: int
    calls: int
    seconds: float
    latencies: list[float]  # seconds per call, sorted
    capped: bool
    counted: int  # rows found in the database afterwards

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("nan")

    def as_dict(self, per_call: int) -> dict[str, Any]:
        p50, p99 = (percentile(self.latencies, q) * 1000 for q in (50, 99))
        return {
            "records": self.records,
            "records_per_call": per_call,
            "calls": self.calls,
            "seconds": round(self.seconds, 4),
            "records_per_s": round(self.per_s, 1),
            "p50_ms_per_call": round(p50, 3),
            "p99_ms_per_call": round(p99, 3),
            "p50_ms_per_record": round(p50 / per_call, 4),
            "capped_by_time": self.capped,
            "rows_counted_after": self.counted,
        }


def _check(results: Sequence[Any], what: str) -> None:
    for record in results:
        if record is None or record.status != "pending":
            status = None if record is None else (record.status, record.status_reason)
            raise AssertionError(f"{what}: a draft was not recorded ({status})")


def ingest_phase(
    target: Target,
    items: list[tuple[str, Any]],
    size: int,
    deadline: float,
    settings: Settings,
) -> Phase:
    """Ingest ``items`` in calls of ``size`` drafts (1: ``ingest``, else
    ``ingest_batch``); stops early at ``deadline`` (monotonic, reported)."""
    app, clock = target.app, time.perf_counter
    latencies: list[float] = []
    done, capped = 0, False
    started = clock()
    for i in range(0, len(items), size):
        if settings.abort.is_set():
            raise Interrupted("stopped")
        if time.monotonic() > deadline:
            capped = True
            break
        chunk = items[i : i + size]
        t0 = clock()
        if size == 1:
            results = [app.records.ingest(CONSUMER, chunk[0][0], chunk[0][1])]
        else:
            results = app.records.ingest_batch(CONSUMER, chunk)
        latencies.append(clock() - t0)
        _check(results, "ingest" if size == 1 else "ingest_batch")
        done += len(chunk)
    elapsed = clock() - started
    counted = count_records(target, [d for _, d in items[:done]])
    if counted != done:
        raise AssertionError(f"{done} drafts ingested but {counted} records stored")
    return Phase(done, len(latencies), elapsed, sorted(latencies), capped, counted)


def merge(parts: Sequence[Phase]) -> Phase:
    return Phase(
        records=sum(p.records for p in parts),
        calls=sum(p.calls for p in parts),
        seconds=sum(p.seconds for p in parts),
        latencies=sorted(v for p in parts for v in p.latencies),
        capped=any(p.capped for p in parts),
        counted=sum(p.counted for p in parts),
    )


def count_records(target: Target, done: Sequence[Any]) -> int:
    """Pending records and claimed events of these drafts, as the database
    owner (row security does not apply); raises if the two disagree."""
    sources = [d.source_id for d in done]
    events = [d.event_id for d in done]
    with target.admin.transaction():
        records = target.admin.execute(
            "SELECT count(*) FROM hour_records"
            " WHERE source_id = ANY(%s) AND status = 'pending'",
            [sources],
        ).fetchone()[0]
        claimed = target.admin.execute(
            "SELECT count(*) FROM processed_events"
            " WHERE consumer = %s AND event_id = ANY(%s)",
            [CONSUMER, events],
        ).fetchone()[0]
    if records != claimed:
        raise AssertionError(f"{records} records but {claimed} claimed events")
    return int(records)


def stored_rows(target: Target, done: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows the one-at-a-time phase stored, all columns."""
    cols = ", ".join(target.columns)
    with target.admin.transaction():
        return target.admin.execute(
            f"SELECT {cols} FROM hour_records WHERE source_id = ANY(%s)",  # noqa: S608 - model column names
            [[d.source_id for d in done]],
        ).fetchall()


def baseline(target: Target, how: str, rows: list[tuple[Any, ...]]) -> float:
    """Insert ``rows`` into a plain table in one transaction; seconds taken
    (commit included). The table is emptied first and counted after."""
    conn, table = target.admin, f"raw_{how}"
    cols = ", ".join(target.columns)
    with conn.transaction():
        conn.execute(f"TRUNCATE {table}")
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        if how == "executemany":
            marks = ", ".join(["%s"] * len(target.columns))
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608 - fixed names
        else:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    seconds = time.perf_counter() - started
    with conn.transaction():
        counted = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    if counted != len(rows):
        raise AssertionError(f"{how}: {len(rows)} rows inserted, {counted} found")
    return seconds


def server_facts(target: Target) -> dict[str, str]:
    with target.admin.transaction():
        return {
            name: str(target.admin.execute(f"SHOW {name}").fetchone()[0])
            for name in ("server_version", "synchronous_commit", "fsync")
        }


# --- the benchmark --------------------------------------------------------

Baselines = dict[str, list[tuple[int, float]]]  # how → [(rows, seconds)] per round


def run(settings: Settings) -> Report:
    def log(message: str) -> None:
        print(f"  [{NAME}] {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    rounds = settings.pick(5, 3)
    per_round = settings.pick(600, 200)  # drafts per phase and round, × BATCH
    rng = random.Random(20260301)  # noqa: S311 - test data
    # Disjoint volunteers per set: no phase sees another's records.
    sets = {tag: drafts(rng, size) for tag, size in [
        ("warmup", 60), ("single", rounds * per_round),
        ("batch", rounds * per_round),
    ]}  # fmt: skip
    parts: dict[str, list[Phase]] = {"single": [], "batch": []}
    baselines: Baselines = {"executemany": [], "copy": []}
    with hours_database(log) as target:
        facts = server_facts(target) | {"columns": str(len(target.columns))}
        # A safety net only: the loops are bounded by the draft counts.
        deadline = time.monotonic() + settings.pick(45.0, 20.0)
        log("warming up (60 drafts, not counted)")
        warm = sets["warmup"]
        ingest_phase(target, warm[:30], 1, deadline, settings)
        ingest_phase(target, warm[30:], 30, deadline, settings)
        warm_rows = stored_rows(target, [d for _, d in warm])
        for how in ("executemany", "copy") * 2:  # first calls set up types
            baseline(target, how, warm_rows)
        for r in range(rounds):
            part = slice(r * per_round, (r + 1) * per_round)
            order = [("single", 1), ("batch", BATCH)]
            if r % 2:
                order.reverse()
            log(
                f"round {r + 1}/{rounds}: {per_round} drafts "
                + " then ".join(
                    "one at a time" if size == 1 else f"in batches of {size}"
                    for _, size in order
                )
                + ", then both baselines"
            )
            stored = []
            for tag, size in order:
                phase = ingest_phase(target, sets[tag][part], size, deadline, settings)
                parts[tag].append(phase)
                stored += [d for _, d in sets[tag][part][: phase.records]]
            rows = stored_rows(target, stored)
            taken: dict[str, list[float]] = {"executemany": [], "copy": []}
            for _ in range(BASELINE_REPS):
                for how in taken:
                    if settings.abort.is_set():
                        raise Interrupted("stopped")
                    taken[how].append(baseline(target, how, rows))
            for how, times in taken.items():
                baselines[how].append((len(rows), statistics.median(times)))
            if any(p.capped for p in parts["single"] + parts["batch"]):
                log("stopped at the time cap")
                break
    load = (load_before, os.getloadavg()[0])
    return _report(settings, parts, baselines, facts, time.monotonic() - started, load)


def _ratio_cell(value: float) -> str:
    """Small ratios keep their digits: 0.0052, not 0.01."""
    return f"{value:.4f}" if value < 0.1 else f"{value:.2f}"


def _report(
    settings: Settings,
    parts: dict[str, list[Phase]],
    baselines: Baselines,
    facts: dict[str, str],
    wall: float,
    load: tuple[float, float],
) -> Report:
    import psycopg
    import sqlalchemy

    single, batch = merge(parts["single"]), merge(parts["batch"])
    base = {
        how: sum(n for n, _ in runs) / sum(t for _, t in runs)
        for how, runs in baselines.items()
    }
    rows: list[list[Any]] = []
    data: dict[str, Any] = {
        "benchmark": NAME,
        "quick": settings.quick,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "psycopg": psycopg.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "postgresql": facts,
        "cpus": os.cpu_count(),
        "rounds": len(parts["single"]),
        "batch_size": BATCH,
        "records_per_volunteer": RECORDS_PER_VOLUNTEER,
        "wall_seconds": round(wall, 1),
        "load_average_1m_before_after": [round(v, 2) for v in load],
        "results": {},
        "stack_notes_not_measured_here": NOTES_FIGURES,
    }
    for key, label, phase, per_call in [
        ("ingest", "ingest, one at a time", single, 1),
        ("ingest_batch", f"ingest_batch × {BATCH}", batch, BATCH),
    ]:
        flag = " (time cap)" if phase.capped else ""
        p50 = percentile(phase.latencies, 50) * 1000
        rows.append(
            [
                label + flag,
                phase.records,
                per_call,
                phase.seconds,
                phase.per_s,
                p50,
                p50 / per_call,
                _ratio_cell(ratio(phase.per_s, base["executemany"])),
                _ratio_cell(ratio(phase.per_s, base["copy"])),
            ]
        )
        data["results"][key] = phase.as_dict(per_call) | {
            "ratio_to_executemany": round(ratio(phase.per_s, base["executemany"]), 5),
            "ratio_to_copy": round(ratio(phase.per_s, base["copy"]), 5),
            "records_per_s_by_round": [round(p.per_s, 1) for p in parts[
                "single" if per_call == 1 else "batch"
            ]],
        }  # fmt: skip
    for how, label in [
        ("executemany", "baseline: executemany, plain table"),
        ("copy", "baseline: COPY, plain table"),
    ]:
        runs = baselines[how]
        n_rows = sum(n for n, _ in runs)
        per_call = int(statistics.median(n for n, _ in runs))
        p50 = statistics.median(t for _, t in runs) * 1000
        rows.append(
            [
                label,
                n_rows,
                per_call,
                sum(t for _, t in runs),
                base[how],
                p50,
                p50 / per_call,
                _ratio_cell(ratio(base[how], base["executemany"])),
                _ratio_cell(ratio(base[how], base["copy"])),
            ]
        )
        data["results"][how] = {
            "records": n_rows,
            "records_per_call": per_call,
            "calls": len(runs),
            "seconds": round(sum(t for _, t in runs), 4),
            "records_per_s": round(base[how], 1),
            "p50_ms_per_call": round(p50, 3),
            "records_per_s_by_round": [round(n / t, 1) for n, t in runs],
        }
    speedup = ratio(batch.per_s, single.per_s)
    by_round = [
        ratio(b.per_s, s.per_s)
        for s, b in zip(parts["single"], parts["batch"], strict=True)
    ]
    data["batch_vs_one_at_a_time"] = round(speedup, 3)
    data["batch_vs_one_at_a_time_by_round"] = [round(r, 3) for r in by_round]
    notes = [
        "ratio = records/s of the row ÷ records/s of the baseline, all measured "
        f"in this run, in {len(by_round)} interleaved rounds (a baseline call "
        "inserts the rows both phases stored in its round, in one transaction; "
        f"median of {BASELINE_REPS} per round).",
        f"ingest_batch is {speedup:.2f}× one at a time (rounds: "
        + ", ".join(f"{r:.2f}" for r in by_round)
        + f"); p50 per record one at a time: "
        f"{percentile(single.latencies, 50) * 1000:.2f} ms.",
        "the subject also claims each event, reads the policy, locks the "
        "volunteer, checks overlap and the day's total under row security, and "
        "inserts into an indexed table; the baselines insert the same rows "
        "into tables without keys, indexes or row security.",
        f"PostgreSQL {facts['server_version'].split()[0]}: synchronous_commit="
        f"{facts['synchronous_commit']}, fsync={facts['fsync']} (one commit per "
        "record one at a time, one per batch).",
        f"STACK_NOTES figures (NOT measured here, 6 columns vs {facts['columns']} "
        "here): COPY 271,568 rows/s, SQLAlchemy Core executemany 58,465 rows/s.",
    ]
    cpus = os.cpu_count() or 1
    if max(load) > cpus * 0.75:
        notes.append(
            f"the machine was busy (1-min load {load[0]:.1f} → {load[1]:.1f} on "
            f"{cpus} CPUs, this run included): figures are noisy, compare ratios."
        )
    mode = "quick" if settings.quick else "full"
    return Report(
        title=f"Recording hours: ingest vs raw PostgreSQL inserts ({mode})",
        columns=[
            "how",
            "records",
            "per call",
            "seconds",
            "records/s",
            "p50 ms/call",
            "p50 ms/record",
            "vs executemany",
            "vs COPY",
        ],
        rows=rows,
        data=data,
        notes=notes,
    )


BENCHMARK = Benchmark(
    name=NAME,
    summary="recording hours one at a time and in batches vs raw inserts and COPY",
    run=run,
)
