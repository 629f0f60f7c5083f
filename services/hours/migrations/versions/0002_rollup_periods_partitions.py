"""Rollups per (level, division, period) with distinct volunteers kept at
write time; narrow presence rows; hour_records partitioned by province;
range row-security policies.

- ``hours_rollup``: rows per month, calendar year and all time at every
  level (see services/common/rollup.py), distinct-volunteer metrics for
  every period computed here from the facts.
- ``hours_presence``: one row per (volunteer, the record's division, month,
  field) with a record count, rebuilt from the approved records.
- ``hour_records`` (PostgreSQL): declaratively partitioned by RANGE of the
  division code, one partition per province (docs/storage.md says why);
  the primary key and the source key include the code; corrections refer
  to (id, division_code).
- Every scope policy becomes a range on the code (indexable).

Embedded SQLite: the same tables, no partitions, no policies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role
from services.common.rollup_schema import rewrite_scope_policies, upgrade_rollup
from services.hours.models import ROLLUP  # its shape and function SQL

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FIELDS = (
    "elderly_care",
    "minors",
    "medical",
    "mental_health",
    "emergency",
    "legal_aid",
    "poverty_relief",
    "environment",
    "civilisation",
    "culture_education",
    "large_events",
    "recycling",
)
# Provinces, autonomous regions, municipalities and SARs (GB/T 2260).
PROVINCES = [
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
]
WIDTHS = (2, 4, 6, 9, 12)
RECORD_COLUMNS = (
    "id, source, source_id, event_id, volunteer_id, volunteer_number,"
    " division_code, organisation_id, organisation_name, service_field,"
    " activity_kind, content, started_at, ended_at, duration_seconds,"
    " service_day, month, rounding, rounded_hours, hours, capped_hours, note,"
    " status, status_reason, recorded_by, recorded_at, reviewed_by, reviewed_at"
)
PRESENCE_OF = """
CREATE OR REPLACE FUNCTION hours_presence_of(p_volunteers text[])
RETURNS TABLE (volunteer_id varchar, division_code varchar, month varchar,
               service_field varchar, records integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT volunteer_id, division_code, month, service_field, records
  FROM hours_presence WHERE volunteer_id = ANY(p_volunteers)
$$"""


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    pg = _pg()
    role = app_role() if pg else ""
    rewrite_scope_policies(op)
    _presence(pg, role)
    upgrade_rollup(op, ROLLUP, role)
    _distinct_counts()
    if pg:
        _partition_records(role)


def downgrade() -> None:
    raise NotImplementedError("0002 is one-way: restore from a backup instead")


def _presence(pg: bool, role: str) -> None:
    collate = ' COLLATE "C"' if pg else ""
    op.execute(
        "CREATE TABLE hours_presence_v2 (volunteer_id varchar(36) NOT NULL,"
        f" division_code varchar(12){collate} NOT NULL,"
        " month varchar(7) NOT NULL, service_field varchar(40) NOT NULL,"
        " records integer NOT NULL, CONSTRAINT hours_presence_v2_pkey PRIMARY KEY"
        " (volunteer_id, division_code, month, service_field))"
    )
    op.execute(
        "INSERT INTO hours_presence_v2 SELECT volunteer_id, division_code, month,"
        " service_field, count(*) FROM hour_records WHERE status = 'approved'"
        " GROUP BY volunteer_id, division_code, month, service_field"
    )
    if pg:
        op.execute(
            "DROP FUNCTION IF EXISTS"
            " hours_presence_add(text[], text, text, text, integer)"
        )
    op.execute("DROP TABLE hours_presence")
    op.execute("ALTER TABLE hours_presence_v2 RENAME TO hours_presence")
    if not pg:
        return
    op.execute("ALTER INDEX hours_presence_v2_pkey RENAME TO hours_presence_pkey")
    for stmt in scope_policy_sql("hours_presence", "division_code"):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON hours_presence TO {role}")
    op.execute(PRESENCE_OF)
    op.execute("REVOKE ALL ON FUNCTION hours_presence_of(text[]) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION hours_presence_of(text[]) TO {role}")


def _distinct_counts() -> None:
    """Every period's distinct volunteers (all fields and per field), from
    the presence rows just rebuilt: a one-time scan at migration."""
    widths = " UNION ALL ".join(f"SELECT {w} AS w" for w in WIDTHS)
    per_field = ", ".join(
        f"count(DISTINCT CASE WHEN f = '{f}' THEN v END) AS volunteers_{f}"
        for f in FIELDS
    )
    sets = ", ".join(
        ["volunteers = x.volunteers"]
        + [f"volunteers_{f} = x.volunteers_{f}" for f in FIELDS]
    )
    op.execute(
        f"UPDATE hours_rollup SET {sets} FROM ("
        " WITH anc AS (SELECT p.volunteer_id AS v, substr(p.division_code, 1, w.w)"
        " AS code, p.month AS month, p.service_field AS f FROM hours_presence p"
        f" JOIN ({widths}) w ON length(p.division_code) >= w.w),"
        " per AS (SELECT code, month AS period, v, f FROM anc"
        " UNION ALL SELECT code, substr(month, 1, 4), v, f FROM anc"
        " UNION ALL SELECT code, 'all', v, f FROM anc)"
        f" SELECT code, period, count(DISTINCT v) AS volunteers, {per_field}"
        " FROM per GROUP BY code, period) x"
        " WHERE hours_rollup.level = length(x.code)"
        " AND hours_rollup.division_code = x.code AND hours_rollup.period = x.period"
    )


def _partition_records(role: str) -> None:
    op.execute(
        """CREATE TABLE hour_records_p (
  id varchar(36) NOT NULL, source varchar(12) NOT NULL,
  source_id varchar(64) NOT NULL, event_id varchar(36),
  volunteer_id varchar(36) NOT NULL, volunteer_number varchar(20) NOT NULL,
  division_code varchar(12) COLLATE "C" NOT NULL,
  organisation_id varchar(36) NOT NULL, organisation_name varchar(200) NOT NULL,
  service_field varchar(40) NOT NULL, activity_kind varchar(20) NOT NULL,
  content varchar(200) NOT NULL, started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL, duration_seconds integer NOT NULL,
  service_day date NOT NULL, month varchar(7) NOT NULL,
  rounding varchar(12) NOT NULL, rounded_hours numeric(10, 2) NOT NULL,
  hours numeric(10, 2) NOT NULL, capped_hours numeric(10, 2) NOT NULL,
  note text NOT NULL, status varchar(10) NOT NULL, status_reason text NOT NULL,
  recorded_by varchar(100) NOT NULL, recorded_at timestamptz NOT NULL,
  reviewed_by varchar(100), reviewed_at timestamptz
) PARTITION BY RANGE (division_code)"""
    )
    for code in PROVINCES:
        op.execute(
            f"CREATE TABLE hour_records_{code} PARTITION OF hour_records_p"
            f" FOR VALUES FROM ('{code}') TO ('{code}~')"
        )
    op.execute("CREATE TABLE hour_records_other PARTITION OF hour_records_p DEFAULT")
    op.execute(
        f"INSERT INTO hour_records_p ({RECORD_COLUMNS})"
        f" SELECT {RECORD_COLUMNS} FROM hour_records"
    )
    # Drops the corrections' foreign key with it; re-made below on (id, code).
    op.execute("DROP TABLE hour_records CASCADE")
    op.execute("ALTER TABLE hour_records_p RENAME TO hour_records")
    op.execute(
        "ALTER TABLE hour_records ADD CONSTRAINT hour_records_pkey"
        " PRIMARY KEY (id, division_code)"
    )
    op.execute(
        "ALTER TABLE hour_records ADD CONSTRAINT hour_records_source_key"
        " UNIQUE (source, source_id, division_code)"
    )
    for name, cols in (
        ("ix_hour_records_division_code", "division_code"),
        ("ix_hour_records_status", "status"),
        ("ix_hour_records_volunteer_start", "volunteer_id, started_at"),
    ):
        op.execute(f"CREATE INDEX {name} ON hour_records ({cols})")
    op.execute(
        "ALTER TABLE hour_corrections ADD CONSTRAINT hour_corrections_record_fkey"
        " FOREIGN KEY (record_id, division_code)"
        " REFERENCES hour_records (id, division_code)"
    )
    for stmt in scope_policy_sql("hour_records", "division_code"):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON hour_records TO {role}")
    op.execute("ANALYZE hour_records")
