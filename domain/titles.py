"""The fold of one track's milestones into what a title is on a given day.

Shared by the enterprise aggregate (to decide) and the status projection (to show), so the two can
never disagree about a ``valid_until``. Pure and tiny: a frozen value in, a frozen value out.

Readings taken here (documented in docs/decisions.md):
- ``certified`` starts a title: ``certified_on`` and the first validity period begin that day.
- ``review-passed`` starts a new period on the review date; ``certified_on`` keeps the date the title
  was first granted.
- A title is valid on day D when D lies in a period and nothing ended it on or before D
  (``revoked``/``review-failed``/``expired`` end it on their date).
- Time is part of state: a ``certified`` title whose ``valid_until`` has passed has lapsed on any
  later day, whether or not the scheduler has recorded ``expired`` yet (``state_on``). A new
  ``applied`` or ``certified`` after that day is taken from the lapsed state: the lapse is implied
  on ``valid_until + 1`` (what the scheduler would record), so a lapsed title can be certified
  again, and the scheduler's later record finds nothing left to expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain import machines, reference

_ONE_DAY = timedelta(days=1)
ENDING_ACTIONS = frozenset({"revoked", "review-failed", "expired"})
RESTARTING_ACTIONS = frozenset({"applied", "certified"})
"""Actions that start a title again: after an unrecorded lapse they are taken from ``expired``."""


@dataclass(frozen=True, slots=True)
class Period:
    """One validity period of a title: ``start`` to ``valid_until`` inclusive, maybe ended early."""

    start: date
    valid_until: date
    ended_on: date | None = None

    def covers(self, day: date) -> bool:
        if day < self.start or day > self.valid_until:
            return False
        return self.ended_on is None or day < self.ended_on


@dataclass(frozen=True, slots=True)
class TitleState:
    """A qualification track as it stands after its milestones so far."""

    track: str
    state: str = "none"
    since: date | None = None  # date of the latest milestone
    certified_on: date | None = None
    valid_until: date | None = None
    periods: tuple[Period, ...] = ()

    def holds_valid(self, day: date) -> bool:
        return any(p.covers(day) for p in self.periods)

    def lapsed_unrecorded(self, day: date) -> bool:
        """Certified, but ``day`` is after ``valid_until`` and no expiry is recorded yet."""
        return self.state == "certified" and self.valid_until is not None and self.valid_until < day

    def state_on(self, day: date | None) -> str:
        """The state on ``day``: ``expired`` once the validity has passed, recorded or not."""
        return "expired" if day is not None and self.lapsed_unrecorded(day) else self.state

    def advance(self, action: str, on: date, *, system: bool = True) -> TitleState:
        """The title after ``action`` on ``on``; raises IllegalTransition when not allowed."""
        if action in RESTARTING_ACTIONS and self.lapsed_unrecorded(on) and self.valid_until is not None:
            lapse = self.valid_until + _ONE_DAY
            lapsed = TitleState(
                self.track,
                "expired",
                lapse,
                self.certified_on,
                self.valid_until,
                _end_last(self.periods, lapse),
            )
            return lapsed.advance(action, on, system=system)
        new_state = machines.check_track(self.track, self.state, action, system=system)
        periods = self.periods
        certified_on = self.certified_on
        valid_until = self.valid_until
        if action == "certified":
            certified_on = on
            valid_until = reference.valid_until(on, self.track)
            periods = (*periods, Period(on, valid_until))
        elif action == "review-passed":
            valid_until = reference.valid_until(on, self.track)
            periods = (*_end_last(periods, on), Period(on, valid_until))
        elif action in ENDING_ACTIONS:
            periods = _end_last(periods, on)
        # The constructor, not dataclasses.replace: this runs once per milestone in every fold.
        return TitleState(self.track, new_state, on, certified_on, valid_until, periods)

    def as_json(self, on: date | None = None) -> dict[str, str | bool | None]:
        """The `status --json` entry on ``on`` (None: as recorded, without the clock).

        An expired title adds ``expiry_recorded``: false while the lapse is only implied by the
        date, true once the scheduler recorded it. Other states carry no such key.
        """
        state = self.state_on(on)
        doc: dict[str, str | bool | None] = {
            "state": state,
            "certified_on": self.certified_on.isoformat() if self.certified_on else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }
        if state == "expired":
            doc["expiry_recorded"] = self.state == "expired"
        return doc


class TitleFold:
    """A title while a whole history of milestones is folded into it: `TitleState`'s fields, mutable.

    Why: a projection folds every milestone of every enterprise, and a frozen `TitleState` (with a
    new tuple of periods, and a new `Period` to end one) per milestone was most of that cost. This
    takes the same steps as `TitleState.advance` with ``system=True`` (history is facts already
    accepted) in place, keeps the last period open as its two dates, and makes each `Period` and
    the `TitleState` once (`result`). A refused step raises the same error and changes nothing.
    Tests hold it to `advance` and its lookups to the Machine.
    """

    __slots__ = ("_ended", "_open", "_steps", "certified_on", "since", "state", "track", "valid_until")

    def __init__(self, track: str) -> None:
        self.track = track
        self.state = "none"
        self.since: date | None = None
        self.certified_on: date | None = None
        self.valid_until: date | None = None
        self._ended: list[Period] = []  # every period but an open last one
        self._open: tuple[date, date] | None = None  # the last period while not ended: its dates
        self._steps = machines.step_table(track)

    def advance(self, action: str, on: date) -> None:
        """`TitleState.advance(action, on, system=True)`, in place; raises IllegalTransition."""
        state = self.state
        lapse: date | None = None
        if state == "certified" and action in RESTARTING_ACTIONS:
            until = self.valid_until
            if until is not None and until < on:  # lapsed unrecorded: taken from `expired`
                lapse = until + _ONE_DAY
                state = "expired"
        new_state = self._steps.get((state, action))
        if new_state is None:  # refused (or a miss of the table): the machines' check says why
            new_state = machines.check_track(self.track, state, action, system=True)
        # Each branch reads the new validity (which may raise) before it changes the fold.
        if action == "review-passed":
            valid_until = reference.valid_until(on, self.track)
            self._end(on)
            self._open = (on, valid_until)
            self.valid_until = valid_until
        elif action == "certified":
            valid_until = reference.valid_until(on, self.track)
            if lapse is not None:
                self._end(lapse)
            elif self._open is not None:  # not ended: kept as it is, as `advance` keeps it
                self._ended.append(Period(*self._open))
            self._open = (on, valid_until)
            self.certified_on = on
            self.valid_until = valid_until
        elif action in ENDING_ACTIONS:
            self._end(on)
        elif lapse is not None:  # applied after the lapse
            self._end(lapse)
        self.state = new_state
        self.since = on

    def _end(self, on: date) -> None:
        """`_end_last`: the last period, if not ended yet, ends on ``on`` (at most its lapse)."""
        if self._open is not None:
            start, until = self._open
            self._ended.append(Period(start, until, min(on, until + _ONE_DAY)))
            self._open = None

    def result(self) -> TitleState:
        """The title after every step taken, as `TitleState.advance` step by step gives it."""
        periods = self._ended if self._open is None else [*self._ended, Period(*self._open)]
        return TitleState(
            self.track, self.state, self.since, self.certified_on, self.valid_until, tuple(periods)
        )


@dataclass(frozen=True, slots=True)
class ListingState:
    """The listing track: the stage reached and since when, plus every stage's first date."""

    stage: str = "none"
    since: date | None = None
    reached: tuple[tuple[str, date], ...] = ()  # (action, date) in order, for "first time" rules

    def advance(self, action: str, on: date, *, system: bool = True) -> ListingState:
        new_stage = machines.check_track("listing", self.stage, action, system=system)
        return ListingState(new_stage, on, (*self.reached, (action, on)))

    def first(self, action: str) -> date | None:
        return next((d for a, d in self.reached if a == action), None)

    def as_json(self) -> dict[str, str | None]:
        return {
            "stage": None if self.stage == "none" else self.stage,
            "since": self.since.isoformat() if self.since and self.stage != "none" else None,
        }


def _end_last(periods: tuple[Period, ...], on: date) -> tuple[Period, ...]:
    if not periods or periods[-1].ended_on is not None:
        return periods
    last = periods[-1]
    return (*periods[:-1], Period(last.start, last.valid_until, min(on, last.valid_until + _ONE_DAY)))
