"""Full replay: srdi against a raw ``sqlite3`` scan (the practical limit) and eventsourcing.

All cases read the same number of events of the same shapes on the same disk, alternating, and
each keeps its best of the rounds. The srdi cases:

* ``read_all``: ``SqlEventStore.read_all`` decoding every row into a ``RecordedEvent`` (upcast JSON);
* ``read_all + to_model``: the same plus ``RecordedEvent.to_model()`` (typed pydantic validation),
  the least any projection does per event;
* ``projections.feed.rebuild``: every projection rebuilt, once ``projections/feed.py`` exists.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from bench import data, es_compare
from bench.util import Result, interleaved_best, log, throughput_vs
from events.sql_store import SqlEventStore

RAW_SQL = (
    "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, occurred_on,"
    " recorded_at, actor, causation_id, correlation_id, payload, hash FROM events ORDER BY position"
)


def rebuild_function() -> Callable[[Engine], Any] | None:
    """``projections.feed.rebuild`` if the projections package provides it yet."""
    try:
        from projections.feed import rebuild  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return rebuild


# json.loads minus its per-call checks: the C scanner srdi's read path uses too.
_scan_json = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def raw_scan(path: str) -> int:
    """The practical limit as the issue words it: one ``sqlite3`` cursor, ``json.loads`` per row."""
    conn = sqlite3.connect(path)
    n = 0
    loads = json.loads
    for row in conn.execute(RAW_SQL):
        loads(row[11])
        n += 1
    conn.close()
    return n


def raw_scan_c(path: str) -> int:
    """A stricter limit: the same scan decoding with the bare C scanner (no json.loads overhead)."""
    conn = sqlite3.connect(path)
    n = 0
    scan = _scan_json
    for row in conn.execute(RAW_SQL):
        scan(row[11], 0)
        n += 1
    conn.close()
    return n


def srdi_read_all(store: SqlEventStore) -> int:
    n = 0
    for _ in store.read_all():
        n += 1
    return n


def srdi_read_all_models(store: SqlEventStore) -> int:
    n = 0
    for recorded in store.read_all():
        recorded.to_model()
        n += 1
    return n


def run(events: int, rounds: int) -> list[Result]:
    log(f"replay: writing {events} events through the bulk path (srdi) and eventsourcing")
    engine = data.new_sqlite_engine("replay")
    data.populate(engine, events)
    path = data.sqlite_path(str(engine.url))
    store = SqlEventStore(engine)
    es_path = str(data.workdir() / "replay-eventsourcing.db")
    data.remove_sqlite_files(es_path)
    es_compare.populate(es_path, events)
    es_app = es_compare.open_app(es_path)

    counts = {
        "raw": raw_scan(path),
        "read_all": srdi_read_all(store),
        "eventsourcing": es_compare.replay(es_app),
    }
    if len(set(counts.values())) != 1 or counts["raw"] != events:
        raise RuntimeError(f"replay cases disagree on the number of events: {counts}")

    cases: dict[str, Callable[[], Callable[[], Any]]] = {
        "raw": lambda: lambda: raw_scan(path),
        "raw, C scanner": lambda: lambda: raw_scan_c(path),
        "read_all": lambda: lambda: srdi_read_all(store),
        "read_all + to_model": lambda: lambda: srdi_read_all_models(store),
        "eventsourcing": lambda: lambda: es_compare.replay(es_app),
    }
    rebuild = rebuild_function()
    if rebuild is not None:
        cases["projections.rebuild"] = lambda: lambda: rebuild(engine)
    log(f"replay: {rounds} alternating rounds of {', '.join(cases)} over {events} events")
    best = interleaved_best(cases, rounds)
    # Everything here runs in this process from the page cache: rates per CPU-second of this
    # process are what other tenants of the machine disturb least. Wall-clock rates in the notes.
    rate = {name: events / t.cpu for name, t in best.items()}
    wall = {name: events / t.wall for name, t in best.items()}
    es_app.close()
    engine.dispose()

    out: list[Result] = []
    section = f"Replay, SQLite ({events:,} events; events per CPU-second)"
    srdi_cases = ["read_all", "read_all + to_model"] + (["projections.rebuild"] if rebuild else [])
    for case in srdi_cases:
        note = f"wall clock {wall[case]:,.0f}/s"
        out.append(
            throughput_vs(
                section, f"{case} vs raw scan", rate[case], rate["raw"], "sqlite3 + json.loads", 0.35, note
            )
        )
        out.append(
            throughput_vs(
                section, f"{case} vs eventsourcing", rate[case], rate["eventsourcing"], "eventsourcing", 1.0
            )
        )
        out.append(
            throughput_vs(
                section,
                f"{case} vs raw scan, C scanner",
                rate[case],
                rate["raw, C scanner"],
                "stricter limit",
                None,
            )
        )
    if rebuild is None:
        out.append(
            Result(section, "projections.rebuild", float("nan"), "", note="projections.feed not present yet")
        )
    out.append(
        throughput_vs(
            section,
            "eventsourcing vs raw scan",
            rate["eventsourcing"],
            rate["raw"],
            "sqlite3 + json.loads",
            None,
        )
    )
    return out
