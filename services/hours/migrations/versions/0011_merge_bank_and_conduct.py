"""A merge of duplicate registrations (issue 14) also moves the merged
volunteer's time bank, objections, complaints and evaluations; its revert
moves exactly those back (0009 moved records, certificates and presence
only, and left the rest under the merged id).

``hours_merges`` gains what else moved: the objection, complaint and
evaluation ids, the bank transaction ids, the bank entry ids and the
survivor accounts the merge opened. Merges made before this revision have
them empty: nothing else moved then, so their revert moves nothing else.

The time bank: **entries move, accounts stay**. The merged volunteer's
volunteer-leg entries are re-pointed to the survivor's account in the same
bank (opened by the merge where the survivor had none there), and the
transactions' ``volunteer_id`` to the survivor, so each bank's balance for
the survivor is both balances, the survivor's statement lists the merged
history, and every record's deposits still lie in the account of the
record's volunteer (what the reconciliation's ``posted`` sums: a later
correction of a moved record adjusts, it does not deposit again). Why not
re-point the accounts: an account is unique per (bank, volunteer), so
where both have one it cannot simply change hands; and a revert that
handed an account back would take with it whatever the survivor posted to
it after the merge. Why not a transfer transaction: the record's deposits
would stay in the merged account while the record is the survivor's, and
the next reconciliation would deposit them a second time. No amount is
changed and nothing is posted: the legs of every transaction still sum to
zero, per bank.

The revert points back what moved and what follows a moved record since:
objections, evaluations and complaints naming a moved record, and bank
transactions for a moved record (a correction's adjustment after the
merge), with their survivor-account entries, go to the merged volunteer
with the record, as its hours do (0010's totals). Survivor accounts the
merge opened are closed again when they hold nothing. A withdrawal the
survivor made after the merge stays the survivor's: its balance may then
show the debt (below zero) rather than silently taking hours elsewhere.

``hours_unmerge_volunteer`` now also requires the stored merge to lie in
the caller's scope (0009 checked only the code passed in, so an office
could revert a neighbour's merge by its id). Both functions lock the two
volunteers' bank accounts first, as a withdrawal does, so a withdrawal
never checks a balance that a merge or revert is changing.

Embedded SQLite: the columns only (services/hours/usecases/merge_rows.py
moves in Python).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = (
    "objection_ids",
    "complaint_ids",
    "evaluation_ids",
    "bank_transaction_ids",
    "bank_entry_ids",
    "bank_account_ids",
)

# The caller's scope holds the survivor's home (p_code) for a merge, and
# the stored merge's home for a revert.
SCOPE_CHECK = """
  IF v_scope = '' OR NOT (p_code COLLATE "C" >= v_scope
                          AND p_code COLLATE "C" < v_scope || '~') THEN
    RAISE EXCEPTION 'merge % lies outside the scope', p_merge USING ERRCODE = '42501';
  END IF;"""

# The two volunteers' bank accounts, locked in one order (a withdrawal
# locks its account before reading the balance).
LOCK_ACCOUNTS = """
  PERFORM 1 FROM timebank_accounts
    WHERE kind = 'volunteer' AND volunteer_id IN ({a}, {b})
    ORDER BY id COLLATE "C" FOR UPDATE;"""

MERGE = f"""
CREATE OR REPLACE FUNCTION hours_merge_volunteer(
  p_merge text, p_code text, p_survivor text, p_survivor_number text,
  p_merged text, p_merged_number text, p_at timestamptz
) RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  v_records text[];
  v_certificates text[];
  v_presence jsonb;
  v_objections text[];
  v_complaints text[];
  v_evaluations text[];
  v_transactions text[];
  v_entries integer[];
  v_accounts text[];
