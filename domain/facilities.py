"""Things the targets count that are not enterprises: SRDI parks, internship bases, incubators.

Liangjiang art 4 (建设10个“专精特新”产业园) and art 23 (30个“专精特新”企业就业见习基地) count
them; Jiangjin art 3 and Yubei art 11 support incubators. Each is an entity of its own, with its own
stream ``facility-<ID>``: established (建成 / 认定) on a date in a district, and maybe closed later.
Pure: the state is folded from the stream's stored JSON, the decisions return new events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import InvalidInput, shown
from domain.inputs import text, utf8
from domain.reference import normalise
from events.envelope import NewEvent, RecordedEvent
from events.schemas import FacilityClosed, FacilityEstablished

KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "srdi-park": ("“专精特新”产业园", ("专精特新产业园", "产业园", "园区", "park")),
    "internship-base": ("就业见习基地", ("见习基地", "专精特新企业就业见习基地", "internship")),
    "incubator": ("孵化器", ("中小企业孵化器", "孵化载体", "孵化园")),
}
"""kind → (Chinese name, aliases)."""
_KIND_INDEX = {normalise(n): k for k, (zh, aliases) in KINDS.items() for n in (k, zh, *aliases)}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def parse_kind(value: object) -> str:
    """The facility kind for a key or Chinese name, else one refusal line."""
    written = utf8(str(value), "kind")
    kind = _KIND_INDEX.get(normalise(written))
    if kind is None:
        names = ", ".join(f"{k} ({zh})" for k, (zh, _) in KINDS.items())
        raise InvalidInput(f"--kind {shown(written)} is unknown; use one of: {names}")
    return kind


def parse_id(value: object) -> str:
    """A facility id: letters, digits, '.', '_' or '-', at most 64 characters (it names a stream)."""
    written = text(value, "facility_id", max_length=200)
    if not _ID.fullmatch(written):
        raise InvalidInput(
            f"ID {shown(written)} is not a facility id; use letters, digits, '.', '_' or '-' "
            "(at most 64 characters), e.g. LJ-PARK-01"
        )
    return written


@dataclass(frozen=True)
class Facility:
    """A park, base or incubator as its stream says; `version` is the stream's length."""

    facility_id: str
    kind: str | None = None
    name: str | None = None
    district: str | None = None
    unit: str | None = None
    established_on: date | None = None
    closed_on: date | None = None
    version: int = 0

    @property
    def exists(self) -> bool:
        return self.established_on is not None

    def open_on(self, day: date) -> bool:
        """Established on or before ``day`` and not closed by then."""
        if self.established_on is None or self.established_on > day:
            return False
        return self.closed_on is None or self.closed_on > day

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.facility_id,
            "kind": self.kind,
            "name": self.name,
            "district": self.district,
            "unit": self.unit,
            "established_on": self.established_on.isoformat() if self.established_on else None,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
        }


def load(facility_id: str, events: Sequence[RecordedEvent], *, as_of: date | None = None) -> Facility:
    """Fold the stream (oldest first); ``as_of`` leaves out what happened after that day."""
    state = Facility(facility_id, version=events[-1].stream_version if events else 0)
    for event in events:
        if as_of is not None and event.occurred_on > as_of:
            continue
        data = event.data
        if event.event_type == "FacilityEstablished":
            state = Facility(
                facility_id,
                data["kind"],
                data["name"],
                data["district"],
                data.get("unit"),
                event.occurred_on,
                None,
                state.version,
            )
        elif event.event_type == "FacilityClosed":
            state = Facility(**{**state.__dict__, "closed_on": event.occurred_on})
    return state


def establish(
    facility: Facility,
    *,
    kind: str,
    name: str,
    district: str,
    on: date,
    today: date,
    actor: str,
    unit: str | None = None,
    ref: str | None = None,
) -> list[NewEvent]:
    """A new park, base or incubator, established (or certified) on ``on``."""
    if facility.exists:
        raise InvalidInput(
            f"facility {facility.facility_id} already exists ({facility.kind}, {facility.name}); "
            "nothing to do"
        )
    if on > today:
        raise InvalidInput(
            f"--on {on.isoformat()} is after today ({today.isoformat()}); record it once it happened"
        )
    event = FacilityEstablished(
        facility_id=facility.facility_id, kind=kind, name=name, district=district, unit=unit, ref=ref
    )
    return [NewEvent(event, on, actor)]


def close(facility: Facility, *, on: date, reason: str, today: date, actor: str) -> list[NewEvent]:
    """The facility closed (or lost its designation) on ``on``."""
    if not facility.exists:
        raise InvalidInput(f"no facility {facility.facility_id}; add it first with 'srdi facility add'")
    if facility.closed_on is not None:
        raise InvalidInput(
            f"facility {facility.facility_id} was closed on {facility.closed_on}; nothing to do"
        )
    assert facility.established_on is not None
    if on < facility.established_on:
        raise InvalidInput(
            f"--on {on.isoformat()} is before the facility was established ({facility.established_on})"
        )
    if on > today:
        raise InvalidInput(
            f"--on {on.isoformat()} is after today ({today.isoformat()}); record it once it happened"
        )
    return [NewEvent(FacilityClosed(facility_id=facility.facility_id, reason=reason), on, actor)]
