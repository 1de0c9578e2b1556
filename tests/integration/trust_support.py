"""Attacks on the stored log by someone with write access to the database, for the trust tests.

On PostgreSQL the event table refuses UPDATE, DELETE and TRUNCATE (a trigger); a superuser can
still switch triggers off for a session (``session_replication_role = replica``), which is what an
attacker holding the database owner's password would do. These helpers do exactly that.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events import canonical
from events.db import make_engine
from events.integrity import raw_rows
from events.schemas import EntitlementPaid
from events.sql_store import _as_date, _as_utc
from events.tables import events_table as T
from tests.backends import PG_URL
from tests.bootstrap import Office
from tests.cli import invoke

KINDS = ("recorder", "approver", "payer", "auditor")


@contextmanager
def as_attacker(engine: Engine) -> Iterator[Connection]:
    """A write transaction with the append-only triggers bypassed (PostgreSQL superuser)."""
    with engine.begin() as conn:
        if engine.dialect.name != "sqlite":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield conn


def rechain(engine: Engine) -> None:
    """Recompute every stored hash from the stored columns, as a forger covering their tracks would."""
    rows = [tuple(r) for r in raw_rows(engine)]
    previous = canonical.GENESIS
    with as_attacker(engine) as conn:
        for row in rows:
            text = canonical.canonical_text(
                position=row[0], event_id=row[1], stream_id=row[2], stream_version=row[3],
                event_type=row[4], schema_version=row[5], occurred_on=_as_date(row[6]).isoformat(),
                recorded_at=canonical.format_recorded_at(_as_utc(row[7])), actor=row[8],
                causation_id=row[9], correlation_id=row[10], payload=row[11],
            )  # fmt: skip
            previous = canonical.chain_hash(previous, text)
            if previous != row[12]:
                conn.execute(sa.update(T).where(T.c.position == row[0]).values(hash=previous))


def forge_payment(engine: Engine, position: int, entitlement_id: str, amount: str = "99999") -> None:
    """Turn the event at ``position`` into an EntitlementPaid, then recompute the whole chain."""
    paid = EntitlementPaid(entitlement_id=entitlement_id, amount=Decimal(amount), ref="forged")
    with as_attacker(engine) as conn:
        conn.execute(
            sa.update(T)
            .where(T.c.position == position)
            .values(
                event_type=paid.event_type,
                schema_version=paid.schema_version,
                payload=canonical.dumps(paid.payload()),
                occurred_on=date(2024, 1, 1),
            )
        )
    rechain(engine)


def truncate_tail(engine: Engine, keep: int) -> None:
    with as_attacker(engine) as conn:
        conn.execute(sa.delete(T).where(T.c.position > keep))


def delete_all(engine: Engine) -> None:
    with as_attacker(engine) as conn:
        conn.execute(sa.delete(T))


def set_column(engine: Engine, position: int, **values: Any) -> None:
    with as_attacker(engine) as conn:
        conn.execute(sa.update(T).where(T.c.position == position).values(**values))


@contextmanager
def role_logins(url: str, *options: str) -> Iterator[dict[str, str]]:
    """``srdi db roles`` (run twice: idempotent) with a prefix of this test's own and ``options``, one
    login per role; yields kind -> the URL of that login. Logins and roles are dropped afterwards."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    admin = make_engine(PG_URL)
    groups = [f"{prefix}{kind}" for kind in KINDS]
    users = {kind: f"{prefix}login_{kind}" for kind in KINDS}
    try:
        args = ("db", "roles", "--prefix", prefix, *options, "--json")
        done = invoke(url, *args)
        assert done.exit_code == 0, done.stderr
        assert sorted(json.loads(done.stdout)["created"]) == sorted(groups)
        again = invoke(url, *args)
        assert again.exit_code == 0 and json.loads(again.stdout)["created"] == []
        with admin.begin() as conn:
            for kind, user in users.items():
                conn.exec_driver_sql(f'CREATE ROLE "{user}" LOGIN IN ROLE "{prefix}{kind}"')
        yield {kind: url.replace("postgres@", f"{user}@", 1) for kind, user in users.items()}
    finally:
        with admin.begin() as conn:
            for role in [*users.values(), *groups]:
                exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).first()
                if exists:
                    conn.exec_driver_sql(f'DROP OWNED BY "{role}" CASCADE')
                    conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


@pytest.fixture(name="backend")
def postgres_only() -> str:
    """Roles are PostgreSQL's: the sample history (`history`) is recorded there, by the owner."""
    return "postgres"


@pytest.fixture(name="logins")
def history_logins(db_url: str, history: Office) -> Iterator[dict[str, str]]:
    """``db roles`` on the sample history with a prefix of the test's own, one login per role."""
    with role_logins(db_url) as urls:
        yield urls
