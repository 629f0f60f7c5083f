"""hours_presence_of joins the volunteers' ids instead of filtering by ANY.

Found by the national `make scale` attempt of 2026-12-06: at 7.2M imported
records (hours_presence 6.4M rows, never analysed: the server ran without
autovacuum), one chunk's presence read of ~19,000 volunteers ran for over
18 minutes. ``volunteer_id = ANY($1)`` with a parameter array is not hashed,
and with no statistics the planner took a parallel sequential scan, so the
read cost rows x ids comparisons. Joining ``unnest`` of the distinct ids
lets the planner probe the primary key (volunteer_id first) once per id,
whatever the table's statistics say. Same rows, same signature and grants.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BY_JOIN = """
CREATE OR REPLACE FUNCTION hours_presence_of(p_volunteers text[])
RETURNS TABLE (volunteer_id varchar, division_code varchar, month varchar,
               service_field varchar, records integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT p.volunteer_id, p.division_code, p.month, p.service_field, p.records
  FROM (SELECT DISTINCT unnest(p_volunteers) AS id) AS v
  JOIN hours_presence AS p ON p.volunteer_id = v.id
$$"""

BY_ANY = """
CREATE OR REPLACE FUNCTION hours_presence_of(p_volunteers text[])
RETURNS TABLE (volunteer_id varchar, division_code varchar, month varchar,
               service_field varchar, records integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT volunteer_id, division_code, month, service_field, records
  FROM hours_presence WHERE volunteer_id = ANY(p_volunteers)
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BY_JOIN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BY_ANY)
