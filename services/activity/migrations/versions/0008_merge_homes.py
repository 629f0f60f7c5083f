"""A merge moves the merged record's commitments to come to the survivor's
home; a volunteer's home on a sign-up is written only by the moves
(issue 14).

- ``activity_merge_volunteer``: besides re-pointing rows (revision 0007),
  the sign-ups and training attendances it re-points whose session has not
  started yet take the survivor's home as ``volunteer_division_code``, so
  the survivor's office sees them, as a transfer does; each row's home
  before is kept in ``activity_merges.moved -> 'homes'``.
- ``activity_unmerge_volunteer``: after pointing the rows back (0007), puts
  those homes back.
- A trigger on ``sign_ups``, ``attendances`` and ``training_attendances``
  refuses a change of ``volunteer_division_code`` by the application role:
  the office hosting a project could otherwise move its sign-ups' homes
  (their update policy checks the project's division only). The moves run
  as the functions' owner, which the trigger lets through.

Embedded SQLite: the same in Python (services/activity/moves_embedded.py);
no trigger (one trusted process).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import importlib

from alembic import op

from services.common.migrations import app_role

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Revision 0007's function bodies, frozen with it; this revision adds steps.
_0007 = importlib.import_module(
    "services.activity.migrations.versions.0007_transfers_and_merges"
)

HOMED = (("sign_ups", "sessions", "session_id"),
         ("training_attendances", "training_sessions", "training_session_id"))  # fmt: skip

# The re-pointed rows of sessions to come take the survivor's home; their
# homes before go into v_homes.
_MOVE_HOMES = "".join(
    f"""
  WITH homed AS (
    UPDATE {table} x SET volunteer_division_code = p_survivor_code
      FROM {sessions} se,
           (SELECT id, volunteer_division_code AS code FROM {table}
             WHERE id = ANY({ids})) o
     WHERE o.id = x.id AND se.id = x.{key} AND se.starts_at > p_at
       AND x.volunteer_division_code <> p_survivor_code
    RETURNING x.id, o.code)
  SELECT v_homes || jsonb_build_object('{table}',
         coalesce(jsonb_agg(jsonb_build_array(id, code) ORDER BY id), '[]'::jsonb))
    INTO v_homes FROM homed;"""
    for (table, sessions, key), ids in zip(
        HOMED, ("v_sign_ups", "v_training"), strict=True
    )
)

MERGE = (
    _0007.MERGE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    .replace("  v_training text[];\n", "  v_training text[];\n  v_homes jsonb := '{}'::jsonb;\n")
    .replace(
        "\n  INSERT INTO activity_merges",
        _MOVE_HOMES + "\n  INSERT INTO activity_merges",
    )
    .replace(
        "'training_attendances', to_jsonb(v_training)),",
        "'training_attendances', to_jsonb(v_training),\n"
        "                             'homes', v_homes),",
    )
)  # fmt: skip

_RESTORE_HOMES = "".join(
    f"""
  UPDATE {table} x SET volunteer_division_code = h ->> 1
    FROM jsonb_array_elements(coalesce(m.moved -> 'homes' -> '{table}', '[]'::jsonb)) h
   WHERE x.id = h ->> 0 AND x.volunteer_id = m.merged_id;"""
    for table, _, _ in HOMED
)

UNMERGE = _0007.UNMERGE.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
).replace(
    "  END LOOP;\n", "  END LOOP;" + _RESTORE_HOMES + "\n"
)  # fmt: skip

GUARDED = ("sign_ups", "attendances", "training_attendances")


def _guard(role: str) -> str:
    return f"""
CREATE FUNCTION activity_home_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.volunteer_division_code IS DISTINCT FROM OLD.volunteer_division_code
     AND current_user = '{role}' THEN
    RAISE EXCEPTION 'volunteer_division_code of % % is moved only by a transfer or a merge',
      TG_TABLE_NAME, OLD.id USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Sanity: each replacement above found its place in 0007's text.
    assert MERGE.count("v_homes") == 6 and UNMERGE.count("'homes'") == 2
    op.execute(MERGE)
    op.execute(UNMERGE)
    op.execute(_guard(app_role()))
    for table in GUARDED:
        op.execute(
            f"CREATE TRIGGER {table}_home_guard BEFORE UPDATE OF"
            f" volunteer_division_code ON {table} FOR EACH ROW"
            " EXECUTE FUNCTION activity_home_guard()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in GUARDED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_home_guard ON {table}")
    op.execute("DROP FUNCTION IF EXISTS activity_home_guard()")
    op.execute(_0007.MERGE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.execute(_0007.UNMERGE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
