"""Feeding projections from the log: catch-up, rebuild, and snapshots for as-of views.

- ``catch_up`` reads the log after the lowest checkpoint in windows of consecutive positions up
  to the end it saw when it started, only the event types its views handle (filtered in SQL), and
  writes in ONE write transaction at a time holding the projection lock: checkpoints are re-read
  under the lock, each projection gets the events past its own checkpoint, and its checkpoint
  moves with its rows. Two catch-ups at once therefore cooperate instead of applying an event
  twice, and a crash loses a whole write or nothing. Views standing at one checkpoint (a rebuild,
  a writer's read) hold the enterprise folds over several windows and write them once
  (``HELD_FOLDS``); views at different checkpoints are written window by window.
- Late commits: the store numbers positions under a global lock, so a visible position implies all
  earlier ones are visible. Still, a batch is only taken up to its first hole; a hole is re-read a
  few times (a late commit would fill it) and only then treated as permanent (a deleted row, which
  ``audit verify`` reports).
- ``rebuild`` builds the views aside, in TEMPORARY copies on one connection, from the log up to
  its end as it was at the start: the enterprise views stream by stream (each enterprise read,
  folded and written once, however the log interleaves it), the others in log order. Then ONE
  write transaction replaces the live rows and sets the checkpoints to that end, and a catch-up
  adds what was appended meanwhile. Readers see the old views whole until the replacement; a
  rebuild that dies leaves them as they were. With ``as_of`` it never touches the live tables: it
  builds a snapshot and reports what it holds.
- ``snapshot`` rebuilds the chosen projections into TEMPORARY tables of the same names on one
  connection (SQLAlchemy's ``schema_translate_map`` points every statement on it at ``temp`` /
  ``pg_temp``), from the events a ``Cutoff`` admits; every read query then runs unchanged on it.

Results are returned, never printed. Memory is one window of events plus the folds held.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import events  # noqa: F401  (registers the event types)
from events.db import WRITE, is_sqlite, sqlite_file
from events.envelope import RecordedEvent
from events.lazy_logging import get_logger
from events.schemas import enterprise_stream
from events.sql_store import EventParts, SqlEventStore
from events.tracking import record_position, rewind_position, tracked_positions
from projections import registry
from projections.fold import WRITE_CHUNK, EnterpriseProjection, FoldBuffer, apply_enterprises, fold_table
from projections.framework import (
    Cutoff,
    Projection,
    SubjectProjection,
    date_param,
    insert_rows,
    key_copy,
    temp_copy,
)

log = get_logger("srdi.projections")

# Events per catch-up transaction. 20,000 rather than 5,000: each batch rewrites the index pages its
# enterprises touch, and at a million events those are mostly different pages; fewer, larger
# batches made a 1M-event SQLite rebuild ~17% cheaper in CPU and ~20% in wall time (bench/), for
# ~15 MB more peak memory. `srdi replay --batch N` overrides it.
DEFAULT_BATCH = 20_000
PROJECTION_LOCK_KEY = 0x5_2D2  # pg_advisory_xact_lock key of projection writes (the log uses 0x52D1)
GAP_WAITS = 6  # re-reads of a hole before it counts as permanent (~0.6 s in all)
Progress = Callable[[int, int], None]  # (position reached, position to reach)


@dataclass(frozen=True, slots=True)
class CatchUpResult:
    """Where each projection's checkpoint stands and how many events each was given."""

    position: int
    events_read: int = 0
    applied: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    """What ``srdi replay`` reports: events read, seconds, rows per projection."""

    events: int
    seconds: float
    projections: dict[str, int]
    as_of: date | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "projections": self.projections,
        }
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


class CheckpointAhead(Exception):
    """A view claims events the log does not hold: the log was cut or the checkpoint was moved.

    Reading refuses (CLI exit 4) rather than rebuilding quietly, because either is tampering or a
    restore gone wrong, which someone must look at; ``srdi replay`` rebuilds the views from the log
    once the log itself checks out (``srdi audit verify --anchors``).
    """

    def __init__(self, view: str, position: int, end: int) -> None:
        super().__init__(
            f"the {view} view's checkpoint is at position {position} but the log ends at {end}: "
            "the log was cut or the view tampered with; check the log with 'srdi audit verify "
            "--anchors', then rebuild the views with 'srdi replay'"
        )
        self.view, self.position, self.end = view, position, end


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A connection on which the chosen projections' tables hold an as-of / as-recorded view."""

    conn: Connection
    events: int
    rows: dict[str, int]


def checkpoints(engine: Engine) -> dict[str, int]:
    """Each projection's tracking record (other followers of the log left out)."""
    return tracked_positions(engine, registry.PROJECTIONS)


