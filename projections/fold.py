"""The per-enterprise fold the status, calendar and targets projections share.

Each of those projections keeps, per enterprise, its registration and the list of its milestones
that are in force (a retraction removes one). Titles and the listing stage are then a pure fold of
that list through ``domain.titles`` (``TitleState``/``ListingState``), the very code the enterprise
aggregate decides with, so a view can never disagree with the aggregate about a ``valid_until``.
Keeping the list (not only the folded state) makes a retraction a re-fold of that one enterprise
from rows the projection already holds, which stays correct inside an as-of snapshot too.

``FoldBuffer`` does the batch mechanics once for every enterprise projection standing at the same
checkpoint: their tables hold the same folds (each is a function of the same log prefix), so it
loads the folds the events touch from the first one (one query per 500), applies the events (of
one window of the log or several), and at the write folds each enterprise once, serialises each
fold once, and every projection writes its rows from those folds, 1,000 enterprises at a time.
Only enterprises that already had rows are deleted first; a rebuild, which meets most enterprises
for the first time, mostly just inserts. Subclasses only say which rows a fold becomes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain import reference
from domain.details import DetailsChange, DetailsHistory, change_of
from domain.enterprise import DETAILS_CHANGE, REGISTRATION, set_details, take_details
from domain.errors import IllegalTransition
from domain.memberships import MembershipState
from domain.titles import ListingState, TitleFold, TitleState
from events.envelope import RecordedEvent
from events.lazy_logging import get_logger
from projections.framework import (
    DateParam,
    TableProjection,
    chunks,
    date_param,
    delete_where_in,
    insert_rows,
)

log = get_logger("srdi.projections")
DETAILS_TYPES = frozenset({REGISTRATION, DETAILS_CHANGE})

Rows = list[tuple[Any, ...]]  # rows of one table, each with its values in column order
# The fold's text has always been json.dumps(doc, ensure_ascii=False, separators=(",", ":")) with
# dates as ISO text. One encoder for every fold (json.dumps with options builds one per call).
_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=date.isoformat).encode
_orjson_dumps = orjson.dumps


def _encode(doc: dict[str, Any]) -> str:
    """The fold's JSON text, as ``_json_encode`` writes it, five times faster.

    orjson writes the same text for what a fold holds (strings, None, lists, dates as ISO): compact,
    non-ASCII as it is, the same escapes (a test compares them); text it refuses (a lone surrogate)
    goes to json, which writes what it always wrote.
    """
    try:
        return _orjson_dumps(doc).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _json_encode(doc)


class StepInForce(NamedTuple):
    """A milestone in force as the projections keep it: the fields a fold needs, nothing more.

    A named tuple, not a frozen dataclass: as immutable, and three times cheaper to make, which
    a rebuild does once per milestone of the log.
    """

    event_id: str
    track: str
    action: str
    on: date


class Counted(NamedTuple):
    """A dated fact a target counts that is not a milestone (an invention patent, a retrofit…)."""

    event_id: str
    subject: str
    on: date


COUNTED_FACTS: dict[str, str] = {
    "PatentGranted": "patent",
    "RetrofitReported": "retrofit",
    "InnovationProjectRecorded": "innovation-project",
    "StandardRecorded": "standard",
    "IncubationRecorded": "incubation",
}
"""Event types kept in the fold as `Counted` facts; the subject is this prefix (and a kind)."""


def counted_subject(event_type: str, data: dict[str, Any]) -> str | None:
    """`patent-invention`, `retrofit-smart`…: what a counted fact is, or None if not counted."""
    prefix = COUNTED_FACTS.get(event_type)
    if prefix is None:
        return None
    if prefix == "patent":
        return f"patent-{data.get('kind') or 'invention'}"
    if prefix == "retrofit":
        return f"retrofit-{data['kind']}"
    return prefix


@dataclass(frozen=True, slots=True)
class Folded:
    """Titles by track (only tracks with a milestone in force) and the listing track."""

    titles: dict[str, TitleState]
    listing: ListingState
    memberships: dict[str, MembershipState] = field(default_factory=dict)


def fold_milestones(milestones: Iterable[StepInForce]) -> Folded:
    """Fold milestones in log order; a step the machine refuses is skipped (and logged).

    The handlers only append legal steps, so a refusal can only follow a retraction that left a
    later step without its predecessor; skipping it is the same rule on every path (incremental,
    rebuild, as-of), which is what keeps them equal. Titles, most of the steps, are folded in place
    (`TitleFold`) and become a `TitleState` once, in the order their first accepted step came.
    """
    titles: dict[str, TitleFold] = {}
    memberships: dict[str, MembershipState] = {}
    listing = ListingState()
    kind = reference.track_kind
    for event_id, track, action, on in milestones:
        title = titles.get(track)
        try:
            if title is not None:
                title.advance(action, on)
                continue
            track_kind = kind(track)
            if track_kind == "listing":
                listing = listing.advance(action, on, system=True)
            elif track_kind in reference.MEMBERSHIP_KINDS:
                member = memberships.get(track) or MembershipState(track)
                memberships[track] = member.advance(action, on, system=True)
            else:
                title = TitleFold(track)
                title.advance(action, on)
                titles[track] = title  # once a step is accepted, as `advance` adds a title
        except (IllegalTransition, KeyError) as error:
            log.warning("milestone skipped in fold", event_id=event_id, reason=str(error))
    return Folded({track: title.result() for track, title in titles.items()}, listing, memberships)


@dataclass(slots=True)
class EnterpriseFold:
    """One enterprise's registration and milestones in force, serialisable to one JSON column.

    The folded titles and the JSON text are computed on first use and kept until the next event
    that changes the fold, so the three projections sharing a fold pay for each once.
    """

    uscc: str
    name: str | None = None
    district: str | None = None
    department: str | None = None
    size: str | None = None
    milestones: list[StepInForce] = field(default_factory=list)
    _folded: Folded | None = None
    _json: str | None = None
    details: DetailsHistory = field(default_factory=DetailsHistory)
    industry: str | None = None
    counted: list[Counted] = field(default_factory=list)

    def apply(self, event: RecordedEvent) -> bool:
        """Take one event into account; False when it changes nothing this fold shows."""
        return self.take(event.event_type, event.event_id, event.occurred_on, event.data)

    def take(self, kind: str, event_id: str, on: date, data: dict[str, Any]) -> bool:
        """`apply` from the parts of an event a fold reads (``SqlEventStore.parts_decoder``)."""
        if kind == "MilestoneRecorded":
            self.milestones.append(StepInForce(event_id, data["track"], data["action"], on))
            self._folded = self._json = None
            return True
        if kind in DETAILS_TYPES:
            take_details(self, event_id, on, data)
            self._json = None
            return True
        if kind == "EventRetracted":
            gone = data["retracted_event_id"]
            if any(c.event_id == gone for c in self.details.changes):
                set_details(self, self.details.without(gone))
                self._json = None
                return True
            kept = [m for m in self.milestones if m.event_id != gone]
            facts = [c for c in self.counted if c.event_id != gone]
            if len(kept) == len(self.milestones) and len(facts) == len(self.counted):
                return False
            self.milestones, self.counted = kept, facts
            self._folded = self._json = None
            return True
        subject = counted_subject(kind, data)
        if subject is not None:
            self.counted.append(Counted(event_id, subject, on))
            self._json = None
            return True
        return False

    def release(self) -> None:
        """Drop the folded titles and the JSON text (both are computed again when next needed)."""
        self._folded = self._json = None

    @property
    def folded(self) -> Folded:
        if self._folded is None:
            self._folded = fold_milestones(self.milestones)
        return self._folded

    def dumps(self) -> str:
        if self._json is None:
            self._json = _encode(
                {
                    "name": self.name,
                    "district": self.district,
                    "department": self.department,
                    "size": self.size,
                    "m": [(m.event_id, m.track, m.action, m.on) for m in self.milestones],
                    "d": [(c.event_id, c.on, c.fields) for c in self.details.changes],
                    "c": [(c.event_id, c.subject, c.on) for c in self.counted],
                }
            )
        return self._json

    @classmethod
    def loads(cls, uscc: str, text: str) -> EnterpriseFold:
        raw = json.loads(text)
        if "d" in raw:
            changes = tuple(
                DetailsChange(e, date.fromisoformat(d), tuple((k, v) for k, v in fields), seq)
                for seq, (e, d, fields) in enumerate(raw["d"])
            )
        else:  # a fold stored before details were dated: its registration's details, undated
            changes = (change_of("", date.min, raw),)
        return cls(
            uscc,
            raw["name"],
            raw["district"],
            raw["department"],
            raw["size"],
            [StepInForce(e, t, a, date.fromisoformat(d)) for e, t, a, d in raw["m"]],
            None,
            text,
            DetailsHistory(changes),
            DetailsHistory(changes).current.industry,
            [Counted(e, s, date.fromisoformat(d)) for e, s, d in raw.get("c", ())],
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

    ``tables[0]`` holds one row per enterprise; every table has a ``uscc`` column. One such view
    keeps the folds (``keeps_folds``: column ``fold`` of its ``tables[0]``); the others are folded
    with it, at its checkpoint, and never alone (``registry.moving_together``): each fold is stored
    once. Subclasses implement ``add_rows``, appending each row as a tuple in its table's column
    order (``insert_rows`` hands them to the driver as they are).
    """

    keeps_folds: ClassVar[bool] = False

    handles = frozenset(
        {
            "EnterpriseRegistered",
            "EnterpriseDetailsChanged",
            "MilestoneRecorded",
            "EventRetracted",
            *COUNTED_FACTS,
        }
    )

    def add_rows(self, fold: EnterpriseFold, day: DateParam, out: Sequence[Rows]) -> None:
        """Append one enterprise's rows to ``out[i]``, the rows of ``tables[i]``, every date
        through ``day``. Appending straight to each table's list, not yielding (table, row) pairs
        to sort, because a rebuild writes a hundred thousand rows."""
        raise NotImplementedError

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        apply_enterprises(conn, [self], events)  # refused unless it keeps its folds

    def write(self, conn: Connection, folds: Sequence[EnterpriseFold], stale: Sequence[str]) -> None:
        """Replace the rows of ``stale`` enterprises and insert every fold's rows."""
        for table in reversed(self.tables):
            delete_where_in(conn, table, "uscc", stale)
        out: list[Rows] = [[] for _ in self.tables]
        day = date_param(conn)
        add_rows = self.add_rows
        for fold in folds:
            add_rows(fold, day, out)
        for table, rows in zip(self.tables, out, strict=True):
            insert_rows(conn, table, rows)


