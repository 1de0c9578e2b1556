"""The review calendar: every deadline a district must watch, one row per enterprise and track.

- ``review-due``: a title in state ``certified``, due for review (复核 / 复审) by its ``valid_until``
  (the last valid day, from ``domain.titles``).
- ``tutoring-lapses``: the listing track in ``ipo-tutoring``; the acceptance lapses 12 months after
  the enterprise last entered tutoring (the ``ipo-tutoring`` milestone, or an ``ipo-withdrawn`` that
  sent it back), so ``valid_until`` is that date + 12 months − 1 day, the same inclusive convention.

The scheduler reads ``read_calendar`` to issue reminders and record expiries; ``srdi calendar``
prints it. A row past its ``valid_until`` (``days_left`` < 0) is ``lapsed``: time is part of state,
so the title reads expired already; the row stays until the scheduler records the lapse.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.inputs import shifted
from domain.reference import add_years
from projections.fold import EnterpriseFold, EnterpriseProjection, Row
from projections.framework import DateParam, metadata

REVIEW_DUE = "review-due"
TUTORING_LAPSES = "tutoring-lapses"

enterprises_table = sa.Table(
    "calendar_enterprises",
    metadata,
    sa.Column("uscc", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("district", sa.String(50)),
    sa.Column("fold", sa.Text, nullable=False),
)

entries_table = sa.Table(
    "calendar_entries",
    metadata,
    sa.Column("uscc", sa.String(32), primary_key=True),
    sa.Column("track", sa.String(30), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Index("ix_calendar_entries_valid_until", "valid_until"),
)


def tutoring_valid_until(since: date) -> date:
    """Last day of the 12 months an IPO tutoring acceptance stays good for."""
    return add_years(since, 1) - timedelta(days=1)


class CalendarProjection(EnterpriseProjection):
    name = "calendar"
    tables = (enterprises_table, entries_table)

    def rows(self, fold: EnterpriseFold, day: DateParam) -> Iterable[Row]:
        yield enterprises_table, (fold.uscc, fold.name, fold.district, fold.dumps())
        for track, kind, since, valid_until in deadlines(fold):
            yield entries_table, (fold.uscc, track, kind, day(since), day(valid_until))


def deadlines(fold: EnterpriseFold) -> Iterator[tuple[str, str, date, date]]:
    """The enterprise's calendar rows as (track, kind, since, valid_until)."""
    folded = fold.folded
    for track, title in folded.titles.items():
        if title.state == "certified" and title.valid_until is not None and title.since is not None:
            yield track, REVIEW_DUE, title.since, title.valid_until
    listing = folded.listing
    if listing.stage == "ipo-tutoring" and listing.since is not None:
        yield "listing", TUTORING_LAPSES, listing.since, tutoring_valid_until(listing.since)


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
        return {
            "uscc": self.uscc,
            "name": self.name,
            "district": self.district,
            "track": self.track,
            "kind": self.kind,
            "since": self.since.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "days_left": self.days_left,
            "lapsed": self.lapsed,
        }

    @property
    def lapsed(self) -> bool:
        """Past its last valid day: expired (or the tutoring lapsed), not yet recorded by the scheduler."""
        return self.days_left < 0


def read_calendar(
    conn: Connection, today: date, *, within: int | None = None, district: str | None = None
) -> list[CalendarEntry]:
    """Deadlines by date; ``within`` keeps those due by ``today + within`` days (overdue included)."""
    c, e = entries_table.c, enterprises_table.c
    query = (
        sa.select(c.uscc, e.name, e.district, c.track, c.kind, c.since, c.valid_until)
        .join_from(entries_table, enterprises_table, c.uscc == e.uscc)
        .order_by(c.valid_until, c.uscc, c.track)
    )
    if within is not None:
        query = query.where(c.valid_until <= shifted(today, within))
    if district is not None:
        query = query.where(e.district == district)
    return [
        CalendarEntry(
            row.uscc,
            row.name,
            row.district,
            row.track,
            row.kind,
            row.since,
            row.valid_until,
            (row.valid_until - today).days,
        )
        for row in conn.execute(query)
    ]
