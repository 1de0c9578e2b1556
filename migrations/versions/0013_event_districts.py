"""PostgreSQL knows each event's district, so row-level security can limit a district's roles to it.

``events.district`` is set by the database (a BEFORE INSERT trigger, whatever the client sent):

- a registration, a details change that moves the enterprise, a facility's establishment: the
  district in the event;
- a policy activation: the policy's district when it names exactly one (else NULL: office-wide);
- every other event of an ``enterprise-``, ``reminders-`` or ``facility-`` stream: the latest
  district of that enterprise's (facility's) stream when the event is recorded.

The column is outside the hash chain (it is derived from the chained columns and can be recomputed
from them), so every stored hash stays valid and ``srdi audit verify`` walks the chain as before.

Two SECURITY DEFINER functions answer what row-level security would otherwise hide from a limited
role, and nothing more: ``srdi_log_end()`` (the last position: a district's reader folds the log up
to the end, not up to its own last event) and ``srdi_enterprise_district(uscc)`` (what the view
tables without a district column are limited by). ``srdi_reads_whole_log()`` says whether a
RESTRICTIVE read policy limits this session's view of the log (the chain cannot be walked then).
SQLite has no row-level security: nothing is created there.

**The log is never locked for the length of the backfill.** Adding the column takes the event
table's ACCESS EXCLUSIVE lock until commit, so the upgrade runs in two parts:

1. The column (nullable, no default: no rewrite), the functions and the ``events_district`` trigger
   are created and committed at once (``autocommit_block``, Alembic's way to commit inside a
   migration). ``migrations/env.py`` runs every pending migration in one transaction (it does not
   set ``transaction_per_migration``), so this commits the migrations before this one in the same
   run too, with ``alembic_version`` at 0012: a consistent state to stop at. From then on every
   append gets its district from the trigger.
2. The rows already there, up to the log's end as seen at that moment, are filled in position
   ranges of ``BATCH`` positions, each its own short transaction, so appends interleave between
   batches. Each batch is one index-driven computation: the rows of its range (primary key), the
   district of each one's parent stream carried through the range by a window, and for the rows
   before their parent's first known district in the range, that parent's last filled district
   before the range (one look-up per parent on ``(stream_id, stream_version)``). The result is
   exactly that of the single ``UPDATE`` this migration first ran (``BACKFILL``, kept as the tests'
   oracle), which held the whole log locked for over 13 minutes at 10M events.

While the backfill runs, an append may come before the rows of its enterprise are filled, so the
trigger's look-up reads a row's own district (a registration, a move) where its ``district`` is
still NULL; once filled, the first row it meets has a district, as before. A district's limited
roles see an old event once its batch has committed.

**The append-only trigger (migration 0005) is lifted per batch, for that batch's transaction only**,
in one of the two ways 0005 leaves to those who may switch triggers off:

- ``SET LOCAL session_replication_role = replica`` where the session may set it (a superuser, or a
  role granted ``SET`` on that parameter, PostgreSQL 15): ordinary triggers do not fire for this
  session until the batch commits or rolls back, and nothing else changes. The trigger stays
  enabled for every other session and no lock beyond an ordinary UPDATE's is taken: appends never
  wait for a batch.
- Otherwise (the schema's owner, who runs migrations, docs/trust.md): ``DISABLE TRIGGER
  events_append_only``, the ``UPDATE``, ``ENABLE``, commit, in the batch's transaction. The catalog
  change is invisible to other sessions until commit, and the lock it takes (SHARE ROW EXCLUSIVE)
  makes every other write to the table wait until the commit, when the trigger is enabled again:
  no other session ever writes with the trigger off, and an interrupted batch rolls the change
  back with the rest. The districts are computed before the lock is taken (into a temporary
  table), so an append waits at most for one batch's ``UPDATE``.

A ``WHEN`` clause on the trigger letting a NULL district be filled was not taken: it would leave
that door open to every later writer, and a district decides who may read an event.

**An interrupted upgrade can be run again**: the column, functions and trigger are created whatever
part of them exists, the backfill starts again from the first position and fills only rows whose
district is NULL and whose computed district is not (a range already filled costs its read). The
revision is recorded only when the backfill is done.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 10_000  # positions per transaction: ~0.4 s of an owner's lock at 1M events (docs/benchmarks.md)

log = logging.getLogger("alembic.runtime.migration")  # next to Alembic's own "Running upgrade" lines

OWN = """
    CASE
        WHEN {t}.event_type IN ('EnterpriseRegistered', 'EnterpriseDetailsChanged', 'FacilityEstablished')
            THEN ({t}.payload::jsonb) ->> 'district'
        WHEN {t}.event_type = 'PolicyActivated'
             AND jsonb_typeof(({t}.payload::jsonb) -> 'policy' -> 'districts') = 'array'
             AND jsonb_array_length(({t}.payload::jsonb) -> 'policy' -> 'districts') = 1
            THEN ({t}.payload::jsonb) -> 'policy' -> 'districts' ->> 0
    END
