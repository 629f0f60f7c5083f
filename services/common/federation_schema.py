"""The database side of federation (issue 15), the same for every service:
one call in a service's migration federates one of its rollup tables.

Downstream (capture). A statement-level trigger on the rollup table (its
transition tables hold every row an ``INSERT … ON CONFLICT DO UPDATE``, a
plain ``UPDATE`` or a COPY wrote) copies each changed cell's key and *new*
metric values into ``federation_outbox`` with a version from the sequence
``federation_version``. The writer still holds the cell's row lock when the
trigger takes its version, so a cell's versions grow in commit order. Only
cells inside the subtree in ``federation_capture`` are copied; with no row
there (a release that does not federate) the trigger reads one empty table
and returns. Values, not increments: the upstream keeps the highest version
of each cell, so a message applied twice or late changes nothing.

Upstream (apply). ``federated_<rollup>`` keeps, per (downstream, division,
period), the values and the version applied; ``federation_links`` the time
of each downstream's last delta and the messages refused.

Relay (a province's release between its counties and the nation): the
cells its downstreams sent are forwarded too. A second statement trigger, on
``federated_<rollup>``, copies each applied cell into the same outbox with
``origin`` = that row's downstream path (``yanta``; ``''`` for the release's
own cells), under the same capture switch, and a cell removed there (a
county's re-sync dropped it) as a removal (values JSON ``null``); the
upstream keys them by
``<sender>/<origin>`` (``shaanxi/yanta``). :func:`upgrade_relay_sql` holds
these statements, idempotent: :func:`upgrade_sql` ends with them (a new
database), and a database federated before relays existed (hours 0013) gets
them alone (hours 0014).

Counts and sums only, never personal data (the rollups hold nothing else).

Example (a service's migration)::

    for stmt in federation_schema.upgrade_sql("hours_rollup", app_role()):
        op.execute(stmt)
"""

from __future__ import annotations

CODE = 'varchar(12) COLLATE "C"'
PERIOD = 'varchar(7) COLLATE "C"'


def federated_table(rollup: str) -> str:
    """The upstream's table of a rollup's federated cells."""
    return f"federated_{rollup}"


