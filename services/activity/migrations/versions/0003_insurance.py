"""Insurance cover of projects (issue 14, part 4) and the replica of the
tenant settings that say which service fields need it.

- ``insurance_covers``: insurer, policy number and period of a project's
  cover; a replaced cover stays as history (``replaced_at``), one current
  cover per project (a partial unique index). Row security by the
  project's division.
- ``policy_overrides``: each node's setting overrides as registration
  announced them; a node reads its ancestors' rows (inherited settings).

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

CURRENT = "replaced_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "insurance_covers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("insurer", sa.String(100), nullable=False),
        sa.Column("policy_number", sa.String(50), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("project_id", "division_code"):
        op.create_index(f"ix_insurance_covers_{column}", "insurance_covers", [column])
    op.create_index(
        "uq_insurance_covers_current",
        "insurance_covers",
        ["project_id"],
        unique=True,
        postgresql_where=sa.text(CURRENT),
        sqlite_where=sa.text(CURRENT),
    )
    op.create_table(
        "policy_overrides",
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("division_code"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    for table in ("insurance_covers", "policy_overrides"):
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    for stmt in scope_policy_sql("insurance_covers", "division_code"):
        op.execute(stmt)
    for stmt in scope_policy_sql(
        "policy_overrides", "division_code", read_ancestors=True
    ):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("policy_overrides")
    op.drop_table("insurance_covers")
