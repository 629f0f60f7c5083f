"""Each volunteer's approved hours on the whole platform, kept at write time
(issue 10): ``hours_volunteer_totals``.

``hours_volunteer_total(v)`` (the platform total every approval event and
the bulk import's events carry) summed the volunteer's whole history on
every call. A bulk import asks it for every volunteer of every chunk, so a
national build read each busy volunteer's history once per chunk: the
build slowed as it grew. Now the total is one row per volunteer.

Kept by statement-level triggers on ``hour_records`` (insert, update,
delete; their transition tables hold every partition's rows, COPY
included) and on ``hour_corrections`` (insert: corrections are
append-only), each one set-wise statement, whatever path wrote: approval,
review, correction, reversal, merge and its revert, the bulk import. A
record counts while it is ``approved``, with its corrections; a record
that leaves ``approved``, or moves to another volunteer, takes its
effective hours with it. TRUNCATE of hour_records empties the totals.

No row security: like the cross-tenant functions of 0001, only the owner
and SECURITY DEFINER functions read it; the app role has no grant.

Embedded SQLite: nothing (the total is summed there, at demo size).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A record's effective hours: its own plus its corrections (0001's EFFECTIVE,
# for a row alias).
EFFECTIVE = (
    "{r}.hours + coalesce((SELECT sum(c.delta_hours) FROM hour_corrections c"
    " WHERE c.record_id = {r}.id), 0)"
)
ADD = " ON CONFLICT (volunteer_id) DO UPDATE SET hours = t.hours + EXCLUDED.hours"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE hours_volunteer_totals ("
        ' volunteer_id varchar(36) COLLATE "C" PRIMARY KEY,'
        " hours numeric NOT NULL)"
    )
    op.execute("REVOKE ALL ON hours_volunteer_totals FROM PUBLIC")
    new, old = EFFECTIVE.format(r="n"), EFFECTIVE.format(r="o")
    op.execute(f"""
CREATE FUNCTION hours_totals_on_records() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO hours_volunteer_totals AS t (volunteer_id, hours)
    SELECT n.volunteer_id, sum({new}) FROM new_rows n
    WHERE n.status = 'approved' GROUP BY 1{ADD};
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO hours_volunteer_totals AS t (volunteer_id, hours)
    SELECT d.v, sum(d.h) FROM (
      SELECT n.volunteer_id AS v, {new} AS h FROM new_rows n
      WHERE n.status = 'approved'
      UNION ALL
      SELECT o.volunteer_id, -({old}) FROM old_rows o
      WHERE o.status = 'approved'
    ) d GROUP BY 1 HAVING sum(d.h) <> 0{ADD};
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO hours_volunteer_totals AS t (volunteer_id, hours)
    SELECT o.volunteer_id, -sum({old}) FROM old_rows o
    WHERE o.status = 'approved' GROUP BY 1{ADD};
  ELSE
    DELETE FROM hours_volunteer_totals;
  END IF;
  RETURN NULL;
END $$""")
    op.execute("""
CREATE FUNCTION hours_totals_on_corrections() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO hours_volunteer_totals AS t (volunteer_id, hours)
  SELECT r.volunteer_id, sum(c.delta_hours) FROM new_rows c
  JOIN hour_records r ON r.id = c.record_id
  WHERE r.status = 'approved' GROUP BY 1
  ON CONFLICT (volunteer_id) DO UPDATE SET hours = t.hours + EXCLUDED.hours;
  RETURN NULL;
END $$""")
    for event, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER hours_totals_{event.lower()} AFTER {event}"
            f" ON hour_records REFERENCING {refs} FOR EACH STATEMENT"
            " EXECUTE FUNCTION hours_totals_on_records()"
        )
    op.execute(
        "CREATE TRIGGER hours_totals_truncate AFTER TRUNCATE ON hour_records"
        " FOR EACH STATEMENT EXECUTE FUNCTION hours_totals_on_records()"
    )
    op.execute(
        "CREATE TRIGGER hours_totals_insert AFTER INSERT ON hour_corrections"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION hours_totals_on_corrections()"
    )
    # The history so far, under a lock that keeps writers out meanwhile.
    op.execute("LOCK TABLE hour_records, hour_corrections IN SHARE MODE")
    op.execute(
        "INSERT INTO hours_volunteer_totals (volunteer_id, hours)"
        f" SELECT r.volunteer_id, sum({EFFECTIVE.format(r='r')})"
        " FROM hour_records r WHERE r.status = 'approved' GROUP BY 1"
    )
    op.execute("""
CREATE OR REPLACE FUNCTION hours_volunteer_total(p_volunteer text)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce((SELECT t.hours FROM hours_volunteer_totals t
                   WHERE t.volunteer_id = p_volunteer), 0)
$$""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
CREATE OR REPLACE FUNCTION hours_volunteer_total(p_volunteer text)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(sum({EFFECTIVE.format(r="r")}), 0) FROM hour_records r
  WHERE r.volunteer_id = p_volunteer AND r.status = 'approved'
$$""")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS hours_totals_{event} ON hour_records")
    op.execute("DROP TRIGGER IF EXISTS hours_totals_insert ON hour_corrections")
    op.execute("DROP FUNCTION IF EXISTS hours_totals_on_records()")
    op.execute("DROP FUNCTION IF EXISTS hours_totals_on_corrections()")
    op.execute("DROP TABLE IF EXISTS hours_volunteer_totals")
