"""Writes to a facility's stream: read it, decide (``domain.facilities``), append at the version read.

A conflict (someone wrote to the same facility in between) reads and decides again with the shared
back-off (``service_layer.retry``), like an enterprise command. `establish` and `close` are what
``srdi facility add|close`` ask for: the domain decides on today's business date for the person
acting, as for every other write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict, Unpack

from domain import facilities
from domain.facilities import Facility
from events.envelope import NewEvent
from events.schemas import facility_stream
from events.store import EventStore
from service_layer.commands import current_actor, today
from service_layer.retry import retry


@dataclass(frozen=True)
class Written:
    """A facility as it stands after a command, and the event the command appended."""

    facility: Facility
    event_id: str

    def as_json(self) -> dict[str, Any]:
        """What ``srdi facility add|close --json`` prints."""
        return {"event_id": self.event_id, "facility": self.facility.as_json()}


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


class Establishment(TypedDict):
    """What a new facility is: its kind, name and district, and who runs it under which document."""

    kind: str
    name: str
    district: str
    unit: str | None
    ref: str | None


def establish(services: Any, facility_id: str, on: date, **details: Unpack[Establishment]) -> Written:
    """A park, internship base or incubator established in a district on a date (parsed values)."""
    return _write(
        services,
        facility_id,
        lambda facility, day, actor: facilities.establish(facility, on=on, today=day, actor=actor, **details),
    )


def close(services: Any, facility_id: str, *, on: date, reason: str) -> Written:
    """A facility closed (or lost its designation) on a date: it no longer counts from then."""
    return _write(
        services,
        facility_id,
        lambda facility, day, actor: facilities.close(facility, on=on, reason=reason, today=day, actor=actor),
    )


def _write(
    services: Any, facility_id: str, decide: Callable[[Facility, date, str], list[NewEvent]]
) -> Written:
    """The domain decides on today's business date for the person acting; the events are appended."""
    day, actor = today(services.settings.timezone), current_actor(services)
    after, new = run(services.store, facility_id, lambda facility: decide(facility, day, actor))
    return Written(after, new[0].event_id)
