"""A store that reads through to another and keeps its own appends in memory until asked for them.

The import validates every line through the real handlers, each seeing what the lines before it
decided, without writing anything: appends land here, and only when the whole file is accepted
does the caller write `appends()` to the real store in one `append_batch`. Expected versions are
checked as the real store would, so the final batch carries the versions the lines were decided on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from domain.deciders import pending
from events.envelope import AppendResult, NewEvent, RecordedEvent, StreamAppend
from events.store import ConcurrencyConflict, EventStore, LogQuery, StreamQuery


class OverlayStore(EventStore):
    """Read-through overlay over ``base``; nothing reaches ``base`` from here."""

    def __init__(self, base: EventStore) -> None:
        self.base = base
        self._base: dict[str, list[RecordedEvent]] = {}
        self._new: dict[str, list[NewEvent]] = {}
        self._recorded: dict[str, list[RecordedEvent]] = {}
        self._base_last: int | None = None
        self._count = 0

    def _stored(self, stream_id: str) -> list[RecordedEvent]:
        if stream_id not in self._base:
            self._base[stream_id] = self.base.read_stream(stream_id)
        return self._base[stream_id]

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        for item in appends:
            current = self.stream_version(item.stream_id)
            if item.expected_version is not None and item.expected_version != current:
                raise ConcurrencyConflict(item.stream_id, item.expected_version, current)
        first = self.last_position() + 1
        versions: dict[str, int] = {}
        for item in appends:
            for new in item.events:
                version = self.stream_version(item.stream_id) + 1
                self._new.setdefault(item.stream_id, []).append(new)
                self._recorded.setdefault(item.stream_id, []).append(pending(new, item.stream_id, version))
                self._count += 1
                versions[item.stream_id] = version
        ids = tuple(e.event_id for item in appends for e in item.events)
        return AppendResult(first, self.last_position(), ids, versions)

    def stream_events(self, query: StreamQuery) -> list[RecordedEvent]:
        return query.take([*self._stored(query.stream_id), *self._recorded.get(query.stream_id, [])])

    def log_events(self, query: LogQuery, batch: int) -> Iterator[RecordedEvent]:
        yield from self.base.read_all(
            query.after_position,
            batch=batch,
            until_position=query.until_position,
            event_types=query.event_types,
        )
        for events in self._recorded.values():
            yield from filter(query.admits, events)

    def last_position(self) -> int:
        if self._base_last is None:
            self._base_last = self.base.last_position()
        return self._base_last + self._count

    def stream_version(self, stream_id: str) -> int:
        return len(self._stored(stream_id)) + len(self._new.get(stream_id, []))

    def get_event(self, event_id: str) -> RecordedEvent | None:
        for events in self._recorded.values():
            for event in events:
                if event.event_id == event_id:
                    return event
        return self.base.get_event(event_id)

    def appends(self) -> list[StreamAppend]:
        """Everything appended here, per stream, expecting each stream at the version first read."""
        return [
            StreamAppend(stream_id, tuple(events), len(self._stored(stream_id)))
            for stream_id, events in self._new.items()
        ]
