"""Duplicate registrations merged (issue 14): hours follows
``registration.volunteer.merged`` by re-pointing the merged volunteer's hour
records (and certificates) to the survivor, and ``.unmerged`` by pointing
exactly those back. ``hours_merges`` keeps, per merge, what moved: the
record ids, the certificate numbers and the merged volunteer's presence
rows (folded into the survivor's, so the distinct-volunteer bookkeeping
stays consistent with the records). Rollups are not touched: the hours
were counted where the service was done, and stay there.

The records lie in any division of the platform (a volunteer serves
anywhere), outside the survivor home's scope: ``hours_merge_volunteer`` and
``hours_unmerge_volunteer`` (SECURITY DEFINER, as the cross-tenant
questions of 0001) do the move, only for a merge whose survivor's home lies
inside the transaction's scope. Row security on ``hours_merges`` as on
every tenant table (by the survivor's home).

Embedded SQLite: the table only (services/hours/merges.py moves in Python).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCOPE_CHECK = """
  IF v_scope = '' OR NOT (p_code COLLATE "C" >= v_scope
                          AND p_code COLLATE "C" < v_scope || '~') THEN
    RAISE EXCEPTION 'merge % lies outside the scope', p_merge USING ERRCODE = '42501';
  END IF;"""

MERGE = f"""
CREATE FUNCTION hours_merge_volunteer(
  p_merge text, p_code text, p_survivor text, p_survivor_number text,
  p_merged text, p_merged_number text, p_at timestamptz
) RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  v_records text[];
  v_certificates text[];
  v_presence jsonb;
BEGIN
{SCOPE_CHECK}
  IF EXISTS (SELECT 1 FROM hours_merges WHERE merge_id = p_merge) THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(v, 0))
     FROM unnest(ARRAY[p_survivor, p_merged]) AS t(v) ORDER BY v COLLATE "C";
  WITH moved AS (
    UPDATE hour_records SET volunteer_id = p_survivor,
           volunteer_number = p_survivor_number
     WHERE volunteer_id = p_merged RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_records FROM moved;
  WITH moved AS (
    UPDATE certificates SET volunteer_id = p_survivor
     WHERE volunteer_id = p_merged RETURNING number)
  SELECT coalesce(array_agg(number), '{{}}') INTO v_certificates FROM moved;
  SELECT coalesce(jsonb_agg(jsonb_build_array(
           division_code, month, service_field, records)), '[]'::jsonb)
    INTO v_presence FROM hours_presence WHERE volunteer_id = p_merged;
  INSERT INTO hours_presence AS p
         (volunteer_id, division_code, month, service_field, records)
  SELECT p_survivor, division_code, month, service_field, records
    FROM hours_presence WHERE volunteer_id = p_merged
  ON CONFLICT (volunteer_id, division_code, month, service_field)
  DO UPDATE SET records = p.records + EXCLUDED.records;
  DELETE FROM hours_presence WHERE volunteer_id = p_merged;
  INSERT INTO hours_merges (merge_id, division_code, survivor_id,
         survivor_number, merged_id, merged_number, record_ids,
         certificate_numbers, presence, merged_at)
  VALUES (p_merge, p_code, p_survivor, p_survivor_number, p_merged,
          p_merged_number, to_jsonb(v_records), to_jsonb(v_certificates),
          v_presence, p_at);
  RETURN cardinality(v_records);
END $$
"""

UNMERGE = f"""
CREATE FUNCTION hours_unmerge_volunteer(
  p_merge text, p_code text, p_at timestamptz
) RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  m hours_merges%ROWTYPE;
BEGIN
{SCOPE_CHECK}
  SELECT * INTO m FROM hours_merges
   WHERE merge_id = p_merge AND reverted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(v, 0))
     FROM unnest(ARRAY[m.survivor_id, m.merged_id]) AS t(v) ORDER BY v COLLATE "C";
  UPDATE hour_records SET volunteer_id = m.merged_id,
         volunteer_number = m.merged_number
   WHERE id IN (SELECT jsonb_array_elements_text(m.record_ids))
     AND volunteer_id = m.survivor_id;
  UPDATE certificates SET volunteer_id = m.merged_id
   WHERE number IN (SELECT jsonb_array_elements_text(m.certificate_numbers))
     AND volunteer_id = m.survivor_id;
  WITH g AS (
    SELECT e->>0 AS c, e->>1 AS mo, e->>2 AS f, (e->>3)::integer AS n
      FROM jsonb_array_elements(m.presence) AS e)
  UPDATE hours_presence p SET records = p.records - g.n FROM g
   WHERE p.volunteer_id = m.survivor_id AND p.division_code = g.c
     AND p.month = g.mo AND p.service_field = g.f;
  DELETE FROM hours_presence WHERE volunteer_id = m.survivor_id AND records <= 0;
  INSERT INTO hours_presence AS p
         (volunteer_id, division_code, month, service_field, records)
  SELECT m.merged_id, e->>0, e->>1, e->>2, (e->>3)::integer
    FROM jsonb_array_elements(m.presence) AS e
  ON CONFLICT (volunteer_id, division_code, month, service_field)
  DO UPDATE SET records = p.records + EXCLUDED.records;
  UPDATE hours_merges SET reverted_at = p_at WHERE merge_id = p_merge;
  RETURN jsonb_array_length(m.record_ids);
END $$
"""

SIGNATURES = (
    "hours_merge_volunteer(text, text, text, text, text, text, timestamptz)",
    "hours_unmerge_volunteer(text, text, timestamptz)",
)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    code = sa.String(12, collation="C") if pg else sa.String(12)
    ids = postgresql.JSONB if pg else sa.JSON
    op.create_table(
        "hours_merges",
        sa.Column("merge_id", sa.String(36), primary_key=True),
        sa.Column("division_code", code, nullable=False, index=True),
        sa.Column("survivor_id", sa.String(36), nullable=False, index=True),
        sa.Column("survivor_number", sa.String(20), nullable=False),
        sa.Column("merged_id", sa.String(36), nullable=False, index=True),
        sa.Column("merged_number", sa.String(20), nullable=False),
        sa.Column("record_ids", ids, nullable=False),
        sa.Column("certificate_numbers", ids, nullable=False),
        sa.Column("presence", ids, nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
    )
    if not pg:
        return
    role = app_role()
    for stmt in scope_policy_sql("hours_merges", "division_code"):
        op.execute(stmt)
    # Written by the functions only (as their owner).
    op.execute(f"GRANT SELECT ON hours_merges TO {role}")
    for fn in (MERGE, UNMERGE):
        op.execute(fn)
    for sig in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {sig} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {sig} TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sig in SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {sig}")
    op.drop_table("hours_merges")