def upgrade_sql(rollup: str, app_role: str) -> list[str]:
    """Every statement that federates ``rollup`` (PostgreSQL only)."""
    fed = federated_table(rollup)
    return [
        "CREATE SEQUENCE IF NOT EXISTS federation_version",
        # One row or none: the subtree this release forwards (downstream).
        "CREATE TABLE IF NOT EXISTS federation_capture ("
        " only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),"
        f" name varchar(64) NOT NULL, subtree {CODE} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS federation_outbox ("
        " id bigserial PRIMARY KEY, source varchar(63) NOT NULL,"
        f" division_code {CODE} NOT NULL, period {PERIOD} NOT NULL,"
        " vals jsonb NOT NULL, version bigint NOT NULL)",
        f"CREATE TABLE {fed} ("
        f" downstream varchar(64) NOT NULL, division_code {CODE} NOT NULL,"
        f" period {PERIOD} NOT NULL, vals jsonb NOT NULL,"
        " version bigint NOT NULL, applied_at timestamptz NOT NULL,"
        " PRIMARY KEY (downstream, division_code, period))",
        f"CREATE INDEX {fed}_subtree ON {fed} (division_code, period)",
        "CREATE TABLE IF NOT EXISTS federation_links ("
        " downstream varchar(64) NOT NULL, source varchar(63) NOT NULL,"
        " last_delta_at timestamptz, last_version bigint NOT NULL DEFAULT 0,"
        " refused bigint NOT NULL DEFAULT 0, PRIMARY KEY (downstream, source))",
        """
CREATE OR REPLACE FUNCTION federation_capture_cells() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE sub text;
BEGIN
  SELECT c.subtree INTO sub FROM federation_capture c;
  IF sub IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO federation_outbox (source, division_code, period, vals, version)
  SELECT TG_TABLE_NAME, n.division_code, n.period,
         to_jsonb(n) - 'level' - 'division_code' - 'period',
         nextval('federation_version')
  FROM new_rows n
  WHERE left(n.division_code, length(sub)) = sub;
  RETURN NULL;
END $$""",
        # The relay's and the operator's way in (the app role has no grant on
        # the rollup itself beyond row security): set or clear the capture.
        """
CREATE OR REPLACE FUNCTION federation_configure(p_name text, p_subtree text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF coalesce(p_subtree, '') = '' THEN
    DELETE FROM federation_capture;
  ELSE
    INSERT INTO federation_capture (only_row, name, subtree)
    VALUES (true, p_name, p_subtree)
    ON CONFLICT (only_row) DO UPDATE
      SET name = EXCLUDED.name, subtree = EXCLUDED.subtree;
  END IF;
END $$""",
        # A re-sync's snapshot: writers are held off (SHARE mode) while the
        # subtree's cells are read and one version taken, so every delta
        # committed before has a lower version and every later one a higher.
        """
CREATE OR REPLACE FUNCTION federation_snapshot(p_source text, p_subtree text)
RETURNS TABLE (division_code text, period text, vals jsonb, version bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE v bigint;
BEGIN
  EXECUTE format('LOCK TABLE %I IN SHARE MODE', p_source);
  v := nextval('federation_version');
  RETURN QUERY EXECUTE format(
    'SELECT r.division_code::text, r.period::text,'
    ' to_jsonb(r) - ''level'' - ''division_code'' - ''period'', $2'
    ' FROM %I r WHERE left(r.division_code, length($1)) = $1', p_source)
  USING p_subtree, v;
END $$""",
        *[
            f"CREATE TRIGGER {rollup}_federate_{event.lower()} AFTER {event}"
            f" ON {rollup} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
            " EXECUTE FUNCTION federation_capture_cells()"
            for event in ("INSERT", "UPDATE")
        ],
        "REVOKE ALL ON federation_capture, federation_outbox, federation_links,"
        f" {fed} FROM PUBLIC",
        f"GRANT SELECT ON federation_capture TO {app_role}",
        # A re-sync of an empty subtree reads its version marker here.
        f"GRANT SELECT ON SEQUENCE federation_version TO {app_role}",
        # UPDATE: the relay takes its batch FOR UPDATE SKIP LOCKED.
        f"GRANT SELECT, UPDATE, DELETE ON federation_outbox TO {app_role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {fed}, federation_links"
        f" TO {app_role}",
        "REVOKE ALL ON FUNCTION federation_configure(text, text),"
        " federation_snapshot(text, text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION federation_configure(text, text),"
        f" federation_snapshot(text, text) TO {app_role}",
        *upgrade_relay_sql(rollup, app_role),
    ]