BEGIN
{SCOPE_CHECK}
  IF EXISTS (SELECT 1 FROM hours_merges WHERE merge_id = p_merge) THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(v, 0))
     FROM unnest(ARRAY[p_survivor, p_merged]) AS t(v) ORDER BY v COLLATE "C";
{LOCK_ACCOUNTS.format(a="p_survivor", b="p_merged")}
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
  WITH moved AS (
    UPDATE hour_objections SET volunteer_id = p_survivor,
           volunteer_number = p_survivor_number
     WHERE volunteer_id = p_merged RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_objections FROM moved;
  WITH moved AS (
    UPDATE hour_complaints SET volunteer_id = p_survivor,
           volunteer_number = p_survivor_number
     WHERE volunteer_id = p_merged RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_complaints FROM moved;
  WITH moved AS (
    UPDATE hour_evaluations SET volunteer_id = p_survivor,
           volunteer_number = p_survivor_number
     WHERE volunteer_id = p_merged RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_evaluations FROM moved;
  -- The survivor's account in every bank the merged volunteer has one in.
  WITH opened AS (
    INSERT INTO timebank_accounts (id, division_code, kind, volunteer_id,
           created_at)
    SELECT gen_random_uuid()::text, a.division_code, 'volunteer', p_survivor,
           p_at
      FROM timebank_accounts a
     WHERE a.kind = 'volunteer' AND a.volunteer_id = p_merged
    ON CONFLICT DO NOTHING RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_accounts FROM opened;
  WITH moved AS (
    UPDATE timebank_entries e SET account_id = s.id
      FROM timebank_accounts m JOIN timebank_accounts s
        ON s.division_code = m.division_code AND s.kind = 'volunteer'
       AND s.volunteer_id = p_survivor
     WHERE e.account_id = m.id AND m.kind = 'volunteer'
       AND m.volunteer_id = p_merged
    RETURNING e.id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_entries FROM moved;
  WITH moved AS (
    UPDATE timebank_transactions SET volunteer_id = p_survivor
     WHERE volunteer_id = p_merged RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_transactions FROM moved;
  INSERT INTO hours_merges (merge_id, division_code, survivor_id,
         survivor_number, merged_id, merged_number, record_ids,
         certificate_numbers, presence, objection_ids, complaint_ids,
         evaluation_ids, bank_transaction_ids, bank_entry_ids,
         bank_account_ids, merged_at)
  VALUES (p_merge, p_code, p_survivor, p_survivor_number, p_merged,
          p_merged_number, to_jsonb(v_records), to_jsonb(v_certificates),
          v_presence, to_jsonb(v_objections), to_jsonb(v_complaints),
          to_jsonb(v_evaluations), to_jsonb(v_transactions),
          to_jsonb(v_entries), to_jsonb(v_accounts), p_at);
  RETURN cardinality(v_records);
END $$
"""

# Rows that name a record follow it: the moved ones, and the survivor's
# rows on a moved record since the merge.
FOLLOWS = """(id IN (SELECT jsonb_array_elements_text(m.{ids}))
         OR record_id IN (SELECT jsonb_array_elements_text(m.record_ids)))"""

UNMERGE = f"""
CREATE OR REPLACE FUNCTION hours_unmerge_volunteer(
  p_merge text, p_code text, p_at timestamptz
) RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  m hours_merges%ROWTYPE;
  v_back text[];
BEGIN
{SCOPE_CHECK}
  SELECT * INTO m FROM hours_merges
   WHERE merge_id = p_merge AND reverted_at IS NULL
     AND division_code COLLATE "C" >= v_scope
     AND division_code COLLATE "C" < v_scope || '~'
   FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(v, 0))
     FROM unnest(ARRAY[m.survivor_id, m.merged_id]) AS t(v) ORDER BY v COLLATE "C";
{LOCK_ACCOUNTS.format(a="m.survivor_id", b="m.merged_id")}
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
  UPDATE hour_objections SET volunteer_id = m.merged_id,
         volunteer_number = m.merged_number
   WHERE volunteer_id = m.survivor_id AND {FOLLOWS.format(ids="objection_ids")};
  UPDATE hour_evaluations SET volunteer_id = m.merged_id,
         volunteer_number = m.merged_number
   WHERE volunteer_id = m.survivor_id AND {FOLLOWS.format(ids="evaluation_ids")};
  UPDATE hour_complaints SET volunteer_id = m.merged_id,
         volunteer_number = m.merged_number
   WHERE volunteer_id = m.survivor_id AND {FOLLOWS.format(ids="complaint_ids")};
  WITH back AS (
    UPDATE timebank_transactions SET volunteer_id = m.merged_id
     WHERE volunteer_id = m.survivor_id
       AND {FOLLOWS.format(ids="bank_transaction_ids")}
    RETURNING id)
  SELECT coalesce(array_agg(id), '{{}}') INTO v_back FROM back;
  -- The merged volunteer's account in each bank an entry goes back to (it
  -- has one wherever an entry came from; a deposit for a moved record made
  -- since may lie in another bank).
  INSERT INTO timebank_accounts (id, division_code, kind, volunteer_id,
         created_at)
  SELECT DISTINCT ON (s.division_code) gen_random_uuid()::text,
         s.division_code, 'volunteer', m.merged_id, p_at
    FROM timebank_entries e JOIN timebank_accounts s ON s.id = e.account_id
   WHERE s.kind = 'volunteer' AND s.volunteer_id = m.survivor_id
     AND (e.id IN (SELECT x::integer
                     FROM jsonb_array_elements_text(m.bank_entry_ids) AS x)
          OR e.transaction_id = ANY(v_back))
  ON CONFLICT DO NOTHING;
  UPDATE timebank_entries e SET account_id = t.id
    FROM timebank_accounts s JOIN timebank_accounts t
      ON t.division_code = s.division_code AND t.kind = 'volunteer'
     AND t.volunteer_id = m.merged_id
   WHERE e.account_id = s.id AND s.kind = 'volunteer'
     AND s.volunteer_id = m.survivor_id
     AND (e.id IN (SELECT x::integer
                     FROM jsonb_array_elements_text(m.bank_entry_ids) AS x)
          OR e.transaction_id = ANY(v_back));
  DELETE FROM timebank_accounts a
   WHERE a.id IN (SELECT jsonb_array_elements_text(m.bank_account_ids))
     AND NOT EXISTS (SELECT 1 FROM timebank_entries e WHERE e.account_id = a.id);
  UPDATE hours_merges SET reverted_at = p_at WHERE merge_id = p_merge;
  RETURN jsonb_array_length(m.record_ids);
END $$
"""


def _previous() -> tuple[str, str]:
    """0009's function bodies, to put back on a downgrade."""
    old = importlib.import_module(
        "services.hours.migrations.versions.0009_volunteer_merges"
    )
    replace = ("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    return old.MERGE.replace(*replace), old.UNMERGE.replace(*replace)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    ids = postgresql.JSONB if pg else sa.JSON
    empty = sa.text("'[]'::jsonb") if pg else sa.text("'[]'")
    for column in COLUMNS:
        op.add_column(
            "hours_merges",
            sa.Column(column, ids, nullable=False, server_default=empty),
        )
    if pg:
        op.execute(MERGE)
        op.execute(UNMERGE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for fn in _previous():
            op.execute(fn)
    with op.batch_alter_table("hours_merges") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
