"""Awards transferred in from another platform (issue 14, part 8): the
national record format's ``awards[]`` (docs/record-format.md), written by
``ImportAwards`` and listed by ``ListAwardsOf`` and the record export,
marked imported with the issuer.

- ``imported_awards``: one row per volunteer and source (issuer platform,
  kind, title and date, hashed into ``source_key``: the same award imported
  twice is one row). ``division_code`` is the volunteer's home at the
  import; row security by it, of the same (range) form as the ratings'.
  Imported awards never change star ratings: no star path reads them.

Embedded SQLite: the table only (no row security).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
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


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    op.create_table(
        "imported_awards",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("awarded_on", sa.Date, nullable=True),
        sa.Column("awarding_division_code", sa.String(12), nullable=False),
        sa.Column("issuer_platform", sa.String(50), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("volunteer_id", "source_key"),
    )
    if not pg:
        return
    for stmt in scope_policy_sql("imported_awards", "division_code"):
        op.execute(stmt)
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON imported_awards TO {app_role()}"
    )


def downgrade() -> None:
    op.drop_table("imported_awards")
