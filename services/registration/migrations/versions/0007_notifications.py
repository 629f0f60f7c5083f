"""A volunteer's inbox (issue 13): ``notifications``, one per event that
concerns the volunteer (unique with the volunteer: exactly once), under the
volunteer's home division (row security as every tenant table), and
``notification_deliveries``, the outbox of what would be sent by SMS or
WeChat (``pending`` / ``no_adapter``).

The worker finds the home division of an event's volunteer before it knows
the scope to write under, through ``registration_volunteer_home`` (SECURITY
DEFINER, as the login look-ups: it returns one division code, nothing
personal).

Embedded SQLite: the tables only (no row security there).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

HOME = """
CREATE FUNCTION registration_volunteer_home(p_volunteer text)
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT home_division_code FROM volunteers WHERE id = p_volunteer
$$
"""


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)

    def at(name: str, nullable: bool = False) -> sa.Column:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)

    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("body_zh", sa.Text, nullable=False),
        sa.Column("body_en", sa.Text, nullable=False),
        at("created_at"),
        at("read_at", nullable=True),
        sa.UniqueConstraint(
            "volunteer_id", "event_id", name="ux_notifications_volunteer_event"
        ),
    )
    op.create_index(
        "ix_notifications_volunteer_created",
        "notifications",
        ["volunteer_id", "created_at"],
    )
    op.create_table(
        "notification_deliveries",
        sa.Column(
            "notification_id",
            sa.String(36),
            sa.ForeignKey("notifications.id"),
            primary_key=True,
        ),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        at("created_at"),
    )
    if not pg:
        return
    role = app_role()
    for table in ("notifications", "notification_deliveries"):
        for stmt in scope_policy_sql(table, "division_code"):
            op.execute(stmt)
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    op.execute(HOME)
    op.execute("REVOKE ALL ON FUNCTION registration_volunteer_home(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registration_volunteer_home(text) TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS registration_volunteer_home(text)")
    op.drop_table("notification_deliveries")
    op.drop_table("notifications")
