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
from typing import Any, cast

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from services.common.rollup import (
    Cells,
    array_literal,
    merge,
    month_of,
    periods_of,
)
from services.common.tenancy import ancestors
from services.hours.models import POSITION_ROLLUP, ROLLUP, ROLLUP_FIELDS, HourRecord

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
    # Hours served at a service position: a plain sum, its own table.
    at_positions: list[tuple[str, str, dict[str, float]]] = []
    for row in rows:
        month = row.get("month") or month_of(row["served_at"])
        field = row["service_field"]
        code = row["division_code"]
        acc = sums.setdefault((code, month, field), [Decimal(0), Decimal(0)])
        acc[0] += Decimal(str(row["hours"]))
        acc[1] += 1
        presence[(row["volunteer_id"], code, month, field)] += sign
        if row.get("position_id"):
            served = float(row["hours"]) * sign
            at_positions.append((code, month, {"position_hours": served}))
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
    if at_positions:
        POSITION_ROLLUP.bump_many(s, at_positions)


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
    service_field, hours and served_at (or month, 'YYYY-MM' China time), and
    optionally position_id (its hours also count as ``position_hours``); a
    list of such mappings is taken as it is. Many volunteers at once lock
    the presence table for the rest of the transaction: commit each chunk.

    Example::

        apply_approved(s, "SELECT volunteer_id, division_code, service_field,"
                          " hours, month FROM hour_records WHERE event_id = :e",
                       {"e": event_id})
    """
    rows: Iterable[Mapping[str, Any]]
    if isinstance(records, str | Select):
        query = text(records) if isinstance(records, str) else records
        # RowMapping's keys may also be columns; the rows here are read by name.
        got = session.execute(query, dict(params or {})).mappings()
        rows = cast(Iterable[Mapping[str, Any]], got)
    else:
        rows = records
    _apply(session, rows, sign)


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
                "position_id": record.position_id,
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
    if record.position_id:
        POSITION_ROLLUP.bump(
            s, record.division_code, record.month, position_hours=float(delta)
        )


def lock_all(s: Session) -> None:
    """Serialise with everyone else writing presence for the rest of the
    transaction (a bulk chunk: one table lock, not one per volunteer)."""
    s.execute(text("LOCK TABLE hours_presence IN SHARE ROW EXCLUSIVE MODE"))


def present(s: Session, volunteers: list[str]) -> dict[Key, int]:
    """Every presence row of ``volunteers``, in every tenant."""
    return _present(s, volunteers)


# One imported record: volunteer_id, division_code, month, service_field, hours.
Imported = tuple[str, str, str, str, Decimal]


def apply_imported(
    s: Session, records: Iterable[Imported], before: Mapping[Key, int]
) -> int:
    """:func:`apply_approved` (``sign=1``) for a bulk import's chunk, given
    the chunk's volunteers' presence rows ``before`` it (read under
    :func:`lock_all`): sums and distinct volunteers land in every ancestor's
    month, year and all-time cells, exactly as approving the records one by
    one would, in two statements (presence, rollup cells). Returns the
    number of presence keys the chunk touched.

    Distinct volunteers: only a presence key new to its volunteer can make
    them count somewhere new; the counters gained are those its key maps to
    less those the volunteer's earlier rows map to. A volunteer whose rows,
    earlier and in the chunk, all lie in one division (most: people serve
    where they live) is worked out at that division and copied up the tree."""
    # Sums per (division, month): the field columns folded in before the
    # ancestors are expanded (a few cells per division, not per field).
    sums: dict[tuple[str, str], dict[str, float]] = {}
    hours: dict[tuple[str, str, str], list[Any]] = {}
    deltas: dict[Key, int] = defaultdict(int)
    for v, code, month, field, h in records:
        acc = hours.get((code, month, field))
        if acc is None:
            acc = hours[(code, month, field)] = [Decimal(0), 0]
        acc[0] += h
        acc[1] += 1
        deltas[(v, code, month, field)] += 1
    if not deltas:
        return 0
    for (code, month, field), (h, n) in hours.items():
        cell = sums.setdefault((code, month), {})
        got = {"hours": float(h), "records": float(n)}
        if field in ROLLUP_FIELDS:
            got[f"hours_{field}"] = got["hours"]
            got[f"records_{field}"] = got["records"]
        for m, d in got.items():
            cell[m] = cell.get(m, 0.0) + d
    cells = ROLLUP.expand_rows((c, m, d) for (c, m), d in sums.items())
    mine: dict[str, list[Key]] = defaultdict(list)
    for key in before:
        if before[key] > 0:
            mine[key[0]].append(key)
    fresh: dict[str, list[Key]] = defaultdict(list)
    for key in deltas:
        if before.get(key, 0) <= 0:
            fresh[key[0]].append(key)
    # Gains of single-division volunteers are summed per division first and
    # copied up the tree once per (division, period, field).
    local: dict[tuple[str, str, str], int] = defaultdict(int)
    gained: dict[tuple[str, str, str], int] = defaultdict(int)
    for v, keys in fresh.items():
        old = mine.get(v, [])
        codes = {k[1] for k in keys} | {k[1] for k in old}
        if len(codes) == 1:
            code = next(iter(codes))
            was = {pf for k in old for pf in _periods_fields(k)}
            for p, f in {pf for k in keys for pf in _periods_fields(k)} - was:
                local[(code, p, f)] += 1
        else:
            was3 = {c for k in old for c in _counters(k)}
            for c in {c for k in keys for c in _counters(k)} - was3:
                gained[c] += 1
    for (code, p, f), n in local.items():
        for a in _ancestors(code):
            gained[(a, p, f)] += n
    for (a, p, f), n in gained.items():
        cell = cells.setdefault((a, p), {})
        m = _metric(f)
        cell[m] = cell.get(m, 0.0) + n
    _write_presence(s, deltas)
    ROLLUP.add_cells(s, cells)
    return len(deltas)


def add_position_hours(s: Session, records: Iterable[tuple[str, str, Decimal]]) -> None:
    """Count a bulk import's records served at a service position, as
    (division_code, month, credited hours), in ``position_hours`` at every
    ancestor's month, year and all time, in one statement: what approving
    each record one by one adds (:func:`count`, the record's division, its
    hours). Records with no position are not passed."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for code, month, h in records:
        sums[(code, month)] += h
    if sums:
        POSITION_ROLLUP.bump_many(
            s,
            [(c, m, {"position_hours": float(h)}) for (c, m), h in sums.items()],
        )


def _periods_fields(key: Key) -> list[tuple[str, str]]:
    """The (period, field) counters of a presence row at its own division."""
    _, _, month, field = key
    fields = (ALL_FIELDS, field) if field in ROLLUP_FIELDS else (ALL_FIELDS,)
    return [(p, f) for p in periods_of(month) for f in fields]
