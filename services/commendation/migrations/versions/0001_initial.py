"""Initial schema: the settings and volunteer replicas, star ratings and
requests, bars, award rounds, nominations with their review steps and
objections, rollups, outbox; row-level security, the application role and
the one cross-tenant lookup in PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.commendation.models import ROLLUP  # its function SQL only
from services.common.db import app_role_sql, scope_policy_sql
from services.common.migrations import app_role, create_event_tables_v1
from services.common.rollup_schema import initial_function_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out: the columns of this revision, not the models' moving list.
METRICS = [
    *(f"stars_{n}" for n in range(1, 6)),
    "star_approvals",
    "nominations",
    "awards",
    *(f"awards_{c}" for c in ("individual", "collective", "project", "station")),
]
TENANT_TABLES = {
    "volunteers": "division_code",
    "star_ratings": "division_code",
    "service_years": "division_code",
    "star_requests": "division_code",
    "star_changes": "division_code",
    "bars": "division_code",
    "nominations": "division_code",
    "review_steps": "division_code",
    "objections": "division_code",
    "commendation_rollup": "division_code",
}
# Nodes read their ancestors' rows: inherited settings, and the rounds
# opened above them that they nominate into.
ANCESTOR_READABLE = ("policy_overrides", "award_rounds")
# The worker learns of hours where they were served; stars belong to the
# volunteer's home division, which only the replica knows.
FUNCTIONS = {
    "commendation_home_of(text)": """
CREATE OR REPLACE FUNCTION commendation_home_of(p_volunteer text)
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT division_code FROM volunteers WHERE id = p_volunteer
$$""",
}
TABLES = [
    "policy_overrides",
    "volunteers",
    "star_ratings",
    "service_years",
    "star_requests",
    "star_changes",
    "bars",
    "award_rounds",
    "nominations",
    "review_steps",
    "objections",
    "commendation_rollup",
    "outbox",
    "processed_events",
]


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
    for table in ANCESTOR_READABLE:
        for stmt in scope_policy_sql(table, "division_code", read_ancestors=True):
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


def _code(name: str = "division_code") -> sa.Column:
    return sa.Column(name, sa.String(12), nullable=False, index=True)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=False)


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False)


def _hours(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def _create_tables() -> None:
    op.create_table(
        "policy_overrides",
        sa.Column("division_code", sa.String(12), primary_key=True),
        sa.Column("overrides", sa.JSON, nullable=False),
        _at("changed_at"),
    )
    op.create_table(
        "volunteers",
        sa.Column("id", sa.String(36), primary_key=True),
        _str("volunteer_number", 20),
        _code(),
        _str("status", 12),
        _at("changed_at"),
    )
    op.create_table(
        "star_ratings",
        sa.Column("volunteer_id", sa.String(36), primary_key=True),
        _str("volunteer_number", 20),
        _code(),
        _hours("total_hours"),
        _at("total_as_of"),
        _int("stars"),
        _int("eligible_stars"),
        _int("continuous_years"),
        _at("updated_at"),
    )
    op.create_table(
        "service_years",
        sa.Column("volunteer_id", sa.String(36), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        _code(),
        _hours("hours"),
    )
    op.create_table(
        "star_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        _str("volunteer_number", 20),
        _code(),
        _int("stars"),
        _str("approval_level", 10),
        _code("approving_code"),
        _hours("hours_at_request"),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        _text("reason"),
        _at("created_at"),
        _str("decided_by", 100),
        _at("decided_at", nullable=True),
    )
    op.create_table(
        "star_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        _code(),
        _int("from_stars"),
        _int("to_stars"),
        _str("kind", 24),
        _text("reason"),
        _str("actor", 100),
        _at("changed_at"),
    )
    op.create_table(
        "bars",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        _str("volunteer_number", 20),
        _code(),
        _int("years"),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        _text("reason"),
        _str("organisation_id", 36),
        _str("organisation_name", 200),
        _str("created_by", 100),
        _at("created_at"),
    )
    op.create_table(
        "award_rounds",
        sa.Column("id", sa.String(36), primary_key=True),
        _code(),
        _str("title", 200),
        _int("year"),
        sa.Column("categories", sa.JSON, nullable=False),
        _int("quota_per_child"),
        sa.Column("deadline", sa.Date, nullable=False),
        _int("notice_working_days"),
        _str("status", 10),
        sa.Column("notice_starts_on", sa.Date, nullable=True),
        sa.Column("notice_ends_on", sa.Date, nullable=True),
        _str("created_by", 100),
        _at("created_at"),
        _at("finalized_at", nullable=True),
    )
    op.create_table(
        "nominations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "round_id",
            sa.String(36),
            sa.ForeignKey("award_rounds.id"),
            nullable=False,
            index=True,
        ),
        _str("round_division_code", 12),
        _str("category", 40),
        _code(),
        _str("unit_organisation_id", 36),
        _str("unit_name", 200),
        _code("child_code"),
        sa.Column("nominee_volunteer_id", sa.String(36), nullable=False, index=True),
        _str("nominee_name", 200),
        _str("nominee_division_code", 12),
        _text("statement"),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        _text("status_reason"),
        sa.Column("stage_codes", sa.JSON, nullable=False),
        _int("stage_index"),
        sa.Column("current_stage", sa.String(12), nullable=False, index=True),
        sa.Column("at_round_level", sa.Boolean, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("signals", sa.JSON, nullable=False),
        _str("nominated_by", 100),
        _str("nominated_by_subject", 100),
        _str("nominated_by_scope", 12),
        _str("request_id", 100),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("nominated_by", "request_id"),
    )
    op.create_table(
        "review_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "nomination_id",
            sa.String(36),
            sa.ForeignKey("nominations.id"),
            nullable=False,
            index=True,
        ),
        _code(),
        _str("stage_code", 12),
        _str("decision", 10),
        _text("comment"),
        _str("reviewer", 100),
        _str("reviewer_subject", 100),
        _at("decided_at"),
    )
    op.create_table(
        "objections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "nomination_id",
            sa.String(36),
            sa.ForeignKey("nominations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("round_id", sa.String(36), nullable=False, index=True),
        _code(),
        _text("content"),
        _str("status", 10),
        _text("resolution"),
        _str("filed_by", 100),
        _at("filed_at"),
        _str("resolved_by", 100),
        _at("resolved_at", nullable=True),
    )
    op.create_table(
        "commendation_rollup",
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        *[sa.Column(m, sa.Float, nullable=False) for m in METRICS],
        sa.PrimaryKeyConstraint("division_code", "month"),
    )
    create_event_tables_v1()
