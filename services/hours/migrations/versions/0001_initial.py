"""Initial schema: hour records and corrections, the settings replica,
rollups and presence, certificates, the time-bank ledger, outbox; row-level
security, the application role and the cross-tenant functions in PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import app_role_sql, scope_policy_sql
from services.common.migrations import app_role
from services.common.rollup_schema import initial_function_sql
from services.hours.models import ROLLUP  # its function SQL only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out: the columns of this revision, not the models' moving list.
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
METRICS = ["hours", "records", "volunteers"] + [
    f"{m}_{f}" for f in FIELDS for m in ("hours", "records", "volunteers")
]
TENANT_TABLES = {
    "hour_records": "division_code",
    "hour_corrections": "division_code",
    "hours_rollup": "division_code",
    "hours_presence": "division_code",
    "certificates": "division_code",
    "timebank_accounts": "division_code",
    "timebank_transactions": "division_code",
    "timebank_entries": "division_code",
}

# An effective amount: the record's hours plus every correction's delta.
EFFECTIVE = (
    "r.hours + coalesce((SELECT sum(c.delta_hours) FROM hour_corrections c"
    " WHERE c.record_id = r.id), 0)"
)
# Facts about one volunteer across tenants (overlap, the day's hours, the
# platform total, distinct-volunteer counters) and the public certificate
# check. SECURITY DEFINER: each answers one narrow question about rows the
# caller's row security would hide, and returns no rows of other tenants.
FUNCTIONS = {
    "hours_overlaps(text, timestamptz, timestamptz, text)": """
CREATE OR REPLACE FUNCTION hours_overlaps(
  p_volunteer text, p_start timestamptz, p_end timestamptz, p_exclude text)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM hour_records
    WHERE volunteer_id = p_volunteer AND status IN ('pending', 'approved')
      AND id <> p_exclude AND started_at < p_end AND p_start < ended_at)
$$""",
    "hours_day_total(text, date, text)": f"""
CREATE OR REPLACE FUNCTION hours_day_total(
  p_volunteer text, p_day date, p_exclude text)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(sum({EFFECTIVE}), 0) FROM hour_records r
  WHERE r.volunteer_id = p_volunteer AND r.service_day = p_day
    AND r.status IN ('pending', 'approved') AND r.id <> p_exclude
$$""",
    "hours_volunteer_total(text)": f"""
CREATE OR REPLACE FUNCTION hours_volunteer_total(p_volunteer text)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(sum({EFFECTIVE}), 0) FROM hour_records r
  WHERE r.volunteer_id = p_volunteer AND r.status = 'approved'
$$""",
    "hours_presence_add(text[], text, text, text, integer)": """
