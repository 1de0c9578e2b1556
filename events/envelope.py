"""What goes into the store and what comes back out of it.

``NewEvent`` is a fact a handler decided on, not yet numbered. ``RecordedEvent`` is the stored row:
numbered within its stream and globally, dated, hashed. Plain slotted dataclasses, because replay
creates millions of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from events.base import Event, JsonDict, registry

SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A fact to append: the event, its business date, and who caused it."""

    event: Event
    occurred_on: date
    actor: str = SYSTEM_ACTOR
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    correlation_id: str | None = None

    @property
    def event_type(self) -> str:
        return self.event.event_type


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, appended only if the stream is at ``expected_version``.

    ``expected_version`` is the number of events already in the stream (0: a new stream);
    ``None`` appends whatever the stream holds.
    """

    stream_id: str
    events: tuple[NewEvent, ...]
    expected_version: int | None


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append wrote: the global positions and each stream's new version."""

    first_position: int
    last_position: int
    event_ids: tuple[str, ...]
    stream_versions: dict[str, int]
    replayed: bool = False  # True: the idempotency key was seen before; nothing was written

    def to_json(self) -> JsonDict:
        return {
            "first_position": self.first_position,
            "last_position": self.last_position,
            "event_ids": list(self.event_ids),
            "stream_versions": self.stream_versions,
        }

    @classmethod
    def from_json(cls, data: JsonDict, *, replayed: bool) -> AppendResult:
        return cls(
            first_position=int(data["first_position"]),
            last_position=int(data["last_position"]),
            event_ids=tuple(data["event_ids"]),
            stream_versions={k: int(v) for k, v in data["stream_versions"].items()},
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One stored event; ``data`` is already upcast to the current schema."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    occurred_on: date
    recorded_at: datetime
    actor: str
    causation_id: str | None
    correlation_id: str | None
    data: JsonDict
    hash: str

    def to_model(self) -> Event:
        """The typed event (validated against the current schema)."""
        return registry.model_for(self.event_type).model_validate(self.data)

    def envelope(self) -> dict[str, Any]:
        """The metadata as JSON-native values (for history and exports)."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "occurred_on": self.occurred_on.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "causation_id": self.causation_id,
            "correlation_id": self.correlation_id,
        }
