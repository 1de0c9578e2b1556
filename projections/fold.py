"""The per-enterprise fold the status, calendar and targets projections share.

Each of those projections keeps, per enterprise, its registration and the list of its milestones
that are in force (a retraction removes one). Titles and the listing stage are then a pure fold of
that list through ``domain.titles`` (``TitleState``/``ListingState``), the very code the enterprise
aggregate decides with, so a view can never disagree with the aggregate about a ``valid_until``.
Keeping the list (not only the folded state) makes a retraction a re-fold of that one enterprise
from rows the projection already holds, which stays correct inside an as-of snapshot too.

``EnterpriseProjection`` does the batch mechanics once: load the folds of the enterprises a batch
touches (one query per 500), apply the events in memory, delete and bulk-insert those enterprises'
rows. Subclasses only say which rows a fold becomes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from domain import reference
from domain.errors import IllegalTransition
from domain.titles import ListingState, TitleState
from events.envelope import RecordedEvent
from projections.framework import TableProjection, chunks, delete_where_in

log = structlog.get_logger("srdi.projections")

Row = tuple[sa.Table, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Milestone:
    event_id: str
    track: str
    action: str
    on: date


@dataclass(frozen=True, slots=True)
class Folded:
    """Titles by track (only tracks with a milestone in force) and the listing track."""

    titles: dict[str, TitleState]
    listing: ListingState


def fold_milestones(milestones: Iterable[Milestone]) -> Folded:
    """Fold milestones in log order (memoised: the three projections fold the same lists)."""
    return _fold(tuple(milestones))


@lru_cache(maxsize=16_384)  # more than the enterprises one batch can touch, so all three share it
def _fold(milestones: tuple[Milestone, ...]) -> Folded:
    """Fold milestones in log order; a step the machine refuses is skipped (and logged).

    The handlers only append legal steps, so a refusal can only follow a retraction that left a
    later step without its predecessor; skipping it is the same rule on every path (incremental,
    rebuild, as-of), which is what keeps them equal.
    """
    titles: dict[str, TitleState] = {}
    listing = ListingState()
    for m in milestones:
        try:
            if reference.track_kind(m.track) == "listing":
                listing = listing.advance(m.action, m.on, system=True)
            else:
                titles[m.track] = titles.get(m.track, TitleState(m.track)).advance(
                    m.action, m.on, system=True
                )
        except (IllegalTransition, KeyError) as error:
            log.warning("milestone skipped in fold", event_id=m.event_id, reason=str(error))
    return Folded(titles, listing)


@dataclass(slots=True)
class EnterpriseFold:
    """One enterprise's registration and milestones in force, serialisable to one JSON column."""

    uscc: str
    name: str | None = None
    district: str | None = None
    department: str | None = None
    size: str | None = None
    milestones: list[Milestone] = field(default_factory=list)
    _folded: Folded | None = None

    def apply(self, event: RecordedEvent) -> bool:
        """Take one event into account; False when it changes nothing this fold shows."""
        data = event.data
        if event.event_type == "EnterpriseRegistered":
            self.name = data.get("name")
            self.district = data.get("district")
            self.department = data.get("department")
            self.size = data.get("size")
            return True
        if event.event_type == "MilestoneRecorded":
            self.milestones.append(
                Milestone(event.event_id, data["track"], data["action"], event.occurred_on)
            )
            self._folded = None
            return True
        if event.event_type == "EventRetracted":
            gone = data["retracted_event_id"]
            kept = [m for m in self.milestones if m.event_id != gone]
            if len(kept) == len(self.milestones):
                return False
            self.milestones = kept
            self._folded = None
            return True
        return False

    @property
    def folded(self) -> Folded:
        if self._folded is None:
            self._folded = fold_milestones(self.milestones)
        return self._folded

    def dumps(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "district": self.district,
                "department": self.department,
                "size": self.size,
                "m": [[m.event_id, m.track, m.action, m.on.isoformat()] for m in self.milestones],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, uscc: str, text: str) -> EnterpriseFold:
        raw = json.loads(text)
        return cls(
            uscc,
            raw["name"],
            raw["district"],
            raw["department"],
            raw["size"],
            [Milestone(e, t, a, date.fromisoformat(d)) for e, t, a, d in raw["m"]],
        )


def fold_events(uscc: str, events: Iterable[RecordedEvent]) -> EnterpriseFold | None:
    """Fold one enterprise's events in memory (None when none of them concerns it)."""
    fold = EnterpriseFold(uscc)
    touched = False
    for event in events:
        touched = fold.apply(event) or touched
    return fold if touched else None


class EnterpriseProjection(TableProjection):
    """A projection whose rows are a function of each enterprise's fold.

    ``tables[0]`` holds one row per enterprise with the fold in column ``fold``; every table has a
    ``uscc`` column. Subclasses implement ``rows``.
    """

    handles = frozenset({"EnterpriseRegistered", "MilestoneRecorded", "EventRetracted"})

    def rows(self, fold: EnterpriseFold) -> Iterable[Row]:
        raise NotImplementedError

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        usccs = sorted({str(e.data["uscc"]) for e in events})
        folds = self._load(conn, usccs)
        changed: set[str] = set()
        for event in events:
            uscc = str(event.data["uscc"])
            fold = folds.get(uscc)
            if fold is None:
                fold = folds[uscc] = EnterpriseFold(uscc)
            if fold.apply(event):
                changed.add(uscc)
        if changed:
            self._save(conn, [folds[u] for u in sorted(changed)])

    def _load(self, conn: Connection, usccs: Sequence[str]) -> dict[str, EnterpriseFold]:
        table = self.tables[0]
        found: dict[str, EnterpriseFold] = {}
        for part in chunks(usccs):
            query = sa.select(table.c.uscc, table.c.fold).where(table.c.uscc.in_(part))
            for uscc, text in conn.execute(query):
                found[uscc] = EnterpriseFold.loads(uscc, text)
        return found

    def _save(self, conn: Connection, folds: Sequence[EnterpriseFold]) -> None:
        keys = [f.uscc for f in folds]
        for table in reversed(self.tables):
            delete_where_in(conn, table, "uscc", keys)
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for fold in folds:
            for table, row in self.rows(fold):
                grouped[table.name].append(row)
        for table in self.tables:
            if grouped[table.name]:
                conn.execute(sa.insert(table), grouped[table.name])
