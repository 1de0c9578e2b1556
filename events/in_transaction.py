"""The store seen from inside one open write transaction: reads see what the transaction wrote.

A bulk writer that must decide each part from what the parts before it decided, yet commit all
or nothing (``srdi import``: the whole file or nothing), holds ONE write transaction (and so the
store's write lock), appends part after part with `InTransactionStore.append_batch`, and reads
through the same connection, where its own uncommitted events are visible. Nothing is kept in
memory between parts, so memory stays that of one part however long the file; a failure anywhere
rolls every part back.

Only what the handlers need: the `events.store.EventStore` protocol, on one connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.envelope import AppendResult, RecordedEvent, StreamAppend
from events.sql_store import _COLUMNS, SqlEventStore
from events.store import EventStore, LogQuery, StreamQuery
from events.tables import events_table as T


class InTransactionStore(EventStore):
    """``store``'s protocol on ``conn`` (a write transaction already begun and locked by the caller)."""

    def __init__(self, store: SqlEventStore, conn: Connection) -> None:
        self.store = store
        self.conn = conn

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Appended in the open transaction: visible to this store at once, to others at commit."""
        return self.store.append_in(self.conn, appends, idempotency_key=idempotency_key)

    def stream_events(self, query: StreamQuery) -> list[RecordedEvent]:
        return self.store.stream_in(self.conn, query)

    def log_events(self, query: LogQuery, batch: int) -> Iterator[RecordedEvent]:
        statement = sa.select(*_COLUMNS).where(T.c.position > query.after_position)
        if query.until_position is not None:
            statement = statement.where(T.c.position <= query.until_position)
        if query.event_types is not None:
            statement = statement.where(T.c.event_type.in_(query.types))
        for row in self.conn.execute(statement.order_by(T.c.position)):
            yield SqlEventStore._decode(row)

    def last_position(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.max(T.c.position))).scalar() or 0)

    def stream_version(self, stream_id: str) -> int:
        newest = self.read_stream(stream_id, descending=True, limit=1)
        return newest[0].stream_version if newest else 0

    def get_event(self, event_id: str) -> RecordedEvent | None:
        row: Any = self.conn.execute(sa.select(*_COLUMNS).where(T.c.event_id == event_id)).first()
        return SqlEventStore._decode(row) if row is not None else None
