"""Event schemas and the append-only event store."""

from events import schemas as _schemas  # noqa: F401  (registers every event type)
