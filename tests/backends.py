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
