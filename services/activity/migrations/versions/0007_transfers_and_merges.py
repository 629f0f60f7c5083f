"""Activity follows a volunteer's transfer and a merge of duplicate
registrations (issue 14).

- ``volunteers.home_moved_at``: when a transfer last moved the replica's
  home (an older event arriving late never moves it back).
- ``activity_transfers``: per transfer followed, the sign-ups and training
  attendances of sessions not yet held that moved to the new home
  (``volunteer_division_code``); past rows stay where they are. A transfer
  governs the sessions from its moment up to the next transfer of the same
  volunteer already followed, so events arriving out of order end in the
  same state.
- ``activity_merges``: per merge followed, the ids of every row (sign-ups,
  attendances, pairs, visits, training attendances) re-pointed from the
  merged volunteer to the survivor, so ``.unmerged`` points exactly those
  back. A row whose key the survivor already holds (an active sign-up or an
  attendance of the same session, a pair with the same recipient, the same
  training session) stays with the merged record, and so do its
  attendances and visits.

The rows lie in any division (a volunteer serves anywhere), outside the
scope of the worker's transaction: SECURITY DEFINER functions do the moves,
only for an event whose division (the new home; the merged record's home)
lies inside the transaction's scope and which the transaction has claimed
for activity's consumer (the worker's idempotency record, written in the
same transaction). Row security on both new tables by their division code;
the application role only reads them.

Embedded SQLite: the tables and column only (services/activity/moves_embedded.py
moves in Python).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTIVE = "('pending', 'confirmed', 'waitlisted')"
MOVED_TABLES = ("sign_ups", "attendances", "pairs", "visits", "training_attendances")
TABLE_LIST = ", ".join(f"'{t}'" for t in MOVED_TABLES)


def _inside(code: str, what: str) -> str:
    """Refuse unless ``code`` lies inside the transaction's scope."""
    return f"""
  IF v_scope = '' OR NOT ({code} COLLATE "C" >= v_scope
                          AND {code} COLLATE "C" < v_scope || '~') THEN
    RAISE EXCEPTION '{what} % lies outside the scope', p_event USING ERRCODE = '42501';
  END IF;"""


def _claimed(consumer: str) -> str:
    """Refuse unless this transaction claimed the event for ``consumer``
    (its row in processed_events carries this transaction's id)."""
    return f"""
  IF NOT EXISTS (SELECT 1 FROM processed_events
                  WHERE consumer = '{consumer}' AND event_id = p_event
                    AND xmin = (txid_current() % 4294967296)::text::xid) THEN
    RAISE EXCEPTION 'event % is not claimed by this transaction', p_event
      USING ERRCODE = '42501';
  END IF;"""


def _lock(*ids: str) -> str:
    """Serialise moves of the same volunteers (always in one order)."""
    return f"""
  PERFORM pg_advisory_xact_lock(hashtextextended(v, 0))
     FROM unnest(ARRAY[{", ".join(ids)}]) AS t(v) ORDER BY v COLLATE "C";"""


TRANSFER = f"""
CREATE FUNCTION activity_transfer_volunteer(
  p_event text, p_transfer text, p_volunteer text, p_from text, p_to text,
  p_at timestamptz, p_now timestamptz
) RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  v_next timestamptz;
  v_sign_ups text[];
  v_training text[];
BEGIN
{_inside("p_to", "transfer")}
{_claimed("activity.replica.transfer")}
{_lock("p_volunteer")}
  IF EXISTS (SELECT 1 FROM activity_transfers WHERE transfer_id = p_transfer) THEN
    RETURN 0;
  END IF;
  SELECT min(occurred_at) INTO v_next FROM activity_transfers
   WHERE volunteer_id = p_volunteer AND occurred_at > p_at;
  WITH moved AS (
    UPDATE sign_ups su SET volunteer_division_code = p_to
      FROM sessions se
     WHERE se.id = su.session_id AND su.volunteer_id = p_volunteer
       AND se.starts_at > p_at AND (v_next IS NULL OR se.starts_at <= v_next)
       AND su.volunteer_division_code <> p_to
       AND NOT EXISTS (SELECT 1 FROM attendances a WHERE a.sign_up_id = su.id)
    RETURNING su.id)
  SELECT coalesce(array_agg(id ORDER BY id), '{{}}') INTO v_sign_ups FROM moved;
  WITH moved AS (
    UPDATE training_attendances ta SET volunteer_division_code = p_to
      FROM training_sessions ts
     WHERE ts.id = ta.training_session_id AND ta.volunteer_id = p_volunteer
       AND ts.starts_at > p_at AND (v_next IS NULL OR ts.starts_at <= v_next)
       AND ta.volunteer_division_code <> p_to
    RETURNING ta.id)
  SELECT coalesce(array_agg(id ORDER BY id), '{{}}') INTO v_training FROM moved;
  UPDATE volunteers SET home_division_code = p_to, home_moved_at = p_at,
         updated_at = p_now
   WHERE id = p_volunteer AND (home_moved_at IS NULL OR home_moved_at < p_at);
  INSERT INTO activity_transfers (transfer_id, division_code, from_division_code,
         volunteer_id, occurred_at, sign_up_ids, training_attendance_ids, applied_at)
  VALUES (p_transfer, p_to, p_from, p_volunteer, p_at, to_jsonb(v_sign_ups),
          to_jsonb(v_training), p_now);
  RETURN cardinality(v_sign_ups) + cardinality(v_training);
END $$
"""

