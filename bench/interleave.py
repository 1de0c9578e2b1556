"""The demo log in the order a district records it: every enterprise's history spread over the years.

``srdi demo`` plans each enterprise's whole 2019-2026 history at once and copies 500 enterprises at
a time with one ``append_batch``, so in its log each enterprise's events sit together (a span of
~14 positions between an enterprise's first and last event). A district's log is recorded as things
happen, across all its enterprises at once. This writes a second SQLite database holding the SAME
events (event ids, streams, stream versions, types, schema versions, payloads, business dates,
actors, causation and correlation ids) in that order:

* each event's key is the running maximum of ``occurred_on`` over its stream up to that event (a
  stream's own order is never broken, even where a later event carries an earlier date);
* events are sorted stably by (key, original position).

The source is read in two passes: first ``(position, stream_id, occurred_on)`` for every event
(kept as one int per event: key and position packed), then the full rows in key order, ``chunk``
positions at a time. Each chunk is decoded by the store's own decoder, turned back into typed events
(``RecordedEvent.to_model``) and appended through ``SqlEventStore.append_batch``, the bulk path
``srdi demo`` copies its chunks with, as one transaction of ``StreamAppend``s (one per run of
consecutive events of a stream), each with the expected version the source gives it, so a stream
out of order would be refused by the store. The new database is made with the project's schema
(``events.migrate.ensure_schema``); positions and the hash chain are the store's own, new.

**Recorded-at times are NOT kept**: the bulk path stamps every event of an append with the time of
that append (``SqlEventStore._append_prepared``), so each chunk of the new log carries the moment it
was copied. Nothing reads ``recorded_at`` on a rebuild except as-recorded snapshots.

``check`` compares the two databases (every event present once with the same columns but position,
recorded time and hash; each stream's versions in increasing positions; keys non-decreasing along
the new log). ``srdi --db sqlite:///NEW audit verify`` checks the new chain.

    python -m bench.interleave SOURCE.db TARGET.db [--chunk 5000] [--check]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import events  # noqa: F401  (registers the event types)
from bench.data import remove_sqlite_files
from events.db import make_engine
from events.envelope import NewEvent, StreamAppend
from events.migrate import ensure_schema
from events.sql_store import SqlEventStore

CHUNK = 5000
_SHIFT = 32  # a packed order key: (business day ordinal << 32) | original position
_COLUMNS = (
    "position, event_id, stream_id, stream_version, event_type, schema_version, occurred_on,"
    " recorded_at, actor, causation_id, correlation_id, payload, hash"
)  # the store's column order (what its decoder reads)


@dataclass(frozen=True)
class Interleaved:
    events: int
    streams: int
    chunks: int
    seconds: float
    read_seconds: float
    append_seconds: float


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def order(source: sqlite3.Connection) -> tuple[list[int], int]:
    """Source positions in the interleaved order, and how many streams there are."""
    running: dict[str, int] = {}  # stream -> running max of its business days (ordinal)
    days: dict[str, int] = {}
    keys: list[int] = []
    cursor = source.execute("SELECT position, stream_id, occurred_on FROM events ORDER BY position")
    while rows := cursor.fetchmany(50_000):
        for position, stream_id, day in rows:
            ordinal = days.get(day)
            if ordinal is None:
                ordinal = days[day] = date.fromisoformat(day).toordinal()
            key = running.get(stream_id, 0)
            if ordinal > key:
                key = running[stream_id] = ordinal
            keys.append((key << _SHIFT) | position)
    keys.sort()  # (key, position): stable by the original position
    mask = (1 << _SHIFT) - 1
    return [k & mask for k in keys], len(running)


def _chunks(source: sqlite3.Connection, positions: list[int], chunk: int) -> Iterator[list[tuple[Any, ...]]]:
    """The source's rows in the order of ``positions``, ``chunk`` at a time."""
    for start in range(0, len(positions), chunk):
        wanted = positions[start : start + chunk]
        by_position: dict[int, tuple[Any, ...]] = {}
        for part in range(0, len(wanted), 500):
            some = wanted[part : part + 500]
            marks = ",".join("?" * len(some))
            for row in source.execute(f"SELECT {_COLUMNS} FROM events WHERE position IN ({marks})", some):
                by_position[row[0]] = row
        yield [by_position[p] for p in wanted]


