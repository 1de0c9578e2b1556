"""The review calendar: every deadline a district must watch, one row per enterprise and track.

- ``review-due``: a title in state ``certified``, due for review (复核 / 复审) by its ``valid_until``
  (the last valid day, from ``domain.titles``).
- ``tutoring-lapses``: the listing track in ``ipo-tutoring``; the acceptance lapses 12 months after
  the enterprise last entered tutoring (the ``ipo-tutoring`` milestone, or an ``ipo-withdrawn`` that
  sent it back), so ``valid_until`` is that date + 12 months − 1 day, the same inclusive convention.

The calendar is not stored: every one of its rows is a row of the status view (a certified title of
``status_titles``, an enterprise of ``status_enterprises`` in ``ipo-tutoring``), so ``read_calendar``
reads those through two indexes (``state, valid_until`` and ``listing_stage``) and the status view is
what a reader catches up (``CALENDAR_VIEWS``). ``deadlines`` gives the same rows from a fold in
memory (the report page, as of a date).

The scheduler reads ``read_calendar`` to issue reminders and record expiries; ``srdi calendar``
prints it. A row past its ``valid_until`` (``days_left`` < 0) is ``lapsed``: time is part of state,
so the title reads expired already; the row stays until the scheduler records the lapse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.inputs import shifted
from domain.reference import add_years
from projections.fold import EnterpriseFold
from projections.status import enterprises_table, titles_table

REVIEW_DUE = "review-due"
TUTORING_LAPSES = "tutoring-lapses"
CALENDAR_VIEW = "status"
"""The stored view ``read_calendar`` reads: catch it up (or snapshot it) before reading."""
CALENDAR_VIEWS = (CALENDAR_VIEW,)
LISTING = "listing"


def tutoring_valid_until(since: date) -> date:
    """Last day of the 12 months an IPO tutoring acceptance stays good for."""
    return add_years(since, 1) - timedelta(days=1)


def deadlines(fold: EnterpriseFold) -> Iterator[tuple[str, str, date, date]]:
    """The enterprise's calendar rows as (track, kind, since, valid_until)."""
    folded = fold.folded
    for track, title in folded.titles.items():
        if title.state == "certified" and title.valid_until is not None and title.since is not None:
            yield track, REVIEW_DUE, title.since, title.valid_until
    listing = folded.listing
    if listing.stage == "ipo-tutoring" and listing.since is not None:
        yield LISTING, TUTORING_LAPSES, listing.since, tutoring_valid_until(listing.since)


def fold_entries(fold: EnterpriseFold, today: date) -> list[CalendarEntry]:
    """The calendar entries of one fold, days counted from ``today`` (what ``read_calendar`` reads
    from the rows this fold becomes)."""
    return [
        CalendarEntry(fold.uscc, fold.name, fold.district, track, kind, since, until, (until - today).days)
        for track, kind, since, until in deadlines(fold)
    ]


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    uscc: str
    name: str | None
    district: str | None
    track: str
    kind: str
    since: date
    valid_until: date
    days_left: int

    def to_json(self) -> dict[str, Any]:
        """Every field, dates as ISO text, and ``lapsed`` (docs/cli.md)."""
        doc: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        doc.update(since=self.since.isoformat(), valid_until=self.valid_until.isoformat(), lapsed=self.lapsed)
        return doc

    @property
    def lapsed(self) -> bool:
        """Past its last valid day: expired (or the tutoring lapsed), not yet recorded by the scheduler."""
        return self.days_left < 0


def read_calendar(
    conn: Connection, today: date, *, within: int | None = None, district: str | None = None
) -> list[CalendarEntry]:
    """Deadlines by date; ``within`` keeps those due by ``today + within`` days (overdue included)."""
    t, e = titles_table.c, enterprises_table.c
    titles = (
        sa.select(t.uscc, e.name, e.district, t.track, t.since, t.valid_until)
        .join_from(titles_table, enterprises_table, t.uscc == e.uscc)
        .where(t.state == "certified", t.since.is_not(None), t.valid_until.is_not(None))
    )
    tutoring = sa.select(e.uscc, e.name, e.district, e.listing_since).where(
        e.listing_stage == "ipo-tutoring", e.listing_since.is_not(None)
    )
    last = None if within is None else shifted(today, within)
    if last is not None:
        titles = titles.where(t.valid_until <= last)
    if district is not None:
        titles = titles.where(e.district == district)
        tutoring = tutoring.where(e.district == district)
    found = [
        CalendarEntry(uscc, name, where, track, REVIEW_DUE, since, until, (until - today).days)
        for uscc, name, where, track, since, until in conn.execute(titles)
    ]
    for uscc, name, where, since in conn.execute(tutoring):
        until = tutoring_valid_until(since)
        if last is None or until <= last:
            found.append(
                CalendarEntry(uscc, name, where, LISTING, TUTORING_LAPSES, since, until, (until - today).days)
            )
    found.sort(key=lambda entry: (entry.valid_until, entry.uscc, entry.track))
    return found