def catch_up(
    engine: Engine,
    names: Iterable[str] | None = None,
    *,
    batch: int = DEFAULT_BATCH,
    until_position: int | None = None,
    progress: Progress | None = None,
) -> CatchUpResult:
    """Bring the named projections (all by default) up to the log's end as it is now; an enterprise
    view brings the others (`registry.moving_together`)."""
    chosen = registry.moving_together(registry.select(names))
    store = SqlEventStore(engine)
    known = checkpoints(engine)  # before the log's end: a checkpoint read first can never pass it
    end = store.last_position() if until_position is None else until_position
    if until_position is None:
        for p in chosen:
            if known.get(p.name, 0) > end:
                raise CheckpointAhead(p.name, known[p.name], end)
    known = _standing_together(engine, chosen, known)
    after = min(known.get(p.name, 0) for p in chosen)
    if after >= end:
        return CatchUpResult(after)
    wanted = tuple(sorted({t for p in chosen for t in p.handles}))
    applied = dict.fromkeys((p.name for p in chosen), 0)
    read, counted = 0, after
    reading = _Reading(engine, store, chosen, end, batch, wanted, *store.decoder())
    with _older_objects_frozen():
        while after < end:
            at = {known.get(p.name, 0) for p in chosen}
            try:
                windows = _buffered(reading, after) if len(at) == 1 else _per_window(reading, after)
                for window, given in windows:
                    for name, n in given.items():
                        applied[name] += n
                    read += window.held_after(counted)
                    counted = after = max(counted, window.last)
                    if progress is not None:
                        progress(window.last, end)
            except _Behind as behind:
                log.info("projection reset meanwhile; reading again", from_position=behind.at)
                known = _standing_together(engine, chosen, checkpoints(engine))
                after = min(behind.at, *(known.get(p.name, 0) for p in chosen))
                continue
            break
    return CatchUpResult(end, read, applied)


def _apart(chosen: Sequence[Projection], known: dict[str, int]) -> bool:
    """Whether the chosen enterprise views stand at different checkpoints (views from before they
    were folded together, or a checkpoint moved by hand): they cannot be folded together."""
    together, _ = _split(chosen)
    return len({known.get(p.name, 0) for p in together}) > 1


def _standing_together(engine: Engine, chosen: Sequence[Projection], known: dict[str, int]) -> dict[str, int]:
    """The checkpoints ``known``, once the chosen enterprise views stand together: views that stand
    apart are emptied and set to the log's start, in one write under the projection lock, for the
    catch-up to build them again together."""
    if not _apart(chosen, known):
        return known
    together, _ = _split(chosen)
    with _write(engine) as conn:
        at = tracked_positions(conn, (p.name for p in together))
        if _apart(together, at):  # else another catch-up did it meanwhile
            log.warning("enterprise views rebuilt together from the log's start", checkpoints=at)
            for p in together:
                p.reset(conn)
                rewind_position(conn, p.name, 0)
    return checkpoints(engine)


# Between two writes of the enterprise views, a catch-up holds at most this many enterprises' folds
# in memory (~3.5 kB each).
HELD_FOLDS = 20_000
_Windows = Iterator[tuple["_Window", dict[str, int]]]


@dataclass(frozen=True, slots=True)
class _Reading:
    """One catch-up's reading of the log: its views, up to where, how much at a time, which types,
    and the decoder (with its per-window reset) both ways of writing the views use."""

    engine: Engine
    store: SqlEventStore
    chosen: Sequence[Projection]
    end: int
    batch: int
    wanted: Sequence[str]
    decode: Callable[[Sequence[Any]], RecordedEvent]
    new_batch: Callable[[], None]

    def windows(self, after: int) -> Iterator[tuple[_Window, list[RecordedEvent]]]:
        """Each window after ``after`` with its wanted events decoded."""
        for window in _windows(self.store, after, self.end, self.batch, self.wanted):
            self.new_batch()
            yield window, [self.decode(r) for r in window.rows]


def _per_window(read: _Reading, after: int) -> _Windows:
    """One transaction per window: for projections standing at different checkpoints."""
    for window, decoded in read.windows(after):
        yield window, _commit(read.engine, read.chosen, decoded, window.first, window.last)


def _buffered(read: _Reading, after: int) -> _Windows:
    """The enterprise views' folds held in memory over several windows and written once per
    ``HELD_FOLDS`` enterprises (or at the end); for projections standing at the same checkpoint.

    Reading the log and folding happen outside the projection lock; the write takes it, checks that
    the enterprise views' checkpoints still stand where their folds were loaded (``_Behind``
    otherwise: another catch-up or a rebuild moved them, and the held work is dropped), and writes
    rows and checkpoints in one transaction, as a window's commit does. An enterprise whose events
    are spread over the log (a district's log is recorded over years) is then loaded, folded and
    written once per write, not once per window. The other views are committed window by window
    as before: what they keep per event (an entitlement's steps) is not worth holding.
    """
    engine, end = read.engine, read.end
    together, others = _split(read.chosen)
    if not together:
        yield from _per_window(read, after)
        return
    handles = together[0].handles
    base = after
    held: list[tuple[_Window, dict[str, int]]] = []
    folds = FoldBuffer(fold_table(together))
    for window, decoded in read.windows(after):
        mine = [e for e in decoded if e.event_type in handles]
        given = _commit(engine, others, decoded, window.first, window.last) if others else {}
        given.update((p.name, len(mine)) for p in together)
        if mine:
            with engine.connect() as conn:
                folds.apply(conn, mine)
        held.append((_Window(window.first, window.last, (), window.held), given))
        if len(folds) >= HELD_FOLDS or window.last >= end:
            _write_folds(engine, together, folds, base, window.last)
            yield from held
            held, folds, base = [], FoldBuffer(fold_table(together)), window.last
    if held:
        _write_folds(engine, together, folds, base, held[-1][0].last)
        yield from held


