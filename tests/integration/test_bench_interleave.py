"""``bench.interleave``: the demo log re-recorded in business-date order holds the same events, each
stream in its order, and rebuilds into exactly the same views (SQLite: the tool copies SQLite files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.interleave import check, interleave
from events.db import make_engine
from events.sql_store import SqlEventStore
from projections.feed import rebuild
from tests.cli import ok
from tests.integration.projections_support import dump_engine


def test_interleaved_demo_log_holds_the_same_events_and_rebuilds_the_same_views(tmp_path: Path) -> None:
    source, target = tmp_path / "demo.db", tmp_path / "interleaved.db"
    ok(f"sqlite:///{source}", "demo", "--enterprises", "30", "--json")
    done = interleave(source, target, chunk=97)  # several chunks, runs of a stream split across them
    checked = check(source, target)
    assert checked.ok, checked
    assert done.events == checked.target_events > 400
    assert checked.mean_span_target > 10 * checked.mean_span_source  # really interleaved

    with sqlite3.connect(target) as conn:  # the global order, read back on its own
        rows = conn.execute("SELECT stream_id, stream_version, occurred_on FROM events ORDER BY position")
        running: dict[str, tuple[int, str]] = {}
        last = ""
        for stream_id, version, day in rows:
            before_version, before_key = running.get(stream_id, (0, ""))
            assert version == before_version + 1
            key = max(before_key, day)
            assert key >= last
            running[stream_id], last = (version, key), key

    views = []
    for path in (source, target):
        engine = make_engine(f"sqlite:///{path}")
        result = rebuild(engine, batch=50)  # many batches: enterprises rewritten across them
        assert result.events == done.events
        views.append(dump_engine(engine))
        engine.dispose()
    assert views[0] == views[1]
    assert sum(len(rows) for rows in views[0].values()) > 100

    engine = make_engine(f"sqlite:///{target}")
    assert [e.position for e in SqlEventStore(engine).read_all()] == list(range(1, done.events + 1))
    engine.dispose()
