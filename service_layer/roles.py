"""PostgreSQL roles whose grants allow only their commands: recorder, approver, payer, auditor.

``srdi db roles`` creates four group roles (NOLOGIN; names ``<prefix>recorder`` … with the prefix
``srdi_`` by default) and grants them, in the current schema:

- every role: reading every table;
- recorder, approver, payer: writing the derived tables (projections, their checkpoints), because
  their reads catch the views up. Those rows are rebuilt from the log at will and checked by
  ``srdi audit verify --views``, so writing them proves nothing and forges nothing;
- recorder: appending events of every type but ``EntitlementApproved`` and ``EntitlementPaid``
  (registrations, milestones, reports, retractions, policy activations and the entitlements the
  policy engine derives), idempotency keys, and the scheduler's tables (the scheduler runs as one);
- approver: appending ``EntitlementApproved`` only; payer: ``EntitlementPaid`` only;
- auditor: SELECT only, nothing else anywhere. Its reads catch the views up privately
  (``projections.feed.private_view``): same answers, nothing written.

The event-type limits are row-level security policies on the event table (INSERT ... WITH CHECK);
reading stays open to every role (a SELECT policy ``USING (true)``). No role may change or delete an
event: there is no such grant, and the append-only trigger refuses even the owner (migration 0005).
The actor of every event is the login (migration 0012). A person logs in with a role of their own
that is a member of one group, e.g. ``CREATE ROLE li_wei LOGIN IN ROLE srdi_approver``.

With ``district`` (``srdi db roles --district yubei``; prefix ``yubei_`` by default) the roles are
limited to that district by RESTRICTIVE policies, ANDed with the others: recorder, approver and payer
may append only events whose ``district`` (set by the database, migration 0013) is theirs; the
auditor reads only its district's events (and the office-wide ones, ``district IS NULL``) and
view rows. A district's roles write no view (they read privately) and not the scheduler's tables.
The writers still read the whole log: appending needs the chain's last hash and every stream's
version, and a refusal must say "not permitted", not "no such enterprise" (docs/trust.md).

Idempotent: an existing role is kept; its grants are revoked and set again, its policies replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.db import WRITE

if TYPE_CHECKING:
    from service_layer.bootstrap import Services

ROLES = ("recorder", "approver", "payer", "auditor")
WRITERS = ("recorder", "approver", "payer")
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
    district: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "schema": self.schema,
            "roles": self.roles,
            "created": list(self.created),
            "district": self.district,
        }


def role_names(prefix: str) -> dict[str, str]:
    if not _NAME.match(prefix):
        raise RolesRefused(
            f"--prefix {prefix!r} is not a plain lower-case name (letters, digits, _); e.g. srdi_ or yubei_"
        )
    return {kind: f"{prefix}{kind}" for kind in ROLES}


NO_ROLES = (
    "SQLite has no database roles: protect the file with operating-system permissions "
    "(docs/trust.md says what SQLite cannot promise)"
)


def create_roles_for(services: Services, prefix: str | None, district: str | None) -> RolesResult:
    """`srdi db roles`: on SQLite refused before the database is opened, so no file is created."""
    if services.settings.database_url.startswith("sqlite"):
        raise RolesRefused(NO_ROLES)
    return create_roles(services.engine, prefix, district)


def create_roles(engine: Engine, prefix: str | None = None, district: str | None = None) -> RolesResult:
    """Create (or refresh) the four roles and their grants and policies in the current schema.

    ``district``: a district key (already parsed); the roles are limited to it (see the module).
    """
    if engine.dialect.name != "postgresql":
        raise RolesRefused(NO_ROLES)
    names = role_names(prefix if prefix is not None else f"{district or 'srdi'}_")
    with engine.connect() as conn, conn.execution_options(**WRITE).begin():
        schema = str(conn.exec_driver_sql("SELECT current_schema()").scalar())
        tables = sorted(sa.inspect(conn).get_table_names(schema=schema))
        created = tuple(name for name in names.values() if _ensure_role(conn, name))
        derived = [t for t in tables if t not in (*LOG_TABLES, *SCHEDULER_TABLES, *ADMIN_TABLES)]
        everyone = ", ".join(_q(n) for n in names.values())
        writers = ", ".join(_q(names[kind]) for kind in WRITERS)
        conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {_q(schema)} FROM {everyone}")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {everyone}")
        for table in tables:
            conn.exec_driver_sql(f"GRANT SELECT ON {_q(schema)}.{_q(table)} TO {everyone}")
        if district is None:
            for table in derived:
                conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {_q(schema)}.{_q(table)} TO {writers}")
        recorder, approver, payer = names["recorder"], names["approver"], names["payer"]
        for table in (*LOG_TABLES, *(SCHEDULER_TABLES if district is None else ())):
            if table in tables:
                verbs = "INSERT" if table in LOG_TABLES else "INSERT, UPDATE"
                conn.exec_driver_sql(f"GRANT {verbs} ON {_q(schema)}.{_q(table)} TO {_q(recorder)}")
        for role in (approver, payer):
            conn.exec_driver_sql(f"GRANT INSERT ON {_q(schema)}.events TO {_q(role)}")
        _policies(conn, schema, recorder, approver, payer)
        if district is not None:
            _district_policies(conn, schema, names, district, derived)
    return RolesResult(schema, names, created, district)


def require_whole_log(engine: Engine, what: str) -> None:
    """Refuse ``what`` (exit 6) for a login that reads only part of the log (a district's auditor).

    Each hash covers everything before it, so the chain, its anchors and an export are only checked
    on the whole log; row-level security hides the other districts' events from such a login, which
    would otherwise report them as deleted rows (tampering). SQLite has no row-level security.
    """
    if engine.dialect.name == "sqlite":
        return
    with engine.connect() as conn:
        whole = conn.exec_driver_sql("SELECT srdi_reads_whole_log()").scalar()
    if not whole:
        from domain.errors import NotPermitted

        raise NotPermitted(
            f"{what} needs the whole log, and this login reads one district's part of it "
            "(row-level security); ask an office-wide auditor (docs/trust.md)"
        )


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
    _replace(conn, table, {
        "srdi_read": "FOR SELECT USING (true)",
        f"{recorder}_appends": f"FOR INSERT TO {_q(recorder)} WITH CHECK (event_type NOT IN ({decisions}))",
        f"{approver}_appends": f"FOR INSERT TO {_q(approver)} WITH CHECK (event_type = '{DECISIONS[0]}')",
        f"{payer}_appends": f"FOR INSERT TO {_q(payer)} WITH CHECK (event_type = '{DECISIONS[1]}')",
    })  # fmt: skip


def _district_policies(
    conn: Connection, schema: str, names: dict[str, str], district: str, derived: list[str]
) -> None:
    """RESTRICTIVE policies (ANDed with the permissive ones): a district's writers append only their
    district's events; its auditor reads only its district's events and view rows."""
    key = _literal(district)
    writers = ", ".join(_q(names[kind]) for kind in WRITERS)
    auditor = _q(names["auditor"])
    _replace(conn, f"{_q(schema)}.events", {
        f"{names['recorder']}_district": f"AS RESTRICTIVE FOR INSERT TO {writers} "
        f"WITH CHECK (district = {key})",
        f"{names['auditor']}_district": f"AS RESTRICTIVE FOR SELECT TO {auditor} "
        f"USING (district = {key} OR district IS NULL)",
    })  # fmt: skip
    inspector = sa.inspect(conn)
    for name in derived:
        columns = {c["name"] for c in inspector.get_columns(name, schema=schema)}
        if "district" in columns:
            limit = f"district = {key}"
        elif "uscc" in columns:
            limit = f"srdi_enterprise_district(uscc) = {key}"
        else:
            continue  # the checkpoints: positions only
        table = f"{_q(schema)}.{_q(name)}"
        conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        _replace(conn, table, {
            "srdi_views": "FOR ALL USING (true) WITH CHECK (true)",  # the grants decide who writes
            f"{names['auditor']}_district": f"AS RESTRICTIVE FOR SELECT TO {auditor} USING ({limit})",
        })  # fmt: skip


def _replace(conn: Connection, table: str, wanted: dict[str, str]) -> None:
    for name, body in wanted.items():
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {_q(name)} ON {table}")
        conn.exec_driver_sql(f"CREATE POLICY {_q(name)} ON {table} {body}")


def _literal(text: str) -> str:
    """A quoted SQL string (district keys are plain names; quoted all the same)."""
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
