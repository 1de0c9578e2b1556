"""PostgreSQL knows each event's district, so row-level security can limit a district's roles to it.

``events.district`` is set by the database (a BEFORE INSERT trigger, whatever the client sent):

- a registration, a details change that moves the enterprise, a facility's establishment: the
  district in the event;
- a policy activation: the policy's district when it names exactly one (else NULL: office-wide);
- every other event of an ``enterprise-``, ``reminders-`` or ``facility-`` stream: the latest
  district of that enterprise's (facility's) stream when the event is recorded.

Existing rows are filled the same way, in position order. The column is outside the hash chain (it
is derived from the chained columns and can be recomputed from them), so every stored hash stays
valid and ``srdi audit verify`` walks the chain as before.

Two SECURITY DEFINER functions answer what row-level security would otherwise hide from a limited
role, and nothing more: ``srdi_log_end()`` (the last position: a district's reader folds the log up
to the end, not up to its own last event) and ``srdi_enterprise_district(uscc)`` (what the view
tables without a district column are limited by). ``srdi_reads_whole_log()`` says whether a
RESTRICTIVE read policy limits this session's view of the log (the chain cannot be walked then).
SQLite has no row-level security: nothing is
created there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

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

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION srdi_event_district() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    parent text;
BEGIN
    NEW.district := {OWN.format(t="NEW")};
    parent := {STREAM.format(t="NEW")};
    IF NEW.district IS NULL AND parent IS NOT NULL THEN
        SELECT e.district INTO NEW.district FROM events e
         WHERE e.stream_id = parent AND e.district IS NOT NULL
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
    SELECT district FROM events WHERE stream_id = 'enterprise-' || code AND district IS NOT NULL
     ORDER BY stream_version DESC LIMIT 1
$$;
"""

BACKFILL = f"""
UPDATE events e SET district = b.district
  FROM (SELECT position,
               CASE WHEN parent IS NULL THEN own ELSE max(own) OVER (PARTITION BY parent, run) END AS district
          FROM (SELECT position, own, parent,
                       count(own) OVER (PARTITION BY parent ORDER BY position) AS run
                  FROM (SELECT position, {OWN.format(t="events")} AS own,
                               {STREAM.format(t="events")} AS parent
                          FROM events) o) r) b
 WHERE e.position = b.position AND b.district IS NOT NULL
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE events ADD COLUMN district varchar(50)")
    op.execute(FUNCTIONS)
    op.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")  # the one UPDATE: the backfill
    op.execute(BACKFILL)
    op.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    op.execute(
        "CREATE TRIGGER events_district BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION srdi_event_district()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_district ON events")
    op.execute("DROP FUNCTION IF EXISTS srdi_enterprise_district(text)")
    op.execute("DROP FUNCTION IF EXISTS srdi_log_end()")
    op.execute("DROP FUNCTION IF EXISTS srdi_reads_whole_log()")
    op.execute("DROP FUNCTION IF EXISTS srdi_event_district()")
    op.execute("ALTER TABLE events DROP COLUMN district")
