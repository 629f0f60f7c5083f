"""Projects name the service position (志愿服务阵地, issue 14) where they
serve: ``projects.position_id`` (nullable: registration's position id,
checked there as the caller when a project is drafted or edited).

Adding a nullable column without a default changes the catalogue only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("position_id", sa.String(36), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "position_id")
