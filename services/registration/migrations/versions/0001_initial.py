"""Initial schema: divisions, settings, accounts, organisations, volunteers,
rollups, outbox; row-level security and the application role in PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import app_role_sql, scope_policy_sql
from services.common.migrations import app_role
from services.common.rollup_schema import initial_function_sql
from services.registration.models import ROLLUP  # its function SQL only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOGIN_LOOKUP = """
CREATE OR REPLACE FUNCTION registration_login_lookup(p_username text)
RETURNS TABLE (id varchar, password_hash varchar, display_name varchar,
               scope_code varchar, roles json, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT id, password_hash, display_name, scope_code, roles, active
  FROM accounts WHERE username = p_username
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    _create_tables()
    op.execute("INSERT INTO counters (name, value) VALUES ('volunteer_number', 0)")
    if bind.dialect.name != "postgresql":
        return
    role = app_role()
    for stmt in app_role_sql(role):
        op.execute(stmt)
    for table, column in INITIAL_TENANT_TABLES.items():
        for stmt in scope_policy_sql(table, column):
            op.execute(stmt)
    for stmt in scope_policy_sql(
        "tenant_settings", "division_code", read_ancestors=True
    ):
        op.execute(stmt)
    op.execute(LOGIN_LOOKUP)
    op.execute("REVOKE ALL ON FUNCTION registration_login_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registration_login_lookup(text) TO {role}")
    for stmt in initial_function_sql(ROLLUP, role):
        op.execute(stmt)


TABLES = [
    "divisions",
    "division_changes",
    "tenant_settings",
    "accounts",
    "counters",
    "organisations",
    "volunteers",
    "team_memberships",
    "activity_feed",
    "outbox",
    "processed_events",
    "registration_rollup",
]

# The tables of this revision, written out (not taken from the models, which
# move on with later revisions).
INITIAL_TENANT_TABLES = {
    "accounts": "scope_code",
    "organisations": "division_code",
    "volunteers": "home_division_code",
    "team_memberships": "division_code",
    "activity_feed": "division_code",
    "registration_rollup": "division_code",
}


def _create_tables() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("scope_code", sa.String(length=12), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(
        op.f("ix_accounts_scope_code"), "accounts", ["scope_code"], unique=False
    )
    op.create_table(
        "activity_feed",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_activity_feed_division_code"),
        "activity_feed",
        ["division_code"],
        unique=False,
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "division_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("old_name", sa.String(length=100), nullable=True),
        sa.Column("new_name", sa.String(length=100), nullable=True),
        sa.Column("successor_code", sa.String(length=12), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_division_changes_code"), "division_changes", ["code"], unique=False
    )
    op.create_table(
        "divisions",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("successor_code", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index(
        op.f("ix_divisions_parent_code"), "divisions", ["parent_code"], unique=False
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("service_fields", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("contact_phone_masked", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_organisations_division_code"),
        "organisations",
        ["division_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_organisations_parent_id"), "organisations", ["parent_id"], unique=False
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index(
        op.f("ix_outbox_published_at"), "outbox", ["published_at"], unique=False
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "registration_rollup",
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("volunteers_registered", sa.Float(), nullable=False),
        sa.Column("volunteers_verified", sa.Float(), nullable=False),
        sa.Column("volunteers_rejected", sa.Float(), nullable=False),
        sa.Column("organisations", sa.Float(), nullable=False),
        sa.Column("teams", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("division_code", "month"),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("division_code", "key"),
    )
    op.create_table(
        "volunteers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("volunteer_number", sa.String(length=20), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name_masked", sa.String(length=50), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_masked", sa.String(length=11), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("home_division_code", sa.String(length=12), nullable=False),
        sa.Column("service_fields", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=False),
        sa.Column("guardian_enc", sa.LargeBinary(), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column("registered_by", sa.String(length=100), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_hash"),
        sa.UniqueConstraint("request_id"),
        sa.UniqueConstraint("volunteer_number"),
    )
    op.create_index(
        op.f("ix_volunteers_home_division_code"),
        "volunteers",
        ["home_division_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_volunteers_status"), "volunteers", ["status"], unique=False
    )
    op.create_table(
        "team_memberships",
        sa.Column("volunteer_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "organisation_id"),
    )
    op.create_index(
        op.f("ix_team_memberships_division_code"),
        "team_memberships",
        ["division_code"],
        unique=False,
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS registration_login_lookup(text)")
        op.execute(f"DROP FUNCTION IF EXISTS {ROLLUP.function_name}")
    for table in reversed(TABLES):
        op.drop_table(table)
