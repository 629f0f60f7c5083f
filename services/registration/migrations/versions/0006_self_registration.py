"""Volunteers' own accounts (issue 13): an account bound to a volunteer
(``volunteer_id``, the token's ``vol`` claim) that signs in by its volunteer
number or by phone (``phone_hash``, a keyed hash like ``volunteers.id_hash``),
and the skills a volunteer names at self-registration.

The login look-up (SECURITY DEFINER: login precedes scope) now returns the
username and the volunteer id, and a twin finds an account by phone hash.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import app_role

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = """id varchar, password_hash varchar, display_name varchar,
               scope_code varchar, roles json, active boolean,
               organisation_id varchar, username varchar, volunteer_id varchar"""
SELECT = """SELECT id, password_hash, display_name, scope_code, roles, active,
         organisation_id, username, volunteer_id FROM accounts"""

LOGIN_LOOKUP = f"""
CREATE FUNCTION registration_login_lookup(p_username text)
RETURNS TABLE ({COLUMNS})
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  {SELECT} WHERE username = p_username
$$
"""

PHONE_LOOKUP = f"""
CREATE FUNCTION registration_login_lookup_phone(p_phone_hash text)
RETURNS TABLE ({COLUMNS})
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  {SELECT} WHERE phone_hash = p_phone_hash
$$
"""

# As revision 0003 left it.
LOGIN_LOOKUP_0003 = """
CREATE FUNCTION registration_login_lookup(p_username text)
RETURNS TABLE (id varchar, password_hash varchar, display_name varchar,
               scope_code varchar, roles json, active boolean,
               organisation_id varchar)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT id, password_hash, display_name, scope_code, roles, active,
         organisation_id
  FROM accounts WHERE username = p_username
$$
"""


def upgrade() -> None:
    # No foreign key (SQLite cannot add one): self_register writes both rows.
    op.add_column("accounts", sa.Column("volunteer_id", sa.String(36), nullable=True))
    op.add_column("accounts", sa.Column("phone_hash", sa.String(64), nullable=True))
    op.create_index("ix_accounts_volunteer_id", "accounts", ["volunteer_id"])
    op.create_index("ux_accounts_phone_hash", "accounts", ["phone_hash"], unique=True)
    op.add_column(
        "volunteers",
        sa.Column("skills", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace(LOGIN_LOOKUP)
    op.execute(PHONE_LOOKUP)
    _grant("registration_login_lookup_phone")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS registration_login_lookup_phone(text)")
        _replace(LOGIN_LOOKUP_0003)
    op.drop_column("volunteers", "skills")
    op.drop_index("ux_accounts_phone_hash", table_name="accounts")
    op.drop_index("ix_accounts_volunteer_id", table_name="accounts")
    op.drop_column("accounts", "phone_hash")
    op.drop_column("accounts", "volunteer_id")


def _replace(sql: str) -> None:
    # The result type changes, so CREATE OR REPLACE is not enough.
    op.execute("DROP FUNCTION IF EXISTS registration_login_lookup(text)")
    op.execute(sql)
    _grant("registration_login_lookup")


def _grant(function: str) -> None:
    op.execute(f"REVOKE ALL ON FUNCTION {function}(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {function}(text) TO {app_role()}")
