"""The event store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Ordering: every append runs under one global write lock (``BEGIN IMMEDIATE`` on SQLite, a
transaction-scoped advisory lock on PostgreSQL) and numbers its events ``last position + 1 …``.
PostgreSQL makes a transaction visible before it releases its locks, so when position N+1 is
visible, N already is: a reader tailing ``read_all`` can never skip an event that commits late.
The same lock serialises the hash chain, which needs the previous hash anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from events import canonical
from events.base import registry
from events.db import WRITE, is_sqlite
from events.envelope import AppendResult, NewEvent, RecordedEvent, StreamAppend
from events.store import ConcurrencyConflict, DuplicateEventId, as_batch
from events.tables import events_table as T
from events.tables import idempotency_table as K

log = structlog.get_logger("srdi.store")

APPEND_LOCK_KEY = 0x5_2D1  # pg_advisory_xact_lock key reserved for the event log
_IN_CHUNK = 500
_COLUMNS = (
    T.c.position,
    T.c.event_id,
    T.c.stream_id,
    T.c.stream_version,
    T.c.event_type,
    T.c.schema_version,
    T.c.occurred_on,
    T.c.recorded_at,
    T.c.actor,
    T.c.causation_id,
    T.c.correlation_id,
    T.c.payload,
    T.c.hash,
)


class SqlEventStore:
    """The durable store. One instance per engine; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)

    # -- writing -----------------------------------------------------------------------------
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
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**WRITE)
                with conn.begin():
                    return self.append_in(conn, appends, idempotency_key=idempotency_key)
        except IntegrityError as error:
            raise self._explain_integrity(error, appends) from None

    def append_in(
        self,
        conn: Connection,
        appends: Sequence[StreamAppend],
        *,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        """Append inside the caller's write transaction (so projections can share it)."""
        self._lock(conn)
        if idempotency_key is not None:
            seen = conn.execute(sa.select(K.c.result).where(K.c.key == idempotency_key)).scalar_one_or_none()
            if seen is not None:
                return AppendResult.from_json(json.loads(seen), replayed=True)
        current = self._versions(conn, {a.stream_id for a in appends})
        versions: dict[str, int] = {}
        for item in appends:
            at = versions.get(item.stream_id, current.get(item.stream_id, 0))
            if item.expected_version is not None and item.expected_version != at:
                raise ConcurrencyConflict(item.stream_id, item.expected_version, at)
            versions[item.stream_id] = at + len(item.events)
        tail = conn.execute(sa.select(T.c.position, T.c.hash).order_by(T.c.position.desc()).limit(1)).first()
        position, previous = (tail[0], tail[1]) if tail else (0, canonical.GENESIS)
        now = datetime.now(UTC)
        stored_now = now.replace(tzinfo=None) if self._sqlite else now
        rows: list[dict[str, Any]] = []
        local: dict[str, int] = {}
        for item in appends:
            version = local.get(item.stream_id, current.get(item.stream_id, 0))
            for new in item.events:
                position += 1
                version += 1
                data = new.event.payload()
                previous = canonical.chain_hash(
                    previous,
                    canonical.canonical_event(
                        position=position,
                        event_id=new.event_id,
                        stream_id=item.stream_id,
                        stream_version=version,
                        event_type=new.event_type,
                        schema_version=new.event.schema_version,
                        occurred_on=new.occurred_on,
                        recorded_at=now,
                        actor=new.actor,
                        causation_id=new.causation_id,
                        correlation_id=new.correlation_id,
                        data=data,
                    ),
                )
                rows.append(
                    {
                        "position": position,
                        "event_id": new.event_id,
                        "stream_id": item.stream_id,
                        "stream_version": version,
                        "event_type": new.event_type,
                        "schema_version": new.event.schema_version,
                        "occurred_on": new.occurred_on,
                        "recorded_at": stored_now,
                        "actor": new.actor,
                        "causation_id": new.causation_id,
                        "correlation_id": new.correlation_id,
                        "payload": canonical.dumps(data),
                        "hash": previous,
                    }
                )
            local[item.stream_id] = version
        if rows:
            conn.execute(sa.insert(T), rows)
        first = rows[0]["position"] if rows else position
        result = AppendResult(
            first_position=first,
            last_position=position,
            event_ids=tuple(r["event_id"] for r in rows),
            stream_versions=versions,
        )
        if idempotency_key is not None:
            conn.execute(
                sa.insert(K),
                {"key": idempotency_key, "result": json.dumps(result.to_json()), "recorded_at": stored_now},
            )
        _log_appended(rows)
        return result

    def _lock(self, conn: Connection) -> None:
        if not self._sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})

    @staticmethod
    def _versions(conn: Connection, stream_ids: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ids = sorted(stream_ids)
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            query = (
                sa.select(T.c.stream_id, sa.func.max(T.c.stream_version))
                .where(T.c.stream_id.in_(chunk))
                .group_by(T.c.stream_id)
            )
            found.update({sid: int(v) for sid, v in conn.execute(query)})
        return found

    def _explain_integrity(self, error: IntegrityError, appends: Sequence[StreamAppend]) -> Exception:
        ids = [e.event_id for a in appends for e in a.events]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            return DuplicateEventId(dup)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                stored = conn.execute(
                    sa.select(T.c.event_id).where(T.c.event_id.in_(ids[start : start + _IN_CHUNK]))
                ).first()
                if stored is not None:
                    return DuplicateEventId(stored[0])
        return error

    # -- reading -----------------------------------------------------------------------------
    def read_stream(self, stream_id: str, from_version: int = 0) -> list[RecordedEvent]:
        query = (
            sa.select(*_COLUMNS)
            .where(T.c.stream_id == stream_id, T.c.stream_version > from_version)
            .order_by(T.c.stream_version)
        )
        with self.engine.connect() as conn:
            return [self._decode(row) for row in conn.execute(query)]

    def read_all(
        self, after_position: int = 0, *, batch: int = 1000, until_position: int | None = None
    ) -> Iterator[RecordedEvent]:
        for rows in self.read_rows(after_position, batch=batch, until_position=until_position):
            for row in rows:
                yield self._decode(row)

    def read_rows(
        self, after_position: int = 0, *, batch: int = 1000, until_position: int | None = None
    ) -> Iterator[Sequence[Any]]:
        """Raw rows in position order, one short read transaction per batch (bounded memory)."""
        last = after_position
        with self.engine.connect() as conn:
            while True:
                query = sa.select(*_COLUMNS).where(T.c.position > last)
                if until_position is not None:
                    query = query.where(T.c.position <= until_position)
                query = query.order_by(T.c.position).limit(batch)
                with conn.begin():
                    rows = conn.execute(query).all()
                if not rows:
                    return
                last = rows[-1][0]
                yield rows
                if len(rows) < batch:
                    return

    def last_position(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(T.c.position))).scalar()
        return int(value or 0)

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.max(T.c.stream_version)).where(T.c.stream_id == stream_id)
            ).scalar()
        return int(value or 0)

    def get_event(self, event_id: str) -> RecordedEvent | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_COLUMNS).where(T.c.event_id == event_id)).first()
        return self._decode(row) if row is not None else None

    @staticmethod
    def _decode(row: Any) -> RecordedEvent:
        event_type, version = row[4], row[5]
        data = json.loads(row[11])
        if version != registry.current_version(event_type):
            data = registry.upcast(event_type, version, data)
        return RecordedEvent(
            position=row[0],
            event_id=row[1],
            stream_id=row[2],
            stream_version=row[3],
            event_type=event_type,
            schema_version=version,
            occurred_on=_as_date(row[6]),
            recorded_at=_as_utc(row[7]),
            actor=row[8],
            causation_id=row[9],
            correlation_id=row[10],
            data=data,
            hash=row[12],
        )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_utc(value: Any) -> datetime:
    moment: datetime = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _log_appended(rows: list[dict[str, Any]]) -> None:
    if not rows or not _debug_enabled():
        return
    for row in rows:
        log.debug(
            "appended",
            stream=row["stream_id"],
            version=row["stream_version"],
            position=row["position"],
            event_type=row["event_type"],
        )


def _debug_enabled() -> bool:
    """Skip building per-event log calls on the bulk path unless debug logging is on."""
    check = getattr(structlog.get_logger("srdi.store").bind(), "is_enabled_for", None)
    return bool(check(10)) if check is not None else True
