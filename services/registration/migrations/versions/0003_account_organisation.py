"""Accounts bound to an organisation: an org_leader runs one organisation
(or team), named in its token's ``org`` claim at login.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import app_role

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LOGIN_LOOKUP = """
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

LOGIN_LOOKUP_0001 = """
CREATE FUNCTION registration_login_lookup(p_username text)
RETURNS TABLE (id varchar, password_hash varchar, display_name varchar,
               scope_code varchar, roles json, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT id, password_hash, display_name, scope_code, roles, active
  FROM accounts WHERE username = p_username
$$
"""


def upgrade() -> None:
    op.add_column(
        "accounts",
        # No foreign key (SQLite cannot add one): create_account checks it.
        sa.Column("organisation_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_accounts_organisation_id", "accounts", ["organisation_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace_login_lookup(LOGIN_LOOKUP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_login_lookup(LOGIN_LOOKUP_0001)
    op.drop_index("ix_accounts_organisation_id", table_name="accounts")
    op.drop_column("accounts", "organisation_id")


def _replace_login_lookup(sql: str) -> None:
    # The result type changes, so CREATE OR REPLACE is not enough.
    role = app_role()
    op.execute("DROP FUNCTION IF EXISTS registration_login_lookup(text)")
    op.execute(sql)
    op.execute("REVOKE ALL ON FUNCTION registration_login_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registration_login_lookup(text) TO {role}")