def _write_folds(
    engine: Engine, together: Sequence[EnterpriseProjection], folds: FoldBuffer, base: int, last: int
) -> None:
    """Write the held folds' rows and move the enterprise views' checkpoints from ``base`` to
    ``last``, in one transaction, if they all still stand at ``base``."""
    with _write(engine) as conn:
        current = tracked_positions(conn, (p.name for p in together))
        at = {current.get(p.name, 0) for p in together}
        if at != {base}:
            raise _Behind(min(at))
        folds.write(conn, together)
        for p in together:
            _set_checkpoint(conn, p.name, last, exists=p.name in current)


def rebuild(
    engine: Engine,
    as_of: date | None = None,
    progress: Progress | None = None,
    *,
    names: Iterable[str] | None = None,
    batch: int = DEFAULT_BATCH,
) -> RebuildResult:
    """Rebuild from the whole log; with ``as_of``, report a snapshot and leave live tables alone."""
    started = time.perf_counter()
    chosen = registry.moving_together(registry.select(names))
    if as_of is not None:
        with snapshot(
            engine, [p.name for p in chosen], Cutoff(as_of=as_of), batch=batch, progress=progress
        ) as s:
            return RebuildResult(s.events, time.perf_counter() - started, s.rows, as_of)
    store = SqlEventStore(engine)
    end = store.last_position()
    unkeyed = [t for p in chosen if isinstance(p, SubjectProjection) for t in p.tables]
    with _older_objects_frozen(), _private_tables(engine, chosen, unkeyed) as (conn, schema):
        _fill(conn, store, chosen, end, batch, progress, schema)
        _publish(conn, chosen, schema, end)
    held, _ = store.read_window(0, end, ())
    done = catch_up(engine, [p.name for p in chosen], batch=batch, progress=progress)
    with engine.connect() as conn:
        rows = {p.name: p.count_rows(conn) for p in chosen}
    return RebuildResult(held + done.events_read, time.perf_counter() - started, rows)


class _NotByStream(Exception):
    """An enterprise view's event lies outside its enterprise's stream: fold in log order instead."""


@contextmanager
def _private_tables(
    engine: Engine, chosen: Sequence[Projection], unkeyed: Sequence[sa.Table] = ()
) -> Iterator[tuple[Connection, str]]:
    """A connection on which the chosen views' tables are empty TEMPORARY copies (``snapshot``'s
    mechanism), and the name of their schema; the copies are discarded at the end, with the
    session where closing it loses nothing else. The ``unkeyed`` tables' copies are made without
    their primary key, which the filler gives them (``key_copy``) before anything looks rows up."""
    temps = [temp_copy(t, sa.MetaData(), keyed=t not in unkeyed) for p in chosen for t in p.tables]
    schema = "temp" if is_sqlite(engine) else "pg_temp"
    with engine.connect() as conn:
        if is_sqlite(engine):
            # The copies' rollback journal in memory: it holds only pages that existed before a
            # write, few when tables grow at their end; on a file it was half of what a rebuild
            # wrote to disk (0.55 of 1.1 GB at 2.15M events) and a quarter of its system time.
            conn.connection.driver_connection.execute("PRAGMA temp.journal_mode=MEMORY")  # type: ignore[union-attr]
        with conn.begin():
            for table in temps:
                table.create(conn)
        conn.execution_options(schema_translate_map={None: schema})
        try:
            yield conn, schema
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.execution_options(schema_translate_map=None)
            if _session_is_disposable(engine):
                conn.invalidate()  # the session's end discards its temporary tables at once
            else:
                with conn.begin():
                    for table in reversed(temps):
                        conn.exec_driver_sql(f'DROP TABLE IF EXISTS {schema}."{table.name}"')


def _session_is_disposable(engine: Engine) -> bool:
    """Whether closing a connection loses only its session (dropping a rebuild's filled copies
    one by one cost ~8% of it): not so for an in-memory SQLite database, which lives and dies
    with its one connection."""
    return not is_sqlite(engine) or sqlite_file(str(engine.url)) is not None


def _fill(
    conn: Connection,
    store: SqlEventStore,
    chosen: Sequence[Projection],
    end: int,
    batch: int,
    progress: Progress | None,
    schema: str,
) -> None:
    """Build the chosen views from the log up to ``end`` into ``conn``'s private copies.

    The enterprise views, the ledger and facilities are built stream by stream (`_fill_by_stream`):
    each enterprise is read, folded and written once, however its events are spread over the log,
    and each entitlement or facility with it. Any other view, and all of them on a log where that
    does not hold, in log order. The subject views' copies, made unkeyed, are keyed after the
    stream pass or before the log-order one.
    """
    together, others = _split(chosen)
    subjects = [p for p in others if isinstance(p, SubjectProjection)]
    others = [p for p in others if not isinstance(p, SubjectProjection)]
    if together or subjects:
        try:
            _fill_by_stream(conn, store, together, subjects, end, batch, progress)
            _key_subjects(conn, schema, subjects)
        except _NotByStream as reason:
            log.warning("views rebuilt in log order", reason=str(reason))
            with conn.begin():
                for p in (*together, *subjects):
                    p.reset(conn)
            _key_subjects(conn, schema, subjects)
            others = list(chosen)
    if others:
        _fill_by_position(conn, store, others, end, batch, progress)
    if progress is not None:
        progress(end, end)


