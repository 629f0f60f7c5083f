"""A volunteer's conduct record from hours' events (issue 14, part 2):

- ``evaluation_facts``: the current evaluation of each hour record, with
  whether it was poor and what the policy in force blocked then;
- ``complaint_facts``: each complaint's latest status;
- ``star_ratings.held_reason``: why no request opens for the tier the
  hours reach (a poor evaluation under a policy that blocks stars).

Both tables lie under the volunteer's home division, as the ratings do,
with row security of the same (range) form. Embedded SQLite: the tables
and the column only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("evaluation_facts", "complaint_facts")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    at = sa.DateTime(timezone=True)
    op.add_column(
        "star_ratings",
        sa.Column("held_reason", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "evaluation_facts",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("record_division_code", sa.String(12), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("poor", sa.Boolean, nullable=False),
        sa.Column("poor_blocks", sa.JSON, nullable=False),
        sa.Column("replaced", sa.Integer, nullable=False),
        sa.Column("evaluated_at", at, nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="evaluation_facts_score"),
    )
    op.create_table(
        "complaint_facts",
        sa.Column("complaint_id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("filed_at_code", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("changed_at", at, nullable=False),
    )
    if not pg:
        return
    role = app_role()
    for table in TABLES:
        for stmt in scope_policy_sql(table, "division_code"):
            op.execute(stmt)
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table("star_ratings") as batch:  # SQLite too
        batch.drop_column("held_reason")
