"""Bulk import of hour records (``services.hours.bulk.import_rows``) against
raw COPY of the same records into a copy of ``hour_records`` with the same
indexes, in the same run.

The import's figure includes everything it does: reading the rows, the
checks, COPY into staging, duplicates, overlaps and day totals in SQL, the
policy, ``INSERT … SELECT`` under row security, the rollups and the outbox
events. The baseline is the floor: the finished rows COPYed straight in.
Goal (issue 10): ≥ 0.5×. Peak RSS of this process is reported too. Never a
timed assert.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from tests.perf.bench_hours import NO_BROKER
from tests.perf.runner import Benchmark, Report, Settings, uninterruptible

RECORDS_PER_VOLUNTEER = 10
FIELDS = ("elderly_care", "minors", "environment", "civilisation", "medical")


def townships() -> list[str]:
    from services.common.divisions import _names

    return sorted(c for c in _names() if len(c) == 9 and c.startswith("6101"))


def rows(rng: random.Random, n: int) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """``n`` template rows (China time, whole hours, never overlapping, one
    per volunteer and day) and the directory of their volunteers."""
    towns = townships()
    first = datetime(2025, 1, 1)
    out: list[dict[str, str]] = []
    people: dict[str, tuple[str, str]] = {}
    while len(out) < n:
        number = f"ZY61{len(people):010d}"
        people[number] = (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "verified",
        )
        town = rng.choice(towns)
        for day in rng.sample(range(300), RECORDS_PER_VOLUNTEER)[: n - len(out)]:
            start = first + timedelta(days=day, hours=rng.randint(7, 14))
            end = start + timedelta(hours=rng.randint(1, 4))
            out.append({
                "volunteer_number": number, "division_code": town,
                "organisation_name": "志愿者协会", "service_field": rng.choice(FIELDS),
                "content": "志愿服务", "session_start": f"{start:%Y-%m-%d %H:%M}",
                "session_end": f"{end:%Y-%m-%d %H:%M}", "hours": "",
                "reason": "台账",
            })  # fmt: skip
    return out, people


def run(settings: Settings) -> Report:
    import psycopg

    from services.common import testing

    n = settings.pick(200_000, 20_000)
    rng = random.Random(20261204)
    data, people = rows(rng, n)
    with contextlib.ExitStack() as stack:
        with uninterruptible():
            url = testing.create_database("zy_bench_imp")
            stack.callback(testing.drop_database, url)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zy_imp")))
        env = testing.platform_env(tmp, {"hours": url}, NO_BROKER)
        env |= {"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
        stack.enter_context(patch.dict(os.environ, env))

        from services.common.config import load
        from services.common.db import Database
        from services.common.migrations import upgrade
        from services.common.tenancy import Scope
        from services.hours.bulk import import_rows

        cfg = load()
        with contextlib.redirect_stdout(io.StringIO()):
            upgrade(cfg.service("hours"))
        db = Database(cfg.service("hours"))
        stack.callback(db.dispose)
        admin = psycopg.connect(url.replace("+psycopg", "", 1), autocommit=True)
        stack.callback(admin.close)

        t0 = time.perf_counter()
        report = import_rows(
            db, Scope("6101"), data, source="bench",
            volunteers=lambda scope, numbers: {k: people[k] for k in numbers},
        )  # fmt: skip
        bulk_s = time.perf_counter() - t0
        assert report.imported == n, report.errors[:3]  # correctness, not time

        # The baseline: the finished rows COPYed into a table like hour_records
        # (its columns and indexes), in one transaction.
        admin.execute("CREATE TABLE raw_copy (LIKE hour_records INCLUDING ALL)")
        cols = [
            r[0]
            for r in admin.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'hour_records' ORDER BY ordinal_position"
            )
        ]
        finished = admin.execute(
            f"SELECT {', '.join(cols)} FROM hour_records"
        ).fetchall()
        finished = [
            (str(uuid.uuid4()), *r[1:]) if cols[0] == "id" else r for r in finished
        ]
        t0 = time.perf_counter()
        copy_sql = f"COPY raw_copy ({', '.join(cols)}) FROM STDIN"
        with admin.transaction(), admin.cursor() as cur, cur.copy(copy_sql) as cp:
            for r in finished:
                cp.write_row(r)
        copy_s = time.perf_counter() - t0
        again_t0 = time.perf_counter()
        again = import_rows(
            db, Scope("6101"), data, source="bench",
            volunteers=lambda scope, numbers: {k: people[k] for k in numbers},
        )  # fmt: skip
        again_s = time.perf_counter() - again_t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bulk_rate, copy_rate = n / bulk_s, n / copy_s
    ratio = bulk_rate / copy_rate
    rows_out = [
        ["import_rows (checks, policy, rollups, outbox)", f"{bulk_rate:,.0f}",
         f"{ratio:.2f}×"],
        ["raw COPY into hour_records' twin", f"{copy_rate:,.0f}", "1.00×"],
        ["re-import of the same file (all duplicates)", f"{n / again_s:,.0f}", ""],
    ]  # fmt: skip
    return Report(
        title=f"Bulk import of {n:,} hour records vs raw COPY (goal ≥ 0.5×)",
        columns=["what", "rows/s", "vs COPY"],
        rows=rows_out,
        data={
            "rows": n,
            "import_seconds": bulk_s,
            "copy_seconds": copy_s,
            "import_rows_per_s": bulk_rate,
            "copy_rows_per_s": copy_rate,
            "ratio": ratio,
            "reimport_duplicates": again.duplicates,
            "peak_rss_mb": rss_mb,
            "at": datetime.now(UTC).isoformat(),
        },  # fmt: skip
        notes=[
            f"ratio import/COPY {ratio:.2f} (goal ≥ 0.5); peak RSS {rss_mb:.0f} MB "
            "(this process, rows generated in memory for the run)",
        ],
    )


BENCHMARK = Benchmark(
    "import",
    "bulk import of hour records vs raw COPY into the same table",
    run,
)