CREATE OR REPLACE FUNCTION hours_presence_add(
  p_codes text[], p_month text, p_field text, p_volunteer text, p_delta integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE c text; n integer; flipped integer := 0;
BEGIN
  FOREACH c IN ARRAY p_codes LOOP
    INSERT INTO hours_presence AS p
      (division_code, month, service_field, volunteer_id, records)
    VALUES (c, p_month, p_field, p_volunteer, p_delta)
    ON CONFLICT (division_code, month, service_field, volunteer_id)
    DO UPDATE SET records = p.records + EXCLUDED.records
    RETURNING records INTO n;
    IF (p_delta > 0 AND n = p_delta) OR (p_delta < 0 AND n = 0) THEN
      flipped := flipped + 1;
    END IF;
  END LOOP;
  RETURN flipped;
END $$""",
    "hours_certificate_verify(text)": """
CREATE OR REPLACE FUNCTION hours_certificate_verify(p_number text)
RETURNS TABLE (number varchar, name_masked varchar, hours numeric,
               issuer_name varchar, issued_on date, status varchar)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT number, name_masked, hours, issuer_name, issued_on, status
  FROM certificates WHERE number = p_number
$$""",
}


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    for stmt in app_role_sql(role):
        op.execute(stmt)
    for table, column in TENANT_TABLES.items():
        for stmt in scope_policy_sql(table, column):
            op.execute(stmt)
    # A node reads its ancestors' overrides: they are its inherited policy.
    for stmt in scope_policy_sql(
        "policy_overrides", "division_code", read_ancestors=True
    ):
        op.execute(stmt)
    for stmt in initial_function_sql(ROLLUP, role):
        op.execute(stmt)
    for signature, body in FUNCTIONS.items():
        op.execute(body)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)


TABLES = [
    "hour_records",
    "hour_corrections",
    "policy_overrides",
    "hours_rollup",
    "hours_presence",
    "certificates",
    "certificate_counters",
    "timebank_accounts",
    "timebank_transactions",
    "timebank_entries",
    "outbox",
    "processed_events",
]


def _hours(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(10, 2), nullable=False)


def _now(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_tables() -> None:
    op.create_table(
        "hour_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("service_field", sa.String(40), nullable=False),
        sa.Column("activity_kind", sa.String(20), nullable=False),
        sa.Column("content", sa.String(200), nullable=False),
        _now("started_at"),
        _now("ended_at"),
        sa.Column("duration_seconds", sa.Integer, nullable=False),
        sa.Column("service_day", sa.Date, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rounding", sa.String(12), nullable=False),
        _hours("rounded_hours"),
        _hours("hours"),
        _hours("capped_hours"),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _now("recorded_at"),
        sa.Column("reviewed_by", sa.String(100), nullable=True),
        _now("reviewed_at", nullable=True),
        sa.UniqueConstraint("source", "source_id"),
    )
    op.create_index(
        "ix_hour_records_volunteer_start",
        "hour_records",
        ["volunteer_id", "started_at"],
    )
    op.create_table(
        "hour_corrections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "record_id",
            sa.String(36),
            sa.ForeignKey("hour_records.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        _hours("previous_hours"),
        _hours("new_hours"),
        _hours("delta_hours"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        _now("created_at"),
    )
    op.create_table(
        "policy_overrides",
        sa.Column("division_code", sa.String(12), primary_key=True),
        sa.Column("overrides", sa.JSON, nullable=False),
        _now("changed_at"),
    )
    op.create_table(
        "hours_rollup",
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        *[sa.Column(m, sa.Float, nullable=False) for m in METRICS],
        sa.PrimaryKeyConstraint("division_code", "month"),
    )
    op.create_table(
        "hours_presence",
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("service_field", sa.String(40), nullable=False),
        sa.Column("volunteer_id", sa.String(36), nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(
            "division_code", "month", "service_field", "volunteer_id"
        ),
    )
    op.create_table(
        "certificates",
        sa.Column("number", sa.String(40), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("name_masked", sa.String(50), nullable=False),
        sa.Column("id_type", sa.String(20), nullable=False),
        sa.Column("id_number_masked", sa.String(18), nullable=False),
        _hours("hours"),
        sa.Column("service_content", sa.Text, nullable=False),
        sa.Column("issuer_name", sa.String(200), nullable=False),
        sa.Column("person_in_charge", sa.String(50), nullable=False),
        sa.Column("handler", sa.String(50), nullable=False),
        sa.Column("contact", sa.String(100), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("period_start", sa.String(7), nullable=False),
        sa.Column("period_end", sa.String(7), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        _now("issued_at"),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("revoked_reason", sa.Text, nullable=False),
        sa.Column("revoked_by", sa.String(100), nullable=True),
        _now("revoked_at", nullable=True),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "certificate_counters",
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("province", "year"),
    )
    op.create_table(
        "timebank_accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        _now("created_at"),
        sa.UniqueConstraint("division_code", "kind", "volunteer_id"),
    )
    op.create_table(
        "timebank_transactions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("record_id", sa.String(36), nullable=False, index=True),
        sa.Column("ratio", sa.Numeric(6, 3), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("request_key", sa.String(200), nullable=False, unique=True),
        _now("created_at"),
    )
    op.create_table(
        "timebank_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "transaction_id",
            sa.String(36),
            sa.ForeignKey("timebank_transactions.id"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("timebank_accounts.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, autoincrement=True, primary_key=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        _now("created_at"),
        _now("published_at", nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        _now("processed_at"),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