"""
STREAM = """
    CASE WHEN {t}.stream_id LIKE 'reminders-%' THEN 'enterprise-' || substr({t}.stream_id, 11)
         WHEN {t}.stream_id LIKE 'enterprise-%' OR {t}.stream_id LIKE 'facility-%' THEN {t}.stream_id
    END
"""
# what a row of a parent stream knows of its district: filled, or (not filled yet) its own
KNOWN = "coalesce({t}.district, " + OWN + ")"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION srdi_event_district() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    parent text;
BEGIN
    NEW.district := {OWN.format(t="NEW")};
    parent := {STREAM.format(t="NEW")};
    IF NEW.district IS NULL AND parent IS NOT NULL THEN
        SELECT {KNOWN.format(t="e")} INTO NEW.district FROM events e
         WHERE e.stream_id = parent AND {KNOWN.format(t="e")} IS NOT NULL
         ORDER BY e.stream_version DESC LIMIT 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION srdi_log_end() RETURNS bigint LANGUAGE sql STABLE
SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT coalesce(max(position), 0) FROM events
$$;

CREATE OR REPLACE FUNCTION srdi_reads_whole_log() RETURNS boolean LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
    SELECT NOT row_security_active('events') OR NOT EXISTS (
        SELECT 1 FROM pg_policy p
         WHERE p.polrelid = 'events'::regclass AND NOT p.polpermissive AND p.polcmd IN ('r', '*')
           AND (0::oid = ANY (p.polroles)
                OR EXISTS (SELECT 1 FROM unnest(p.polroles) r WHERE pg_has_role(current_user, r, 'MEMBER'))))
$$;

CREATE OR REPLACE FUNCTION srdi_enterprise_district(code text) RETURNS text LANGUAGE sql STABLE
SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT {KNOWN.format(t="events")} FROM events
     WHERE stream_id = 'enterprise-' || code AND {KNOWN.format(t="events")} IS NOT NULL
     ORDER BY stream_version DESC LIMIT 1
$$;
"""

# Every event's district in one statement, computed from the chained columns alone: the first
# version of this migration ran it as one UPDATE of the whole log. The tests compare the batched
# backfill with it.
DISTRICTS = f"""
SELECT position,
       CASE WHEN parent IS NULL THEN own ELSE max(own) OVER (PARTITION BY parent, run) END AS district
  FROM (SELECT position, own, parent,
               count(own) OVER (PARTITION BY parent ORDER BY position) AS run
          FROM (SELECT position, {OWN.format(t="events")} AS own,
                       {STREAM.format(t="events")} AS parent
                  FROM events) o) r
"""
BACKFILL = f"""
UPDATE events e SET district = b.district FROM ({DISTRICTS}) b
 WHERE e.position = b.position AND b.district IS NOT NULL
"""

