"""Rollup bookkeeping for approved hours, in the transaction of the change.

Hours and records are plain sums (the kernel's :class:`Rollup`, counted at
every ancestor in the month, its year and all time). Distinct volunteers are
not: a volunteer counts once per (division, period, field) however many
records they have there. They are kept exactly at write time from the
presence rows, one narrow row per (volunteer, the record's own division,
month, field) with a record count. When such a row appears or disappears,
the volunteer's other rows (a handful, found by the key's leading
volunteer_id) decide which (ancestor, period, field) counters change: the
set of counters the volunteer is present in, before and after.

One code path, set-wise: :func:`apply_approved` takes any number of records
(the bulk import's chunk, or the one record :func:`count` is given) and
writes presence in one statement and every rollup cell in one more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from services.common.rollup import (
    ALL_TIME,
    Cells,
    array_literal,
    merge,
    month_of,
    periods_of,
)
from services.common.tenancy import Level, ancestors
from services.hours.models import ROLLUP, ROLLUP_FIELDS, HourRecord

# (volunteer_id, division_code, month, service_field)
Key = tuple[str, str, str, str]
# Many volunteers in one call: serialise with everyone else writing presence
# by a table lock rather than one advisory lock each (the lock table is
# finite). Below this, per-volunteer locks let others run alongside.
_FEW = 32
ALL_FIELDS = ""


@lru_cache(maxsize=65536)
def _ancestors(code: str) -> tuple[str, ...]:
    return tuple(ancestors(code))


def _counters(key: Key) -> list[tuple[str, str, str]]:
    """The (division, period, field) counters a presence row makes its
    volunteer count in: every ancestor, the month, year and all time, the
    row's field (when it has rollup columns) and all fields."""
    _, code, month, field = key
    fields = (ALL_FIELDS, field) if field in ROLLUP_FIELDS else (ALL_FIELDS,)
    return [
        (a, p, f) for a in _ancestors(code) for p in periods_of(month) for f in fields
    ]


def _metric(field: str) -> str:
    return f"volunteers_{field}" if field else "volunteers"


def _pg(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def _lock(s: Session, volunteers: list[str]) -> None:
    """Serialise with every other transaction changing these volunteers'
    presence: a counter's before-and-after must see committed rows only."""
    if not _pg(s):
        return  # SQLite: one writer at a time already
    if len(volunteers) > _FEW:
        s.execute(text("LOCK TABLE hours_presence IN SHARE ROW EXCLUSIVE MODE"))
        return
    s.execute(text("LOCK TABLE hours_presence IN ROW EXCLUSIVE MODE"))
    # The same key as cross_tenant.lock_volunteer: re-entrant, sorted.
    s.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(v, 0))"
            " FROM unnest(CAST(:v AS text[])) WITH ORDINALITY AS u(v, n) ORDER BY n"
        ),
        {"v": array_literal(sorted(volunteers))},
    )


def _present(s: Session, volunteers: list[str]) -> dict[Key, int]:
    """Every presence row of the volunteers, in every tenant (PostgreSQL:
    through a SECURITY DEFINER function; nothing of it leaves the service)."""
    found: dict[Key, int] = {}
    if _pg(s):
        rows = s.execute(
            text("SELECT * FROM hours_presence_of(CAST(:v AS text[]))"),
            {"v": array_literal(volunteers)},
        )
        for v, code, month, field, n in rows:
            found[(v, code, month, field)] = n
        return found
    for at in range(0, len(volunteers), 500):
        part = volunteers[at : at + 500]
        marks = ", ".join(f":v{i}" for i in range(len(part)))
        rows = s.execute(
            text(
                "SELECT volunteer_id, division_code, month, service_field, records"
                f" FROM hours_presence WHERE volunteer_id IN ({marks})"
            ),
            {f"v{i}": v for i, v in enumerate(part)},
        )
        for v, code, month, field, n in rows:
            found[(v, code, month, field)] = n
    return found


