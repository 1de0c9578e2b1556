"""PostgreSQL: the same replay (against a raw psycopg scan), and concurrent writers.

Each case gets a fresh schema on the server at ``SRDI_BENCH_PG_URL`` (default: the test server,
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards. Skipped when the server is absent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench import append, data
from bench.replay import rebuild_function, srdi_read_all, srdi_read_all_models
from bench.util import Result, interleaved_best, log, throughput_vs
from events.db import make_engine
from events.migrate import ensure_schema
from events.sql_store import SqlEventStore

RAW_SQL = (
    "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, occurred_on,"
    " recorded_at, actor, causation_id, correlation_id, payload, hash FROM events ORDER BY position"
)


def raw_scan(dsn: str, schema_url: str) -> int:
    """The limit on PostgreSQL: a server-side cursor, 1000 rows per fetch, ``json.loads`` per row."""
    options = schema_url.split("options=", 1)[1].replace("%3D", "=")
    with psycopg.connect(dsn, options=options) as conn, conn.cursor(name="scan") as cursor:
        cursor.itersize = 1000
        cursor.execute(RAW_SQL)
        n = 0
        loads = json.loads
        for row in cursor:
            loads(row[11])
            n += 1
    return n


def run(events: int, rounds: int, writers: tuple[int, ...], seconds: float) -> list[Result]:
    if not data.postgres_available():
        return [
            Result("PostgreSQL", "all cases", float("nan"), "", note=f"skipped: no server at {data.PG_URL}")
        ]
    out: list[Result] = []
    with data.postgres_schema() as url:
        engine = make_engine(url)
        ensure_schema(engine)
        log(f"pg: writing {events} events through the bulk path")
        spent = data.populate(engine, events)
        store = SqlEventStore(engine)
        out.append(
            Result(
                f"PostgreSQL ({events:,} events)",
                "bulk import append_batch",
                events / spent,
                "events/s",
                note="~5000 events per transaction (first write of the log, not a best-of)",
            )
        )
        cases: dict[str, Callable[[], Callable[[], Any]]] = {
            "raw": lambda: lambda: raw_scan(data.PG_URL, url),
            "read_all": lambda: lambda: srdi_read_all(store),
            "read_all + to_model": lambda: lambda: srdi_read_all_models(store),
        }
        counts = {name: setup()() for name, setup in cases.items()}
        rebuild = rebuild_function()
        if rebuild is not None:
            cases["projections.rebuild"] = lambda: lambda: rebuild(engine)
        if set(counts.values()) != {events}:
            raise RuntimeError(f"PostgreSQL replay cases disagree on the number of events: {counts}")
        log(f"pg: {rounds} alternating replay rounds of {', '.join(cases)}")
        best = interleaved_best(cases, rounds)
        rate = {name: events / t.wall for name, t in best.items()}  # the server works too: wall time
        for case in [c for c in cases if c != "raw"]:
            out.append(
                throughput_vs(
                    f"PostgreSQL ({events:,} events)", f"{case} vs raw psycopg scan", rate[case], rate["raw"],
                    "raw psycopg scan", 0.35,
                )
            )  # fmt: skip
        engine.dispose()
    out += append.concurrent_results("PostgreSQL appends", data.postgres_schema, writers, seconds)
    return out


if __name__ == "__main__":
    start = time.perf_counter()
    for r in run(10000, 2, (8,), 3):
        print(r)
    print(time.perf_counter() - start)
