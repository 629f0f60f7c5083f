"""Campaign tags (issue 14 part 7): a donation drive and a collected pickup
may name the special campaign (专项行动) they serve, a campaign activity
publishes and recycling checks over gRPC as the caller (visible, the day
inside its window). ``''`` for untagged rows and every row made before.
Activity counts the tagged facts from recycling's events.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("drives", "bookings")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("campaign_id", sa.String(36), nullable=False, server_default=""),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "campaign_id")
