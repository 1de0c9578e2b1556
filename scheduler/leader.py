"""Only one active scheduler per database: APScheduler 3.x must never share a job store.

PostgreSQL: a session-level ``pg_try_advisory_lock`` taken on a dedicated connection kept open for the
process lifetime; the server drops it the moment that session ends, so a killed leader frees it at
once (server-side TCP keep-alives are shortened on that session so a vanished host frees it too).
The key is derived from the schema, because tests (and some deployments) keep several srdi databases
as schemas of one PostgreSQL database, and advisory locks are per database.

SQLite: an exclusive ``flock`` on ``<db>.scheduler.lock`` next to the database file; the kernel drops
it when the process dies. The holder writes its pid into the file, for operators.

Standbys retry every ``standby_poll_seconds`` (capped at 10 s), so one takes over within 30 s.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.db import is_sqlite, make_engine

MAX_POLL_SECONDS = 10.0
_PG_KEEPALIVES = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
)


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""

    def still_held(self) -> bool:
        """False when the lock may have been lost (the leader must then stop scheduling)."""

    def release(self) -> None: ...


def poll_seconds(configured: float) -> float:
    """The standby poll interval: as configured, but never so long that takeover exceeds 30 s."""
    return max(0.05, min(configured, MAX_POLL_SECONDS))


class FileLeaderLock:
    """The SQLite flavour: ``flock`` on a lock file (held by the open descriptor)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        """Held while our descriptor still names the file at ``path`` (deleting it would let a second in)."""
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class PgLeaderLock:
    """The PostgreSQL flavour: a session advisory lock on a connection of its own."""

    def __init__(self, url: str) -> None:
        self._engine = make_engine(url, poolclass=sa.pool.NullPool)
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            for statement in _PG_KEEPALIVES:
                conn.exec_driver_sql(statement)
            schema = conn.execute(sa.text("SELECT current_database() || '.' || current_schema()")).scalar()
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(str(schema))})
            if got.scalar():
                self._conn = conn
                return True
        except Exception:
            conn.close()
            raise
        conn.close()
        return False

    def still_held(self) -> bool:
        """A session lock lives as long as its session, so a live connection means the lock is ours."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a session already gone took the lock with it
                self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for the scheduler of one database (and schema)."""
    digest = hashlib.sha256(f"srdi-scheduler:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_path(engine: Engine, configured: Path | None) -> Path:
    """``leader_lock_path`` if set, else ``<database file>.scheduler.lock``."""
    if configured is not None:
        return configured
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the scheduler needs a file database (or SRDI_LEADER_LOCK_PATH) to elect a leader")
    return Path(f"{database}.scheduler.lock")


def leader_lock(engine: Engine, configured_path: Path | None = None) -> LeaderLock:
    if is_sqlite(engine):
        return FileLeaderLock(lock_path(engine, configured_path))
    return PgLeaderLock(engine.url.render_as_string(hide_password=False))
