"""A partial index of pending hour records by volunteer.

The bulk import checks a chunk's rows against every record of its
volunteers, in every province. Approved records are found through presence
(which provinces a volunteer has hours in); pending ones (a check-out or an
entry awaiting review) have no such trace, and without this index finding
them in other provinces would scan every partition per chunk. Pending
records are few at any time, so the index is small.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_hour_records_pending_volunteer",
        "hour_records",
        ["volunteer_id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_hour_records_pending_volunteer", table_name="hour_records")
