"""The national unified volunteer number (全国志愿者统一编号, MZ/T 061) kept
on the volunteer (issue 14, part 8): ``volunteers.national_volunteer_number``,
nullable, set by a record import (docs/record-format.md) when the file
carries it and the volunteer has none, shown by GetVolunteer and written by
the record export.

Neither ../shared/DOMAIN.md nor the record format doc gives the number's
layout, so the rule is conservative (services.registration.record_identity.
NATIONAL_NUMBER): ASCII letters and digits, 6 to 32 characters. Indexed,
not unique: the number is the national system's, and a merge may leave two
records of one person each holding it.

Row security: the column lies on ``volunteers``, whose policies already
cover it. Embedded SQLite: the same column and index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "volunteers",
        sa.Column("national_volunteer_number", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_volunteers_national_volunteer_number",
        "volunteers",
        ["national_volunteer_number"],
    )


def downgrade() -> None:
    op.drop_index("ix_volunteers_national_volunteer_number", "volunteers")
    with op.batch_alter_table("volunteers") as batch:  # SQLite too
        batch.drop_column("national_volunteer_number")