def interleave(
    source_path: str | Path,
    target_path: str | Path,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> Interleaved:
    """Write ``target_path`` (replaced) with ``source_path``'s events in recording order."""
    started = time.perf_counter()
    source = _open_read_only(Path(source_path))
    positions, streams = order(source)
    remove_sqlite_files(target_path)
    engine = make_engine(f"sqlite:///{target_path}")
    ensure_schema(engine)
    store = SqlEventStore(engine)
    decode, new_batch = store.decoder()
    appending = 0.0
    chunks = 0
    for rows in _chunks(source, positions, chunk):
        new_batch()
        appends: list[StreamAppend] = []
        run: list[NewEvent] = []
        run_stream, run_first = "", 0
        for row in rows:
            recorded = decode(row)
            if recorded.stream_id != run_stream:
                if run:
                    appends.append(StreamAppend(run_stream, tuple(run), run_first - 1))
                run, run_stream, run_first = [], recorded.stream_id, recorded.stream_version
            run.append(
                NewEvent(
                    recorded.to_model(),
                    recorded.occurred_on,
                    recorded.actor,
                    recorded.event_id,
                    recorded.causation_id,
                    recorded.correlation_id,
                )
            )
        if run:
            appends.append(StreamAppend(run_stream, tuple(run), run_first - 1))
        t0 = time.perf_counter()
        store.append_batch(appends)
        appending += time.perf_counter() - t0
        chunks += 1
        if progress is not None:
            progress(min(chunks * chunk, len(positions)), len(positions))
    source.close()
    engine.dispose()
    seconds = time.perf_counter() - started
    return Interleaved(len(positions), streams, chunks, seconds, seconds - appending, appending)


@dataclass(frozen=True)
class Check:
    source_events: int
    target_events: int
    unmatched: int  # events of the source with no identical event (but position/recorded/hash) in target
    streams_out_of_order: int  # consecutive versions of a stream at decreasing positions in target
    keys_decreasing: int  # places where the target's key (running max date of the stream) goes down
    mean_span_source: float  # mean (last - first position) per enterprise stream
    mean_span_target: float

    @property
    def ok(self) -> bool:
        return (
            self.source_events == self.target_events
            and self.unmatched == 0
            and self.streams_out_of_order == 0
            and self.keys_decreasing == 0
        )


def _span(conn: sqlite3.Connection, schema: str) -> float:
    value = conn.execute(
        f"SELECT AVG(span) FROM (SELECT MAX(position) - MIN(position) AS span FROM {schema}.events"
        " WHERE stream_id LIKE 'enterprise-%' GROUP BY stream_id)"
    ).fetchone()[0]
    return float(value or 0.0)


def check(source_path: str | Path, target_path: str | Path) -> Check:
    """Compare the interleaved log with its source (see the module's docstring)."""
    conn = _open_read_only(Path(target_path))
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{source_path}?mode=ro",))
    source_events = conn.execute("SELECT COUNT(*) FROM src.events").fetchone()[0]
    target_events = conn.execute("SELECT COUNT(*) FROM main.events").fetchone()[0]
    matched = conn.execute(
        "SELECT COUNT(*) FROM src.events s JOIN main.events t ON t.event_id = s.event_id"
        " WHERE t.stream_id = s.stream_id AND t.stream_version = s.stream_version"
        " AND t.event_type = s.event_type AND t.schema_version = s.schema_version"
        " AND t.occurred_on = s.occurred_on AND t.actor = s.actor AND t.payload = s.payload"
        " AND t.causation_id IS s.causation_id AND t.correlation_id IS s.correlation_id"
    ).fetchone()[0]
    out_of_order = conn.execute(
        "SELECT COUNT(*) FROM main.events a JOIN main.events b"
        " ON b.stream_id = a.stream_id AND b.stream_version = a.stream_version + 1"
        " WHERE b.position < a.position"
    ).fetchone()[0]
    running: dict[str, str] = {}
    last, decreasing = "", 0
    cursor = conn.execute("SELECT stream_id, occurred_on FROM main.events ORDER BY position")
    while rows := cursor.fetchmany(50_000):
        for stream_id, day in rows:
            key = max(running.get(stream_id, ""), day)
            running[stream_id] = key
            if key < last:
                decreasing += 1
            last = key
    spans = (_span(conn, "src"), _span(conn, "main"))
    conn.close()
    return Check(source_events, target_events, source_events - matched, out_of_order, decreasing, *spans)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.interleave", description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="events per append_batch transaction")
    parser.add_argument("--check", action="store_true", help="compare the two logs afterwards")
    args = parser.parse_args()
    done = interleave(args.source, args.target, chunk=args.chunk)
    document = {"interleaved": asdict(done)}
    if args.check:
        checked = check(args.source, args.target)
        document["check"] = asdict(checked) | {"ok": checked.ok}
    print(json.dumps(document))
