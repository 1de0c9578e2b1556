"""Waking a follower when the log grows: LISTEN/NOTIFY on PostgreSQL, polling everywhere else.

Every append on PostgreSQL sends ``NOTIFY srdi_events`` from inside its transaction (in the same
statement that takes the write lock, so it costs no extra round trip); PostgreSQL delivers it at
commit and drops it on rollback. A `LogWaiter` LISTENs on its own connection and, in `wait`, checks
the log's last position first and then blocks until a notification or the timeout: an append that
commits between the check and the wait still wakes it, because the LISTEN came before the check.

The notification carries nothing: a waiter always re-reads the last position, so a notification
from another schema of the same database (the channel is database-wide) only costs a re-check.
On SQLite, and whenever the listening connection fails, `wait` polls ``last_position`` every
``poll_seconds`` instead: slower to wake, never wrong.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from sqlalchemy.engine import Engine

from events.db import is_sqlite
from events.lazy_logging import get_logger
from events.sql_store import CHANNEL, SqlEventStore

log = get_logger("srdi.wakeup")


class LogWaiter:
    """Blocks until the log is past a position (or a timeout). One per follower thread."""

    def __init__(self, engine: Engine, *, poll_seconds: float = 0.5) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self._store = SqlEventStore(engine)
        self._listener: Any = None
        if not is_sqlite(engine):
            self._listen()

    @property
    def listening(self) -> bool:
        """True while woken by notifications; False when polling."""
        return self._listener is not None

    def _listen(self) -> None:
        try:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
        except Exception as error:  # the fallback is polling; say so once
            log.warning("cannot LISTEN for new events; polling instead", error=str(error))
            return
        self._raw, self._listener = raw, driver

    def wait(self, after_position: int, timeout: float) -> int:
        """The log's last position as soon as it is past ``after_position``, or when ``timeout`` ends."""
        deadline = time.monotonic() + timeout
        while True:
            last = self._store.last_position()
            left = deadline - time.monotonic()
            if last > after_position or left <= 0:
                return last
            if self._listener is None:
                time.sleep(min(self.poll_seconds, left))
                continue
            try:
                for _note in self._listener.notifies(timeout=left, stop_after=1):
                    pass
            except Exception as error:
                log.warning("lost the LISTEN connection; polling instead", error=str(error))
                self.close()

    def close(self) -> None:
        """Stop listening (give the connection back)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):  # a broken connection: nothing to keep
                listener.execute(f"UNLISTEN {CHANNEL}")
            self._raw.invalidate()  # autocommit was switched on: not fit for the pool any more

    def __enter__(self) -> LogWaiter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