def _fill_by_stream(
    conn: Connection,
    store: SqlEventStore,
    together: Sequence[EnterpriseProjection],
    subjects: Sequence[SubjectProjection],
    end: int,
    batch: int,
    progress: Progress | None,
) -> None:
    """The views from each stream read whole, written ``WRITE_CHUNK`` enterprises and subjects at a time.

    The enterprise views' rows depend only on each enterprise's own events in log order, which is
    its stream's order; a subject view's row (an entitlement, a facility) only on its subject's,
    all in the stream that created it. Raises ``_NotByStream`` when the log is not so (an
    enterprise's event in another stream, a subject's event outside the stream it was created in
    or before its creation, a subject created twice): the handlers never write that, but a log is
    not trusted to be what they write. Progress is reported as (events folded, events to fold):
    the log-order pass that may follow reports positions.
    """
    parts, new_batch = store.parts_decoder()
    folds = _Folds(together)
    chunk = [_Subjects(p) for p in subjects]
    held = {t: s for s in chunk for t in s.view.handles}
    last_stream = last_uscc = stream = ""
    types = sorted({t for p in (*together, *subjects) for t in p.handles})
    total = store.count_of_types(types, end) if progress is not None else 0
    done = 0
    for rows in store.read_by_stream(types, end, batch=batch):
        new_batch()
        done += len(rows)
        if progress is not None:
            progress(min(done, total), total)
        for row in rows:
            if row[2] != last_stream:  # what is held is whole: its streams are read
                if len(folds) + sum(len(s) for s in chunk) >= WRITE_CHUNK:
                    with conn.begin():
                        folds.write(conn)
                        for s in chunk:
                            s.write(conn)
                last_stream = row[2]
            event = parts(row)
            subject = held.get(event[0])
            if subject is not None:
                subject.take(row[2], event)
                continue
            kind, event_id, on, data = event
            uscc = str(data["uscc"])
            if uscc != last_uscc:
                stream, last_uscc = enterprise_stream(uscc), uscc
            if row[2] != stream:
                raise _NotByStream(f"event {event_id} of {uscc} is in stream {row[2]}")
            folds.take(uscc, kind, event_id, on, data)
    with conn.begin():
        folds.write(conn)
        for s in chunk:
            s.write(conn)


def _key_subjects(conn: Connection, schema: str, subjects: Sequence[SubjectProjection]) -> None:
    """Key the subject views' copies (``key_copy``); a key two rows share means a subject created
    in two streams, or twice: ``_NotByStream``."""
    try:
        with conn.begin():
            for p in subjects:
                for table in p.tables:
                    key_copy(conn, schema, table)
    except sa.exc.IntegrityError as error:
        raise _NotByStream("a subject is created in two streams, or twice") from error


class _Folds:
    """The enterprise views' folds of one chunk of streams (none when no such view is built)."""

    def __init__(self, together: Sequence[EnterpriseProjection]) -> None:
        self.together = together
        self.buffer = FoldBuffer(fold_table(together)) if together else None

    def take(self, uscc: str, kind: str, event_id: str, on: date, data: dict[str, Any]) -> None:
        if self.buffer is None:
            raise RuntimeError("an enterprise view's event, but no enterprise view is built")
        self.buffer.take(uscc, kind, event_id, on, data)

    def write(self, conn: Connection) -> None:
        if self.buffer is not None:
            self.buffer.write(conn, self.together)
            self.buffer = FoldBuffer(fold_table(self.together))

    def __len__(self) -> int:
        return 0 if self.buffer is None else len(self.buffer)


class _Subjects:
    """One subject view's subjects in a chunk of streams, each with its events in stream order.

    Checked to be whole: every subject created in the chunk once, each later event of it in the
    stream that created it; a subject created in an earlier chunk too is refused when the copy is
    keyed (``_key_subjects``). Otherwise ``_NotByStream``.
    """

    def __init__(self, view: SubjectProjection) -> None:
        self.view = view
        self.groups: dict[str, tuple[str, list[EventParts]]] = {}

    def take(self, stream: str, event: EventParts) -> None:
        kind, event_id, _on, data = event
        key = str(data[self.view.subject_key])
        group = self.groups.get(key)
        if kind == self.view.creation:
            if group is not None:
                raise _NotByStream(f"{self.view.name}: {key} is created twice (event {event_id})")
            self.groups[key] = (stream, [event])
        elif group is None or group[0] != stream:
            raise _NotByStream(
                f"{self.view.name}: event {event_id} of {key} is not in the stream it was created in"
            )
        else:
            group[1].append(event)

    def __len__(self) -> int:
        return len(self.groups)

    def write(self, conn: Connection) -> None:
        """Insert the chunk's rows (in key order) in the caller's transaction, and forget them."""
        if not self.groups:
            return
        day, row = date_param(conn), self.view.row
        rows = [row(taken, day) for _key, (_stream, taken) in sorted(self.groups.items())]
        self.groups.clear()
        insert_rows(conn, self.view.tables[0], rows)


def _fill_by_position(
    conn: Connection,
    store: SqlEventStore,
    chosen: Sequence[Projection],
    end: int,
    batch: int,
    progress: Progress | None,
) -> None:
    """The chosen views from the log in position order, window by window (folds held over windows)."""
    wanted = tuple(sorted({t for p in chosen for t in p.handles}))
    aside = _Aside(chosen)
    decode, new_batch = store.decoder()
    for window in _windows(store, 0, end, batch, wanted):
        new_batch()
        aside.add(conn, [decode(r) for r in window.rows])
        if progress is not None:
            progress(window.last, end)
    with conn.begin():
        aside.finish(conn)