MERGE_ARGS = """
  p_event text, p_merge text, p_code text, p_survivor_code text,
  p_survivor text, p_survivor_number text, p_merged text,
  p_merged_number text, p_at timestamptz
"""
# Re-point the merged volunteer's rows of one table (``where``: the rows
# that may move) and collect their ids into ``into``.
_REPOINT = """
  WITH moved AS (
    UPDATE {table} x SET volunteer_id = p_survivor,
           volunteer_number = p_survivor_number
     WHERE x.volunteer_id = p_merged AND {where}
    RETURNING x.id)
  SELECT coalesce(array_agg(id ORDER BY id), '{{}}') INTO {into} FROM moved;"""


def _repoint(table: str, into: str, where: str) -> str:
    return _REPOINT.format(table=table, into=into, where=where)


# Which of the merged volunteer's rows move: not one whose key the survivor
# already holds; attendances and visits only with their sign-up or pair.
REPOINTS = "".join(
    _repoint(table, into, where)
    for table, into, where in (
        (
            "sign_ups",
            "v_sign_ups",
            f"NOT (x.status IN {ACTIVE} AND EXISTS (SELECT 1 FROM sign_ups o"
            " WHERE o.session_id = x.session_id AND o.volunteer_id = p_survivor"
            f" AND o.status IN {ACTIVE}))",
        ),
        (
            "attendances",
            "v_attendances",
            "x.sign_up_id = ANY(v_sign_ups) AND NOT EXISTS (SELECT 1"
            " FROM attendances o WHERE o.session_id = x.session_id"
            " AND o.volunteer_id = p_survivor)",
        ),
        (
            "pairs",
            "v_pairs",
            "NOT EXISTS (SELECT 1 FROM pairs o WHERE o.recipient_id = x.recipient_id"
            " AND o.volunteer_id = p_survivor)",
        ),
        ("visits", "v_visits", "x.pair_id = ANY(v_pairs)"),
        (
            "training_attendances",
            "v_training",
            "NOT EXISTS (SELECT 1 FROM training_attendances o"
            " WHERE o.training_session_id = x.training_session_id"
            " AND o.volunteer_id = p_survivor)",
        ),
    )
)

MERGE = f"""
CREATE FUNCTION activity_merge_volunteer({MERGE_ARGS})
RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  v_reverted timestamptz;
  v_sign_ups text[];
  v_attendances text[];
  v_pairs text[];
  v_visits text[];
  v_training text[];
BEGIN
{_inside("p_code", "merge")}
{_claimed("activity.replica.merge")}
{_lock("p_survivor", "p_merged")}
  SELECT reverted_at INTO v_reverted FROM activity_merges WHERE merge_id = p_merge;
  IF FOUND THEN
    RETURN CASE WHEN v_reverted IS NULL THEN 0 ELSE -1 END;
  END IF;
{REPOINTS}
  INSERT INTO activity_merges (merge_id, division_code, merged_division_code,
         survivor_id, survivor_number, merged_id, merged_number, moved, merged_at)
  VALUES (p_merge, p_survivor_code, p_code, p_survivor, p_survivor_number,
          p_merged, p_merged_number,
          jsonb_build_object('sign_ups', to_jsonb(v_sign_ups),
                             'attendances', to_jsonb(v_attendances),
                             'pairs', to_jsonb(v_pairs),
                             'visits', to_jsonb(v_visits),
                             'training_attendances', to_jsonb(v_training)),
          p_at);
  RETURN cardinality(v_sign_ups) + cardinality(v_attendances)
       + cardinality(v_pairs) + cardinality(v_visits) + cardinality(v_training);
END $$
"""

