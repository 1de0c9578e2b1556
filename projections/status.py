"""Current status of every enterprise: its registration, each title, its listing stage.

Rows: ``status_enterprises`` (one per enterprise, with its fold) and ``status_titles`` (one per
track with a milestone in force). ``StatusView`` is what ``srdi status`` prints (docs/cli.md shape):
the read façade (``service_layer.reads.enterprise_status``) catches the projection up and reads its
rows (`read_status_rows`), or, as of a date or an instant, folds that one enterprise's stream in
memory with `fold_status`, through the same ``EnterpriseFold`` (one stream is small, so this is
cheaper than any snapshot and exactly as correct).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.reference import tracks
from events.envelope import RecordedEvent
from projections.fold import EnterpriseFold, EnterpriseProjection, Rows, fold_events
from projections.framework import DateParam, metadata

enterprises_table = sa.Table(
    "status_enterprises",
    metadata,
    sa.Column("uscc", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("district", sa.String(50)),
    sa.Column("department", sa.Text),
    sa.Column("size", sa.String(10)),
    sa.Column("listing_stage", sa.String(30)),
    sa.Column("listing_since", sa.Date),
    sa.Column("fold", sa.Text, nullable=False),
    sa.Index("ix_status_enterprises_listing_stage", "listing_stage"),
)

titles_table = sa.Table(
    "status_titles",
    metadata,
    sa.Column("uscc", sa.String(32), primary_key=True),
    sa.Column("track", sa.String(30), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("since", sa.Date),
    sa.Column("certified_on", sa.Date),
    sa.Column("valid_until", sa.Date),
    sa.Index("ix_status_titles_track_state", "track", "state"),
    sa.Index("ix_status_titles_state_valid_until", "state", "valid_until"),
)


@dataclass(frozen=True, slots=True)
class StatusView:
    """What ``srdi status`` shows; ``to_json`` is the contract's document (docs/cli.md)."""

    uscc: str
    name: str | None
    district: str | None
    department: str | None
    size: str | None
    titles: dict[str, dict[str, Any]]
    listing: dict[str, str | None]

    def to_json(self) -> dict[str, Any]:
        """The contract's keys only; titles in the catalogue's order (a track never recorded is absent)."""
        order = {track: n for n, track in enumerate(tracks())}
        return {
            "uscc": self.uscc,
            "name": self.name,
            "district": self.district,
            "titles": dict(sorted(self.titles.items(), key=lambda item: order.get(item[0], len(order)))),
            "listing": self.listing,
        }

    @classmethod
    def of(cls, fold: EnterpriseFold, on: date | None = None) -> StatusView:
        """The view of a fold; on ``on`` a title past its ``valid_until`` reads expired."""
        folded = fold.folded
        return cls(
            fold.uscc,
            fold.name,
            fold.district,
            fold.department,
            fold.size,
            {track: title.as_json(on) for track, title in sorted(folded.titles.items())},
            folded.listing.as_json(),
        )


class StatusProjection(EnterpriseProjection):
    name = "status"
    tables = (enterprises_table, titles_table)
    keeps_folds = True  # the targets view is folded with it, from its folds

    def add_rows(self, fold: EnterpriseFold, day: DateParam, out: Sequence[Rows]) -> None:
        enterprises, titles = out
        folded = fold.folded
        listing = folded.listing
        listed = listing.stage != "none"
        uscc = fold.uscc
        enterprises.append(
            (
                uscc,
                fold.name,
                fold.district,
                fold.department,
                fold.size,
                listing.stage if listed else None,
                day(listing.since) if listed else None,
                fold.dumps(),
            )
        )
        for track, title in folded.titles.items():
            titles.append(
                (uscc, track, title.state, day(title.since), day(title.certified_on), day(title.valid_until))
            )


def read_status_rows(conn: Connection, uscc: str, on: date | None = None) -> StatusView | None:
    """The status as the projection's rows hold it (live or inside a snapshot), read on ``on``."""
    e = enterprises_table.c
    row = conn.execute(
        sa.select(e.name, e.district, e.department, e.size, e.listing_stage, e.listing_since).where(
            e.uscc == uscc
        )
    ).first()
    if row is None:
        return None
    t = titles_table.c
    titles = {
        track: _title(state, certified_on, valid_until, on)
        for track, state, certified_on, valid_until in conn.execute(
            sa.select(t.track, t.state, t.certified_on, t.valid_until).where(t.uscc == uscc).order_by(t.track)
        )
    }
    listing = {"stage": row.listing_stage, "since": _iso(row.listing_since)}
    return StatusView(uscc, row.name, row.district, row.department, row.size, titles, listing)


def _title(
    state: str, certified_on: date | str | None, valid_until: date | str | None, on: date | None
) -> dict[str, Any]:
    """A title row as `TitleState.as_json(on)` shows it (expired once ``valid_until`` has passed)."""
    until = _iso(valid_until)
    lapsed = state == "certified" and on is not None and until is not None and until < on.isoformat()
    doc: dict[str, Any] = {
        "state": "expired" if lapsed else state,
        "certified_on": _iso(certified_on),
        "valid_until": until,
    }
    if lapsed or state == "expired":
        doc["expiry_recorded"] = not lapsed
    return doc


def fold_status(uscc: str, events: Iterable[RecordedEvent], on: date | None = None) -> StatusView | None:
    """The status one enterprise's events give, folded in memory exactly as the projection folds them.

    None when none of the events concerns the enterprise (never registered, or not in view). On
    ``on`` a title past its ``valid_until`` reads expired, as in `read_status_rows`.
    """
    fold = fold_events(uscc, events)
    return StatusView.of(fold, on) if fold is not None else None


def _iso(value: date | str | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)