def _publish(conn: Connection, chosen: Sequence[Projection], schema: str, end: int) -> None:
    """Make the live views what the private copies hold and set their checkpoints to ``end``, in
    ONE write transaction: readers see the old views until it commits, then the new ones whole.

    A live table that is empty is filled by one copy, its secondary indexes dropped for it and
    created after it where the session owns the table. Otherwise only the difference is written
    (`_write_difference`). A rebuild of views that were right (the usual case: after an upgrade,
    or to check them) then writes nothing and holds the write lock only to compare. A catch-up
    that moved a live view past ``end`` meanwhile is undone, and the catch-up that follows a
    rebuild applies those events again.
    """
    conn.execution_options(schema_translate_map=None)
    live = "main" if is_sqlite(conn.engine) else str(conn.exec_driver_sql("SELECT current_schema()").scalar())
    if conn.in_transaction():
        conn.commit()
    # The copies bear the live tables' names and come first in name lookup: name the live schema.
    conn.execution_options(schema_translate_map={None: live}, **WRITE)
    with conn.begin():
        if not is_sqlite(conn.engine):
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PROJECTION_LOCK_KEY})
        empty = [p for p in chosen if all(_is_empty(conn, live, t) for t in p.tables)]
        dropped = _drop_secondary_indexes(conn, empty)
        for p in chosen:
            for table in p.tables:
                target, source = f'"{live}"."{table.name}"', f'{schema}."{table.name}"'
                if p in empty:
                    _copy_whole(conn, table, target, source, live)
                    continue
                _write_difference(conn, table, target, source)
        for index in dropped:
            index.create(conn)
        for p in chosen:
            rewind_position(conn, p.name, end)
    conn.execution_options(srdi_write=False)


def _copy_whole(conn: Connection, table: sa.Table, target: str, source: str, live: str) -> None:
    """Fill the empty ``target`` with every row of ``source`` (a copy of ``table``'s shape).

    On SQLite, where the live table's columns stand in the copy's order, as ``SELECT *``: SQLite
    then moves each record whole instead of taking it apart column by column and building it
    again (its transfer optimisation: two thirds of the time for `targets_periods` and
    `status_titles` at 2.15M events). A live table whose columns a migration laid out in another
    order is filled column by column.
    """
    names = [c.name for c in table.columns]
    if is_sqlite(conn.engine):
        laid_out = [row[1] for row in conn.exec_driver_sql(f'PRAGMA "{live}".table_info("{table.name}")')]
        if laid_out == names:
            conn.exec_driver_sql(f"INSERT INTO {target} SELECT * FROM {source}")
            return
    columns = ", ".join(f'"{name}"' for name in names)
    conn.exec_driver_sql(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}")


def _write_difference(conn: Connection, table: sa.Table, target: str, source: str) -> None:
    """Make ``target`` hold what ``source`` holds (two tables of ``table``'s shape), writing only
    the difference: the target rows the source does not hold equal in every column (NULL-safe)
    are deleted, then the source rows whose key the target lacks are inserted.

    Both statements look rows up by primary key; an ``EXCEPT`` of whole rows each way, which
    sorts both tables, cost four times as much on the demo log. After the delete every target row
    has its equal in the source (each key once on either side), so the source holds nothing more
    if it holds as many rows: then the insert, a key lookup per row, is not run. The rows are
    counted only when nothing was deleted (a deleted row's right version is still to insert).
    """
    equal = "IS" if is_sqlite(conn.engine) else "IS NOT DISTINCT FROM"
    keys = {c.name for c in table.primary_key.columns}
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    same = " AND ".join(
        f's."{c.name}" {"=" if c.name in keys else equal} t."{c.name}"' for c in table.columns
    )
    same_key = " AND ".join(f's."{k}" = t."{k}"' for k in keys)
    deleted = conn.exec_driver_sql(
        f"DELETE FROM {target} AS t WHERE NOT EXISTS (SELECT 1 FROM {source} AS s WHERE {same})"
    ).rowcount
    if deleted == 0 and _count(conn, source) == _count(conn, target):
        return
    conn.exec_driver_sql(
        f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {same_key})"
    )


