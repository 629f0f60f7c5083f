"""Evaluations (评价) of hour records and complaints (投诉) about volunteers.

- ``hour_evaluations``: the organiser's 1-5 rating of an approved record,
  under the record's division, with whether it was poor under the tenant
  policy in force when it was made. A replacement keeps the old row with
  ``superseded_at`` set (the audit); one current row per record.
- ``hour_complaints``: a complaint about a volunteer, under the division of
  the office that filed it, with the volunteer's reply and the outcome.
- A volunteer's own reads and its reply cross tenants (the rows lie under
  the record's or the office's division, outside the volunteer's home
  scope): ``SECURITY DEFINER`` functions keyed by the volunteer id the
  token names, as migration 0004's are.

Embedded SQLite: the tables only (no row security there).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CURRENT = sa.text("superseded_at IS NULL")
FUNCTIONS = {
    "hours_own_evaluations(text, text[])": """
CREATE OR REPLACE FUNCTION hours_own_evaluations(p_volunteer text, p_records text[])
RETURNS SETOF hour_evaluations LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT * FROM hour_evaluations
  WHERE volunteer_id = p_volunteer AND record_id = ANY(p_records)
    AND superseded_at IS NULL
$$""",
    "hours_own_complaints(text)": """
CREATE OR REPLACE FUNCTION hours_own_complaints(p_volunteer text)
RETURNS SETOF hour_complaints LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT * FROM hour_complaints WHERE volunteer_id = p_volunteer
$$""",
    "hours_own_complaint_reply(text, text, text, timestamptz)": """
CREATE OR REPLACE FUNCTION hours_own_complaint_reply(
  p_id text, p_volunteer text, p_reply text, p_at timestamptz)
RETURNS SETOF hour_complaints LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
  UPDATE hour_complaints SET reply = p_reply, replied_at = p_at,
    status = 'replied'
  WHERE id = p_id AND volunteer_id = p_volunteer AND status = 'open'
  RETURNING *
$$""",
}


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    op.create_table(
        "hour_evaluations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False, index=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("poor", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("evaluator_scope", sa.String(12), nullable=False),
        sa.Column("evaluated_by", sa.String(100), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced", sa.Integer, nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="hour_evaluations_score"),
        # Records are keyed by (id, division) in PostgreSQL (migration 0002).
        sa.ForeignKeyConstraint(
            ["record_id", "division_code"] if pg else ["record_id"],
            ["hour_records.id", "hour_records.division_code"]
            if pg
            else ["hour_records.id"],
            name="hour_evaluations_record_fkey",
        ),
    )
    op.create_index(
        "ux_hour_evaluations_current",
        "hour_evaluations",
        ["record_id"],
        unique=True,
        postgresql_where=CURRENT,
        sqlite_where=CURRENT,
    )
    op.create_table(
        "hour_complaints",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text, nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    if not pg:
        return
    role = app_role()
    for table in ("hour_evaluations", "hour_complaints"):
        for stmt in scope_policy_sql(table, "division_code"):
            op.execute(stmt)
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {role}")
    for signature, body in FUNCTIONS.items():
        op.execute(body)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_table("hour_complaints")
    op.drop_table("hour_evaluations")