def upgrade_relay_sql(rollup: str, app_role: str) -> list[str]:
    """What a relay needs beyond :func:`upgrade_sql` as first written: the
    outbox's ``origin``, downstream paths as keys, the triggers that forward
    applied cells and removed ones (values ``null``), and a snapshot of own
    and federated cells. Idempotent."""
    fed = federated_table(rollup)
    return [
        "ALTER TABLE federation_outbox"
        " ADD COLUMN IF NOT EXISTS origin varchar(255) NOT NULL DEFAULT ''",
        # A downstream path: names joined by "/" (yanta, shaanxi/yanta).
        f"ALTER TABLE {fed} ALTER COLUMN downstream TYPE varchar(255)",
        # Applied cells of a downstream, forwarded with their origin when this
        # release captures (a relay); the source is the rollup's own name.
        """
CREATE OR REPLACE FUNCTION federation_capture_relayed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE sub text;
BEGIN
  SELECT c.subtree INTO sub FROM federation_capture c;
  IF sub IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO federation_outbox
    (source, origin, division_code, period, vals, version)
  SELECT substr(TG_TABLE_NAME, 11), n.downstream, n.division_code, n.period,
         n.vals, nextval('federation_version')
  FROM new_rows n
  WHERE left(n.division_code, length(sub)) = sub;
  RETURN NULL;
END $$""",
        *[
            stmt
            for event in ("insert", "update")
            for stmt in (
                f"DROP TRIGGER IF EXISTS {fed}_relay_{event} ON {fed}",
                f"CREATE TRIGGER {fed}_relay_{event} AFTER {event.upper()}"
                f" ON {fed} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
                " EXECUTE FUNCTION federation_capture_relayed()",
            )
        ],
        # A downstream's cell removed here (by its re-sync's end marker) is
        # forwarded as a removal: its values JSON null, with a version.
        """
CREATE OR REPLACE FUNCTION federation_capture_removed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE sub text;
BEGIN
  SELECT c.subtree INTO sub FROM federation_capture c;
  IF sub IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO federation_outbox
    (source, origin, division_code, period, vals, version)
  SELECT substr(TG_TABLE_NAME, 11), o.downstream, o.division_code, o.period,
         'null'::jsonb, nextval('federation_version')
  FROM old_rows o
  WHERE left(o.division_code, length(sub)) = sub;
  RETURN NULL;
END $$""",
        f"DROP TRIGGER IF EXISTS {fed}_relay_delete ON {fed}",
        f"CREATE TRIGGER {fed}_relay_delete AFTER DELETE ON {fed}"
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION federation_capture_removed()",
        # A re-sync's snapshot of own cells (origin '') and the downstreams'
        # (origin = their path), both tables held still for one version.
        """
CREATE OR REPLACE FUNCTION federation_snapshot_all(p_source text, p_subtree text)
RETURNS TABLE (origin text, division_code text, period text, vals jsonb,
               version bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE v bigint;
BEGIN
  EXECUTE format('LOCK TABLE %I, %I IN SHARE MODE', p_source,
                 'federated_' || p_source);
  v := nextval('federation_version');
  RETURN QUERY EXECUTE format(
    'SELECT ''''::text, r.division_code::text, r.period::text,'
    ' to_jsonb(r) - ''level'' - ''division_code'' - ''period'', $2'
    ' FROM %I r WHERE left(r.division_code, length($1)) = $1'
    ' UNION ALL SELECT f.downstream::text, f.division_code::text,'
    ' f.period::text, f.vals, $2'
    ' FROM %I f WHERE left(f.division_code, length($1)) = $1',
    p_source, 'federated_' || p_source)
  USING p_subtree, v;
END $$""",
        "REVOKE ALL ON FUNCTION federation_snapshot_all(text, text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION federation_snapshot_all(text, text) TO {app_role}",
    ]


def downgrade_relay_sql(rollup: str) -> list[str]:
    """Undo :func:`upgrade_relay_sql` (keys keep their width: a path longer
    than the old 64 characters would not fit back)."""
    fed = federated_table(rollup)
    return [
        *[
            f"DROP TRIGGER IF EXISTS {fed}_relay_{e} ON {fed}"
            for e in ("insert", "update", "delete")
        ],
        "DROP FUNCTION IF EXISTS federation_snapshot_all(text, text)",
        "DROP FUNCTION IF EXISTS federation_capture_removed()",
        "DROP FUNCTION IF EXISTS federation_capture_relayed()",
        "ALTER TABLE IF EXISTS federation_outbox DROP COLUMN IF EXISTS origin",
    ]


def downgrade_sql(rollup: str) -> list[str]:
    """Undo :func:`upgrade_sql` for the last federated rollup of a database."""
    return [
        *downgrade_relay_sql(rollup),
        *[
            f"DROP TRIGGER IF EXISTS {rollup}_federate_{e} ON {rollup}"
            for e in ("insert", "update")
        ],
        f"DROP TABLE IF EXISTS {federated_table(rollup)}",
        "DROP FUNCTION IF EXISTS federation_snapshot(text, text)",
        "DROP FUNCTION IF EXISTS federation_configure(text, text)",
        "DROP FUNCTION IF EXISTS federation_capture_cells()",
        "DROP TABLE IF EXISTS federation_links, federation_outbox, federation_capture",
        "DROP SEQUENCE IF EXISTS federation_version",
    ]