def _count(conn: Connection, table: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def _is_empty(conn: Connection, schema: str, table: sa.Table) -> bool:
    return conn.exec_driver_sql(f'SELECT 1 FROM "{schema}"."{table.name}" LIMIT 1').first() is None


def _drop_secondary_indexes(conn: Connection, chosen: Sequence[Projection]) -> list[sa.Index]:
    """Drop the views' non-unique indexes in the caller's transaction, which creates them again.

    Filling empty tables and then indexing them costs less than keeping their indexes up to date
    row by row (on PostgreSQL a rebuild of the demo log took ~17% less time; on SQLite it came out
    even: docs/benchmarks.md). ``_publish`` drops and creates them in its one transaction, so no
    reader ever sees a view without them. A session that may write the views but does not own
    their tables (a PostgreSQL role with grants only) cannot drop them: they are kept.
    """
    indexes = [i for p in chosen for t in p.tables for i in t.indexes if not i.unique]
    savepoint = conn.begin_nested()
    try:
        for index in indexes:
            index.drop(conn, checkfirst=True)
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        log.info("views' indexes kept for the rebuild", reason=str(error.orig).splitlines()[0])
        return []
    savepoint.commit()
    return indexes


@contextmanager
def snapshot(
    engine: Engine,
    names: Iterable[str] | None = None,
    cutoff: Cutoff = Cutoff(),
    *,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> Iterator[Snapshot]:
    """The chosen projections rebuilt into TEMPORARY tables from the events ``cutoff`` admits (with
    the status view when the targets view is chosen: its folds are kept there)."""
    chosen = registry.with_fold_keeper(registry.select(names))
    store = SqlEventStore(engine)
    end = store.last_position()
    wanted = frozenset(t for p in chosen for t in p.handles)
    # The copies are named explicitly rather than found by temp-first lookup: a statement prepared
    # on this pooled connection before (psycopg prepares repeated ones) is bound to the live table.
    with _private_tables(engine, chosen) as (conn, _schema):
        admitted = 0
        aside = _Aside(chosen)
        for rows in _batches(store, 0, end, batch):
            kept = [r for r in rows if cutoff.admits_row(r)]
            admitted += len(kept)
            aside.add(conn, [_decode(r) for r in kept if r[4] in wanted])
            if progress is not None:
                progress(int(rows[-1][0]), end)
        with conn.begin():
            aside.finish(conn)
            counts = {p.name: p.count_rows(conn) for p in chosen}
        yield Snapshot(conn, admitted, counts)


class _Aside:
    """Views being built in private copies on one connection, batch by batch in log order: the
    other views applied as their events come, the enterprise folds held over batches (written once
    per ``HELD_FOLDS`` enterprises, as a catch-up holds them)."""

    def __init__(self, chosen: Sequence[Projection]) -> None:
        self.together, self.others = _split(chosen)
        self.folds = FoldBuffer(fold_table(self.together)) if self.together else None

    def add(self, conn: Connection, decoded: Sequence[RecordedEvent]) -> None:
        with conn.begin():
            _dispatch(conn, self.others, decoded)
            if self.folds is not None:
                handles = self.together[0].handles
                self.folds.apply(conn, [e for e in decoded if e.event_type in handles])
                if len(self.folds) >= HELD_FOLDS:
                    self.finish(conn)

    def finish(self, conn: Connection) -> None:
        """Write the held folds (in the caller's transaction)."""
        if self.folds is not None:
            self.folds.write(conn, self.together)
            self.folds = FoldBuffer(fold_table(self.together))


@contextmanager
def view(engine: Engine, names: Iterable[str], cutoff: Cutoff = Cutoff()) -> Iterator[Connection]:
    """A connection to read ``names`` from: caught-up live tables, or a snapshot for a cutoff.

    A session that may not write the views (a read-only role: the auditor, a district's roles) reads
    a private catch-up instead (`private_view`): the same answer, nothing written.
    """
    chosen = list(names)
    if cutoff.unbounded:
        if not may_write_views(engine, chosen):
            with private_view(engine, chosen) as conn:
                yield conn
            return
        catch_up(engine, chosen)
        with engine.connect() as conn:
            yield conn
        return
    with snapshot(engine, chosen, cutoff) as snap:
        yield snap.conn


def may_write_views(engine: Engine, names: Iterable[str] | None = None) -> bool:
    """Whether this session may write the views' rows and checkpoints (PostgreSQL grants).

    SQLite has no grants: whoever opens the file may write it.
    """
    if is_sqlite(engine):
        return True
    chosen = registry.moving_together(registry.select(names))
    tables = ["tracking", *(t.name for p in chosen for t in p.tables)]
    with engine.connect() as conn:
        allowed = conn.execute(
            sa.text(
                "SELECT bool_and(has_table_privilege(quote_ident(t), p)) "
                "FROM unnest(CAST(:tables AS text[])) t, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE']) p"
            ),
            {"tables": tables},
        ).scalar()
    return bool(allowed)


@contextmanager
def private_view(engine: Engine, names: Iterable[str], *, batch: int = DEFAULT_BATCH) -> Iterator[Connection]:
    """The named views caught up to the log's end for this session only (`private_view_at`)."""
    with private_view_at(engine, names, batch=batch) as (conn, _end):
        yield conn


@contextmanager
def private_view_at(
    engine: Engine, names: Iterable[str], *, batch: int = DEFAULT_BATCH
) -> Iterator[tuple[Connection, int]]:
    """The named views caught up to the log's end for this session only, and that end: nothing is written.

    In one snapshot (REPEATABLE READ on PostgreSQL, one transaction on SQLite) the checkpoints are
    read and, when the log has events after them, the views' stored rows are copied into TEMPORARY
    tables of the same names; the events after each checkpoint are then folded into the copies by
    the projections' own ``apply``, exactly as a catch-up would fold them into the live tables, so
    the answer is the one a writer would read. With nothing to fold, the live tables are read
    directly (no copy). The cost is one copy of the chosen views per read while they lag the log,
    which a writer's read, ``srdi replay`` or the scheduler's scan ends. Row-level security applies
    to the copy and the tail alike: a district's role folds its district's rows and events only.
    """
    chosen = registry.moving_together(registry.select(names))
    schema = "temp" if is_sqlite(engine) else "pg_temp"
    temps: list[sa.Table] = []
    with engine.connect() as conn:
        if not is_sqlite(engine):
            conn.execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
        try:
            known = tracked_positions(conn, (p.name for p in chosen))
            end = _log_end(conn)
            for p in chosen:
                if known.get(p.name, 0) > end:
                    raise CheckpointAhead(p.name, known[p.name], end)
            fresh: list[Projection] = []
            if _apart(chosen, known):  # folded afresh, privately, from the log's start
                fresh = list(_split(chosen)[0])
                known = {**known, **dict.fromkeys((p.name for p in fresh), 0)}
            if min(known.get(p.name, 0) for p in chosen) < end:
                temps = _copy_views(conn, chosen, schema, fresh)
                conn.commit()
                conn.execution_options(schema_translate_map={None: schema})
                _fold_tail(SqlEventStore(engine), conn, chosen, known, end, batch)
            yield conn, end
        finally:
            if conn.in_transaction():
                conn.rollback()
            if temps:
                with conn.begin():
                    for table in reversed(temps):
                        conn.exec_driver_sql(f'DROP TABLE IF EXISTS {schema}."{table.name}"')


def _copy_views(
    conn: Connection, chosen: Sequence[Projection], schema: str, fresh: Sequence[Projection] = ()
) -> list[sa.Table]:
    """TEMPORARY copies of the chosen views' tables, holding the stored rows this session may read
    (none of the ``fresh`` views)."""
    live = (
        "main"
        if conn.dialect.name == "sqlite"
        else str(conn.exec_driver_sql("SELECT current_schema()").scalar())
    )
    empty = {t.name for p in fresh for t in p.tables}
    temps = [temp_copy(t, sa.MetaData()) for p in chosen for t in p.tables]
    for table in temps:
        table.create(conn)
        if table.name in empty:
            continue
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        source = f'"{live}"."{table.name}"'
        conn.exec_driver_sql(
            f'INSERT INTO {schema}."{table.name}" ({columns}) SELECT {columns} FROM {source}'
        )
    return temps


def _fold_tail(
    store: SqlEventStore,
    conn: Connection,
    chosen: Sequence[Projection],
    known: dict[str, int],
    end: int,
    batch: int,
) -> None:
    """Give each projection the events after its own checkpoint, up to ``end``, on ``conn``'s copies."""
    groups: dict[int, list[Projection]] = {}
    for p in chosen:
        groups.setdefault(known.get(p.name, 0), []).append(p)
    wanted = frozenset(t for p in chosen for t in p.handles)
    for rows in store.read_rows(min(groups), batch=batch, until_position=end):
        decoded = [_decode(r) for r in rows if r[4] in wanted]
        with conn.begin():
            for at, members in groups.items():
                _dispatch(conn, members, [e for e in decoded if e.position > at])


def _log_end(conn: Connection) -> int:
    """The last position of the whole log, even where row-level security hides some events from this
    session (PostgreSQL: ``srdi_log_end()``, migration 0013, which reveals the number only)."""
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("SELECT coalesce(max(position), 0) FROM events").scalar() or 0)
    return int(conn.exec_driver_sql("SELECT srdi_log_end()").scalar() or 0)


# ── internals ────────────────────────────────────────────────────────────────────────────────


# While a catch-up runs, the collector's youngest generation is collected every this many allocations
# instead of every 700: a rebuild holds tens of thousands of folds, and each collection of the older
# generations walked them again (~15% of a rebuild's CPU, docs/benchmarks.md).
EASED_THRESHOLD = 50_000
_collector_lock = threading.Lock()
_collector_users = 0
_collector_threshold: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Keep the cyclic collector off what was alive before a catch-up, and collect less often.

    A catch-up allocates hundreds of thousands of short-lived objects (rows, events, folds), which
    triggers full collections, and each one walks every object in the process: the modules
    (SQLAlchemy, pydantic...), caches, a caller's data. None of those become garbage because of
    the catch-up, and walking them was ~15% of a 100k-event rebuild (bench/). ``gc.freeze`` moves
    them out of the collector's view for the catch-up; ``gc.unfreeze`` gives them back after.
    Garbage made by the catch-up itself is collected as usual, less often (``EASED_THRESHOLD``).
    A process that froze objects itself (the ``srdi`` script, once its database is open:
    `cli_commands.startup`) is left frozen: unfreezing at the end would undo its freeze too. The
    threshold is the process's: the first of concurrent catch-ups raises it, the last restores it.
    """
    global _collector_users, _collector_threshold
    with _collector_lock:
        if _collector_users == 0:
            _collector_threshold = gc.get_threshold()
            first, *older = _collector_threshold
            gc.set_threshold(max(first, EASED_THRESHOLD), *older)
        _collector_users += 1
    froze = not gc.get_freeze_count()
    if froze:
        gc.freeze()
    try:
        yield
    finally:
        if froze:
            gc.unfreeze()
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0:
                gc.set_threshold(*_collector_threshold)


def _decode(row: Any) -> RecordedEvent:
    return SqlEventStore._decode(row)


def _batches(
    store: SqlEventStore, after: int, end: int, batch: int, *, raw: bool = False
) -> Iterator[Sequence[Any]]:
    """Contiguous runs of rows after ``after`` up to ``end``, waiting briefly at a hole.

    Rows are typed like ``read_rows`` gives them, or the driver's own with ``raw`` (for
    ``SqlEventStore.decoder``).
    """
    last, waits = after, 0
    while last < end:
        rows = _first_batch(store, last, end, batch, raw)
        good = _contiguous(rows, last + 1)
        if good == 0:
            if not rows:
                return
            if waits < GAP_WAITS:
                time.sleep(0.01 * 2**waits)
                waits += 1
                continue
            log.warning("hole in the log treated as permanent", missing_from=last + 1, next=rows[0][0])
            good = len(rows)
        waits = 0
        yield rows[:good]
        last = int(rows[good - 1][0])


@dataclass(frozen=True, slots=True)
class _Window:
    """Positions ``first..last`` of the log, the rows of the wanted types among them, and which
    positions the log holds there (all of them, unless a hole was given up on)."""

    first: int
    last: int
    rows: Sequence[Any]
    held: range | Sequence[int]

    def held_after(self, position: int) -> int:
        """How many of the held positions lie after ``position`` (what a re-read counts anew)."""
        if isinstance(self.held, range):
            return len(range(max(self.held.start, position + 1), self.held.stop))
        return sum(1 for p in self.held if p > position)


def _windows(
    store: SqlEventStore, after: int, end: int, batch: int, wanted: Sequence[str]
) -> Iterator[_Window]:
    """Consecutive windows of ``batch`` positions after ``after`` up to ``end``, with the raw rows
    of the ``wanted`` types only.

    A window the log holds whole (its count of events equals its width) is read with the type
    filter in SQL: the other events never leave the database. A window with a hole in it (a late
    commit, or a deleted row) is read whole as ``_batches`` reads it, up to the hole, waiting for
    it briefly, and filtered here.
    """
    types = frozenset(wanted)
    last = after
    while last < end:
        top = min(last + batch, end)
        held, rows = store.read_window(last, top, wanted)
        if held == top - last:
            yield _Window(last + 1, top, rows, range(last + 1, top + 1))
            last = top
            continue
        run = next(_batches(store, last, end, batch, raw=True), None)
        if run is None:
            return
        first, last = int(run[0][0]), int(run[-1][0])
        yield _Window(first, last, [r for r in run if r[4] in types], [int(r[0]) for r in run])


def _first_batch(store: SqlEventStore, after: int, end: int, batch: int, raw: bool) -> Sequence[Any]:
    """One batch after ``after``, closing the reader (and its connection) at once."""
    read = store.read_raw_rows if raw else store.read_rows
    reader = read(after, batch=batch, until_position=end)
    try:
        return next(reader, [])
    finally:
        close = getattr(reader, "close", None)
        if close is not None:
            close()


def _contiguous(rows: Sequence[Any], expected: int) -> int:
    """How many leading rows carry positions ``expected, expected + 1, …``."""
    n = 0
    for row in rows:
        if row[0] != expected + n:
            break
        n += 1
    return n


def _split(chosen: Sequence[Projection]) -> tuple[list[EnterpriseProjection], list[Projection]]:
    """The enterprise views (folded together: they must handle the same events) and the others."""
    together = [p for p in chosen if isinstance(p, EnterpriseProjection)]
    for p in together[1:]:
        if p.handles != together[0].handles:
            raise RuntimeError(f"enterprise projection {p.name} handles other events than {together[0].name}")
    return together, [p for p in chosen if not isinstance(p, EnterpriseProjection)]


def _dispatch(
    conn: Connection, chosen: Sequence[Projection], decoded: Sequence[RecordedEvent]
) -> dict[str, int]:
    """Give each projection the events it handles; returns how many each got.

    The enterprise projections (status, calendar, targets) handle the same events and fold the
    same enterprises: they are applied together, so each enterprise is folded once per batch.
    """
    together, others = _split(chosen)
    given: dict[str, int] = {}
    for p in others:
        theirs = [e for e in decoded if e.event_type in p.handles]
        given[p.name] = len(theirs)
        if theirs:
            p.apply(conn, theirs)
    if together:
        shared = [e for e in decoded if e.event_type in together[0].handles]
        given.update((p.name, len(shared)) for p in together)
        apply_enterprises(conn, together, shared)
    return {p.name: given[p.name] for p in chosen}


def _commit(
    engine: Engine, chosen: Sequence[Projection], decoded: Sequence[RecordedEvent], first: int, last: int
) -> dict[str, int]:
    """One batch, one transaction: rows and checkpoints together, under the projection lock.

    Projections standing at the same checkpoint are dispatched together. One whose checkpoint is
    behind the batch (a rebuild elsewhere reset it meanwhile) is left alone: ``_Behind`` makes the
    caller read again from where it stands, so no event is ever skipped.
    """
    given: dict[str, int] = {}
    with _write(engine) as conn:
        current = tracked_positions(conn, (p.name for p in chosen))
        groups: dict[int, list[Projection]] = {}
        for p in chosen:
            at = current.get(p.name, 0)
            if at >= last:
                continue  # another catch-up got here first
            if at < first - 1:
                raise _Behind(at)
            groups.setdefault(at, []).append(p)
        for at, members in groups.items():
            mine = [e for e in decoded if e.position > at]
            given.update(_dispatch(conn, members, mine))
            for p in members:
                _set_checkpoint(conn, p.name, last, exists=p.name in current)
    return given


class _Behind(Exception):
    """A projection's checkpoint is behind the batch being committed (read again from ``at``)."""

    def __init__(self, at: int) -> None:
        super().__init__(at)
        self.at = at


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    """A write transaction holding the projection lock (BEGIN IMMEDIATE on SQLite)."""
    with engine.connect() as conn:
        conn = conn.execution_options(**WRITE)
        with conn.begin():
            if not is_sqlite(engine):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PROJECTION_LOCK_KEY})
            yield conn


def _set_checkpoint(conn: Connection, name: str, position: int, *, exists: bool | None = None) -> None:
    """Move the projection's tracking record forward (``TrackingConflict`` if it would go back)."""
    record_position(conn, name, position)
