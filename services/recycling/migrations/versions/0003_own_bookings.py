"""A resident's own bookings (issue 13): who booked and what they expect.

- ``bookings.booker_volunteer_id``: the volunteer's own account that made
  the booking (its token's ``vol`` claim), ``''`` for an office's booking
  and for the bookings made before; the resident's own pages list and read
  by it (indexed), inside the home scope the token carries.
- ``bookings.estimated_kg``: the resident's estimate of the weight, 0 when
  none was given.

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


def upgrade() -> None:
    op.add_column(
        "bookings",
        sa.Column(
            "booker_volunteer_id", sa.String(36), nullable=False, server_default=""
        ),
    )
    op.add_column(
        "bookings",
        sa.Column(
            "estimated_kg", sa.Numeric(10, 1), nullable=False, server_default="0"
        ),
    )
    op.create_index(
        "ix_bookings_booker_volunteer_id", "bookings", ["booker_volunteer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_booker_volunteer_id", table_name="bookings")
    op.drop_column("bookings", "estimated_kg")
    op.drop_column("bookings", "booker_volunteer_id")
