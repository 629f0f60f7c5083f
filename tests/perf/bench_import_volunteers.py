"""Bulk import of volunteers (``services.registration.bulk.import_rows``)
against raw COPY of the same finished rows into a copy of ``volunteers``
with the same indexes, in the same run.

The import reads a CSV file as ``zhiyuan import volunteers FILE`` does
(streamed through ``read_table``), so its figure includes everything: the
reading, the GB 11643 checks, encryption and the blind index, COPY into
staging, duplicates and homes in SQL, number allocation, ``INSERT … SELECT``
under row security, the rollups and the outbox events (``verified``: each
``registration.volunteers.imported`` part of up to 1,000 volunteers stands
for their registered and verified events). The baseline is the floor: the
finished rows of ``volunteers`` COPYed straight into ``raw_copy (LIKE
volunteers INCLUDING ALL)``. Goal (issue 10): ≥ 0.5×. Peak RSS of this
process is reported too (the rows stream from the file, so it does not grow
with the file). Never a timed assert.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from unittest.mock import patch

from tests.perf.bench_hours import NO_BROKER
from tests.perf.runner import Benchmark, Report, Settings, uninterruptible
from tests.perf.scale_data import Tree, volunteer_rows

HEADER = ("姓名", "身份证号", "手机号", "区划代码", "服务领域")
# What offices type in the service-fields column: Chinese names, codes,
# several separators, often nothing.
FIELD_CELLS = ("", "", "", "养老助老", "minors;environment", "医疗卫生、文明创建",
               "elderly_care，medical", "")  # fmt: skip


def write_file(path: Path, n: int, today: date) -> None:
    """``n`` valid volunteer rows of province 61 as the template's CSV."""
    rng = random.Random(20261205)
    tree = Tree.load()
    homes = tree.zipf_townships(rng, n, focus="61", focus_share=1.0)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for row in volunteer_rows(rng, homes, tree.counties, today):
            cells = (row["name"], row["id_number"], row["phone"])
            out.writerow((*cells, row["home_division_code"], rng.choice(FIELD_CELLS)))


