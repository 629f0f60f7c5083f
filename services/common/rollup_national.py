"""The nation's rollup read (scope ``CN``): every province's rows, each read
under that province's own scope, so row security filters exactly as for the
province's admin (the rollup tables keep their range policies; no session
ever runs under an empty or a national scope).

On PostgreSQL the whole read is one round trip: a multi-statement simple
query that sets each province's scope (local to the transaction) and sends
its reads. Read one statement at a time, 32 provinces cost ~100 round trips
(measured ~70x a province's Summarize on this machine under load). Every
value inlined is checked first: province codes are a Scope's (ASCII digits),
levels are integers, periods passed ``checks.period``.

Example::

    rows, totals = read_nation(session, [(ROLLUP, ROLLUP_TABLE)],
                               Level.PROVINCE, "", "", False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.common.divisions import province_codes
from services.common.rollup import SUBTREE_END
from services.common.tenancy import Level, Scope

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.orm import Session

    from services.common.rollup import Rollup

Rows = list[tuple[str, str, dict[str, float]]]
Parts = list[tuple[Rows, Sequence[str]]]


def read_nation(
    session: Session,
    parts: Sequence[tuple[Rollup, Table]],
    level: Level,
    start: str,
    end: str,
    by_month: bool,
) -> tuple[Parts, Parts]:
    """(rows, totals) of every province for each of ``parts``: the rows at
    ``level`` and each province's own total, as (rows, metric names) pairs
    that :func:`~services.common.rollup_query.join_rows` joins."""
    provinces = [Scope(code) for code in province_codes()]
    # A province's row is its own total: no second read for rows by province.
    reuse = level is Level.PROVINCE and not by_month
    # (part, whether the read is the province's total) for each province.
    reads = [(i, total) for i in range(len(parts)) for total in (False, True)
             if not (total and reuse)]  # fmt: skip
    rows_parts: Parts = [([], r.metrics) for r, _ in parts]
    total_parts: Parts = [([], r.metrics) for r, _ in parts]
    if session.get_bind().dialect.name != "postgresql":
        # No row security (embedded mode): each province's range as it is.
        for province in provinces:
            for i, is_total in reads:
                rollup, table = parts[i]
                got = rollup.read(session, table, province, *_shape(
                    is_total, level, start, end, by_month))  # fmt: skip
                _collect(rows_parts, total_parts, reuse, i, is_total, got)
        return rows_parts, total_parts
    # Each read compiled once, for a placeholder province, then given each
    # province's code: compiling ~64 statements took longer than running them.
    templates = {
        key: _template(session, parts[key[0]], *_shape(key[1], level, start, end,
                                                       by_month))
        for key in reads
    }  # fmt: skip
    statements, keys = [], []
    for province in provinces:
        code = province.code
        assert code.isascii() and code.isdigit()  # a Scope's: safe to inline
        statements.append(f"SELECT set_config('zhiyuan.scope', '{code}', true)")
        for key in reads:
            head, (middle, tail) = templates[key]
            statements.append(f"{head}'{code}'{middle}'{code}{SUBTREE_END}'{tail}")
            keys.append(key)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(";\n".join(statements))
        results = []
        while True:
            names = [d.name for d in cur.description or ()]
            if names != ["set_config"]:
                results.append([dict(zip(names, row, strict=True)) for row in cur])
            if not cur.nextset():
                break
    assert len(results) == len(keys), (len(results), len(keys))
    for (i, is_total), found in zip(keys, results, strict=True):
        rollup = parts[i][0]
        decoded = rollup.decode(found, False if is_total else by_month)
        _collect(rows_parts, total_parts, reuse, i, is_total, decoded)
    return rows_parts, total_parts


def _shape(
    is_total: bool, level: Level, start: str, end: str, by_month: bool
) -> tuple[Level, str, str, bool]:
    """(level, start, end, by_month) of a province's rows or of its total."""
    return (Level.PROVINCE, start, end, False) if is_total else (
        level, start, end, by_month)  # fmt: skip


def _collect(
    rows_parts: Parts, total_parts: Parts, reuse: bool, i: int, is_total: bool,
    rows: Rows,
) -> None:  # fmt: skip
    (total_parts if is_total else rows_parts)[i][0].extend(rows)
    if reuse:
        total_parts[i][0].extend(rows)


_PLACEHOLDER = "00"  # a province-width code no province has


def _template(
    session: Session, part: tuple[Rollup, Table], level: Level, start: str,
    end: str, by_month: bool,
) -> tuple[str, tuple[str, str]]:  # fmt: skip
    """A read's SQL with its (checked) values inlined, cut around the
    subtree's bounds (``>= 'code'`` and ``< 'code~'``) so that each
    province's code can be put in; refuses a shape it cannot cut exactly."""
    rollup, table = part
    query = rollup.read_query(table, Scope(_PLACEHOLDER), level, start, end, by_month)
    sql = str(
        query.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
    )
    low, high = f"'{_PLACEHOLDER}'", f"'{_PLACEHOLDER}{SUBTREE_END}'"
    if sql.count(low) != 1 or sql.count(high) != 1 or sql.index(low) > sql.index(high):
        raise ValueError(f"cannot place a province's code in {sql!r}")
    head, rest = sql.split(low)
    middle, tail = rest.split(high)
    return head, (middle, tail)
