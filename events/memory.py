"""An in-memory event store with the same contract as the SQL one, for fast domain tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from events import canonical
from events.base import registry
from events.envelope import AppendResult, RecordedEvent, StreamAppend
from events.store import (
    ConcurrencyConflict,
    DuplicateEventId,
    EventStore,
    LogQuery,
    StreamQuery,
    check_storable,
)


class InMemoryEventStore(EventStore):
    """Keeps every event in a list; a lock makes appends atomic and ordered."""

    def __init__(self) -> None:
        self._events: list[RecordedEvent] = []
        self._raw: list[dict[str, object]] = []
        self._streams: dict[str, list[int]] = {}
        self._ids: set[str] = set()
        self._keys: dict[str, AppendResult] = {}
        self._lock = threading.Lock()

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        check_storable(appends)
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._keys:
                seen = self._keys[idempotency_key]
                return AppendResult.from_json(seen.to_json(), replayed=True)
            versions: dict[str, int] = {}
            for item in appends:
                current = versions.get(item.stream_id, len(self._streams.get(item.stream_id, [])))
                if item.expected_version is not None and item.expected_version != current:
                    raise ConcurrencyConflict(item.stream_id, item.expected_version, current)
                versions[item.stream_id] = current + len(item.events)
            new_ids = [e.event_id for item in appends for e in item.events]
            seen_ids: set[str] = set()
            for event_id in new_ids:
                if event_id in self._ids or event_id in seen_ids:
                    raise DuplicateEventId(event_id)
                seen_ids.add(event_id)
            recorded = self._number(appends)
            for event in recorded:
                self._events.append(event)
                self._streams.setdefault(event.stream_id, []).append(len(self._events) - 1)
                self._ids.add(event.event_id)
            result = AppendResult(
                first_position=recorded[0].position if recorded else self.last_position(),
                last_position=recorded[-1].position if recorded else self.last_position(),
                event_ids=tuple(new_ids),
                stream_versions=versions,
            )
            if idempotency_key is not None:
                self._keys[idempotency_key] = result
            return result

    def _number(self, appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
        now = datetime.now(UTC)
        position = self.last_position()
        previous = self._events[-1].hash if self._events else canonical.GENESIS
        out: list[RecordedEvent] = []
        local: dict[str, int] = {}
        for item in appends:
            version = local.get(item.stream_id, len(self._streams.get(item.stream_id, [])))
            for new in item.events:
                position += 1
                version += 1
                data = new.event.payload()
                fields = dict(
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
                )
                previous = canonical.chain_hash(
                    previous,
                    canonical.canonical_event({**fields, "data": data}),
                )
                out.append(RecordedEvent(data=data, hash=previous, **fields))  # type: ignore[arg-type]
            local[item.stream_id] = version
        return out

    def stream_events(self, query: StreamQuery) -> list[RecordedEvent]:
        indices = query.take(self._streams.get(query.stream_id, []))
        return [self._upcast(self._events[i]) for i in indices]

    def log_events(self, query: LogQuery, batch: int) -> Iterator[RecordedEvent]:
        until = query.until_position
        for event in list(self._events[max(query.after_position, 0) :]):
            if until is not None and event.position > until:
                return
            if query.admits(event):
                yield self._upcast(event)

    def last_position(self) -> int:
        return self._events[-1].position if self._events else 0

    def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, []))

    def get_event(self, event_id: str) -> RecordedEvent | None:
        for event in self._events:
            if event.event_id == event_id:
                return self._upcast(event)
        return None

    @staticmethod
    def _upcast(event: RecordedEvent) -> RecordedEvent:
        if event.schema_version == registry.current_version(event.event_type):
            return event
        from dataclasses import replace

        data = registry.upcast(event.event_type, event.schema_version, event.data)
        return replace(event, data=data)