def _write_presence(s: Session, deltas: Mapping[Key, int]) -> None:
    keys = sorted(k for k, d in deltas.items() if d)
    if not keys:
        return
    cols = "volunteer_id, division_code, month, service_field, records"
    if _pg(s):
        s.execute(
            text(
                f"INSERT INTO hours_presence AS p ({cols}) SELECT * FROM unnest("
                " CAST(:v AS text[]), CAST(:c AS text[]), CAST(:m AS text[]),"
                " CAST(:f AS text[]), CAST(:d AS int[]))"
                " ON CONFLICT (volunteer_id, division_code, month, service_field)"
                " DO UPDATE SET records = p.records + EXCLUDED.records"
            ),
            {
                "v": array_literal([k[0] for k in keys]),
                "c": array_literal([k[1] for k in keys]),
                "m": array_literal([k[2] for k in keys]),
                "f": array_literal([k[3] for k in keys]),
                "d": array_literal([deltas[k] for k in keys]),
            },
        )
        gone = [k for k in keys if deltas[k] < 0]
        if gone:
            s.execute(
                text(
                    "DELETE FROM hours_presence WHERE volunteer_id ="
                    " ANY(CAST(:v AS text[])) AND records <= 0"
                ),
                {"v": array_literal(sorted({k[0] for k in gone}))},
            )
        return
    params = [
        {"v": k[0], "c": k[1], "m": k[2], "f": k[3], "d": deltas[k]} for k in keys
    ]
    s.execute(
        text(
            f"INSERT INTO hours_presence ({cols}) VALUES (:v, :c, :m, :f, :d)"
            " ON CONFLICT (volunteer_id, division_code, month, service_field)"
            " DO UPDATE SET records = records + excluded.records"
        ),
        params,
    )
    s.execute(text("DELETE FROM hours_presence WHERE records <= 0"))


def _distinct_cells(
    before: Mapping[Key, int], deltas: Mapping[Key, int], cells: Cells
) -> None:
    """Add to ``cells`` the distinct-volunteer changes of ``deltas`` (record
    counts per presence key) given the volunteers' rows ``before``."""
    by_volunteer: dict[str, list[Key]] = defaultdict(list)
    for key in before:
        by_volunteer[key[0]].append(key)
    flipped: dict[str, list[Key]] = defaultdict(list)
    for key, d in deltas.items():
        old = before.get(key, 0)
        new = old + d
        if new < 0:
            raise ValueError(f"presence of {key} would fall below zero")
        if (old > 0) != (new > 0):
            flipped[key[0]].append(key)
    for volunteer, keys in flipped.items():
        # Only counters that a flipped row maps to can change.
        candidates = {c for k in keys for c in _counters(k)}
        rows = set(by_volunteer[volunteer]) | set(keys)
        was: set[tuple[str, str, str]] = set()
        now: set[tuple[str, str, str]] = set()
        for key in rows:
            old = before.get(key, 0)
            new = old + deltas.get(key, 0)
            if old <= 0 and new <= 0:
                continue
            hits = candidates.intersection(_counters(key))
            if old > 0:
                was |= hits
            if new > 0:
                now |= hits
        for a, p, f in now - was:
            merge(cells, (a, p), {_metric(f): 1.0})
        for a, p, f in was - now:
            merge(cells, (a, p), {_metric(f): -1.0})


def _apply(s: Session, rows: Iterable[Mapping[str, Any]], sign: int) -> None:
    """The one implementation behind :func:`apply_approved` and :func:`count`."""
    sums: dict[tuple[str, str, str], list[Decimal]] = {}
    presence: dict[Key, int] = defaultdict(int)
    for row in rows:
        month = row.get("month") or month_of(row["served_at"])
        field = row["service_field"]
        code = row["division_code"]
        acc = sums.setdefault((code, month, field), [Decimal(0), Decimal(0)])
        acc[0] += Decimal(str(row["hours"]))
        acc[1] += 1
        presence[(row["volunteer_id"], code, month, field)] += sign
    if not presence:
        return
    facts = []
    for (code, month, field), (hours, n) in sums.items():
        deltas = {"hours": float(hours) * sign, "records": float(n) * sign}
        if field in ROLLUP_FIELDS:
            deltas[f"hours_{field}"] = deltas["hours"]
            deltas[f"records_{field}"] = deltas["records"]
        facts.append((code, month, deltas))
    cells = ROLLUP.expand_rows(facts)
    volunteers = sorted({k[0] for k in presence})
    _lock(s, volunteers)
    _distinct_cells(_present(s, volunteers), presence, cells)
    _write_presence(s, presence)
    ROLLUP.add_cells(s, cells)


def apply_approved(
    session: Session,
    records: Select[Any] | str | Iterable[Mapping[str, Any]],
    params: Mapping[str, Any] | None = None,
    sign: int = 1,
) -> None:
    """Count a set of approved records in (``sign=1``) or out of (-1) every
    hours rollup (sums and distinct volunteers, every ancestor level, month,
    year and all time), exactly as approving them one by one would.

    ``records`` selects rows with the columns volunteer_id, division_code,
    service_field, hours and served_at (or month, 'YYYY-MM' China time); a
    list of such mappings is taken as it is. Many volunteers at once lock
    the presence table for the rest of the transaction: commit each chunk.

    Example::

        apply_approved(s, "SELECT volunteer_id, division_code, service_field,"
                          " hours, month FROM hour_records WHERE event_id = :e",
                       {"e": event_id})
    """
    if isinstance(records, str | Select):
        query = text(records) if isinstance(records, str) else records
        records = session.execute(query, dict(params or {})).mappings()
    _apply(session, records, sign)


