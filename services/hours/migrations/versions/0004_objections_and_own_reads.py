"""Objections to hour records, and a volunteer's own reads across tenants.

- ``hour_objections``: a volunteer's correction request on one of its
  records, kept under the record's division (that office's queue, row
  security as every tenant table); at most one open per record.
- A volunteer's records serve wherever the service was done, outside the
  home scope its token carries. The volunteer's own pages read them through
  ``SECURITY DEFINER`` functions keyed by the volunteer id the token names
  (as migration 0001's cross-tenant questions do), never through a wider
  scope: the records and their corrections, the objections and the filing
  of one, the certificates issued to the volunteer, and the time-bank
  balance in every bank.

Embedded SQLite: the table only (no row security there).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
# A certificate's columns but its PDF (a list never needs the document).
CERTIFICATE_COLUMNS = (
    "number, volunteer_id, volunteer_number, name_masked, id_type,"
    " id_number_masked, hours, service_content, issuer_name, person_in_charge,"
    " handler, contact, division_code, organisation_id, period_start,"
    " period_end, issued_on, issued_by, issued_at, status, revoked_reason,"
    " revoked_by, revoked_at"
)
FUNCTIONS = {
    "hours_own_records(text)": """
CREATE OR REPLACE FUNCTION hours_own_records(p_volunteer text)
RETURNS SETOF hour_records LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT * FROM hour_records WHERE volunteer_id = p_volunteer
$$""",
    "hours_own_corrections(text, text[])": """
CREATE OR REPLACE FUNCTION hours_own_corrections(p_volunteer text, p_records text[])
RETURNS SETOF hour_corrections LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT c.* FROM hour_corrections c JOIN hour_records r
    ON r.id = c.record_id AND r.division_code = c.division_code
  WHERE r.volunteer_id = p_volunteer AND c.record_id = ANY(p_records)
$$""",
    "hours_own_objections(text)": """
CREATE OR REPLACE FUNCTION hours_own_objections(p_volunteer text)
RETURNS SETOF hour_objections LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT * FROM hour_objections WHERE volunteer_id = p_volunteer
$$""",
    "hours_own_objection_file(text, text, text, text, timestamptz)": """
CREATE OR REPLACE FUNCTION hours_own_objection_file(
  p_id text, p_volunteer text, p_record text, p_reason text, p_at timestamptz)
RETURNS SETOF hour_objections LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
  INSERT INTO hour_objections (id, record_id, division_code, volunteer_id,
    volunteer_number, reason, status, filed_at, resolution_note)
  SELECT p_id, r.id, r.division_code, r.volunteer_id, r.volunteer_number,
    p_reason, 'open', p_at, ''
  FROM hour_records r WHERE r.id = p_record AND r.volunteer_id = p_volunteer
  RETURNING *
$$""",
    "hours_own_certificates(text, text)": f"""
CREATE OR REPLACE FUNCTION hours_own_certificates(p_volunteer text, p_number text)
RETURNS SETOF certificates LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT {CERTIFICATE_COLUMNS},
    CASE WHEN p_number = '' THEN ''::bytea ELSE pdf END
  FROM certificates
  WHERE volunteer_id = p_volunteer AND (p_number = '' OR number = p_number)
$$""",
    "hours_own_bank_balance(text)": """
CREATE OR REPLACE FUNCTION hours_own_bank_balance(p_volunteer text)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT coalesce(sum(e.amount), 0) FROM timebank_entries e
  JOIN timebank_accounts a ON a.id = e.account_id
  WHERE a.kind = 'volunteer' AND a.volunteer_id = p_volunteer
$$""",
}


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    op.create_table(
        "hour_objections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False, index=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text, nullable=False),
        sa.Column("correction_id", sa.String(36), nullable=True),
        # Records are keyed by (id, division) in PostgreSQL (migration 0002).
        sa.ForeignKeyConstraint(
            ["record_id", "division_code"] if pg else ["record_id"],
            ["hour_records.id", "hour_records.division_code"]
            if pg
            else ["hour_records.id"],
            name="hour_objections_record_fkey",
        ),
    )
    op.create_index(
        "ux_hour_objections_open",
        "hour_objections",
        ["record_id"],
        unique=True,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    if not pg:
        return
    role = app_role()
    for stmt in scope_policy_sql("hour_objections", "division_code"):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON hour_objections TO {role}")
    for signature, body in FUNCTIONS.items():
        op.execute(body)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_table("hour_objections")
