"""Why a merge was reverted, in a column of its own (issue 14):
``volunteer_merges.revert_reason`` ('' while the merge is live).

RevertMerge has required a reason since 9d5d2ba, which kept it inside the
merge row's ``moved_accounts`` JSON under the key ``revert_reason`` (no
migration was free then); this revision moves any reason kept that way into
the column and removes the key, so ``moved_accounts`` holds account ids only.

Row security: the column lies on ``volunteer_merges``, whose policies and
grants (table-wide) already cover it. Embedded SQLite: the same.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KEY = "revert_reason"


def upgrade() -> None:
    op.add_column(
        "volunteer_merges",
        sa.Column("revert_reason", sa.Text(), nullable=False, server_default=""),
    )
    merges = sa.table(
        "volunteer_merges",
        sa.column("id", sa.String),
        sa.column("moved_accounts", sa.JSON),
        sa.column("revert_reason", sa.Text),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(merges.c.id, merges.c.moved_accounts).where(
            merges.c.moved_accounts.is_not(None)
        )
    ).all()
    for ident, moved in rows:
        accounts = json.loads(moved) if isinstance(moved, str) else dict(moved)
        if KEY not in accounts:
            continue
        reason = str(accounts.pop(KEY))
        conn.execute(
            merges.update()
            .where(merges.c.id == ident)
            .values(moved_accounts=accounts, revert_reason=reason)
        )


def downgrade() -> None:
    op.drop_column("volunteer_merges", "revert_reason")
