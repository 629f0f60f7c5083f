"""Rollups per (level, division, period): month, calendar year and all
time rows at every level, read by an index range (services/common/rollup.py);
every scope policy becomes a range on the division code (indexable).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op

from services.common.migrations import app_role
from services.common.rollup_schema import rewrite_scope_policies, upgrade_rollup
from services.registration.models import ROLLUP  # its shape and function SQL

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rewrite_scope_policies(op)
    upgrade_rollup(op, ROLLUP, app_role())


def downgrade() -> None:
    raise NotImplementedError("0004 is one-way: restore from a backup instead")
