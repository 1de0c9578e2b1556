"""Database back-ends for tests: a fresh SQLite file, or a fresh PostgreSQL schema.

Without a PostgreSQL server the PostgreSQL cases skip with one line of reason; with ``CI=true`` they
fail instead, so a green CI always means both back-ends ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.db import make_engine
from events.migrate import ensure_schema

PG_URL = os.environ.get("SRDI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

_pg_checked: bool | None = None


def postgres_available() -> bool:
    global _pg_checked
    if _pg_checked is None:
        try:
            engine = make_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_checked = True
        except Exception:
            _pg_checked = False
    return _pg_checked


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but PostgreSQL is not answering at {PG_URL}")
    pytest.skip(f"PostgreSQL not answering at {PG_URL}")


def pg_schema_url(schema: str) -> str:
    """A URL whose connections use ``schema`` first (psycopg passes ``options`` to the server)."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_database(kind: str, tmp_path: Path, *, migrate: bool = True) -> Iterator[str]:
    """Yield the URL of an empty database of ``kind``; drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'srdi-test.db'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def fresh_engine(kind: str, tmp_path: Path, *, migrate: bool = True) -> Iterator[Engine]:
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        if migrate:
            ensure_schema(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def bypass_append_only(conn: sa.engine.Connection) -> None:
    """Let this transaction UPDATE/DELETE events on PostgreSQL, as a superuser attacker could.

    The log's append-only triggers (migration 0005) are ordinary triggers, which a superuser may
    switch off for a session; the tests that tamper with stored rows do exactly that.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")


def as_person(url: str, name: str) -> str:
    """``url``'s database as the person ``name``: the same URL on SQLite (it has no logins).

    On PostgreSQL the actor is the login (``SRDI_ACTOR`` only adds a note after it), so two people
    need two logins: one per name (``srdi_person_<digest>``, created once and kept), a member of the
    URL's own role so it holds that role's grants on the test's schema.
    """
    if not url.startswith("postgresql"):
        return url
    import hashlib

    owner = url.split("://", 1)[1].split("@", 1)[0]
    login = f"srdi_person_{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(
                f"DO $$ BEGIN CREATE ROLE {login} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        with admin.begin() as conn:
            member = conn.exec_driver_sql(
                "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
                (owner, login),
            ).first()
            if member is None:
                conn.exec_driver_sql(f'GRANT "{owner}" TO {login}')
    except sa.exc.DBAPIError:  # another test process made the same login at the same moment
        pass
    finally:
        admin.dispose()
    return url.replace(f"{owner}@", f"{login}@", 1)
