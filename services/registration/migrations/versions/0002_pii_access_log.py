"""Personal-data access log: every reveal of a volunteer's real name.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pii_access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_scope", sa.String(12), nullable=False),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("fields", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("accessed_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    op.execute(f"GRANT SELECT, INSERT ON pii_access_log TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE pii_access_log_id_seq TO {role}")
    for stmt in scope_policy_sql("pii_access_log", "division_code"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("pii_access_log")