UNMERGE = f"""
CREATE FUNCTION activity_unmerge_volunteer({MERGE_ARGS})
RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public AS $$
DECLARE
  v_scope text := coalesce(current_setting('zhiyuan.scope', true), '');
  m activity_merges%ROWTYPE;
  v_table text;
  v_n integer;
  v_total integer := 0;
BEGIN
{_inside("p_code", "merge")}
{_claimed("activity.replica.unmerge")}
{_lock("p_survivor", "p_merged")}
  SELECT * INTO m FROM activity_merges WHERE merge_id = p_merge FOR UPDATE;
  IF NOT FOUND THEN
    -- The revert came first: nothing moved, and the late merge moves nothing.
    INSERT INTO activity_merges (merge_id, division_code, merged_division_code,
           survivor_id, survivor_number, merged_id, merged_number, moved,
           merged_at, reverted_at)
    VALUES (p_merge, p_survivor_code, p_code, p_survivor, p_survivor_number,
            p_merged, p_merged_number, '{{}}'::jsonb, p_at, p_at);
    RETURN 0;
  END IF;
  IF m.reverted_at IS NOT NULL THEN
    RETURN 0;
  END IF;
  FOREACH v_table IN ARRAY ARRAY[{TABLE_LIST}] LOOP
    EXECUTE format(
      'UPDATE %I SET volunteer_id = $1, volunteer_number = $2'
      ' WHERE id IN (SELECT jsonb_array_elements_text($3)) AND volunteer_id = $4',
      v_table)
      USING m.merged_id, m.merged_number,
            coalesce(m.moved -> v_table, '[]'::jsonb), m.survivor_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;
  END LOOP;
  UPDATE activity_merges SET reverted_at = p_at WHERE merge_id = p_merge;
  RETURN v_total;
END $$
"""

MERGE_TYPES = "text, text, text, text, text, text, text, text, timestamptz"
SIGNATURES = (
    "activity_transfer_volunteer(text, text, text, text, text, timestamptz, "
    "timestamptz)",
    f"activity_merge_volunteer({MERGE_TYPES})",
    f"activity_unmerge_volunteer({MERGE_TYPES})",
)


def _code(name: str, pg: bool) -> sa.Column:
    kind = sa.String(12, collation="C") if pg else sa.String(12)
    return sa.Column(name, kind, nullable=False)


def _str(name: str, length: int = 36) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    ids = postgresql.JSONB if pg else sa.JSON
    op.add_column("volunteers", _at("home_moved_at", nullable=True))
    op.create_table(
        "activity_transfers",
        _str("transfer_id"),
        _code("division_code", pg),
        _code("from_division_code", pg),
        _str("volunteer_id"),
        _at("occurred_at"),
        sa.Column("sign_up_ids", ids, nullable=False),
        sa.Column("training_attendance_ids", ids, nullable=False),
        _at("applied_at"),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    op.create_table(
        "activity_merges",
        _str("merge_id"),
        _code("division_code", pg),
        _code("merged_division_code", pg),
        _str("survivor_id"),
        _str("survivor_number", 20),
        _str("merged_id"),
        _str("merged_number", 20),
        sa.Column("moved", ids, nullable=False),
        _at("merged_at"),
        _at("reverted_at", nullable=True),
        sa.PrimaryKeyConstraint("merge_id"),
    )
    for table, columns in (
        ("activity_transfers", ("division_code", "volunteer_id")),
        ("activity_merges", ("division_code", "survivor_id", "merged_id")),
    ):
        for column in columns:
            op.create_index(f"ix_{table}_{column}", table, [column])
    if not pg:
        return
    role = app_role()
    for table in ("activity_transfers", "activity_merges"):
        for stmt in scope_policy_sql(table, "division_code"):
            op.execute(stmt)
        # Written by the functions only (as their owner).
        op.execute(f"GRANT SELECT ON {table} TO {role}")
    for fn in (TRANSFER, MERGE, UNMERGE):
        op.execute(fn)
    for sig in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {sig} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {sig} TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sig in SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {sig}")
    op.drop_table("activity_merges")
    op.drop_table("activity_transfers")
    op.drop_column("volunteers", "home_moved_at")
