"""Writing: bulk import, one durable append, and concurrent writers.

Baselines use the same table (created by the same migration), the same pragmas (WAL,
``synchronous=FULL``, ``BEGIN IMMEDIATE``) and the very rows srdi wrote, so the difference is only
what srdi does per event: JSON payload, canonical form, hash chain, version checks, SQLAlchemy.
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bench import data
from bench.util import Result, interleaved_best, log, percentile, throughput_vs
from events.db import make_engine
from events.envelope import NewEvent
from events.migrate import ensure_schema
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore

INSERT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
SELECT_ALL = "SELECT * FROM events ORDER BY position"


def bare_connection(path: str) -> sqlite3.Connection:
    """A plain sqlite3 connection with exactly the pragmas ``events.db`` sets."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=60000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def fresh_schema(name: str) -> str:
    """A new migrated, empty SQLite file; returns its path."""
    engine = data.new_sqlite_engine(name)
    engine.dispose()
    return data.sqlite_path(str(engine.url))


def milestone(i: int) -> NewEvent:
    return NewEvent(
        MilestoneRecorded(
            uscc="915001234567890123",
            track="innovative-sme",
            action="certified",
            ref=f"渝经信发〔2024〕{i}号",
            from_state="applied",
            to_state="certified",
        ),
        date(2024, 3, 1),
        actor="staff-042",
    )


# -- bulk import --------------------------------------------------------------------------------
def bulk(events: int, rounds: int) -> list[Result]:
    """``append_batch`` of ~5000-event batches into an empty log, against ``executemany``."""
    log(f"bulk: {rounds} alternating rounds of {events} events, srdi append_batch vs bare executemany")
    prepared = list(data.batches(events))  # the caller's pydantic models and ids, built once
    sizes = [sum(len(a.events) for a in batch) for batch in prepared]

    def srdi_case() -> Callable[[], Any]:
        engine = make_engine(data.sqlite_url("bulk-srdi"))
        ensure_schema(engine)
        store = SqlEventStore(engine)

        def go() -> None:
            for batch in prepared:
                store.append_batch(batch)
            engine.dispose()

        return go

    # The bare baseline inserts the very rows srdi stored, in the same transaction sizes.
    srdi_case()()
    source = sqlite3.connect(data.sqlite_path(data.sqlite_url("bulk-srdi", fresh=False)))
    rows = source.execute(SELECT_ALL).fetchall()
    source.close()
    chunks: list[list[tuple[Any, ...]]] = []
    at = 0
    for size in sizes:
        chunks.append(rows[at : at + size])
        at += size

    def bare_case() -> Callable[[], Any]:
        path = fresh_schema("bulk-bare")
        conn = bare_connection(path)

        def go() -> None:
            for chunk in chunks:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(INSERT, chunk)
                conn.execute("COMMIT")
            conn.close()

        return go

    best = interleaved_best({"srdi": srdi_case, "bare": bare_case}, rounds)
    section = "Bulk import, SQLite"
    return [
        throughput_vs(
            section,
            f"append_batch, {events:,} events in {len(prepared)} transactions",
            events / best["srdi"].wall,
            events / best["bare"].wall,
            "executemany",
            0.3,
        )
    ]


# -- one durable append ---------------------------------------------------------------------------
def single(count: int, preload: int) -> list[Result]:
    """``store.append`` of one event per transaction, alternating with a bare one-row commit."""
    log(f"single append: {count} alternating srdi / bare one-event commits ({preload} events preloaded)")
    engine = data.new_sqlite_engine("single-srdi")
    data.populate(engine, preload)
    store = SqlEventStore(engine)
    bare_path = fresh_schema("single-bare")
    conn = bare_connection(bare_path)
    source = sqlite3.connect(data.sqlite_path(str(engine.url)))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, source.execute(SELECT_ALL))
    conn.execute("COMMIT")
    source.close()

    warm = 20
    new_events = [milestone(i) for i in range(count + warm)]
    template = list(conn.execute("SELECT * FROM events ORDER BY position DESC LIMIT 1").fetchone())
    bare_rows = []
    for i, new in enumerate(new_events):
        row = list(template)
        row[0] = preload + 1 + i
        row[1], row[2], row[3] = new.event_id, f"bench-{i}", 1
        bare_rows.append(tuple(row))

    srdi_lat: list[float] = []
    bare_lat: list[float] = []
    clock = time.perf_counter
    for i, new in enumerate(new_events):
        t0 = clock()
        store.append(f"bench-{i}", [new], 0)
        t1 = clock()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT, bare_rows[i])
        conn.execute("COMMIT")
        t2 = clock()
        if i >= warm:
            srdi_lat.append(t1 - t0)
            bare_lat.append(t2 - t1)
    conn.close()
    engine.dispose()
    srdi_lat.sort()
    bare_lat.sort()
    section = "One durable append, SQLite (warm process)"
    out = []
    for label, q in (("median", 50.0), ("p99", 99.0)):
        ours, bare = percentile(srdi_lat, q) * 1e3, percentile(bare_lat, q) * 1e3
        factor = ours / bare
        out.append(
            Result(
                section,
                f"append(1 event) {label} latency",
                ours,
                "ms",
                bare,
                "bare INSERT+COMMIT",
                1 / factor,
                "<= 3.0x slower",
                factor <= 3.0,
                note=f"{factor:.2f}x the bare commit",
                extra={"samples": len(srdi_lat)},
            )
        )
    return out