def apply_enterprises(
    conn: Connection, projections: Sequence[EnterpriseProjection], events: Sequence[RecordedEvent]
) -> None:
    """Apply one batch to enterprise projections that stand at the same checkpoint.

    The folds are loaded from the table of the one that keeps them (`fold_table`). Each touched
    enterprise is advanced and folded once for all of them.
    """
    if not projections or not events:
        return
    folds = FoldBuffer(fold_table(projections))
    folds.apply(conn, events)
    folds.write(conn, projections)


WRITE_CHUNK = 1000  # enterprises whose rows are built and inserted at a time


def fold_table(together: Sequence[EnterpriseProjection]) -> sa.Table:
    """The table the folds of enterprise views folded together are kept in; a group without the
    view that keeps them is a programming error (``registry.moving_together`` adds it)."""
    for p in together:
        if p.keeps_folds:
            return p.tables[0]
    names = ", ".join(p.name for p in together)
    raise RuntimeError(f"enterprise views {names} are folded without the view that keeps the folds")


@dataclass(slots=True)
class FoldBuffer:
    """The folds of the enterprises some events touched, held until the views' rows are written.

    A catch-up gives it the events of several windows of the log and writes once: an enterprise
    whose events are spread over the log (as they are in a district's log, recorded over years) is
    then loaded, folded and written once per write instead of once per window.
    """

    table: sa.Table
    folds: dict[str, EnterpriseFold] = field(default_factory=dict)
    stored: set[str] = field(default_factory=set)  # enterprises with rows in the tables
    changed: set[str] = field(default_factory=set)

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Advance the folds by ``events``, loading from ``table`` those met for the first time."""
        folds = self.folds
        new = sorted({str(e.data["uscc"]) for e in events}.difference(folds))
        found = load_folds(conn, self.table, new)
        folds.update(found)
        self.stored.update(found)
        changed = self.changed
        for event in events:
            uscc = str(event.data["uscc"])
            fold = folds.get(uscc)
            if fold is None:
                fold = folds[uscc] = EnterpriseFold(uscc)
            if fold.apply(event):
                changed.add(uscc)

    def take(self, uscc: str, kind: str, event_id: str, on: date, data: dict[str, Any]) -> None:
        """Advance by one event of enterprise ``uscc`` (its ``data["uscc"]``, which the caller has
        read already), given by its parts (`EnterpriseFold.take`), when nothing is stored (a build
        from nothing)."""
        fold = self.folds.get(uscc)
        if fold is None:
            fold = self.folds[uscc] = EnterpriseFold(uscc)
        if fold.take(kind, event_id, on, data):
            self.changed.add(uscc)

    def write(self, conn: Connection, projections: Sequence[EnterpriseProjection]) -> None:
        """Replace the rows of every changed enterprise in each projection's tables."""
        if not self.changed:
            return
        order = sorted(self.changed)
        for start in range(0, len(order), WRITE_CHUNK):
            part = order[start : start + WRITE_CHUNK]
            touched = [self.folds[u] for u in part]
            stale = [u for u in part if u in self.stored]
            for projection in projections:
                projection.write(conn, touched, stale)
            for fold in touched:  # written: what only the rows needed can go
                fold.release()

    def __len__(self) -> int:
        return len(self.folds)