def count(s: Session, record: HourRecord, amount: Decimal, sign: int) -> None:
    """Count an approved record in (``sign=1``) or, reversed, out of (-1)."""
    _apply(
        s,
        [
            {
                "volunteer_id": record.volunteer_id,
                "division_code": record.division_code,
                "service_field": record.service_field,
                "hours": amount,
                "month": record.month,
            }
        ],
        sign,
    )


def amend(s: Session, record: HourRecord, delta: Decimal) -> None:
    """An amendment changes the hours only: the record and the volunteer
    still count."""
    deltas = {"hours": float(delta)}
    if record.service_field in ROLLUP_FIELDS:
        deltas[f"hours_{record.service_field}"] = float(delta)
    ROLLUP.bump(s, record.division_code, record.month, **deltas)


def _sql_ancestors(code: str) -> str:
    """The SQL rows (one column) of ``code``'s ancestors, itself included,
    as :func:`ancestors` gives them (``code`` is a SQL expression)."""
    widths = ", ".join(str(level.width) for level in Level)
    return (
        f"(SELECT left({code}, w) FROM unnest(ARRAY[{widths}]) AS w"
        f" WHERE w <= length({code}))"
    )


def _sql_periods(month: str) -> str:
    return f"(VALUES ({month}), (left({month}, 4)), ('{ALL_TIME}'))"


