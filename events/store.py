"""The event store contract: a small protocol every backend implements and one test class checks.

Appends are atomic across streams, guarded by expected versions, idempotent by key, and numbered
with a global position that readers can tail without ever skipping an event that commits late.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from events.envelope import AppendResult, NewEvent, RecordedEvent, StreamAppend

Item = TypeVar("Item")


class StoreError(Exception):
    """Base of the store's typed errors."""


class ConcurrencyConflict(StoreError):
    """A stream was not at the expected version: someone else wrote first. Nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, not the expected {expected}; reload and try again"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEventId(StoreError):
    """An event id that is already stored. Nothing was written."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} is already stored")
        self.event_id = event_id


class IdempotencyMismatch(StoreError):
    """A remembered idempotency key whose record does not match the log: planted, or the log was cut.

    The append is refused rather than skipped in silence (CLI exit 4).
    """

    def __init__(self, key: str, why: str) -> None:
        super().__init__(
            f"the idempotency key {key} is recorded but {why}: the key was planted or the log changed; "
            "nothing was written (check the log with 'srdi audit verify --anchors')"
        )
        self.key = key


class UnstorableEvent(StoreError):
    """A key of an event is longer than its column or holds a NUL: refused on every back-end alike
    (SQLite would store it, PostgreSQL would not). Nothing was written."""


LIMITS = {"stream_id": 200, "event_type": 100, "actor": 200, "event_id": 36, "causation_id": 36,
          "correlation_id": 36}  # fmt: skip
"""Characters each key column of the log holds (events/tables.py); checked before any append."""


def check_storable(appends: Sequence[StreamAppend]) -> None:
    """Refuse, before anything is written, an append a back-end could not store as given.

    Event types and actors repeat across a batch: each distinct one is checked once, so a bulk
    append pays a few comparisons per event.
    """
    checked: set[str] = set()
    for item in appends:
        _check("stream_id", item.stream_id)
        for new in item.events:
            event_type, actor = new.event.event_type, new.actor
            if event_type not in checked:
                _check("event_type", event_type)
                checked.add(event_type)
            if actor not in checked:
                _check("actor", actor)
                checked.add(actor)
            ids = (new.event_id, new.causation_id or "", new.correlation_id or "")
            if len(ids[0]) > 36 or len(ids[1]) > 36 or len(ids[2]) > 36:
                _check("event_id", new.event_id)
                _check("causation_id", new.causation_id)
                _check("correlation_id", new.correlation_id)


def _check(column: str, value: str | None) -> None:
    if value is None:
        return
    if len(value) > LIMITS[column]:
        raise UnstorableEvent(
            f"the event's {column} is {len(value)} characters long; the log holds {LIMITS[column]}"
        )
    if "\x00" in value:
        raise UnstorableEvent(f"the event's {column} holds a NUL character")


@dataclass(frozen=True, slots=True)
class StreamQuery:
    """One read of a stream: the events with ``from_version < stream_version <= to_version``.

    Ascending by version, or ``descending``; at most ``limit`` of them, taken in that order
    (``descending=True, limit=1`` is the last event). A negative limit is a caller's mistake, not an
    empty answer: refused here, once for every back-end.
    """

    stream_id: str
    from_version: int = 0
    to_version: int | None = None
    descending: bool = False
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit must be 0 or more, not {self.limit}")

    def take(self, stream: Sequence[Item]) -> list[Item]:
        """The query's part of a whole stream in version order (index i holds version i + 1)."""
        end = None if self.to_version is None else max(self.to_version, 0)
        chosen = list(stream[max(self.from_version, 0) : end])
        if self.descending:
            chosen.reverse()
        return chosen if self.limit is None else chosen[: self.limit]


@dataclass(frozen=True, slots=True)
class LogQuery:
    """One read of the log: events with ``after_position < position <= until_position``, in order.

    With ``event_types``, only events of those types (an empty set gives nothing).
    """

    after_position: int = 0
    until_position: int | None = None
    event_types: frozenset[str] | None = None

    @property
    def types(self) -> tuple[str, ...]:
        """The wanted types in a stable order (for SQL parameters); empty when all are wanted."""
        return () if self.event_types is None else tuple(sorted(self.event_types))

    def admits(self, event: RecordedEvent) -> bool:
        return self.event_types is None or event.event_type in self.event_types


class EventStore(Protocol):
    """What the domain and the projections need of a store.

    The calls callers make are written once, here: a back-end subclasses this protocol and
    implements the narrow hooks (``append_batch``, ``stream_events``, ``log_events`` and the three
    lookups); ``append``, ``read_stream`` and ``read_all`` come with it.
    """

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        """One stream's events, appended only if it is at ``expected_version`` (None: whatever it holds)."""
        return self.append_batch(
            [StreamAppend(stream_id, tuple(events), expected_version)], idempotency_key=idempotency_key
        )

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Every stream's events in one transaction, each guarded by its expected version."""
        ...

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 0,
        *,
        to_version: int | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """The stream's events as `StreamQuery` says. A read costs what it returns."""
        query = StreamQuery(stream_id, from_version, to_version, descending, limit)
        return [] if limit == 0 else self.stream_events(query)

    def read_all(
        self,
        after_position: int = 0,
        *,
        batch: int = 1000,
        until_position: int | None = None,
        event_types: Collection[str] | None = None,
    ) -> Iterator[RecordedEvent]:
        """The log's events as `LogQuery` says, read ``batch`` at a time where the back-end pages."""
        wanted = None if event_types is None else frozenset(event_types)
        if wanted is not None and not wanted:
            return
        yield from self.log_events(LogQuery(after_position, until_position, wanted), batch)

    def stream_events(self, query: StreamQuery) -> list[RecordedEvent]:
        """The hook behind ``read_stream`` (``query.limit`` is never 0 here)."""
        ...

    def log_events(self, query: LogQuery, batch: int) -> Iterator[RecordedEvent]:
        """The hook behind ``read_all`` (``query.event_types`` is never empty here)."""
        ...

    def last_position(self) -> int: ...

    def stream_version(self, stream_id: str) -> int: ...

    def get_event(self, event_id: str) -> RecordedEvent | None: ...
