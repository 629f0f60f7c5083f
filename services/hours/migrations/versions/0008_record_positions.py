"""Hour records name the service position (志愿服务阵地, issue 14) where the
service happened: ``hour_records.position_id`` (nullable: registration's
position id, checked there as the caller when an office records hours), and
``hours_position_rollup``, the approved hours served at positions
(``position_hours``) at every ancestor level and period, with its own add
function (``hours_rollup``'s columns and function signature are fixed by
revisions 0001 and 0002, which read the model's metric list).

Adding a nullable column without a default changes the catalogue only (no
table rewrite), on the partitions too.

Embedded SQLite: the column and the table (no row security there).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role
from services.common.rollup import Rollup

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Written out, not taken from the models, which move on with later revisions.
ROLLUP = Rollup("hours_position_rollup", ["position_hours"])


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "hour_records", sa.Column("position_id", sa.String(36), nullable=True)
    )
    collate = ' COLLATE "C"' if pg else ""
    t = ROLLUP.table_name
    metrics = ", ".join(
        f"{m} double precision NOT NULL DEFAULT 0" for m in ROLLUP.metrics
    )
    op.execute(
        f"CREATE TABLE {t} (level smallint NOT NULL,"
        f" division_code varchar(12){collate} NOT NULL,"
        f" period varchar(7){collate} NOT NULL, {metrics},"
        f" CONSTRAINT {t}_pkey PRIMARY KEY (level, division_code, period))"
    )
    if not pg:
        return
    role = app_role()
    for stmt in scope_policy_sql(t, "division_code"):
        op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {role}")
    for stmt in ROLLUP.function_sql(role):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {ROLLUP.signature}")
    op.drop_table(ROLLUP.table_name)
    op.drop_column("hour_records", "position_id")
