"""Duplicate registrations merged (issue 14, part 1): ``volunteer_merges``,
one row per merge (the audit record: both volunteers, their numbers and
homes at the merge, the reason, who merged and when, who reverted it and
when) with what the merge moved, so a revert undoes exactly that; and
``volunteers.merged_into_id``, the survivor a merged record points at.

Why duplicates exist although ``volunteers.id_hash`` is unique: the same ID
number cannot be registered twice (the key refuses the second, imported or
self-registered), so a duplicate is one person under two ID numbers: a
number mistyped at import that still passes the GB 11643 check, or a number
re-issued by the public security bureau (重号/错号更正). An office finds them
by the person (name, birth date, phone), not by the blind index.

Row security: a merge row is read and updated by an office whose scope holds
either volunteer's home, inserted only where the scope holds both homes (the
use case asks for both on a revert, too).

Embedded SQLite: the table and column only (no row security).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import app_role

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _inside(column: str) -> str:
    # The same range test as services.common.db.scope_policy_sql.
    return (
        "coalesce(current_setting('zhiyuan.scope', true), '') <> '' AND "
        f"{column} COLLATE \"C\" >= current_setting('zhiyuan.scope', true) AND "
        f"{column} COLLATE \"C\" < current_setting('zhiyuan.scope', true) || '~'"
    )


SURVIVOR = _inside("survivor_division_code")
MERGED = _inside("merged_division_code")
EITHER = f"(({SURVIVOR}) OR ({MERGED}))"
BOTH = f"(({SURVIVOR}) AND ({MERGED}))"


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)

    def at(name: str, nullable: bool = False) -> sa.Column:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)

    op.add_column(
        "volunteers", sa.Column("merged_into_id", sa.String(36), nullable=True)
    )
    op.create_table(
        "volunteer_merges",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("survivor_id", sa.String(36), nullable=False, index=True),
        sa.Column("merged_id", sa.String(36), nullable=False, index=True),
        sa.Column("survivor_number", sa.String(20), nullable=False),
        sa.Column("merged_number", sa.String(20), nullable=False),
        sa.Column("survivor_division_code", code, nullable=False, index=True),
        sa.Column("merged_division_code", code, nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        at("created_at"),
        sa.Column("reverted_by", sa.String(100), nullable=True),
        at("reverted_at", nullable=True),
        # What the merge changed, to undo exactly that: the merged record's
        # status before, the memberships moved (organisation ids), the
        # accounts moved (id -> scope before) or deactivated (ids).
        sa.Column("merged_status", sa.String(10), nullable=False),
        sa.Column("moved_memberships", sa.JSON, nullable=False),
        sa.Column("moved_accounts", sa.JSON, nullable=False),
        sa.Column("deactivated_accounts", sa.JSON, nullable=False),
    )
    # A record is merged away at most once at a time.
    op.create_index(
        "ux_volunteer_merges_one_live",
        "volunteer_merges",
        ["merged_id"],
        unique=True,
        postgresql_where=sa.text("reverted_at IS NULL"),
        sqlite_where=sa.text("reverted_at IS NULL"),
    )
    if not pg:
        return
    role = app_role()
    for stmt in (
        "ALTER TABLE volunteer_merges ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY volunteer_merges_read ON volunteer_merges FOR SELECT "
        f"USING ({EITHER})",
        "CREATE POLICY volunteer_merges_insert ON volunteer_merges FOR INSERT "
        f"WITH CHECK ({BOTH})",
        "CREATE POLICY volunteer_merges_update ON volunteer_merges FOR UPDATE "
        f"USING ({BOTH}) WITH CHECK ({BOTH})",
        f"GRANT SELECT, INSERT, UPDATE ON volunteer_merges TO {role}",
    ):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_index("ux_volunteer_merges_one_live", table_name="volunteer_merges")
    op.drop_table("volunteer_merges")
    op.drop_column("volunteers", "merged_into_id")
