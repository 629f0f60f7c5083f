"""Initial schema: divisions, settings, accounts, organisations, volunteers,
rollups, outbox; row-level security and the application role in PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from services.common.db import app_role_sql, scope_policy_sql
from services.common.migrations import app_role
from services.registration.models import ROLLUP, TENANT_TABLES, Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOGIN_LOOKUP = """
CREATE OR REPLACE FUNCTION registration_login_lookup(p_username text)
RETURNS TABLE (id varchar, password_hash varchar, display_name varchar,
               scope_code varchar, roles json, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT id, password_hash, display_name, scope_code, roles, active
  FROM accounts WHERE username = p_username
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    # The first revision creates the tables from the models as they stand at
    # this revision; later revisions use explicit operations.
    Base.metadata.create_all(bind=bind)
    op.execute("INSERT INTO counters (name, value) VALUES ('volunteer_number', 0)")
    if bind.dialect.name != "postgresql":
        return
    role = app_role()
    for stmt in app_role_sql(role):
        op.execute(stmt)
    for table, column in TENANT_TABLES.items():
        for stmt in scope_policy_sql(table, column):
            op.execute(stmt)
    for stmt in scope_policy_sql(
        "tenant_settings", "division_code", read_ancestors=True
    ):
        op.execute(stmt)
    op.execute(LOGIN_LOOKUP)
    op.execute("REVOKE ALL ON FUNCTION registration_login_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registration_login_lookup(text) TO {role}")
    for stmt in ROLLUP.function_sql(role):
        op.execute(stmt)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS registration_login_lookup(text)")
        op.execute(f"DROP FUNCTION IF EXISTS {ROLLUP.function_name}")
    Base.metadata.drop_all(bind=bind)
