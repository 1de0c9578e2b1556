"""Engines for the two backends, with the settings each needs to be a trustworthy log.

SQLite: WAL (readers never block the writer), ``synchronous=FULL`` (a committed event survives a
power cut), a busy timeout, and ``BEGIN IMMEDIATE`` for writes so two writers queue instead of
deadlocking on upgrade. PostgreSQL: psycopg 3; a plain ``postgresql://`` URL is accepted.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

WRITE = {"srdi_write": True}


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///PATH`` URL names; None for an in-memory or non-SQLite URL."""
    if not url.startswith("sqlite"):
        return None
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(
    url: str, *, busy_timeout: float = 60.0, connect_timeout: int | None = None, **kwargs: Any
) -> Engine:
    """An engine for ``url``; for SQLite, the pragmas and transaction handling described above.

    ``busy_timeout``: seconds a SQLite connection waits for another writer before "database is
    locked" (the CLI passes its setting, a few seconds). ``connect_timeout``: seconds a PostgreSQL
    connection attempt may take.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", busy_timeout)
        connect_args["isolation_level"] = None  # we emit BEGIN ourselves
        engine = sa.create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, int(connect_args["timeout"] * 1000))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if connect_timeout is not None:
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", connect_timeout)
        kwargs["connect_args"] = connect_args
    return sa.create_engine(url, **kwargs)


def _null(_value: None) -> None:
    return None


def bind_plainly() -> None:
    """Have Python's sqlite3 bind None and bool without looking for an adaptation first.

    It binds int, float, str and bytes as they are, and looks any other value up as a possible
    adaptation, which for None and bool raises and discards an AttributeError each time (~1 us;
    a rebuild binds hundreds of thousands of NULLs). An adapter registered for them gives SQLite
    what it stored before: NULL, and 0 / 1. Module-wide, like every sqlite3 adapter.
    """
    sqlite3.register_adapter(type(None), _null)
    sqlite3.register_adapter(bool, int)


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    bind_plainly()

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("srdi_write", False)
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # Straight on the DBAPI connection: going through exec_driver_sql cost ~20 us per
        # transaction (15% of a one-event append). Errors are wrapped as SQLAlchemy would.
        try:
            conn.connection.dbapi_connection.execute(statement)  # type: ignore[union-attr]
        except dbapi_error as error:
            raise sa.exc.DBAPIError.instance(
                statement, (), error, dbapi_error, dialect=engine.dialect
            ) from error


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
