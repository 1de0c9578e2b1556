"""Concurrent writer threads on SQLite: srdi's append against eventsourcing's application recorder.

Each of ``threads`` threads appends one event per transaction to its own stream for ``seconds``;
the figure is events committed per second by all of them. srdi appends ``NewEvent``s (encoding,
canonical text and hash chain included); eventsourcing's ``SQLiteApplicationRecorder`` gets the
same events already encoded as ``StoredEvent``s (topic = event type, state = the same canonical
JSON), so it does strictly less work per event. Both in WAL mode, each on a fresh file; the cases
alternate round by round. Twice: with ``synchronous=FULL`` (srdi's setting, and SQLite's default,
which eventsourcing keeps: one fsync per commit, so the shared disk's fsync latency dominates and
varies 1-13 ms from one second to the next on the shared machine), and with ``synchronous=NORMAL``
for both (no fsync per commit: what the software path itself costs).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from itertools import product
from typing import Any

from sqlalchemy import event as sa_event

from bench import data
from bench.append import milestone
from bench.util import Result, log, throughput_vs
from events import canonical
from events.sql_store import SqlEventStore

Work = Callable[[float], int]  # appends until the deadline (time.monotonic), returns how many


def _run_threads(threads: int, seconds: float, prepare: Callable[[int], Work]) -> float:
    """Each thread prepares its events, then all start together; events per second in all."""
    counts = [0] * threads
    barrier = threading.Barrier(threads)

    def body(index: int) -> None:
        work = prepare(index)
        barrier.wait()
        counts[index] = work(time.monotonic() + seconds)

    pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / seconds


def _until(append: Callable[[int], object]) -> Work:
    """Work that calls ``append(n)`` for n = 0, 1, 2 ... until the deadline; returns how many."""

    def work(deadline: float) -> int:
        n = 0
        while time.monotonic() < deadline:
            append(n)
            n += 1
        return n

    return work


def srdi_rate(threads: int, seconds: float, synchronous: str) -> float:
    engine = data.new_sqlite_engine("writers-srdi")
    engine.dispose()

    @sa_event.listens_for(engine, "connect")
    def _sync(dbapi_connection: Any, _record: Any) -> None:  # after events.db's own pragmas
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    store = SqlEventStore(engine)
    store.last_position()

    def prepare(index: int) -> Work:
        pending = [milestone(i) for i in range(50_000)]
        return _until(lambda n: store.append(f"writer-{index}", [pending[n]], n))

    rate = _run_threads(threads, seconds, prepare)
    engine.dispose()
    return rate


def eventsourcing_rate(threads: int, seconds: float, synchronous: str) -> float:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnectionPool, SQLiteDatastore

    path = data.sqlite_path(data.sqlite_url("writers-es"))
    datastore = SQLiteDatastore(path, pool_size=threads + 1)
    create = datastore.pool._create_connection

    def create_with_sync() -> Any:
        connection = create()
        connection._sqlite_conn.execute(f"PRAGMA synchronous={synchronous}")
        return connection

    assert isinstance(datastore.pool, SQLiteConnectionPool)
    datastore.pool._create_connection = create_with_sync  # type: ignore[method-assign]
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()

    def prepare(_index: int) -> Work:
        originator = uuid.uuid4()
        pending = [
            StoredEvent(originator, i + 1, new.event_type, canonical.dumps(new.event.payload()).encode())
            for i, new in enumerate(milestone(i) for i in range(50_000))
        ]
        return _until(lambda n: recorder.insert_events([pending[n]]))

    rate = _run_threads(threads, seconds, prepare)
    datastore.close()
    return rate


def run(thread_counts: tuple[int, ...], seconds: float, rounds: int) -> list[Result]:
    out: list[Result] = []
    for synchronous, threads in product(("NORMAL", "FULL"), thread_counts):
        best = {"srdi": 0.0, "es": 0.0}
        for _ in range(rounds):
            log(f"writers: {threads} thread(s), synchronous={synchronous}, srdi then eventsourcing")
            best["srdi"] = max(best["srdi"], srdi_rate(threads, seconds, synchronous))
            best["es"] = max(best["es"], eventsourcing_rate(threads, seconds, synchronous))
        out.append(
            throughput_vs(
                f"SQLite writer threads, synchronous={synchronous}",
                f"{threads} thread(s), 1 event per transaction",
                best["srdi"],
                best["es"],
                "eventsourcing SQLiteApplicationRecorder",
                1.0 if threads > 1 else None,
                note=f"best of {rounds} alternating rounds",
            )
        )
    return out
