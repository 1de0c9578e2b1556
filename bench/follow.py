"""Following the log: how soon a waiting follower wakes after an append, and what bounded reads cost.

- Wake-up latency: a `LogWaiter` blocks in a thread; the main thread appends one event; the time
  from just before the ``append`` call to the waiter's return (the append's own commit included)
  and from the append's return to the waiter's return. PostgreSQL: LISTEN/NOTIFY; SQLite: polling
  every 50 ms (the fallback). Medians and 95th percentiles over ``count`` appends.
- Bounded reads: the last event of a 500-event stream (``descending=True, limit=1``) against the
  whole stream, and the registrations of a mixed log by ``read_all(event_types=...)`` against a
  scan filtered in Python, alternating in the same run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench import data
from bench.util import Result, interleaved_best, log, percentile
from events.envelope import NewEvent
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore
from events.wakeup import LogWaiter


def _event() -> NewEvent:
    return NewEvent(MilestoneRecorded(uscc="U", track="srdi-municipal", action="certified"), date(2024, 1, 1))


def wake_latency(store: SqlEventStore, count: int) -> tuple[list[float], list[float], bool]:
    """Seconds from the append's start and from its return to the waiter's wake, per append."""
    from_start: list[float] = []
    from_commit: list[float] = []
    with LogWaiter(store.engine, poll_seconds=0.05) as waiter:
        listening = waiter.listening
        for i in range(count):
            after = store.last_position()
            woke: list[float] = []
            ready = threading.Event()

            def follow(after: int = after, woke: list[float] = woke, ready: threading.Event = ready) -> None:
                ready.set()
                waiter.wait(after, timeout=10)
                woke.append(time.perf_counter())

            thread = threading.Thread(target=follow)
            thread.start()
            ready.wait()
            time.sleep(0.02)  # let it block in wait()
            started = time.perf_counter()
            store.append(f"s-{i}", [_event()], 0)
            returned = time.perf_counter()
            thread.join()
            from_start.append(woke[0] - started)
            from_commit.append(woke[0] - returned)
    return sorted(from_start), sorted(from_commit), listening


def _latency_results(section: str, store: SqlEventStore, count: int) -> list[Result]:
    log(f"{section}: wake-up latency over {count} appends")
    start, commit, listening = wake_latency(store, count)
    how = "LISTEN/NOTIFY" if listening else "polling every 50 ms"
    return [
        Result(section, f"wake-up after an append ({how}), median", 1000 * percentile(start, 50), "ms",
               note=f"from the append call; p95 {1000 * percentile(start, 95):.1f} ms"),
        Result(section, f"wake-up after the commit returned ({how}), median", 1000 * percentile(commit, 50),
               "ms", note=f"p95 {1000 * percentile(commit, 95):.1f} ms"),
    ]  # fmt: skip


def _read_results(section: str, store: SqlEventStore, rounds: int) -> list[Result]:
    stream = "enterprise-bench-long"
    for start in range(0, 500, 100):
        store.append(stream, [_event() for _ in range(100)], start)
    repeats = 200

    def last_only() -> Callable[[], Any]:
        return lambda: [store.read_stream(stream, descending=True, limit=1) for _ in range(repeats)]

    def whole() -> Callable[[], Any]:
        return lambda: [store.read_stream(stream)[-1] for _ in range(repeats)]

    def typed() -> Callable[[], Any]:
        return lambda: sum(1 for _ in store.read_all(event_types=("EnterpriseRegistered",)))

    def filtered() -> Callable[[], Any]:
        return lambda: sum(1 for e in store.read_all() if e.event_type == "EnterpriseRegistered")

    best = interleaved_best({"last": last_only, "whole": whole, "typed": typed, "filtered": filtered}, rounds)
    registered, total = typed()(), store.last_position()
    return [
        Result(section, "last event of a 500-event stream (descending, limit 1)",
               1000 * best["last"].wall / repeats, "ms", 1000 * best["whole"].wall / repeats,
               "whole stream read", note="per read"),
        Result(section, f"registrations by read_all(event_types) ({registered:,} of {total:,})",
               1000 * best["typed"].wall, "ms", 1000 * best["filtered"].wall, "read_all filtered in Python"),
    ]  # fmt: skip


def run(events: int, count: int, rounds: int) -> list[Result]:
    out: list[Result] = []
    engine = data.new_sqlite_engine("follow")
    data.populate(engine, events)
    store = SqlEventStore(engine)
    out += _read_results(f"Reads, SQLite ({events:,} events)", store, rounds)
    out += _latency_results("Follower wake-up, SQLite", store, max(5, count // 4))
    engine.dispose()
    if data.postgres_available():
        with data.postgres_schema() as url:
            from events.db import make_engine
            from events.migrate import ensure_schema

            engine = make_engine(url)
            ensure_schema(engine)
            data.populate(engine, events)
            store = SqlEventStore(engine)
            out += _read_results(f"Reads, PostgreSQL ({events:,} events)", store, rounds)
            out += _latency_results("Follower wake-up, PostgreSQL", store, count)
            engine.dispose()
    return out
