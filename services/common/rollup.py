"""Live rollups: counters per (division at every ancestor level, month),
bumped in the same transaction as the fact they count.

A caller in a county must bump its city's and province's rows too, which row
security would forbid; in PostgreSQL the bump therefore goes through a
``SECURITY DEFINER`` function that only adds numbers (:meth:`Rollup.function_sql`),
while reads stay confined to the caller's subtree. Rows carry counts, never
personal data.

Example::

    VOLUNTEERS = Rollup("registration_rollup", ["volunteers_registered", ...])
    VOLUNTEERS.bump(session, "610113001", "2026-11", volunteers_registered=1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from services.common.tenancy import Level, Scope, ancestors

# China Standard Time has had no daylight saving since 1991.
CST = timezone(timedelta(hours=8), "CST")


def month_of(moment: datetime) -> str:
    """The reporting month (China time) of a moment, 'YYYY-MM'."""
    return moment.astimezone(CST).strftime("%Y-%m")


@dataclass(frozen=True)
class Rollup:
    table_name: str
    metrics: Sequence[str]

    def table(self, metadata: MetaData) -> Table:
        return Table(
            self.table_name,
            metadata,
            Column("division_code", String(12), nullable=False),
            Column("month", String(7), nullable=False),
            *[Column(m, Float, nullable=False, default=0) for m in self.metrics],
            PrimaryKeyConstraint("division_code", "month"),
        )

    @property
    def function_name(self) -> str:
        return f"{self.table_name}_add"

    def function_sql(self, app_role: str) -> list[str]:
        args = ", ".join(f"p_{m} double precision" for m in self.metrics)
        cols = ", ".join(self.metrics)
        values = ", ".join(f"p_{m}" for m in self.metrics)
        sets = ", ".join(f"{m} = r.{m} + EXCLUDED.{m}" for m in self.metrics)
        signature = (
            f"{self.function_name}(text[], text, "
            + ", ".join("double precision" for _ in self.metrics)
            + ")"
        )
        return [
            f"""CREATE OR REPLACE FUNCTION {self.function_name}(
                p_codes text[], p_month text, {args}) RETURNS void
            LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
              INSERT INTO {self.table_name} AS r (division_code, month, {cols})
              SELECT c, p_month, {values} FROM unnest(p_codes) AS c
              ON CONFLICT (division_code, month) DO UPDATE SET {sets}
            $$""",
            f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {signature} TO {app_role}",
        ]

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
        """(code, month or '', metrics) summed per division at ``level`` under
        ``node``: an index read of the rollup table, never a scan of facts."""
        t = table
        metrics = [t.c[m] for m in self.metrics]
        cols = [t.c.division_code, *([t.c.month] if by_month else [])]
        q = select(*cols, *[func.sum(c).label(c.name) for c in metrics]).where(
            t.c.division_code.like(node.like_pattern),
            func.length(t.c.division_code) == level.width,
        )
        if start:
            q = q.where(t.c.month >= start)
        if end:
            q = q.where(t.c.month <= end)
        out = []
        for row in session.execute(q.group_by(*cols).order_by(*cols)).mappings():
            values = {c.name: float(row[c.name] or 0) for c in metrics}
            out.append((row["division_code"], row.get("month", "") or "", values))
        return out

    def bump(
        self, session: Session, division_code: str, month: str, **deltas: float
    ) -> None:
        """Add ``deltas`` to the rows of the division and all its ancestors."""
        unknown = set(deltas) - set(self.metrics)
        if unknown:
            raise ValueError(f"unknown rollup metrics {sorted(unknown)}")
        values = {m: float(deltas.get(m, 0)) for m in self.metrics}
        codes = ancestors(division_code)
        if session.get_bind().dialect.name == "postgresql":
            params = ", ".join(f":{m}" for m in self.metrics)
            session.execute(
                text(f"SELECT {self.function_name}(:codes, :month, {params})"),
                {"codes": codes, "month": month, **values},
            )
            return
        cols = ", ".join(self.metrics)
        sets = ", ".join(f"{m} = {m} + excluded.{m}" for m in self.metrics)
        params = ", ".join(f":{m}" for m in self.metrics)
        for code in codes:
            session.execute(
                text(
                    f"INSERT INTO {self.table_name} (division_code, month, {cols}) "
                    f"VALUES (:code, :month, {params}) "
                    f"ON CONFLICT (division_code, month) DO UPDATE SET {sets}"
                ),
                {"code": code, "month": month, **values},
            )

    def bump_many(
        self,
        session: Session,
        rows: Iterable[tuple[str, str, Mapping[str, float]]],
    ) -> None:
        """Add many facts' deltas at once: ``rows`` are (division code, month,
        {metric: delta}); each is counted at the division and all its
        ancestors, exactly as :meth:`bump` would one by one.

        Example::

            ROLLUP.bump_many(s, [("610113001", "2026-11", {"hours": 2.5})])
        """
        merged: dict[tuple[str, str], dict[str, float]] = {}
        for code, month, deltas in rows:
            cell = merged.setdefault((code, month), {})
            for metric, delta in deltas.items():
                cell[metric] = cell.get(metric, 0.0) + float(delta)
        for (code, month), deltas in sorted(merged.items()):
            self.bump(session, code, month, **deltas)
