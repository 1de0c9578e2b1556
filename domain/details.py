"""An enterprise's details (name, district, department, size, industry) as they stand on each day.

Details are facts with a date like any other: the registration states them, and each
`EnterpriseDetailsChanged` changes the fields it names from its business date on. A rule reads the
details in force on its trigger's date, targets count a certification where the enterprise was on
the certification date, and `status --as-of` shows the details of that day.

Readings taken here (docs/decisions.md, "Enterprise details"):
- Changes apply in date order, whatever order they were recorded in; two changes of the same day
  apply in the order recorded.
- A field nobody had stated yet (a size or department left out at registration) is unknown, not
  absent: the first value ever stated for it also stands for the days before it was stated. So a
  size given in 2025 decides a 2023 size condition that was waiting for it; a later change of a
  known value applies only from its own date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

FIELDS = ("name", "district", "department", "size", "industry")
"""The details an enterprise has, in the order the command line names them."""


@dataclass(frozen=True, slots=True)
class Details:
    """The details in force on one day; ``None`` means not stated (yet)."""

    name: str | None = None
    district: str | None = None
    department: str | None = None
    size: str | None = None
    industry: str | None = None

    def get(self, field: str) -> str | None:
        value: str | None = getattr(self, field)
        return value

    def changed_by(self, fields: Mapping[str, str | None]) -> dict[str, str]:
        """The given fields whose value differs from these details (the ones a change would set)."""
        return {k: v for k, v in fields.items() if v is not None and self.get(k) != v}


@dataclass(frozen=True, slots=True)
class DetailsChange:
    """The fields one event set from ``on``; ``seq`` is its place in the log (ties of a day)."""

    event_id: str
    on: date
    fields: tuple[tuple[str, str], ...]
    seq: int = 0


@dataclass(frozen=True, slots=True)
class DetailsHistory:
    """Every dated statement of the details: the registration's, then each change."""

    changes: tuple[DetailsChange, ...] = ()

    def with_change(self, change: DetailsChange) -> DetailsHistory:
        seq = len(self.changes)
        if change.seq != seq:  # most often the registration: seq 0 already, kept as it is
            change = DetailsChange(change.event_id, change.on, change.fields, seq)
        return DetailsHistory((*self.changes, change))

    def without(self, event_id: str) -> DetailsHistory:
        """The history as if that change was never recorded (a retraction)."""
        return DetailsHistory(tuple(c for c in self.changes if c.event_id != event_id))

    def _ordered(self) -> list[DetailsChange]:
        return sorted(self.changes, key=lambda c: (c.on, c.seq))

    def on(self, day: date | None) -> Details:
        """The details in force on ``day`` (``None``: the latest, every change applied)."""
        stated: dict[str, str] = {}
        first: dict[str, str] = {}
        for change in self._ordered():
            for key, value in change.fields:
                first.setdefault(key, value)
                if day is None or change.on <= day:
                    stated[key] = value
        return Details(**{k: stated.get(k, first.get(k)) for k in FIELDS})

    @property
    def current(self) -> Details:
        return self.on(None)

    def changes_of(self, field: str) -> tuple[tuple[date, str], ...]:
        """When ``field`` took which value, in date order (for the engine's facts and for reading)."""
        return tuple((c.on, v) for c in self._ordered() for k, v in c.fields if k == field)


def change_of(event_id: str, on: date, data: Mapping[str, object]) -> DetailsChange:
    """The change an `EnterpriseRegistered` or `EnterpriseDetailsChanged` payload states."""
    fields = tuple([(k, str(value)) for k in FIELDS if (value := data.get(k)) is not None])
    return DetailsChange(event_id, on, fields)
