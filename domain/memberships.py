"""The fold of a pool's or a designation's milestones: in the pool / designated, since when, periods.

Shared by the enterprise aggregate and the projections (like ``domain.titles`` for titles), so a
view and a decision never disagree. A pool admission or a designation's certification opens a
period; leaving the pool, a revocation or a lapse ends it on that day. A certification while a
designation is held (a renewal, or the next year's selection of a benchmark enterprise) ends the
open period and starts a new one. A period has no end date unless the data gives the designation
a validity (`validity_years` in tracks.toml; none of the five documents gives one): it is then
reminded and lapses like a title.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain import machines, reference
from domain.titles import Period

OPEN_END = date(9999, 12, 31)
"""The `valid_until` of a period nothing bounds (stored as a date so every backend compares it)."""

ENTRY_ACTIONS = frozenset({"admitted", "certified"})
ENDING_ACTIONS = frozenset({"left", "revoked", "expired"})


@dataclass(frozen=True, slots=True)
class MembershipState:
    """A pool membership or a designation as it stands after its milestones so far."""

    track: str
    state: str = "none"
    since: date | None = None  # date of the latest milestone
    first_on: date | None = None  # first admission / certification ever
    periods: tuple[Period, ...] = ()

    def holds(self, day: date) -> bool:
        """In the pool / designated on ``day``."""
        return any(p.covers(day) for p in self.periods)

    @property
    def entries(self) -> tuple[date, ...]:
        """Every admission or certification date, oldest first."""
        return tuple(p.start for p in self.periods)

    @property
    def valid_until(self) -> date | None:
        """End of the open period when the designation has a validity, else None."""
        if not self.periods or self.periods[-1].valid_until == OPEN_END:
            return None
        return self.periods[-1].valid_until

    def advance(self, action: str, on: date, *, system: bool = True) -> MembershipState:
        """The state after ``action`` on ``on``; raises IllegalTransition when not allowed."""
        new_state = machines.check_track(self.track, self.state, action, system=system)
        periods = self.periods
        first_on = self.first_on
        if action in ENTRY_ACTIONS:
            years = reference.membership_validity(self.track)
            until = OPEN_END if years is None else reference.add_years(on, years) - timedelta(days=1)
            periods = (*_end_open(periods, on), Period(on, until))
            first_on = first_on or on
        elif action in ENDING_ACTIONS:
            periods = _end_open(periods, on)
        return MembershipState(self.track, new_state, on, first_on, periods)

    def as_json(self) -> dict[str, str | None]:
        until = self.valid_until
        return {
            "state": self.state,
            "since": self.since.isoformat() if self.since else None,
            "first_on": self.first_on.isoformat() if self.first_on else None,
            "valid_until": until.isoformat() if until else None,
        }


def _end_open(periods: tuple[Period, ...], on: date) -> tuple[Period, ...]:
    if not periods or periods[-1].ended_on is not None:
        return periods
    last = periods[-1]
    if last.valid_until < on:  # already lapsed by its own validity
        return periods
    return (*periods[:-1], Period(last.start, last.valid_until, on))
