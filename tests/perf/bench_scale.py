"""``make scale``: the national state built through the product's own bulk
paths, then every read the issue's goals name, each against a baseline taken
in the same run. NOT part of ``make test`` (its quick variant's answers are
checked by tests/integration/test_scale_quick.py).

    python -m tests.perf.bench_scale --size medium
    python -m tests.perf.bench_scale --volunteers 1000000 --records 10000000

Built: volunteers and hour records through the bulk imports; activity
(projects, sessions, sign-ups, attendances: records / 10), recycling
collections (records / 100) and commendation star ratings (every volunteer
with approved hours) by COPY exactly as their write paths store them, since
none of the three has a set-wise write path, with their rollups bumped
through the product's own rollup code (Rollup.bump_many); the table says
which way each service's facts were built.

Measured: every service's Summarize (61 by city, 6101 by county, 610113 by
township; last month, its year, all time) through gRPC p50/p99 vs GROUP BY
over the raw facts, with every answer checked equal; the bulk import rate
vs raw COPY of the same rows into a copy of the same table with its
indexes; GetDivision vs a bare grpcio echo server at 1 and 10 callers; then
the whole platform as ``zhiyuan up`` runs it (every api, worker and the
gateway as processes, own vhost): each process's RSS and PSS once settled
at idle, and GET /api/v1/dashboard over HTTP for the nation's (CN), the
province's, a city's and a county's admin; the size and rows of every
table. It prints one table of ratios and goals and writes
test-artifacts/scale.json. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.perf import scale_state as st
from tests.perf.runner import ROOT, Load, measure, percentile

OUT = ROOT / "test-artifacts" / "scale.json"
HOURS_SCOPES = (("61", "city"), ("6101", "county"), ("610113", "township"))
GOALS = {
    "summarize_p99_ms": 20.0,
    "rollup_vs_groupby": 100.0,
    "import_vs_copy": 0.5,
    "hop_latency": 1.5,
    "platform_idle_gib": 2.0,
    "dashboard_p99_ms": 100.0,
}
# How each service's facts were built, short (st.HOW_BUILT says it in full).
BUILT_BY = {
    "registration": "bulk import",
    "hours": "bulk import",
    "activity": "SQL COPY + Rollup.bump_many",
    "recycling": "SQL COPY + Rollup.bump_many",
    "commendation": "SQL COPY + Rollup.bump_many",
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.perf.bench_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--size", choices=sorted(st.SIZES), default="national")
    p.add_argument("--volunteers", type=int, help="override the size's volunteers")
    p.add_argument("--records", type=int, help="override the size's hour records")
    p.add_argument("--calls", type=int, default=200, help="Summarize calls per cell")
    p.add_argument(
        "--dashboard-calls", type=int, default=200, help="dashboard calls per admin"
    )
    p.add_argument(
        "--no-platform",
        action="store_true",
        help="skip the whole platform as processes (dashboard over HTTP, memory)",
    )
    p.add_argument("--keep", action="store_true", help="keep the databases")
    p.add_argument("--out", type=Path, default=OUT)
    return p.parse_args(argv)


# -- the build, with a progress bar --------------------------------------------


def build(
    platform: st.Platform, volunteers: int, records: int
) -> tuple[st.BuildReport, st.FactsReport]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>9} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    live = sys.stderr.isatty()  # a log file gets a line every 30 s instead
    with Progress(*columns, transient=False, disable=not live) as bar:
        tasks: dict[str, Any] = {}
        started: dict[str, float] = {}
        said = [0.0]

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total, rate="")
                started[phase] = time.perf_counter()
            elapsed = max(time.perf_counter() - started[phase], 1e-9)
            rate = done / elapsed
            bar.update(tasks[phase], completed=done, rate=f"{rate:,.0f}")
            if not live and (time.monotonic() - said[0] > 30 or done >= total):
                said[0] = time.monotonic()
                eta = (total - done) / rate if rate else math.inf
                print(f"  {phase}: {done:,}/{total:,}, {rate:,.0f} rows/s, "
                      f"ETA {eta:,.0f} s", file=sys.stderr, flush=True)  # fmt: skip

        built = st.build(platform, volunteers, records, progress=progress)
        facts = st.build_facts(platform, built.records_imported, progress=progress)
        return built, facts


# -- measurements --------------------------------------------------------------


def _latencies(fn: Any, calls: int) -> tuple[float, float]:
    values = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        values.append(time.perf_counter() - started)
    values.sort()
    return percentile(values, 50) * 1000, percentile(values, 99) * 1000


def _groupby_ms(engine: Engine, fn: Any, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn(engine)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure_hours(platform: st.Platform, calls: int) -> list[dict[str, Any]]:
    token = platform.token("61")
    channel, stub, pb = st.summarize_stub(platform.addresses["hours"], "hours")
    owner = platform.owner("hours")
    out = []
    try:
        for code, level in HOURS_SCOPES:
            for name, period in st.periods().items():
                got, _ = st.summarize(stub, pb, token, code, period)
                want = st.reference_hours(owner, code, period)
                metrics = sorted({k for v in want.values() for k in v})
                wrong = st.mismatches(got, want, metrics)
                p50, p99 = _latencies(
                    lambda c=code, p=period: st.summarize(stub, pb, token, c, p), calls
                )
                ref = _groupby_ms(
                    owner, lambda e, c=code, p=period: st.reference_hours(e, c, p)
                )
                out.append({
                    "service": "hours", "scope": code, "by": level, "period": name,
                    "p50_ms": p50, "p99_ms": p99, "groupby_ms": ref,
                    "rows": len(want), "mismatches": len(wrong), "examples": wrong[:3],
                })  # fmt: skip
    finally:
        channel.close()
    return out


def measure_others(platform: st.Platform, calls: int) -> list[dict[str, Any]]:
    """The other four services' Summarize, each scope and period, vs the
    GROUP BY over their facts (st.REFERENCES), answers checked equal."""
    token = platform.token("61")
    out = []
    for service, (reference, metrics, table) in st.REFERENCES.items():
        channel, stub, pb = st.summarize_stub(platform.addresses[service], service)
        owner = platform.owner(service)
        facts = st.fact_count(owner, table)
        try:
            for code, level in HOURS_SCOPES:
                for name, period in st.periods().items():
                    got, _ = st.summarize(stub, pb, token, code, period)
                    want = reference(owner, code, period)
                    wrong = st.mismatches(got, want, list(metrics))
                    p50, p99 = _latencies(
                        lambda c=code, p=period, s=stub, m=pb: st.summarize(
                            s, m, token, c, p
                        ),
                        calls,
                    )
                    ref = _groupby_ms(
                        owner, lambda e, c=code, p=period, f=reference: f(e, c, p)
                    )
                    out.append({
                        "service": service, "scope": code, "by": level,
                        "period": name, "p50_ms": p50, "p99_ms": p99,
                        "groupby_ms": ref, "rows": len(want), "facts": facts,
                        "facts_table": table, "mismatches": len(wrong),
                        "examples": wrong[:3],
                    })  # fmt: skip
        finally:
            channel.close()
    return out


def measure_dashboard(run: st.Running, calls: int) -> dict[str, Any]:
    """GET /api/v1/dashboard through the gateway over HTTP, logged in as
    the nation's, the province's, a city's and a county's admin (each its
    own scope)."""
    import httpx

    out: dict[str, Any] = {}
    with httpx.Client(base_url=run.base, timeout=60) as client:
        for who, (scope, _) in st.DASHBOARD_ADMINS.items():
            headers = {"authorization": f"Bearer {st.login(run, who)}"}
            first = client.get("/api/v1/dashboard", headers=headers)
            body = first.json() if first.status_code == 200 else {}
            errors: list[str] = []

            def call(h: dict[str, str] = headers, e: list[str] = errors) -> None:
                r = client.get("/api/v1/dashboard", headers=h)
                if r.status_code != 200 or r.json().get("unavailable"):
                    e.append(f"{r.status_code} {r.text[:200]}")

            p50, p99 = _latencies(call, calls)
            out[who] = {
                "scope": scope, "p50_ms": p50, "p99_ms": p99, "calls": calls,
                "status": first.status_code, "errors": len(errors),
                "error_examples": errors[:3],
                "unavailable": body.get("unavailable"),
                "children": len(body.get("children", [])),
                "headline": body.get("headline"),
            }  # fmt: skip
    return out


def raw_copy_rate(engine: Engine, table: str, limit: int) -> dict[str, Any]:
    """Rows/s of a raw COPY of ``limit`` of the table's own rows into a new
    table LIKE it, with the same indexes (the floor for any import)."""
    copy_table = f"{table}_copy_baseline"
    with tempfile.TemporaryDirectory(prefix="zy_scale") as tmp:
        dump = Path(tmp) / "rows.bin"
        raw = engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None  # a psycopg connection
            with conn.cursor() as cur:
                with (
                    open(dump, "wb") as fh,
                    cur.copy(
                        f"COPY (SELECT * FROM {table} LIMIT {int(limit)}) TO STDOUT "
                        "(FORMAT binary)"
                    ) as copy,
                ):
                    for block in copy:
                        fh.write(block)
                cur.execute(f"DROP TABLE IF EXISTS {copy_table}")
                # LIKE copies columns, defaults, constraints and indexes
                # (a partitioned table's indexes become the copy's own).
                cur.execute(f"CREATE TABLE {copy_table} (LIKE {table} INCLUDING ALL)")
                conn.commit()
                started = time.perf_counter()
                with (
                    open(dump, "rb") as fh,
                    cur.copy(f"COPY {copy_table} FROM STDIN (FORMAT binary)") as copy,
                ):
                    while block := fh.read(1 << 20):
                        copy.write(block)
                conn.commit()
                seconds = time.perf_counter() - started
                cur.execute(f"SELECT count(*) FROM {copy_table}")
                rows = cur.fetchone()[0]
                cur.execute(f"DROP TABLE {copy_table}")
                conn.commit()
        finally:
            raw.close()
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def measure_hop(platform: st.Platform) -> dict[str, Any]:
    import threading

    from services.common.rpc import api_workers
    from tests.perf.bench_grpc_hop import api_caller, echo_caller, echo_server

    abort = threading.Event()
    token = platform.token("61")
    address = platform.addresses["registration"]
    out: dict[str, Any] = {}
    with echo_server(api_workers(platform.cfg, "registration")) as echo:
        for load in (Load(1, 1000, 100), Load(10, 200, 20)):
            base = measure(lambda: echo_caller(echo), load, abort)
            hop = measure(
                lambda: api_caller(address, token, "GetDivision"), load, abort
            )
            out[str(load.callers)] = {
                "echo_p50_ms": base.p50_ms, "echo_p99_ms": base.p99_ms,
                "hop_p50_ms": hop.p50_ms, "hop_p99_ms": hop.p99_ms,
                "p50_ratio": hop.p50_ms / base.p50_ms,
                "calls_per_s_ratio": hop.calls_per_s / base.calls_per_s,
            }  # fmt: skip
    return out


def measure_platform(
    platform: st.Platform, results: dict[str, Any], calls: int
) -> None:
    """Every api, worker and the gateway as processes (``zhiyuan up``) on
    this run's databases: each process's memory once settled at idle, then
    the composed dashboard over HTTP. A failure is recorded, not raised:
    the rest of the table still prints."""
    results["outbox_marked_relayed"] = st.mark_outbox_delivered(platform)
    print("starting the platform (zhiyuan up)", file=sys.stderr)
    try:
        with st.running_platform(platform) as run:
            results["platform_startup_seconds"] = run.startup_seconds
            results["platform_memory_kib"] = st.settle(run)
            print("platform idle; dashboard over HTTP", file=sys.stderr)
            results["dashboard"] = measure_dashboard(run, calls)
            results["platform_memory_after_dashboard_kib"] = {
                name: st.memory_kib(pid) for name, pid in run.children().items()
            }
    except Exception as exc:  # noqa: BLE001 - reported in the table and JSON
        results["platform_error"] = repr(exc)[:2000]
        print(f"platform measurement failed: {exc!r}", file=sys.stderr)


def table_sizes(platform: st.Platform) -> dict[str, dict[str, dict[str, int]]]:
    """Bytes (with indexes and TOAST) and rows (the planner's estimate after
    VACUUM ANALYZE) per top-level table; a partitioned table: all its
    partitions."""
    sql = text(
        "SELECT c.relname, coalesce((SELECT sum(pg_total_relation_size(t.relid)) "
        "FROM pg_partition_tree(c.oid) t), pg_total_relation_size(c.oid))::bigint, "
        "coalesce((SELECT sum(greatest(p.reltuples, 0)) "
        "FROM pg_partition_tree(c.oid) t "
        "JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf), "
        "greatest(c.reltuples, 0))::bigint "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition "
        "ORDER BY 2 DESC"
    )
    out = {}
    for service in platform.urls:
        with platform.owner(service).connect() as conn:
            out[service] = {
                name: {"bytes": int(size), "rows": int(rows)}
                for name, size, rows in conn.execute(sql)
            }
    return out


# -- the report ----------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def table(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    goal_ms = GOALS["summarize_p99_ms"]
    for r in results["summarize"]:
        speedup = r["groupby_ms"] / r["p50_ms"] if r["p50_ms"] else math.nan
        ok = r["p99_ms"] <= goal_ms and speedup >= GOALS["rollup_vs_groupby"]
        wrong = f", {r['mismatches']} WRONG" if r["mismatches"] else ""
        rows.append([
            f"{r['service']} Summarize({r['scope']} by {r['by']}, {r['period']})",
            f"p50 {r['p50_ms']:.1f} / p99 {r['p99_ms']:.1f} ms{wrong}",
            f"GROUP BY {r['groupby_ms']:.1f} ms",
            f"{speedup:.1f}×",
            f"p99 ≤ {goal_ms:.0f} ms, ≥ 100×",
            verdict(ok and not r["mismatches"]),
            BUILT_BY[r["service"]],
        ])  # fmt: skip
    for name, imp in results["import"].items():
        if not imp.get("copy"):
            continue
        r = imp["rows_per_s"] / imp["copy"]["rows_per_s"]
        rows.append([
            f"{name} bulk import", f"{imp['rows_per_s']:,.0f} rows/s",
            f"raw COPY {imp['copy']['rows_per_s']:,.0f} rows/s", f"{r:.3f}×",
            "≥ 0.5×", verdict(r >= GOALS["import_vs_copy"]), "",
        ])  # fmt: skip
    for callers, h in results["hop"].items():
        rows.append([
            f"GetDivision, {callers} caller(s)",
            f"p50 {h['hop_p50_ms']:.2f} ms", f"echo p50 {h['echo_p50_ms']:.2f} ms",
            f"{h['p50_ratio']:.2f}×", "≤ 1.5× latency",
            verdict(h["p50_ratio"] <= GOALS["hop_latency"]), "",
        ])  # fmt: skip
    goal_dash = GOALS["dashboard_p99_ms"]
    dashboard = results.get("dashboard") or {}
    for who, d in dashboard.items():
        bad = f", {d['errors']} failed" if d["errors"] else ""
        rows.append([
            f"GET /api/v1/dashboard, {who} admin ({d['scope']}), HTTP",
            f"p50 {d['p50_ms']:.1f} / p99 {d['p99_ms']:.1f} ms{bad}", "", "",
            f"p99 ≤ {goal_dash:.0f} ms",
            verdict(d["p99_ms"] <= goal_dash and not d["errors"]), "all five",
        ])  # fmt: skip
    if not dashboard:
        rows.append(["GET /api/v1/dashboard", "not measured", "", "", "", "n/a", ""])
    memory = results.get("platform_memory_kib") or {}
    if memory:
        rss = sum(m["rss"] for m in memory.values())
        pss = sum(m.get("pss", 0) for m in memory.values())
        shown = f"RSS {rss / 2**20:.2f} GiB" + (
            f", PSS {pss / 2**20:.2f} GiB" if pss else ""
        )
        rows.append([
            f"platform at idle, {len(memory)} processes (apis, workers, gateway)",
            shown, "", "", "RSS ≤ 2 GiB",
            verdict(rss / 2**20 <= GOALS["platform_idle_gib"]), "",
        ])  # fmt: skip
    else:
        rows.append(["platform at idle", "not measured", "", "", "", "n/a", ""])
    rss = results["rss_kib"]
    rows.append([
        "RSS of the bench process (5 in-process apis + build)",
        f"now {rss['now'] / 1024:,.0f} MiB, peak {rss['peak'] / 1024:,.0f} MiB",
        "", "", "", "n/a (not the deployed platform)", "",
    ])  # fmt: skip
    rows.append([
        "star worker burst of 10,000 events vs raw kombu", "not measured",
        "", "", "≥ 0.5×", "n/a", "",
    ])  # fmt: skip
    return rows


def render(rows: list[list[str]]) -> str:
    head = [
        "what", "measured", "baseline (same run)", "ratio", "goal", "goal met",
        "facts built by",
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), "  ".join("-" * w for w in widths), *map(line, rows)])


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    volunteers, records = st.SIZES[args.size]
    volunteers = args.volunteers or volunteers
    records = args.records or records
    print(
        f"scale: {volunteers:,} volunteers, {records:,} hour records", file=sys.stderr
    )
    started = time.monotonic()
    results: dict[str, Any] = {
        "size": args.size, "volunteers": volunteers, "records": records,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg()[0], "goals": GOALS,
    }  # fmt: skip
    with st.Platform(keep=args.keep) as platform:
        print("databases migrated, division tree loaded", file=sys.stderr)
        built, facts = build(platform, volunteers, records)
        results["build"] = built.as_dict()
        results["facts"] = facts.as_dict()
        results["import"] = {
            "hours": {
                "rows": built.records_imported, "seconds": built.record_seconds,
                "rows_per_s": built.records_imported / max(built.record_seconds, 1e-9),
                "copy": raw_copy_rate(platform.owner("hours"), "hour_records",
                                      min(built.records_imported, 1_000_000)),
            },
            "volunteers": {
                "rows": built.volunteers_imported, "seconds": built.volunteer_seconds,
                "rows_per_s": built.volunteers_imported
                / max(built.volunteer_seconds, 1e-9),
                "copy": raw_copy_rate(platform.owner("registration"), "volunteers",
                                      min(built.volunteers_imported, 1_000_000)),
            },
        }  # fmt: skip
        for name in platform.urls:
            with (
                platform.owner(name)
                .connect()
                .execution_options(isolation_level="AUTOCOMMIT") as conn
            ):
                conn.execute(text("VACUUM ANALYZE"))
        print("state built; measuring", file=sys.stderr)
        platform.start_apis()
        results["summarize"] = measure_hours(platform, args.calls)
        results["summarize"] += measure_others(platform, args.calls)
        results["hop"] = measure_hop(platform)
        results["tables"] = table_sizes(platform)
        now, peak = st.rss_kib()
        results["rss_kib"] = {"now": now, "peak": peak}
        if not args.no_platform:
            measure_platform(platform, results, args.dashboard_calls)
        if args.keep:
            results["databases"] = platform.urls
    results["wall_seconds"] = time.monotonic() - started
    rows = table(results)
    results["table"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(render(rows))
    print("\nfacts built by:")
    for service, how in st.HOW_BUILT.items():
        print(f"  {service}: {how}")
    counts = results["facts"]["counts"]
    print("  written: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if results.get("platform_error"):
        print(f"\nplatform measurement FAILED: {results['platform_error']}")
    memory = results.get("platform_memory_kib") or {}
    if memory:
        print("\nplatform at idle (MiB): " + ", ".join(
            f"{n} {m['rss'] / 1024:.0f} RSS" + (
                f"/{m['pss'] / 1024:.0f} PSS" if "pss" in m else "")
            for n, m in memory.items()
        ))  # fmt: skip
    print("\ntable sizes (MiB, with indexes; rows estimated):")
    for service, sizes in results["tables"].items():
        every = ", ".join(
            f"{t} {v['bytes'] / 2**20:,.1f} ({v['rows']:,} rows)"
            for t, v in sizes.items()
        )
        print(f"  {service}: {every}")
    print(f"\n({results['wall_seconds']:.0f} s; JSON: {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
