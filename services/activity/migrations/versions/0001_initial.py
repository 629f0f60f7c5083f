"""Initial schema: replicas of registration's organisations and volunteers,
projects, sessions, sign-ups, attendances, recipients, pairs, visits,
rollups, outbox; row-level security and the application role in PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from services.activity.models import ROLLUP  # its function SQL only
from services.common.db import app_role_sql, scope_policy_sql
from services.common.migrations import app_role
from services.common.rollup_schema import initial_function_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The tables of this revision and the column row security keys them by,
# written out (not taken from the models, which move on with later revisions).
TENANT_TABLES = {
    "organisations": "division_code",
    "volunteers": "home_division_code",
    "projects": "division_code",
    "sessions": "division_code",
    "sign_ups": "division_code",
    "attendances": "division_code",
    "recipients": "division_code",
    "pairs": "division_code",
    "visits": "division_code",
    "activity_rollup": "division_code",
}
SCOPE = "current_setting('zhiyuan.scope', true)"
ACTIVE = "status IN ('pending', 'confirmed', 'waitlisted')"


def emergency_read_sql(table: str) -> str:
    """Emergency campaigns are readable from every node below them (the
    kernel's policies only look down the tree)."""
    return (
        f"CREATE POLICY {table}_read_emergency ON {table} FOR SELECT USING "
        f"(emergency AND coalesce({SCOPE}, '') <> '' "
        f"AND {SCOPE} LIKE division_code || '%')"
    )


def volunteer_read_sql(table: str) -> str:
    """A sign-up or attendance is also readable by the volunteer's home
    tenant: the kernel's read policy, keyed by the second column."""
    (read,) = [
        s for s in scope_policy_sql(table, "volunteer_division_code") if "_read ON" in s
    ]
    return read.replace(f"POLICY {table}_read ", f"POLICY {table}_read_volunteer ")


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
    for table in ("projects", "sessions"):
        op.execute(emergency_read_sql(table))
    for table in ("sign_ups", "attendances"):
        op.execute(volunteer_read_sql(table))
    for stmt in initial_function_sql(ROLLUP, role):
        op.execute(stmt)


def _id() -> sa.Column:
    return sa.Column("id", sa.String(length=36), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _code(name: str = "division_code") -> sa.Column:
    return sa.Column(name, sa.String(length=12), nullable=False)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def _create_tables() -> None:
    op.create_table(
        "organisations",
        _id(),
        _str("name", 200),
        _str("kind", 20),
        _code(),
        _str("parent_id", 36, nullable=True),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("organisations", "division_code")
    op.create_table(
        "volunteers",
        _id(),
        _str("volunteer_number", 20),
        _code("home_division_code"),
        _str("status", 10),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("service_fields", sa.JSON(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("volunteers", "home_division_code")
    op.create_table(
        "projects",
        _id(),
        _str("organisation_id", 36),
        _str("organisation_name", 200),
        _code(),
        _str("title", 100),
        sa.Column("description", sa.Text(), nullable=False),
        _str("place", 200),
        _str("service_field", 32),
        _str("kind", 10),
        _at("recruit_starts_at"),
        _at("recruit_ends_at"),
        sa.Column("min_age", sa.Integer(), nullable=False),
        sa.Column("required_skills", sa.JSON(), nullable=False),
        sa.Column("leader_approval", sa.Boolean(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        _str("status", 12),
        _str("publisher_subject", 100),
        _str("publisher_name", 100),
        _str("reviewer_name", 100, nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("published_at", nullable=True),
        _at("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("projects", "organisation_id", "division_code", "status")
    op.create_table(
        "sessions",
        _id(),
        _str("project_id", 36),
        _code(),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        _at("starts_at"),
        _at("ends_at"),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("sessions", "project_id", "division_code")
    op.create_table(
        "sign_ups",
        _id(),
        _str("session_id", 36),
        _str("project_id", 36),
        _code(),
        _str("volunteer_id", 36),
        _str("volunteer_number", 20),
        _code("volunteer_division_code"),
        _str("status", 12),
        sa.Column("queue_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _str("created_by", 100),
        _at("created_at"),
        _at("decided_at", nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index(
        "sign_ups",
        "session_id",
        "project_id",
        "division_code",
        "volunteer_id",
        "volunteer_division_code",
    )
    op.create_index(
        "uq_sign_ups_active",
        "sign_ups",
        ["session_id", "volunteer_id"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    op.create_table(
        "attendances",
        _id(),
        _str("session_id", 36),
        _str("project_id", 36),
        _str("sign_up_id", 36),
        _code(),
        _str("volunteer_id", 36),
        _str("volunteer_number", 20),
        _code("volunteer_division_code"),
        _at("checked_in_at"),
        _at("checked_out_at", nullable=True),
        _str("closed_by", 10, nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.ForeignKeyConstraint(["sign_up_id"], ["sign_ups.id"]),
        sa.PrimaryKeyConstraint("id"),
        # Once per volunteer and session: checking in twice is refused.
        sa.UniqueConstraint("session_id", "volunteer_id"),
    )
    _index(
        "attendances", "session_id", "project_id", "division_code",
        "volunteer_division_code",
    )  # fmt: skip
    op.create_table(
        "recipients",
        _id(),
        _code(),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        _str("name_masked", 50),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        _str("phone_masked", 11),
        sa.Column("address_enc", sa.LargeBinary(), nullable=False),
        _str("address_masked", 20),
        _str("pairing_mode", 12),
        sa.Column("needs", sa.Text(), nullable=False),
        _at("consent_at"),
        _str("consent_recorded_by", 100),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("recipients", "division_code")
    op.create_table(
        "pairs",
        _id(),
        _str("recipient_id", 36),
        _str("volunteer_id", 36),
        _str("volunteer_number", 20),
        _str("organisation_id", 36),
        _str("organisation_name", 200),
        _code(),
        _str("created_by", 100),
        _at("created_at"),
        sa.ForeignKeyConstraint(["recipient_id"], ["recipients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "volunteer_id"),
    )
    _index("pairs", "recipient_id", "division_code")
    op.create_table(
        "visits",
        _id(),
        _str("pair_id", 36),
        _str("recipient_id", 36),
        _str("volunteer_id", 36),
        _str("volunteer_number", 20),
        _code(),
        _at("started_at"),
        _at("ended_at"),
        sa.Column("note", sa.Text(), nullable=False),
        _str("logged_by", 100),
        _at("created_at"),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("visits", "pair_id", "division_code")
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        _id(),
        _str("event_type", 120),
        _code(),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        _at("created_at"),
        _at("published_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    _index("outbox", "published_at")
    op.create_table(
        "processed_events",
        _str("consumer", 120),
        _str("event_id", 36),
        _at("processed_at"),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "activity_rollup",
        _code(),
        _str("month", 7),
        *[sa.Column(m, sa.Float(), nullable=False) for m in ROLLUP_METRICS],
        sa.PrimaryKeyConstraint("division_code", "month"),
    )


ROLLUP_METRICS = [
    "projects_published",
    "sessions",
    "signups",
    "attendances",
    "recipients",
    "pairs",
    "visits",
]

TABLES = [
    "organisations",
    "volunteers",
    "projects",
    "sessions",
    "sign_ups",
    "attendances",
    "recipients",
    "pairs",
    "visits",
    "outbox",
    "processed_events",
    "activity_rollup",
]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {ROLLUP.function_name}")
    for table in reversed(TABLES):
        op.drop_table(table)
