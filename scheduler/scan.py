"""What one day's scan must do, decided from the review calendar alone: pure, so tests need no database.

Every condition here is monotone in the day: once a threshold is reached it stays reached, and once
a deadline has passed it stays passed. So a scan of day D finds everything that became due on any
day up to D, which is what makes catching up after downtime a matter of scanning the latest day.

Reading (documented here and in docs/scheduler.md): on day D a reminder for threshold T is due
when ``deadline - D <= T`` and no reminder for T or a tighter threshold was issued for that deadline.
Only the TIGHTEST threshold reached is issued, so a scheduler that comes back 20 days before a
deadline sends the 30-day reminder once, not a stale 90-day one followed by the 30-day one. On the
day after the deadline nothing is reminded any more; the title lapses instead (``expired`` dated
``deadline + 1``, whatever day the scan runs).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

ReminderKind = Literal["review-due", "tutoring-lapses"]
DeadlineKey = tuple[str, str, date]  # (uscc, track, deadline)

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:srdi:reminder-issued")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Deadline:
    """One row of the review calendar: what lapses after ``deadline`` unless something is recorded."""

    uscc: str
    track: str
    kind: ReminderKind
    deadline: date  # the last day the title (or the tutoring acceptance) still holds

    @property
    def key(self) -> DeadlineKey:
        return (self.uscc, self.track, self.deadline)

    def days_left(self, day: date) -> int:
        return (self.deadline - day).days


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder the scan wants issued; its id is fixed by (title, deadline, threshold)."""

    deadline: Deadline
    threshold: int
    days_left: int

    @property
    def event_id(self) -> str:
        return reminder_id(self.deadline.uscc, self.deadline.track, self.deadline.deadline, self.threshold)


@dataclass(frozen=True, slots=True)
class DueExpiry:
    """A lapse the scan wants recorded, dated the day after the deadline."""

    deadline: Deadline

    @property
    def on(self) -> date:
        return self.deadline.deadline + _ONE_DAY


@dataclass(frozen=True, slots=True)
class Plan:
    reminders: tuple[DueReminder, ...]
    expiries: tuple[DueExpiry, ...]


def reminder_id(uscc: str, track: str, deadline: date, threshold: int) -> str:
    """The deterministic event id (uuid5): two schedulers or two runs produce the same one."""
    return str(uuid.uuid5(_NAMESPACE, f"{uscc}|{track}|{deadline.isoformat()}|{threshold}"))


def tightest_threshold(days_left: int, thresholds: Iterable[int]) -> int | None:
    """The smallest threshold already reached (``days_left <= T``), or None when it is still early."""
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def plan(
    rows: Iterable[Deadline],
    day: date,
    thresholds: Sequence[int],
    issued: Mapping[DeadlineKey, int],
) -> Plan:
    """What is due on ``day``; ``issued`` maps a deadline to the tightest threshold reminded so far."""
    reminders: list[DueReminder] = []
    expiries: list[DueExpiry] = []
    for row in sorted(set(rows), key=lambda r: (r.deadline, r.uscc, r.track)):
        left = row.days_left(day)
        if left < 0:
            expiries.append(DueExpiry(row))
            continue
        threshold = tightest_threshold(left, thresholds)
        if threshold is None:
            continue
        already = issued.get(row.key)
        if already is None or threshold < already:
            reminders.append(DueReminder(row, threshold, left))
    return Plan(tuple(reminders), tuple(expiries))


def within(rows: Iterable[Deadline], day: date, days: int) -> list[Deadline]:
    """Rows whose deadline is at most ``days`` away (overdue ones included), soonest first."""
    return sorted((r for r in rows if r.days_left(day) <= days), key=lambda r: (r.deadline, r.uscc, r.track))


# -- the scheduler's position -------------------------------------------------------------------
LOG_BITS = 40  # log positions below 2**40 (a trillion events); the day's ordinal above them


def scan_position(day: date, log_position: int) -> int:
    """The tracking position of a scan of ``day`` decided from the log up to ``log_position``.

    Ordered by day, then by how much of the log the calendar had seen: a later day is always
    ahead, and the same day is ahead only if the calendar has read more of the log since (a
    title certified, reviewed or revoked since the last scan of the day). Fits a signed 64-bit
    column (a day's ordinal is below 2**22).
    """
    if not 0 <= log_position < 1 << LOG_BITS:
        raise ValueError(f"log position {log_position} does not fit the scheduler's tracking record")
    return day.toordinal() << LOG_BITS | log_position


def scanned_day(position: int) -> date | None:
    """The day of a `scan_position` (None for 0: never scanned)."""
    ordinal = position >> LOG_BITS
    return date.fromordinal(ordinal) if ordinal > 0 else None
