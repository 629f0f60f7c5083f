"""Special campaigns (专项行动, issue 14 part 7): a province or city publishes
a campaign for a window (寒冬送温暖, mid-November to 25 March) aimed at
target groups; projects, pairing visits and recycling's drives and pickups
are tagged to it; its figures are summed across the publisher's subtree.

- ``campaigns``: row security lets a node read its ancestors' campaigns
  (a province's campaign is shared down its whole subtree, like a course on
  a parent's menu) as well as its subtree's; writes stay inside the
  writer's subtree, and the use case lets only the publisher edit.
- ``projects.campaign_id`` and ``visits.campaign_id`` (NULL: untagged).
- ``campaign_deliveries``: recycling's tagged drives (items delivered) and
  collected pickups (kg), one row per source fact, kept from recycling's
  events (``recycling.drive.recorded``, ``recycling.booking.collected``);
  row security by the fact's division.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("campaigns", "campaign_deliveries")


def _str(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=False)


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        _str("id", 36),
        _str("division_code", 12),
        _str("title", 100),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        _str("created_by", 100),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaigns_division_code", "campaigns", ["division_code"])
    for table in ("projects", "visits"):
        op.add_column(table, sa.Column("campaign_id", sa.String(36), nullable=True))
        op.create_index(f"ix_{table}_campaign_id", table, ["campaign_id"])
    op.create_table(
        "campaign_deliveries",
        _str("id", 60),  # "drive:<id>" or "booking:<id>"
        _str("campaign_id", 36),
        _str("division_code", 12),
        _str("source", 10),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("kg", sa.Numeric(10, 1), nullable=False),
        _at("recorded_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("campaign_id", "division_code"):
        op.create_index(
            f"ix_campaign_deliveries_{column}", "campaign_deliveries", [column]
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    for stmt in scope_policy_sql("campaigns", "division_code", read_ancestors=True):
        op.execute(stmt)
    for stmt in scope_policy_sql("campaign_deliveries", "division_code"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("campaign_deliveries")
    for table in ("visits", "projects"):
        op.drop_index(f"ix_{table}_campaign_id", table_name=table)
        op.drop_column(table, "campaign_id")
    op.drop_table("campaigns")
