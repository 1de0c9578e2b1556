"""Writes to a facility's stream: read it, decide (``domain.facilities``), append at the version read.

A conflict (someone wrote to the same facility in between) reads and decides again with the shared
back-off (``service_layer.retry``), like an enterprise command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain import facilities
from domain.facilities import Facility
from events.envelope import NewEvent
from events.schemas import facility_stream
from events.store import EventStore
from service_layer.retry import retry


def read(store: EventStore, facility_id: str, *, as_of: date | None = None) -> Facility:
    """The facility as its stream says (not existing: ``exists`` is False)."""
    return facilities.load(facility_id, store.read_stream(facility_stream(facility_id)), as_of=as_of)


def run(
    store: EventStore, facility_id: str, decide: Callable[[Facility], list[NewEvent]]
) -> tuple[Facility, list[NewEvent]]:
    """Decide on the facility as stored and append the events at the version read; the state after."""

    def attempt() -> tuple[Facility, list[NewEvent]]:
        stream = facility_stream(facility_id)
        before = facilities.load(facility_id, store.read_stream(stream))
        new = decide(before)
        store.append(stream, new, expected_version=before.version)
        return read(store, facility_id), new

    return retry(attempt)
