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

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.envelope import AppendResult, NewEvent, RecordedEvent, StreamAppend
from events.sql_store import _COLUMNS, SqlEventStore, _decoder
from events.store import as_batch, check_limit
from events.tables import events_table as T


class InTransactionStore:
    """``store``'s protocol on ``conn`` (a write transaction already begun and locked by the caller)."""

    def __init__(self, store: SqlEventStore, conn: Connection) -> None:
        self.store = store
        self.conn = conn

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        return self.append_batch(
            as_batch(stream_id, events, expected_version), idempotency_key=idempotency_key
        )

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Appended in the open transaction: visible to this store at once, to others at commit."""
        return self.store.append_in(self.conn, appends, idempotency_key=idempotency_key)

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 0,
        *,
        to_version: int | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        check_limit(limit)
        if limit == 0:
            return []
        statement, params = self.store._stream_query(stream_id, from_version, to_version, descending, limit)
        decode, _new_batch = _decoder(self.store._sql)
        return [decode(row) for row in self.store._fetch(self.conn, statement, params)]

    def read_all(
        self,
        after_position: int = 0,
        *,
        batch: int = 1000,
        until_position: int | None = None,
        event_types: Collection[str] | None = None,
    ) -> Iterator[RecordedEvent]:
        query = sa.select(*_COLUMNS).where(T.c.position > after_position)
        if until_position is not None:
            query = query.where(T.c.position <= until_position)
        if event_types is not None:
            query = query.where(T.c.event_type.in_(sorted(set(event_types))))
        for row in self.conn.execute(query.order_by(T.c.position)):
            yield SqlEventStore._decode(row)

    def last_position(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.max(T.c.position))).scalar() or 0)

    def stream_version(self, stream_id: str) -> int:
        newest = self.read_stream(stream_id, descending=True, limit=1)
        return newest[0].stream_version if newest else 0

    def get_event(self, event_id: str) -> RecordedEvent | None:
        row: Any = self.conn.execute(sa.select(*_COLUMNS).where(T.c.event_id == event_id)).first()
        return SqlEventStore._decode(row) if row is not None else None