# One batch, positions :lo..:hi. A row's parent district runs from the parent's last row in the
# range that knows its district; rows before the first such row take the parent's last filled
# district before the range (every row before :lo has had its batch).
BATCH_DISTRICTS = f"""
INSERT INTO srdi_district_batch (position, district)
WITH rows AS (
    SELECT position, district AS stored, {KNOWN.format(t="events")} AS known,
           {STREAM.format(t="events")} AS parent
      FROM events WHERE position BETWEEN :lo AND :hi
), runs AS (
    SELECT position, stored, known, parent,
           count(known) OVER (PARTITION BY parent ORDER BY position) AS run
      FROM rows
), carried AS (
    SELECT p.parent,
           (SELECT e.district FROM events e
             WHERE e.stream_id = p.parent AND e.position < :lo AND e.district IS NOT NULL
             ORDER BY e.stream_version DESC LIMIT 1) AS district
      FROM (SELECT DISTINCT parent FROM runs
             WHERE run = 0 AND parent IS NOT NULL AND stored IS NULL) p
), computed AS (
    SELECT r.position, r.stored,
           CASE WHEN r.parent IS NULL THEN r.known
                WHEN r.run = 0 THEN c.district
                ELSE max(r.known) OVER (PARTITION BY r.parent, r.run)
           END AS district
      FROM runs r LEFT JOIN carried c ON c.parent = r.parent
)
SELECT position, district FROM computed WHERE stored IS NULL AND district IS NOT NULL
"""
FILL = """
UPDATE events e SET district = b.district FROM srdi_district_batch b
 WHERE e.position = b.position AND e.position BETWEEN :lo AND :hi AND e.district IS NULL
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS district varchar(50)")
    op.execute(FUNCTIONS)
    op.execute("DROP TRIGGER IF EXISTS events_district ON events")
    op.execute(
        "CREATE TRIGGER events_district BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION srdi_event_district()"
    )
    with op.get_context().autocommit_block():  # commits the above: appends get districts from here on
        backfill(op.get_bind())


def backfill(conn: sa.Connection) -> None:
    """Fill the district of every row up to the log's end, ``BATCH`` positions per transaction.

    ``conn`` is in autocommit mode; each batch is one explicit transaction on it.
    """
    first, end = conn.execute(sa.text("SELECT min(position), max(position) FROM events")).one()
    if end is None:
        return
    replica = may_silence_triggers(conn)
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS srdi_district_batch "
        "(position bigint PRIMARY KEY, district varchar(50)) ON COMMIT DELETE ROWS"
    )
    started, filled = time.perf_counter(), 0
    for lo in range(first, end + 1, BATCH):
        hi = min(lo + BATCH - 1, end)
        rows, locked = fill_batch(conn, lo, hi, replica)
        filled += rows
        log.info("events.district: %d-%d of %d: %d rows filled, locked %.3f s", lo, hi, end, rows, locked)
    conn.exec_driver_sql("DROP TABLE IF EXISTS srdi_district_batch")
    log.info("events.district: %d rows filled in %.1f s", filled, time.perf_counter() - started)


def may_silence_triggers(conn: sa.Connection) -> bool:
    """Whether this session may set ``session_replication_role`` (``conn`` is in autocommit mode)."""
    try:
        conn.exec_driver_sql("SET session_replication_role = replica")
    except sa.exc.DBAPIError:  # insufficient privilege: not a superuser, no SET grant
        return False
    conn.exec_driver_sql("RESET session_replication_role")
    return True


def fill_batch(conn: sa.Connection, lo: int, hi: int, replica: bool) -> tuple[int, float]:
    """Fill positions ``lo..hi`` in one transaction; the rows filled and the seconds the table was
    locked against appends (none with ``replica``: the append-only trigger is silenced for this
    transaction only, instead of disabled for the table)."""
    conn.exec_driver_sql("BEGIN")
    try:
        found = conn.execute(sa.text(BATCH_DISTRICTS), {"lo": lo, "hi": hi}).rowcount
        filled, locked = 0, 0.0
        if found and replica:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            filled = conn.execute(sa.text(FILL), {"lo": lo, "hi": hi}).rowcount
            conn.exec_driver_sql("COMMIT")
        elif found:
            since = time.perf_counter()
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER events_append_only")
            filled = conn.execute(sa.text(FILL), {"lo": lo, "hi": hi}).rowcount
            conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER events_append_only")
            conn.exec_driver_sql("COMMIT")
            locked = time.perf_counter() - since
        else:
            conn.exec_driver_sql("COMMIT")
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    return filled, locked


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_district ON events")
    op.execute("DROP FUNCTION IF EXISTS srdi_enterprise_district(text)")
    op.execute("DROP FUNCTION IF EXISTS srdi_log_end()")
    op.execute("DROP FUNCTION IF EXISTS srdi_reads_whole_log()")
    op.execute("DROP FUNCTION IF EXISTS srdi_event_district()")
    op.execute("ALTER TABLE events DROP COLUMN IF EXISTS district")