def run(settings: Settings) -> Report:
    import psycopg
    from psycopg.types.json import Json

    from services.common import testing

    n = settings.pick(200_000, 20_000)
    with contextlib.ExitStack() as stack:
        with uninterruptible():
            url = testing.create_database("zy_bench_vol")
            stack.callback(testing.drop_database, url)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zy_vol")))
        env = testing.platform_env(tmp, {"registration": url}, NO_BROKER)
        env |= {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
        stack.enter_context(patch.dict(os.environ, env))

        from services.common.bulk import ImportReport, read_table
        from services.common.config import load
        from services.common.db import Database
        from services.common.keys import pii_cipher
        from services.common.migrations import upgrade
        from services.common.tenancy import Scope
        from services.registration.bootstrap import load_divisions
        from services.registration.bulk import COLUMNS, import_rows

        cfg = load()
        with contextlib.redirect_stdout(io.StringIO()):
            upgrade(cfg.service("registration"))
        db = Database(cfg.service("registration"))
        stack.callback(db.dispose)
        with contextlib.redirect_stdout(io.StringIO()):
            load_divisions(db)
        cipher = pii_cipher(cfg)
        admin = psycopg.connect(url.replace("+psycopg", "", 1), autocommit=True)
        stack.callback(admin.close)
        path = tmp / "volunteers.csv"
        write_file(path, n, datetime.now(UTC).date())

        def once(source: str) -> tuple[float, ImportReport]:
            t0 = time.perf_counter()
            with open(path, "rb") as fh:
                report = import_rows(
                    db, Scope("61"), read_table(fh, path.name, COLUMNS),
                    source=source, cipher=cipher, verified=True, actor="bench",
                )  # fmt: skip
            return time.perf_counter() - t0, report

        bulk_s, report = once("bench")
        assert report.imported == n, report.errors[:3]  # correctness, not time
        # Every volunteer in exactly one imported part (each part stands for
        # the volunteer's registered and verified events).
        events = admin.execute(
            "SELECT count(DISTINCT v->>'volunteer_id'), count(*) FROM outbox,"
            " json_array_elements(payload->'data'->'volunteers') v"
        ).fetchone()
        assert events is not None and events == (n, n), events

        import_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # The baseline: the finished rows of volunteers, exported to a file
        # first (so neither the export nor Python formats rows inside the
        # timing, and memory stays flat), then COPYed into a table like
        # volunteers (its columns, constraints and indexes) in one
        # transaction.
        admin.execute("CREATE TABLE raw_copy (LIKE volunteers INCLUDING ALL)")
        dump = tmp / "finished.copy"
        out_sql, in_sql = "COPY volunteers TO STDOUT", "COPY raw_copy FROM STDIN"
        with open(dump, "wb") as fh, admin.cursor() as cur, cur.copy(out_sql) as cp:
            for block in cp:
                fh.write(block)
        t0 = time.perf_counter()
        with (
            open(dump, "rb") as dumped,
            admin.transaction(),
            admin.cursor() as cur,
            cur.copy(in_sql) as cp,
        ):
            while block := dumped.read(1 << 20):
                cp.write(block)
        copy_s = time.perf_counter() - t0
        # The hours benchmark's baseline too: the same rows as Python tuples
        # COPYed with psycopg's write_row (the client formats every row).
        admin.execute("CREATE TABLE raw_rows (LIKE volunteers INCLUDING ALL)")
        described = admin.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'volunteers' AND table_schema = 'public'"
            " ORDER BY ordinal_position"
        ).fetchall()
        cols = [name for name, _ in described]
        jsons = {i for i, (_, kind) in enumerate(described) if kind == "json"}
        finished = [
            tuple(Json(v) if i in jsons else v for i, v in enumerate(r))
            for r in admin.execute(f"SELECT {', '.join(cols)} FROM volunteers")
        ]
        rows_sql = f"COPY raw_rows ({', '.join(cols)}) FROM STDIN"
        t0 = time.perf_counter()
        with admin.transaction(), admin.cursor() as cur, cur.copy(rows_sql) as cp:
            for r in finished:
                cp.write_row(r)
        rows_copy_s = time.perf_counter() - t0
        del finished
        again_s, again = once("bench")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bulk_rate, copy_rate = n / bulk_s, n / copy_s
    ratio = bulk_rate / copy_rate
    rows_rate = n / rows_copy_s
    rows_out = [
        ["import_rows from CSV (checks, encryption, rollups, outbox)",
         f"{bulk_rate:,.0f}", f"{ratio:.3f}×"],
        ["raw COPY into volunteers' twin (the file's bytes)", f"{copy_rate:,.0f}",
         "1.00×"],
        ["COPY of the rows as tuples (write_row, as bench_import)",
         f"{rows_rate:,.0f}", f"{rows_rate / copy_rate:.3f}×"],
        ["import_rows vs the write_row COPY", "", f"{bulk_rate / rows_rate:.3f}×"],
        ["re-import of the same file (all duplicates)", f"{n / again_s:,.0f}",
         f"{(n / again_s) / copy_rate:.3f}×"],
    ]  # fmt: skip
    return Report(
        title=f"Bulk import of {n:,} volunteers vs raw COPY (goal ≥ 0.5×)",
        columns=["what", "rows/s", "vs COPY"],
        rows=rows_out,
        data={
            "rows": n,
            "import_seconds": bulk_s,
            "copy_seconds": copy_s,
            "import_rows_per_s": bulk_rate,
            "copy_rows_per_s": copy_rate,
            "ratio": ratio,
            "write_row_copy_rows_per_s": rows_rate,
            "ratio_vs_write_row_copy": bulk_rate / rows_rate,
            "reimport_seconds": again_s,
            "reimport_duplicates": again.duplicates,
            "import_peak_rss_mb": import_rss_mb,
            "peak_rss_mb": rss_mb,
            "at": datetime.now(UTC).isoformat(),
        },
        notes=[
            f"ratio import/COPY {ratio:.3f} (goal ≥ 0.5); peak RSS of this process "
            f"{import_rss_mb:.0f} MB after the import ({rss_mb:.0f} MB at the end); "
            "the rows stream from the file",
        ],
    )


BENCHMARK = Benchmark(
    "import_volunteers",
    "bulk import of volunteers vs raw COPY into the same table",
    run,
)
