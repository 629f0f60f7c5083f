"""Service positions (志愿服务阵地, issue 14): ``positions``, one row per
guidance centre, street or town centre, village or community station and
base, under its division (row security as every tenant table; a name is
unique within its division); and ``registration_position_rollup``, the
positions counted by kind at every ancestor level and period, with its own
add function (``registration_rollup``'s columns and function signature are
fixed by revisions 0001 and 0004, which read the model's metric list).

Embedded SQLite: the tables only (no row security there).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role
from services.common.rollup import Rollup

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Written out, not taken from the models, which move on with later revisions.
ROLLUP = Rollup(
    "registration_position_rollup",
    [
        "positions_guidance_centre",
        "positions_street_centre",
        "positions_station",
        "positions_base",
    ],
)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)

    def at(name: str) -> sa.Column:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=False)

    op.create_table(
        "positions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("base_level", sa.String(10), nullable=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("address", sa.String(200), nullable=False, server_default=""),
        sa.Column("opening_hours", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(100), nullable=False),
        at("created_at"),
        sa.Column("updated_by", sa.String(100), nullable=False),
        at("updated_at"),
        sa.UniqueConstraint("division_code", "name", name="ux_positions_name"),
    )
    collate = ' COLLATE "C"' if pg else ""
    metrics = ", ".join(
        f"{m} double precision NOT NULL DEFAULT 0" for m in ROLLUP.metrics
    )
    t = ROLLUP.table_name
    op.execute(
        f"CREATE TABLE {t} (level smallint NOT NULL,"
        f" division_code varchar(12){collate} NOT NULL,"
        f" period varchar(7){collate} NOT NULL, {metrics},"
        f" CONSTRAINT {t}_pkey PRIMARY KEY (level, division_code, period))"
    )
    if not pg:
        return
    role = app_role()
    for table in ("positions", t):
        for stmt in scope_policy_sql(table, "division_code"):
            op.execute(stmt)
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON positions TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {role}")
    for stmt in ROLLUP.function_sql(role):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {ROLLUP.signature}")
    op.drop_table(ROLLUP.table_name)
    op.drop_table("positions")
