"""PostgreSQL records who logged in: an event's actor must be the session user (or ``login/note``).

``srdi`` writes the actor as the login (``session_user``), or ``login/name`` when ``SRDI_ACTOR``
adds a name (a note of whose behalf; four eyes compares the login only). Before this, the column
held whatever the client sent, so a raw INSERT could name anyone. A BEFORE INSERT trigger now
refuses (``insufficient_privilege``, the CLI's exit 6) an event whose actor is neither the session
user nor starts with ``<session user>/``. It refuses rather than overwrites: the client hashed the
actor into the chain, and a silently changed column would break the chain at that event.

The schema's owner and superusers are not bound: they can switch any trigger off
(``ALTER TABLE … DISABLE TRIGGER``, ``session_replication_role``), so binding them would promise
nothing; for them the hash chain and the signed anchors are the defence (docs/trust.md). They are
who run maintenance, the demo (synthetic actors) and migrations. ``srdi_actor_bound()`` says whether
the session is bound; a bound session's store records what the policy engine and the scheduler
derive as ``login/system`` (``system`` elsewhere). SQLite has no logins: nothing is created there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION srdi_actor_bound() RETURNS boolean LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
    SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = session_user AND rolsuper)
       AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                        WHERE c.oid = 'events'::regclass AND r.rolname = session_user)
$$;

CREATE OR REPLACE FUNCTION srdi_actor_is_login() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    login text := session_user::text;
BEGIN
    IF NEW.actor = login OR left(NEW.actor, length(login) + 1) = login || '/'
       OR NOT {schema}.srdi_actor_bound() THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the actor % is not the login %: an event records who logged in', NEW.actor, login
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'log in as yourself; SRDI_ACTOR may only add a note after your login (login/name)';
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    op.execute(FUNCTION.replace("{schema}", str(schema)))
    op.execute(
        "CREATE TRIGGER events_actor_is_login BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION srdi_actor_is_login()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_actor_is_login ON events")
    op.execute("DROP FUNCTION IF EXISTS srdi_actor_is_login()")
    op.execute("DROP FUNCTION IF EXISTS srdi_actor_bound()")