# -- concurrent writers -----------------------------------------------------------------------------
def _writer(url: str, writer: int, ready: Any, go: Any, stop_at: Any, results: Any) -> None:
    from service_layer import logs

    logs.configure("console", "warning")
    engine = make_engine(url)
    store = SqlEventStore(engine)
    stream = f"writer-{writer}"
    pending = [milestone(i) for i in range(20_000)]
    store.last_position()  # connect before the start line
    ready.put(writer)
    go.wait()
    deadline = stop_at.value
    n = 0
    failed = 0
    while time.time() < deadline and n < len(pending):
        try:
            store.append(stream, [pending[n]], n)
        except Exception:  # a lock timeout would land here: count it, try again
            failed += 1
            continue
        n += 1
    results.put((writer, n, failed))
    engine.dispose()


def _bare_writer(url: str, writer: int, ready: Any, go: Any, stop_at: Any, results: Any) -> None:
    """The baseline: one-row INSERT + COMMIT on the same table, no lock, no reads, no hashing."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    payload = milestone(0).event.model_dump_json()
    recorded = datetime.now(UTC)
    rows = [
        (
            10**9 * (writer + 1) + i, str(uuid.uuid4()), f"bare-writer-{writer}", i + 1,
            "MilestoneRecorded", 1, date(2024, 3, 1), recorded, "staff-042", None, None, payload, "0" * 64,
        )
        for i in range(20_000)
    ]  # fmt: skip
    ready.put(writer)
    go.wait()
    deadline = stop_at.value
    n = 0
    while time.time() < deadline and n < len(rows):
        cursor.execute(PG_INSERT, rows[n])
        raw.commit()
        n += 1
    results.put((writer, n, 0))
    raw.close()
    engine.dispose()


def _collect(queue: Any, procs: list[Any], count: int, timeout: float) -> list[Any]:
    """``count`` items from the writers' queue; fail fast if a writer died instead."""
    import queue as queue_module

    got: list[Any] = []
    deadline = time.time() + timeout
    while len(got) < count:
        try:
            got.append(queue.get(timeout=1.0))
        except queue_module.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead or time.time() > deadline:
                raise RuntimeError(f"a writer process failed (exit codes {dead}) or timed out") from None
    return got


PG_INSERT = f"INSERT INTO events VALUES ({', '.join(['%s'] * 13)})"


def concurrent(url: str, writers: int, seconds: float, *, bare: bool = False) -> tuple[float, int]:
    """Events/s appended by ``writers`` processes, one event per transaction, each on its own stream."""
    ctx = mp.get_context("fork")  # writers start at once; each opens its own engine and connection
    ready: Any = ctx.Queue()
    go = ctx.Event()
    stop_at = ctx.Value("d", 0.0)
    results: Any = ctx.Queue()
    target = _bare_writer if bare else _writer
    procs = [ctx.Process(target=target, args=(url, w, ready, go, stop_at, results)) for w in range(writers)]
    for proc in procs:
        proc.start()
    try:
        _collect(ready, procs, len(procs), 300)  # every writer imported, connected, events built
        stop_at.value = time.time() + seconds
        go.set()
        got = _collect(results, procs, len(procs), seconds + 300)
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.terminate()
    total = sum(n for _, n, _ in got)
    return total / seconds, sum(f for _, _, f in got)


def concurrent_results(
    section: str, url_factory: Callable[[], Any], counts: Sequence[int], seconds: float
) -> list[Result]:
    """srdi appends from 1 and from N writers, each against bare one-row commits from as many."""
    out = []
    for writers in counts:
        rates = {}
        for bare in (False, True):
            with url_factory() as url:
                engine = make_engine(url)
                ensure_schema(engine)
                engine.dispose()
                log(f"{section}: {writers} {'bare' if bare else 'srdi'} writer(s) for {seconds:.0f}s")
                rates[bare], failed = concurrent(url, writers, seconds, bare=bare)
        note = f"{writers} process(es), 1 event per transaction, own stream each"
        if failed:
            note += f"; {failed} failed attempts retried"
        out.append(
            Result(
                section,
                f"{writers} concurrent writer(s)",
                rates[False],
                "events/s",
                rates[True],
                "bare INSERT+COMMIT",
                rates[False] / rates[True],
                note=note,
            )
        )
    return out
