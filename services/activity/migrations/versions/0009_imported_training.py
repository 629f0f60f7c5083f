"""Training transferred in from another platform (issue 14, part 8): the
national record format's ``training[]`` (docs/record-format.md), written by
``ImportTraining`` and listed beside local training by ``ListTrainingOf``
(certificates) and the record export, marked imported with the issuer.

- ``imported_training``: one row per volunteer and source (the issuer
  platform and its session id, hashed into ``source_key``: the same record
  imported twice is one row). ``division_code`` is the volunteer's home at
  the import; row security by it, as activity's other tables. Training
  hours, never service hours: nothing here is announced to hours.

Embedded SQLite: the table only (no row security).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    op.create_table(
        "imported_training",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False, index=True),
        sa.Column("course_title", sa.String(100), nullable=False),
        sa.Column("started_at", at, nullable=True),
        sa.Column("ended_at", at, nullable=True),
        sa.Column("hours", sa.Numeric(5, 2), nullable=False),
        sa.Column("issuer_platform", sa.String(50), nullable=False),
        sa.Column("source_session_id", sa.String(100), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("imported_at", at, nullable=False),
        sa.UniqueConstraint("volunteer_id", "source_key"),
        sa.CheckConstraint("hours > 0 AND hours <= 24", name="imported_training_hours"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON imported_training TO {app_role()}"
    )
    for stmt in scope_policy_sql("imported_training", "division_code"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("imported_training")