def load_folds(conn: Connection, table: sa.Table, usccs: Sequence[str]) -> dict[str, EnterpriseFold]:
    """The stored folds of those of ``usccs`` that ``table`` has a row for."""
    found: dict[str, EnterpriseFold] = {}
    for part in chunks(usccs):
        query = sa.select(table.c.uscc, table.c.fold).where(table.c.uscc.in_(part))
        for uscc, text in conn.execute(query):
            found[uscc] = EnterpriseFold.loads(uscc, text)
    return found


def stored_folds(
    conn: Connection,
    table: sa.Table,
    *,
    district: str | None = None,
    as_of: date | None = None,
    batch: int = 1000,
) -> Iterator[EnterpriseFold]:
    """Every stored fold of ``table`` (of one district), by USCC, in batches of ``batch`` rows.

    With ``as_of`` each fold is the one a rebuild from the events up to that business date gives
    (``fold_as_of``; ``Cutoff``: registrations and retractions apply whatever their date, and a
    retraction has already removed what it retracts), and ``district`` is its district that day.
    """
    after = ""
    while True:
        query = sa.select(table.c.uscc, table.c.fold).where(table.c.uscc > after)
        if district is not None and as_of is None:  # as of a date, the district of that date counts
            query = query.where(table.c.district == district)
        rows = conn.execute(query.order_by(table.c.uscc).limit(batch)).all()
        for uscc, text in rows:
            fold = EnterpriseFold.loads(uscc, text)
            if as_of is not None:
                fold = fold_as_of(fold, as_of)
            if district is None or fold.district == district:
                yield fold
        if len(rows) < batch:
            return
        after = rows[-1][0]


def fold_as_of(fold: EnterpriseFold, as_of: date) -> EnterpriseFold:
    """The fold as it stood on business date ``as_of``: later-dated milestones left out, and the
    details (name, district, department, size) in force that day."""
    kept = [m for m in fold.milestones if m.on <= as_of]
    then = fold.details.on(as_of)
    same = (then.name, then.district, then.department, then.size) == (
        fold.name,
        fold.district,
        fold.department,
        fold.size,
    )
    if len(kept) == len(fold.milestones) and same:
        return fold
    return EnterpriseFold(
        fold.uscc, then.name, then.district, then.department, then.size, kept, details=fold.details
    )
