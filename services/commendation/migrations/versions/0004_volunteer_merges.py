"""Duplicate registrations merged (issue 14): ``commendation_merges``, per
merge what the survivor's rating took over from the merged record (its
approved hours and its hours per year), so that a revert takes exactly that
back. Under the survivor's home, row security as every tenant table.

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


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    at = sa.DateTime(timezone=True)
    op.create_table(
        "commendation_merges",
        sa.Column("merge_id", sa.String(36), primary_key=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("survivor_id", sa.String(36), nullable=False, index=True),
        sa.Column("merged_id", sa.String(36), nullable=False, index=True),
        sa.Column("hours_added", sa.Numeric(12, 2), nullable=False),
        # [[year, hours], ...] added to the survivor's years served.
        sa.Column("years", sa.JSON, nullable=False),
        sa.Column("merged_at", at, nullable=False),
        sa.Column("reverted_at", at, nullable=True),
    )
    if not pg:
        return
    role = app_role()
    for stmt in scope_policy_sql("commendation_merges", "division_code"):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON commendation_merges TO {role}")


def downgrade() -> None:
    op.drop_table("commendation_merges")
