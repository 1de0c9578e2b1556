"""One scan, one transaction: its reminders, lapses, notices, scan-log row and position commit together.

A scan opens ONE write transaction (holding the store's write lock, as an import does), reads the
calendar, the reminder streams and each enterprise through that connection, appends every reminder
and lapse in it with its notice (``scheduler.outbox.enqueue``), and moves the scheduler's tracking
record (``events.tracking``, name ``scheduler``) in the same transaction. So "scanned up to" and
what the scan wrote cannot part: a process killed anywhere before the commit leaves none of it,
and the next scan decides again from the same state; after the commit all of it is there.

The record refuses a position at or below the stored one, so a stale scheduler (an older day, or
the same day decided from a calendar that saw no more of the log) rolls back instead of writing.
Each append runs in a savepoint: one refused append (an event id already taken) does not undo the
scan's other work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.db import WRITE
from events.envelope import AppendResult, StreamAppend
from events.in_transaction import InTransactionStore
from events.sql_store import SqlEventStore
from scheduler import outbox
from scheduler.notify import Notice
from scheduler.outbox import NoticeFor
from service_layer.bootstrap import Services

SCHEDULER = "scheduler"
"""The scheduler's tracking record (``events.tracking``): the day and log position it has scanned."""


class NoticingScanStore(InTransactionStore):
    """The store inside the scan's transaction; each append queues its notice in the same savepoint."""

    def __init__(self, scan: ScanTransaction, notice_for: NoticeFor) -> None:
        super().__init__(scan.services.store, scan.conn)
        self._settings = scan.services.settings
        self._notice_for = notice_for
        self.noticed: list[Notice] = []

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        try:
            with self.conn.begin_nested():
                receipt = super().append_batch(appends, idempotency_key=idempotency_key)
                notice = None if receipt.replayed else self._notice_for(appends)
                if notice is not None:
                    outbox.enqueue(self.conn, self._settings, notice)
        except sa.exc.IntegrityError as error:
            raise self.store._explain_integrity(error, appends) from None
        if notice is not None:
            self.noticed.append(notice)
        return receipt


@dataclass
class ScanTransaction:
    """The open transaction of one scan: its connection, and the store seen through it."""

    services: Services
    conn: Connection

    @property
    def store(self) -> InTransactionStore:
        return InTransactionStore(self.services.store, self.conn)

    def noticing(self, notice_for: NoticeFor) -> NoticingScanStore:
        """The store through which the scan appends an event together with its notice."""
        return NoticingScanStore(self, notice_for)


@contextmanager
def scan_transaction(services: Services) -> Iterator[ScanTransaction]:
    """Begin the scan's write transaction and take the store's write lock; commit on a clean exit."""
    store: SqlEventStore = services.store
    with services.engine.connect() as conn:
        conn = conn.execution_options(**WRITE)
        with conn.begin():
            store.lock(conn)
            yield ScanTransaction(services, conn)
