"""Growth: replay time and peak memory as the log grows (10k, 100k, 1M, optionally 10M events).

One SQLite log is grown through the bulk path to each size in turn; at each size a fresh
interpreter replays it (``read_all`` + ``to_model``, and ``projections.feed.rebuild`` when it
exists) and reports its time, its resident memory before the replay and the peak during it
(``VmHWM``, reset just before the replay; ``getrusage`` would report the parent's peak, which a
child inherits through fork and exec).
Linear time shows as a flat events/s column, bounded memory as a flat peak-RSS column.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from bench import data
from bench.util import Result, log, run_json
from events.envelope import StreamAppend
from events.sql_store import SqlEventStore


class GrowingLog:
    """A log that is appended to, batch by batch from one deterministic generator, up to a size."""

    def __init__(self, name: str) -> None:
        self.engine = data.new_sqlite_engine(name)
        self.url = str(self.engine.url)
        self.size = 0
        self._batches = data.batches(10**10)
        self._carry: list[StreamAppend] = []
        self.append_seconds = 0.0

    def grow_to(self, target: int) -> None:
        store = SqlEventStore(self.engine)
        while self.size < target:
            batch = self._carry or next(self._batches)
            self._carry = []
            take: list[StreamAppend] = []
            for item in batch:
                room = target - self.size - sum(len(a.events) for a in take)
                if room <= 0:
                    self._carry.append(item)
                elif len(item.events) <= room:
                    take.append(item)
                else:  # split a stream's history at the size boundary; the rest follows later
                    take.append(StreamAppend(item.stream_id, item.events[:room], item.expected_version))
                    rest = item.events[room:]
                    self._carry.append(StreamAppend(item.stream_id, rest, None))
            start = time.perf_counter()
            store.append_batch(take)
            self.append_seconds += time.perf_counter() - start
            self.size += sum(len(a.events) for a in take)


def _status_mb(field: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (Linux), in MB; None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Start the peak-RSS mark afresh (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    # ru_maxrss is inherited through fork+exec from the (large) parent, so prefer VmHWM.
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, mode: str) -> dict[str, float]:
    """Runs in a fresh interpreter: replay the whole log once; time and peak RSS."""
    from events.db import make_engine
    from events.sql_store import SqlEventStore

    engine = make_engine(url)
    store = SqlEventStore(engine)
    for recorded in store.read_all(until_position=100):  # warm: connection, caches, imports
        recorded.to_model()
    before = _status_mb("VmRSS") or _peak_mb()
    _reset_peak()  # the peak from here on is the replay's, on top of what is resident now
    start, cpu = time.perf_counter(), time.process_time()
    n = 0
    if mode == "rebuild":
        from bench.replay import rebuild_function

        rebuild = rebuild_function()
        assert rebuild is not None
        rebuild(engine)
        n = store.last_position()
    else:
        for recorded in store.read_all():
            recorded.to_model()
            n += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "events": n,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_before_mb": before,
        "rss_peak_mb": _peak_mb(),
    }


def run(sizes: list[int]) -> list[Result]:
    from bench.replay import rebuild_function

    modes = ["read_all"] + (["rebuild"] if rebuild_function() is not None else [])
    grown = GrowingLog("growth")
    out: list[Result] = []
    for size in sorted(sizes):
        log(f"growth: growing the log to {size:,} events")
        grown.grow_to(size)
        for mode in modes:
            log(f"growth: {mode} replay of {size:,} events in a fresh process")
            got = run_json(["-m", "bench.growth", "--child", grown.url, "--mode", mode])
            label = "read_all + to_model" if mode == "read_all" else "projections.rebuild"
            out.append(
                Result(
                    "Growth, SQLite (fresh process per size; events per CPU-second)",
                    f"{label} @ {size:,}",
                    got["events"] / got["cpu_seconds"],
                    "events/s",
                    note=f"{got['cpu_seconds']:.2f} s CPU, {got['seconds']:.2f} s wall;"
                    f" RSS {got['rss_before_mb']:.0f} MB before, peak {got['rss_peak_mb']:.0f} MB during",
                    extra={"size": size, "mode": mode, **got},
                )
            )
    grown.engine.dispose()
    data.remove_sqlite_files(data.sqlite_path(grown.url))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--mode", default="read_all")
    args = parser.parse_args()
    print(json.dumps(child(args.child, args.mode)))
    sys.exit(0)
