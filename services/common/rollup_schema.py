"""Migration steps every service shares for the period rollups and the
range row-security policies (each service's revision 0002).

``upgrade_rollup`` rebuilds a service's ``<name>_rollup`` from one row per
(division, month) into rows per (level, division, period): the month rows as
they were, a calendar year's and all time's rows summed from them. Metrics
that do not add up (distinct volunteers) start at zero in the year and
all-time rows; their owner fills them from its facts.

``rewrite_scope_policies`` turns every policy written by
:func:`services.common.db.scope_policy_sql` with ``LIKE scope || '%'`` into
the indexable range form the function writes today.

Example (a migration)::

    upgrade_rollup(op, ROLLUP, app_role())
    rewrite_scope_policies(op)
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from services.common.db import scope_policy_sql
from services.common.rollup import ALL_TIME, Rollup

_LIKE_SCOPE = re.compile(
    r"\(?(\w+)\)?(?:::text)? ~~ \(current_setting\('zhiyuan\.scope'::text, true\)"
)
_ANCESTORS = "current_setting('zhiyuan.scope'::text, true) ~~"
_COMMANDS = ("read", "insert", "update", "delete")


def _pg(op: Any) -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade_rollup(op: Any, rollup: Rollup, app_role: str) -> None:
    """Rebuild ``rollup``'s table (columns as in ``rollup.metrics``) from the
    0001 shape (division_code, month, metrics), with its data."""
    pg = _pg(op)
    t, new = rollup.table_name, f"{rollup.table_name}_periods"
    collate = ' COLLATE "C"' if pg else ""
    metrics = list(rollup.metrics)
    columns = ", ".join(f"{m} double precision NOT NULL DEFAULT 0" for m in metrics)
    op.execute(
        f"CREATE TABLE {new} (level smallint NOT NULL,"
        f" division_code varchar(12){collate} NOT NULL,"
        f" period varchar(7){collate} NOT NULL, {columns},"
        f" CONSTRAINT {new}_pkey PRIMARY KEY (level, division_code, period))"
    )
    cols = ", ".join(metrics)
    summed = ", ".join("0" if m in rollup.distinct else f"sum({m})" for m in metrics)
    op.execute(
        f"INSERT INTO {new} (level, division_code, period, {cols})"
        f" SELECT length(division_code), division_code, month, {cols} FROM {t}"
        f" UNION ALL SELECT length(division_code), division_code,"
        f" substr(month, 1, 4), {summed} FROM {t}"
        " GROUP BY division_code, substr(month, 1, 4)"
        f" UNION ALL SELECT length(division_code), division_code, '{ALL_TIME}',"
        f" {summed} FROM {t} GROUP BY division_code"
    )
    if pg:
        doubles = ", ".join("double precision" for _ in metrics)
        op.execute(f"DROP FUNCTION IF EXISTS {t}_add(text[], text, {doubles})")
    op.execute(f"DROP TABLE {t}")
    op.execute(f"ALTER TABLE {new} RENAME TO {t}")
    if not pg:
        return
    op.execute(f"ALTER INDEX {new}_pkey RENAME TO {t}_pkey")
    for stmt in scope_policy_sql(t, "division_code"):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {app_role}")
    for stmt in rollup.function_sql(app_role):
        op.execute(stmt)


def rewrite_scope_policies(op: Any) -> list[str]:
    """Rewrite the LIKE-prefix scope policies of every table into the range
    form; returns the tables rewritten (PostgreSQL only)."""
    if not _pg(op):
        return []
    bind = op.get_bind()
    rows = bind.execute(
        text(
            "SELECT tablename, policyname, qual, with_check FROM pg_policies"
            " WHERE schemaname = current_schema()"
        )
    ).all()
    policies: dict[str, dict[str, tuple[str, str]]] = {}
    for table, name, qual, check in rows:
        policies.setdefault(table, {})[name] = (qual or "", check or "")
    done = []
    for table, named in sorted(policies.items()):
        insert = named.get(f"{table}_insert")
        found = _LIKE_SCOPE.search(insert[1]) if insert else None
        if found is None or set(named) != {f"{table}_{c}" for c in _COMMANDS}:
            continue
        ancestors = _ANCESTORS in named[f"{table}_read"][0]
        for command in _COMMANDS:
            op.execute(f"DROP POLICY {table}_{command} ON {table}")
        for stmt in scope_policy_sql(table, found.group(1), read_ancestors=ancestors):
            op.execute(stmt)
        done.append(table)
    return done


def initial_function_sql(rollup: Rollup, app_role: str) -> list[str]:
    """The add function of the 0001 table shape (division_code, month,
    metrics), frozen here for the revisions 0001 that create it."""
    t, metrics = rollup.table_name, list(rollup.metrics)
    args = ", ".join(f"p_{m} double precision" for m in metrics)
    cols = ", ".join(metrics)
    values = ", ".join(f"p_{m}" for m in metrics)
    sets = ", ".join(f"{m} = r.{m} + EXCLUDED.{m}" for m in metrics)
    signature = (
        f"{t}_add(text[], text, " + ", ".join("double precision" for _ in metrics) + ")"
    )
    return [
        f"""CREATE OR REPLACE FUNCTION {t}_add(
            p_codes text[], p_month text, {args}) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
          INSERT INTO {t} AS r (division_code, month, {cols})
          SELECT c, p_month, {values} FROM unnest(p_codes) AS c
          ON CONFLICT (division_code, month) DO UPDATE SET {sets}
        $$""",
        f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {signature} TO {app_role}",
    ]
