"""PostgreSQL roles whose grants allow only their commands: recorder, approver, payer, auditor.

``srdi db roles`` creates four group roles (NOLOGIN; names ``<prefix>recorder`` … with the prefix
``srdi_`` by default) and grants them, in the current schema:

- every role: reading every table, and writing the derived tables (projections, their checkpoints):
  a command that reads catches the views up first. Those rows are rebuilt from the log at will and
  checked by ``srdi audit verify --views``, so writing them proves nothing and forges nothing;
- recorder: appending events of every type but ``EntitlementApproved`` and ``EntitlementPaid``
  (registrations, milestones, reports, retractions, policy activations and the entitlements the
  policy engine derives), idempotency keys, and the scheduler's tables (the scheduler runs as one);
- approver: appending ``EntitlementApproved`` only; payer: ``EntitlementPaid`` only;
- auditor: nothing more (reads, verification, exports).

The event-type limits are row-level security policies on the event table (INSERT ... WITH CHECK);
reading stays open to every role (a SELECT policy ``USING (true)``). No role may change or delete an
event: there is no such grant, and the append-only trigger refuses even the owner (migration 0005).
A person logs in with a role of their own that is a member of one group, e.g.
``CREATE ROLE li_wei LOGIN IN ROLE srdi_approver``; the actor recorded is that login.

Idempotent: an existing role is kept and its grants and policies are set again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.db import WRITE

ROLES = ("recorder", "approver", "payer", "auditor")
DECISIONS = ("EntitlementApproved", "EntitlementPaid")
LOG_TABLES = ("events", "idempotency_keys")
SCHEDULER_TABLES = ("scheduler_scans", "scheduler_notices")
ADMIN_TABLES = ("alembic_version",)
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


class RolesRefused(Exception):
    """The roles cannot be created here (SQLite, or a prefix that is not a plain name): exit 2."""


@dataclass(frozen=True, slots=True)
class RolesResult:
    schema: str
    roles: dict[str, str]  # kind -> role name
    created: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"schema": self.schema, "roles": self.roles, "created": list(self.created)}


def role_names(prefix: str) -> dict[str, str]:
    if not _NAME.match(prefix):
        raise RolesRefused(
            f"--prefix {prefix!r} is not a plain lower-case name (letters, digits, _); e.g. srdi_ or yubei_"
        )
    return {kind: f"{prefix}{kind}" for kind in ROLES}


def create_roles(engine: Engine, prefix: str = "srdi_") -> RolesResult:
    """Create (or refresh) the four roles and their grants and policies in the current schema."""
    if engine.dialect.name != "postgresql":
        raise RolesRefused(
            "SQLite has no database roles: protect the file with operating-system permissions "
            "(docs/trust.md says what SQLite cannot promise)"
        )
    names = role_names(prefix)
    with engine.connect() as conn, conn.execution_options(**WRITE).begin():
        schema = str(conn.exec_driver_sql("SELECT current_schema()").scalar())
        tables = sorted(sa.inspect(conn).get_table_names(schema=schema))
        created = tuple(name for name in names.values() if _ensure_role(conn, name))
        derived = [t for t in tables if t not in (*LOG_TABLES, *SCHEDULER_TABLES, *ADMIN_TABLES)]
        everyone = ", ".join(_q(n) for n in names.values())
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {everyone}")
        for table in tables:
            conn.exec_driver_sql(f"GRANT SELECT ON {_q(schema)}.{_q(table)} TO {everyone}")
        for table in derived:
            conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {_q(schema)}.{_q(table)} TO {everyone}")
        recorder, approver, payer = names["recorder"], names["approver"], names["payer"]
        for table in (*LOG_TABLES, *SCHEDULER_TABLES):
            if table in tables:
                verbs = "INSERT" if table in LOG_TABLES else "INSERT, UPDATE"
                conn.exec_driver_sql(f"GRANT {verbs} ON {_q(schema)}.{_q(table)} TO {_q(recorder)}")
        for role in (approver, payer):
            conn.exec_driver_sql(f"GRANT INSERT ON {_q(schema)}.events TO {_q(role)}")
        _policies(conn, schema, recorder, approver, payer)
    return RolesResult(schema, names, created)


def _ensure_role(conn: Connection, name: str) -> bool:
    exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).first()
    if exists:
        return False
    conn.exec_driver_sql(f"CREATE ROLE {_q(name)} NOLOGIN")
    return True


def _policies(conn: Connection, schema: str, recorder: str, approver: str, payer: str) -> None:
    table = f"{_q(schema)}.events"
    decisions = ", ".join(f"'{kind}'" for kind in DECISIONS)
    conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    wanted = {
        "srdi_read": "FOR SELECT USING (true)",
        f"{recorder}_appends": f"FOR INSERT TO {_q(recorder)} WITH CHECK (event_type NOT IN ({decisions}))",
        f"{approver}_appends": f"FOR INSERT TO {_q(approver)} WITH CHECK (event_type = '{DECISIONS[0]}')",
        f"{payer}_appends": f"FOR INSERT TO {_q(payer)} WITH CHECK (event_type = '{DECISIONS[1]}')",
    }
    for name, body in wanted.items():
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {_q(name)} ON {table}")
        conn.exec_driver_sql(f"CREATE POLICY {_q(name)} ON {table} {body}")


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
