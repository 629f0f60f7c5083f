"""The issuer's seal image on certificates (the 2015 guidance's 公章).

``certificate_seals``: one image a node and organisation (organisation_id
'' is the office's own), sealed with the PII cipher like certificates'
PDFs. Row security as every tenant table, except that a node also reads
its ancestors' rows (a certificate issued in a township carries its
county office's seal), never writes them.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    op.create_table(
        "certificate_seals",
        sa.Column("division_code", code, primary_key=True),
        sa.Column("organisation_id", sa.String(36), primary_key=True),
        sa.Column("media_type", sa.String(20), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    if not pg:
        return
    for stmt in scope_policy_sql(
        "certificate_seals", "division_code", read_ancestors=True
    ):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON certificate_seals TO {app_role()}")


def downgrade() -> None:
    op.drop_table("certificate_seals")