def apply_imported(s: Session, records: str, params: Mapping[str, Any]) -> int:
    """:func:`apply_approved` (``sign=1``) done entirely in PostgreSQL, for a
    bulk import's chunk: ``records`` is a SQL query with the columns
    volunteer_id, division_code, service_field, hours and month. Sums and
    distinct volunteers land in every ancestor's month, year and all-time
    cells, exactly as approving the records one by one would; nothing of
    the records travels to Python. Runs as the database owner (presence is
    cross-tenant) and locks presence for the rest of the transaction.
    Returns the number of presence keys the chunk touched.

    Distinct volunteers: a chunk's presence key that did not exist before
    can make its volunteer count in the counters (ancestor, period, field)
    it maps to; one of those counters gains the volunteer unless one of the
    volunteer's earlier presence rows maps to it too. Only the counters of
    new keys are probed, against the volunteer's own rows (the key's
    leading column)."""
    fields = array_literal(list(ROLLUP_FIELDS))
    s.execute(text("LOCK TABLE hours_presence IN SHARE ROW EXCLUSIVE MODE"))
    s.execute(text("DROP TABLE IF EXISTS pg_temp.zy_keys, pg_temp.zy_gained"))
    s.execute(
        text(
            "CREATE TEMP TABLE zy_keys ON COMMIT DROP AS"
            " SELECT volunteer_id AS v, division_code AS c, month AS m,"
            " service_field AS f, count(*)::int AS n, sum(hours) AS h,"
            " NOT EXISTS (SELECT 1 FROM hours_presence p"
            "  WHERE p.volunteer_id = r.volunteer_id"
            "  AND p.division_code = r.division_code AND p.month = r.month"
            "  AND p.service_field = r.service_field) AS fresh"
            f" FROM ({records}) AS r GROUP BY 1, 2, 3, 4"
        ),
        dict(params),
    )
    s.execute(text("ANALYZE zy_keys"))
    keys = int(s.execute(text("SELECT count(*) FROM zy_keys")).scalar_one())
    if not keys:
        return 0
    # Counters a new key maps to, less those the volunteer already counts
    # in through an earlier row (presence is still as it was before). A
    # volunteer whose rows, earlier and in the chunk, all lie in one
    # division (most: people serve where they live) counts in an ancestor's
    # counter exactly when in the division's own, so only that one is
    # probed and the answer is copied up the tree.
    probe = (
        "NOT EXISTS (SELECT 1 FROM hours_presence q"
        " WHERE q.volunteer_id = cand.v"
        " AND left(q.division_code, length(cand.a)) = cand.a"
        " AND (cand.p = :all OR q.month = cand.p"
        "  OR (length(cand.p) = 4 AND left(q.month, 4) = cand.p))"
        " AND (cand.ff = '' OR q.service_field = cand.ff))"
    )
    field_of = (
        "(SELECT '' UNION ALL SELECT k.f"
        " WHERE k.f = ANY(CAST(:fields AS text[]))) AS z(ff)"
    )
    s.execute(
        text(
            "CREATE TEMP TABLE zy_gained ON COMMIT DROP AS"
            " WITH one AS (SELECT t.v FROM (SELECT v, min(c) AS c FROM zy_keys"
            "  GROUP BY v HAVING count(DISTINCT c) = 1) AS t"
            "  WHERE NOT EXISTS (SELECT 1 FROM hours_presence q"
            "   WHERE q.volunteer_id = t.v AND q.division_code <> t.c)),"
            " single AS (SELECT DISTINCT k.v, k.c AS a, y.p, z.ff FROM zy_keys k"
            f"  CROSS JOIN LATERAL {_sql_periods('k.m')} AS y(p)"
            f"  CROSS JOIN LATERAL {field_of}"
            "  WHERE k.fresh AND k.v IN (SELECT v FROM one)),"
            " spread AS (SELECT DISTINCT k.v, x.a, y.p, z.ff FROM zy_keys k"
            f"  CROSS JOIN LATERAL {_sql_ancestors('k.c')} AS x(a)"
            f"  CROSS JOIN LATERAL {_sql_periods('k.m')} AS y(p)"
            f"  CROSS JOIN LATERAL {field_of}"
            "  WHERE k.fresh AND k.v NOT IN (SELECT v FROM one)),"
            f" gained AS (SELECT x.a, cand.p, cand.ff FROM single AS cand"
            f"  CROSS JOIN LATERAL {_sql_ancestors('cand.a')} AS x(a)"
            f"  WHERE {probe}"
            f"  UNION ALL SELECT cand.a, cand.p, cand.ff FROM spread AS cand"
            f"  WHERE {probe})"
            " SELECT a, p, ff, count(*)::float8 AS gained FROM gained"
            " GROUP BY 1, 2, 3"
        ),
        {"fields": fields, "all": ALL_TIME},
    )
    s.execute(
        text(
            "INSERT INTO hours_presence AS p (volunteer_id, division_code, month,"
            " service_field, records) SELECT v, c, m, f, n FROM zy_keys"
            " ORDER BY 1, 2, 3, 4"
            " ON CONFLICT (volunteer_id, division_code, month, service_field)"
            " DO UPDATE SET records = p.records + EXCLUDED.records"
        )
    )
    # Every cell: sums of the records' (division, month, field) groups at
    # each ancestor and period, and the distinct volunteers gained.
    metrics = list(ROLLUP.metrics)
    sums = []
    for m in metrics:
        base, _, fld = m.partition("_")
        if base == "volunteers":
            expr = "0::float8"
        elif fld:
            what = "h" if base == "hours" else "n"
            expr = f"CASE WHEN g.f = '{fld}' THEN g.{what} ELSE 0 END"
        else:
            expr = "g.h" if base == "hours" else "g.n"
        sums.append(f"{expr} AS {m}")
    gains = []
    for m in metrics:
        base, _, fld = m.partition("_")
        if base == "volunteers":
            gains.append(f"CASE WHEN d.ff = '{fld}' THEN d.gained ELSE 0 END AS {m}")
        else:
            gains.append(f"0::float8 AS {m}")
    cols = ", ".join(metrics)
    totals = ", ".join(f"sum({m})" for m in metrics)
    sets = ", ".join(f"{m} = r.{m} + EXCLUDED.{m}" for m in metrics)
    s.execute(
        text(
            f"INSERT INTO {ROLLUP.table_name} AS r (level, division_code, period,"
            f" {cols}) SELECT length(code), code, period, {totals} FROM ("
            f"  SELECT x.a AS code, y.p AS period, {', '.join(sums)} FROM ("
            "   SELECT c, m, f, sum(h)::float8 AS h, sum(n)::float8 AS n"
            "   FROM zy_keys GROUP BY 1, 2, 3) AS g"
            f"  CROSS JOIN LATERAL {_sql_ancestors('g.c')} AS x(a)"
            f"  CROSS JOIN LATERAL {_sql_periods('g.m')} AS y(p)"
            "  UNION ALL"
            f"  SELECT d.a, d.p, {', '.join(gains)} FROM zy_gained d"
            " ) AS cell GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            " ON CONFLICT (level, division_code, period) DO UPDATE SET "
            f"{sets}"
        )
    )
    return keys
