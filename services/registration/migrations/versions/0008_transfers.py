"""Transfers between regions (记录转移接续, issue 14): ``transfers``, one row
per request with the volunteer's consent and the decision (the audit
record), at most one pending per volunteer.

Row security: a transfer is read and updated by the offices of either home
(the old home's subtree or the new one's), inserted only under the old home
(the volunteer's own, or their office's). Accepting moves the volunteer out
of the old home's subtree, which the accepting (new) office cannot see:
``registration_transfer_accept`` (SECURITY DEFINER, as the login look-ups)
marks a pending transfer accepted only when its new home lies inside the
transaction's scope, and moves the volunteer's home, their own account's
scope and their inbox there, in the caller's transaction.

Embedded SQLite: the table only (no row security; the repository does the
move in Python).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import app_role

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _inside(column: str) -> str:
    # The same range test as services.common.db.scope_policy_sql.
    return (
        "coalesce(current_setting('zhiyuan.scope', true), '') <> '' AND "
        f"{column} COLLATE \"C\" >= current_setting('zhiyuan.scope', true) AND "
        f"{column} COLLATE \"C\" < current_setting('zhiyuan.scope', true) || '~'"
    )


EITHER = f"(({_inside('from_division_code')}) OR ({_inside('to_division_code')}))"

ACCEPT = """
CREATE FUNCTION registration_transfer_accept(
  p_transfer text, p_actor text, p_at timestamptz
) RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  t transfers%ROWTYPE;
  n integer;
BEGIN
  IF v_scope = '' THEN
    RAISE EXCEPTION 'no scope' USING ERRCODE = '42501';
  END IF;
  UPDATE transfers SET status = 'accepted', decided_by = p_actor,
         decided_at = p_at
   WHERE id = p_transfer AND status = 'pending'
     AND to_division_code COLLATE "C" >= v_scope
     AND to_division_code COLLATE "C" < v_scope || '~'
  RETURNING * INTO t;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transfer % is not pending inside the scope', p_transfer
      USING ERRCODE = '42501';
  END IF;
  UPDATE volunteers SET home_division_code = t.to_division_code
   WHERE id = t.volunteer_id AND home_division_code = t.from_division_code;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n <> 1 THEN
    RAISE EXCEPTION 'volunteer % is no longer at %', t.volunteer_id,
      t.from_division_code USING ERRCODE = '40001';
  END IF;
  UPDATE accounts SET scope_code = t.to_division_code
   WHERE volunteer_id = t.volunteer_id;
  UPDATE notification_deliveries SET division_code = t.to_division_code
   WHERE notification_id IN
     (SELECT id FROM notifications WHERE volunteer_id = t.volunteer_id);
  UPDATE notifications SET division_code = t.to_division_code
   WHERE volunteer_id = t.volunteer_id;
  RETURN t.to_division_code;
END $$
"""


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)

    def at(name: str, nullable: bool = False) -> sa.Column:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)

    op.create_table(
        "transfers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
        sa.Column("volunteer_number", sa.String(20), nullable=False),
        sa.Column("name_masked", sa.String(50), nullable=False),
        sa.Column("from_division_code", code, nullable=False, index=True),
        sa.Column("to_division_code", code, nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("requested_by", sa.String(100), nullable=False),
        at("requested_at"),
        sa.Column("consent_channel", sa.String(10), nullable=False),
        sa.Column("consent_text", sa.Text, nullable=False),
        at("consented_at"),
        sa.Column("consent_note", sa.String(200), nullable=False, server_default=""),
        sa.Column("decided_by", sa.String(100), nullable=True),
        at("decided_at", nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
    )
    # One pending request per volunteer: a second is refused by the key.
    op.create_index(
        "ux_transfers_one_pending",
        "transfers",
        ["volunteer_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    if not pg:
        return
    role = app_role()
    old = _inside("from_division_code")
    for stmt in (
        "ALTER TABLE transfers ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY transfers_read ON transfers FOR SELECT USING ({EITHER})",
        f"CREATE POLICY transfers_insert ON transfers FOR INSERT WITH CHECK ({old})",
        f"CREATE POLICY transfers_update ON transfers FOR UPDATE USING ({EITHER}) "
        f"WITH CHECK ({EITHER})",
        f"GRANT SELECT, INSERT, UPDATE ON transfers TO {role}",
        ACCEPT,
        "REVOKE ALL ON FUNCTION registration_transfer_accept(text, text, "
        "timestamptz) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION registration_transfer_accept(text, text, "
        f"timestamptz) TO {role}",
    ):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS registration_transfer_accept(text, text, "
            "timestamptz)"
        )
    op.drop_index("ux_transfers_one_pending", table_name="transfers")
    op.drop_table("transfers")
