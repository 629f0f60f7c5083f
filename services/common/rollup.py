"""Live rollups: counters per (division at every ancestor level, period),
bumped in the same transaction as the fact they count.

Each fact is counted at its division and every ancestor, in three periods:
its month ('2026-11'), its calendar year ('2026') and all time ('all'), so
the periods a dashboard offers are each one row per division and a read is
O(children × periods) index entries, never a scan of facts.

Division codes and periods are ``COLLATE "C"`` and the primary key is
(level, division_code, period): "the cities of 61" is the index range
``level = 4 AND division_code >= '61' AND division_code < '61~'`` (codes are
digits, and '~' sorts after every digit in C order), the same range the
row-security policy uses (see :func:`services.common.db.scope_policy_sql`).

A caller in a county must bump its city's and province's rows too, which row
security would forbid; in PostgreSQL the write therefore goes through a
``SECURITY DEFINER`` function that only adds numbers (:meth:`Rollup.function_sql`),
while reads stay confined to the caller's subtree. Rows carry counts, never
personal data.

Metrics named in ``distinct`` (distinct volunteers) do not add up over
months; their owner computes them exactly at write time for every period
and writes them with :meth:`Rollup.add_cells`; a read over a range that is
not one month, one calendar year or all time is refused for them.

Example::

    VOLUNTEERS = Rollup("registration_rollup", ["volunteers_registered", ...])
    VOLUNTEERS.bump(session, "610113001", "2026-11", volunteers_registered=1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    SmallInteger,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from services.common.errors import InvalidArgument
from services.common.tenancy import Level, Scope, ancestors

# China Standard Time has had no daylight saving since 1991.
CST = timezone(timedelta(hours=8), "CST")
ALL_TIME = "all"
# Upper bound of a subtree's range: codes are ASCII digits, '~' follows them.
SUBTREE_END = "~"
Cells = dict[tuple[str, str], dict[str, float]]


def month_of(moment: datetime) -> str:
    """The reporting month (China time) of a moment, 'YYYY-MM'."""
    return moment.astimezone(CST).strftime("%Y-%m")


def periods_of(month: str) -> tuple[str, str, str]:
    """The stored periods a fact of ``month`` counts in.

    Example:
        >>> periods_of("2026-11")
        ('2026-11', '2026', 'all')
    """
    return month, month[:4], ALL_TIME


def stored_period(start: str, end: str) -> str | None:
    """The one stored period that is exactly the months ``start``..``end``
    (both 'YYYY-MM' or empty for open), or None for any other range.

    Example:
        >>> stored_period("", ""), stored_period("2026-01", "2026-12")
        ('all', '2026')
        >>> stored_period("2026-03", "2026-03"), stored_period("2026-03", "")
        ('2026-03', None)
    """
    if not start and not end:
        return ALL_TIME
    if start and start == end:
        return start
    whole_year = start[5:] == "01" and end[5:] == "12"
    if start and end and start[:4] == end[:4] and whole_year:
        return start[:4]
    return None


def expand(code: str, month: str) -> list[tuple[str, str]]:
    """Every (division, period) cell a fact of ``code`` in ``month`` counts in."""
    return [(a, p) for a in ancestors(code) for p in periods_of(month)]


def array_literal(values: Sequence[object]) -> str:
    """A PostgreSQL array literal of numbers or strings, every string quoted.

    Example:
        >>> array_literal([1.5, 2.0]), array_literal(["61", "2026-03"])
        ('{1.5,2.0}', '{"61","2026-03"}')
    """

    def quote(v: object) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(v)

    return "{" + ",".join(map(quote, values)) + "}"


def number_array(values: Sequence[float]) -> str:
    """A PostgreSQL array literal of floats (``repr`` in C, no per-element
    Python call: a bulk chunk's rollup writes millions of them).

    Example:
        >>> number_array([1.5, 0.0])
        '{1.5,0.0}'
    """
    return "{" + ",".join(map(repr, values)) + "}"


def merge(cells: Cells, key: tuple[str, str], deltas: Mapping[str, float]) -> None:
    cell = cells.setdefault(key, {})
    for metric, delta in deltas.items():
        cell[metric] = cell.get(metric, 0.0) + float(delta)


@dataclass(frozen=True)
class Rollup:
    table_name: str
    metrics: Sequence[str]
    distinct: Sequence[str] = field(default=())

    def table(self, metadata: MetaData) -> Table:
        return Table(
            self.table_name,
            metadata,
            Column("level", SmallInteger, nullable=False),
            Column("division_code", String(12, collation="C"), nullable=False),
            Column("period", String(7, collation="C"), nullable=False),
            *[Column(m, Float, nullable=False, default=0) for m in self.metrics],
            PrimaryKeyConstraint("level", "division_code", "period"),
        )

    @property
    def function_name(self) -> str:
        return f"{self.table_name}_add_cells"

    @property
    def signature(self) -> str:
        return f"{self.function_name}(text[], text[], {', '.join(self._arrays())})"

    def _arrays(self) -> list[str]:
        return ["double precision[]" for _ in self.metrics]

    def function_sql(self, app_role: str) -> list[str]:
        """The one write path in PostgreSQL: add cells given as parallel
        arrays (codes, periods, one array per metric), in one statement."""
        args = ", ".join(
            f"p_{i} double precision[]" for i, _ in enumerate(self.metrics)
        )
        arrays = ", ".join(f"p_{i}" for i, _ in enumerate(self.metrics))
        aliases = ", ".join(f"m_{i}" for i, _ in enumerate(self.metrics))
        cols = ", ".join(self.metrics)
        sets = ", ".join(f"{m} = r.{m} + EXCLUDED.{m}" for m in self.metrics)
        return [
            f"""CREATE OR REPLACE FUNCTION {self.function_name}(
                p_codes text[], p_periods text[], {args}) RETURNS void
            LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
              INSERT INTO {self.table_name} AS r
                (level, division_code, period, {cols})
              SELECT length(u.c), u.c, u.p, {aliases}
              FROM unnest(p_codes, p_periods, {arrays}) AS u(c, p, {aliases})
              ORDER BY 1, 2, 3
              ON CONFLICT (level, division_code, period) DO UPDATE SET {sets}
            $$""",
            f"REVOKE ALL ON FUNCTION {self.signature} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {self.signature} TO {app_role}",
        ]

    # -- writes ---------------------------------------------------------------
    def bump(
        self, session: Session, division_code: str, month: str, **deltas: float
    ) -> None:
        """Add ``deltas`` to the division's and all its ancestors' rows of the
        month, its year and all time."""
        self.bump_many(session, [(division_code, month, deltas)])

    def bump_many(
        self,
        session: Session,
        rows: Iterable[tuple[str, str, Mapping[str, float]]],
    ) -> None:
        """Add many facts' deltas at once: ``rows`` are (division code, month,
        {metric: delta}); each is counted at the division and all its
        ancestors, in its month, year and all time, exactly as :meth:`bump`
        would one by one; one statement in all.

        Example::

            ROLLUP.bump_many(s, [("610113001", "2026-11", {"hours": 2.5})])
        """
        self.add_cells(session, self.expand_rows(rows))

    def expand_rows(
        self, rows: Iterable[tuple[str, str, Mapping[str, float]]]
    ) -> Cells:
        """The cells (division, period) → deltas that ``rows`` add up to."""
        merged: Cells = {}
        for code, month, deltas in rows:
            merge(merged, (code, month), deltas)
        cells: Cells = {}
        for (code, month), deltas in merged.items():
            for key in expand(code, month):
                merge(cells, key, deltas)
        return cells

    def add_cells(
        self, session: Session, cells: Mapping[tuple[str, str], Mapping[str, float]]
    ) -> None:
        """Add deltas to exact (division, period) cells, no expansion: the
        write of counters that are not sums (distinct volunteers)."""
        unknown = {m for d in cells.values() for m in d} - set(self.metrics)
        if unknown:
            raise ValueError(f"unknown rollup metrics {sorted(unknown)}")
        keys = sorted(k for k, d in cells.items() if any(d.values()))
        if not keys:
            return
        columns = [[float(cells[k].get(m, 0.0)) for k in keys] for m in self.metrics]
        if session.get_bind().dialect.name == "postgresql":
            # Array literals built by str.join: binding Python lists of
            # floats costs far more (the driver dumps them element by element).
            params = {f"p_{i}": number_array(col) for i, col in enumerate(columns)}
            placeholders = ", ".join(
                f"CAST(:p_{i} AS double precision[])" for i in range(len(columns))
            )
            session.execute(
                text(
                    f"SELECT {self.function_name}(CAST(:codes AS text[]),"
                    f" CAST(:periods AS text[]), {placeholders})"
                ),
                {
                    "codes": array_literal([k[0] for k in keys]),
                    "periods": array_literal([k[1] for k in keys]),
                    **params,
                },
            )
            return
        cols = ", ".join(self.metrics)
        sets = ", ".join(f"{m} = {m} + excluded.{m}" for m in self.metrics)
        values = ", ".join(f":m_{i}" for i in range(len(self.metrics)))
        session.execute(
            text(
                f"INSERT INTO {self.table_name} (level, division_code, period, {cols}) "
                f"VALUES (:level, :code, :period, {values}) "
                f"ON CONFLICT (level, division_code, period) DO UPDATE SET {sets}"
            ),
            [
                {
                    "level": len(k[0]),
                    "code": k[0],
                    "period": k[1],
                    **{f"m_{i}": columns[i][n] for i in range(len(self.metrics))},
                }
                for n, k in enumerate(keys)
            ],
        )

    # -- reads ----------------------------------------------------------------
    def read(
        self,
        session: Session,
        table: Table,
        node: Scope,
        level: Level,
        start: str,
        end: str,
        by_month: bool,
    ) -> list[tuple[str, str, dict[str, float]]]:
        """(code, month or '', metrics) per division at ``level`` under
        ``node`` over the months ``start``..``end`` (empty: open): an index
        range of the rollup table, O(divisions × periods), never facts.

        One month, one calendar year and all time are stored rows; another
        range is the sum of its months, which only additive metrics allow:
        with ``distinct`` metrics it is refused (INVALID_ARGUMENT)."""
        q = self.read_query(table, node, level, start, end, by_month)
        return self.decode(session.execute(q).mappings(), by_month)

    def read_query(
        self,
        table: Table,
        node: Scope,
        level: Level,
        start: str,
        end: str,
        by_month: bool,
    ) -> Select[Any]:
        """The SELECT of :meth:`read`, for a caller that sends several at
        once (the nation's read, province by province)."""
        t = table
        metrics = [t.c[m] for m in self.metrics]
        where = [
            t.c.level == level.width,
            t.c.division_code >= node.code,
            t.c.division_code < node.code + SUBTREE_END,
        ]
        exact = stored_period(start, end)
        if by_month or exact is None:
            if exact is None and self.distinct and not by_month:
                raise self._range_refused()
            where += [
                func.length(t.c.period) == 7,
                t.c.period >= (start or "0000-00"),
                t.c.period <= (end or "9999-99"),
            ]
        else:
            where.append(t.c.period == exact)
        if by_month:
            q = select(t.c.division_code, t.c.period, *metrics).where(*where)
            return q.order_by(t.c.division_code, t.c.period)
        if exact is not None:
            q = select(t.c.division_code, t.c.period, *metrics).where(*where)
            return q.order_by(t.c.division_code)
        sums = [func.sum(c).label(c.name) for c in metrics]
        q = select(t.c.division_code, *sums).where(*where)
        return q.group_by(t.c.division_code).order_by(t.c.division_code)

    def decode(
        self, rows: Iterable[Mapping[Any, Any]], by_month: bool
    ) -> list[tuple[str, str, dict[str, float]]]:
        """:meth:`read_query`'s rows as (code, month or '', metrics)."""
        out = []
        for row in rows:
            values = {m: float(row[m] or 0) for m in self.metrics}
            month = row["period"] if by_month else ""
            out.append((row["division_code"], month, values))
        return out

    def check_range(self, start: str, end: str) -> None:
        """Refuse a range whose distinct counts are not kept."""
        if self.distinct and stored_period(start, end) is None:
            raise self._range_refused()

    @staticmethod
    def _range_refused() -> InvalidArgument:
        return InvalidArgument(
            "query.period",
            "period.stored",
            "distinct volunteers are kept for one month, one calendar year or "
            "all time: the period must be one of these (by_month lists the "
            "months of one of them)",
            "志愿者人数（去重）只按单月、自然年或全部时间统计：统计期间须为其中之一"
            "（按月查询时亦然）",
        )
