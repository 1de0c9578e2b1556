"""Full replay on a log the real handlers wrote with the policies active (``srdi demo``).

Unlike the cloned log of ``bench.data``, this one holds what a district's log holds: policy
activations, and entitlements created and resolved by the policy reactor in their real proportion.
Generating it is slow (every event goes through the handlers and the reactor), so it is made once,
outside git, and reused:

    srdi --db sqlite:////tmp/demo-200k.db demo --enterprises 15000      # ~223k events
    srdi --db sqlite:////tmp/demo-2m.db demo --enterprises 144000       # ~2M events (the same first
                                                                         # 15,000 enterprises and more)
    SRDI_BENCH_DEMO_LOG=/tmp/demo-200k.db python -m bench.run --only demo

The file is copied to the scratch directory first (a rebuild rewrites its view tables). Cases, in
alternating rounds, rates per CPU-second of this process:

* ``projections.feed.rebuild``: every view rebuilt from the whole log (what ``srdi replay`` runs);
* ``sqlite3 + json.loads``: the raw scan of the same file (the practical limit);
* eventsourcing's decode-only follow (``NotificationLogReader`` + ``mapper.to_domain_event``) over
  as many events of the same three shapes as ``bench.es_compare`` writes.

Then, once: eventsourcing's own ``ProjectionRunner``-style processing writing one view row and its
tracking record per event (one transaction each, as ``Projection.process_event`` does) over the
first ``runner_events`` events; the latency of the reads a district makes of the rebuilt views
(status, the calendar computed on read, targets); and a pyinstrument profile of one rebuild.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench import data, es_compare
from bench.replay import raw_scan
from bench.util import Result, interleaved_best, log, throughput_vs
from events.db import make_engine
from events.migrate import ensure_schema
from projections.feed import rebuild


def _copy(source: Path) -> Path:
    target = data.workdir() / "demo-log.db"
    data.remove_sqlite_files(target)
    check = sqlite3.connect(source)
    check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    check.close()
    shutil.copyfile(source, target)
    return target


def eventsourcing_runner_rate(es_path: str, events: int) -> float:
    """Events per second of an eventsourcing follower writing one row + tracking per event."""
    from eventsourcing.persistence import Tracking
    from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
    from eventsourcing.system import NotificationLogReader

    view_path = str(data.workdir() / "es-view.db")
    data.remove_sqlite_files(view_path)
    datastore = SQLiteDatastore(view_path)

    class RowView(SQLiteTrackingRecorder):
        """A materialised view: one row per event, written with its tracking record."""

        def create_table(self) -> None:
            super().create_table()
            with self.datastore.transaction(commit=True) as c:
                c.execute(
                    "CREATE TABLE IF NOT EXISTS view_rows (id TEXT PRIMARY KEY, kind TEXT, version INT)"
                )

        def record(self, row: tuple[str, str, int], tracking: Tracking) -> None:
            with self.datastore.transaction(commit=True) as c:
                c.execute("INSERT INTO view_rows VALUES (?, ?, ?)", row)
                self._insert_tracking(c, tracking)

    view = RowView(datastore)
    view.create_table()
    app = es_compare.open_app(es_path)
    started, n = time.perf_counter(), 0
    reader = NotificationLogReader(app.notification_log, section_size=1000)
    for notifications in reader.select(start=1, stop=events):
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            version = event.originator_version
            row = (f"{event.originator_id}:{version}", type(event).__name__, version)
            view.record(row, Tracking(app.name, notification.id))
            n += 1
    rate = n / (time.perf_counter() - started)
    app.close()
    datastore.close()
    return rate


def read_latencies(url: str, repeats: int = 5) -> list[tuple[str, float]]:
    """Median milliseconds of the reads a district makes of the rebuilt views (best-placed: warm).

    The calendar is computed on read from the status view; the targets count stored rows. At
    province scale these are the queries that must stay fast for that split to be right.
    """
    from projections.calendar import read_calendar
    from projections.status import read_status_rows
    from projections.targets import read_targets

    engine = make_engine(url)
    day = date(2026, 11, 1)  # the demo's today
    with engine.connect() as conn:
        uscc = conn.exec_driver_sql("SELECT uscc FROM status_enterprises LIMIT 1 OFFSET 777").scalar_one()
        reads: dict[str, Callable[[], object]] = {
            "status of one enterprise": lambda: read_status_rows(conn, uscc, day),
            "calendar --within 90 (every district)": lambda: read_calendar(conn, day, within=90),
            "calendar --within 90 --district yubei": lambda: read_calendar(
                conn, day, within=90, district="yubei"
            ),
            "calendar, every deadline": lambda: read_calendar(conn, day),
            "targets liangjiang (every target, every year)": lambda: read_targets(
                conn, "liangjiang", year=None, on=day
            ),
            "targets qianjiang --year 2025": lambda: read_targets(conn, "qianjiang", year=2025, on=day),
        }
        out = []
        for name, read in reads.items():
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                read()
                times.append((time.perf_counter() - started) * 1000)
            out.append((name, statistics.median(times)))
    engine.dispose()
    return out


def profile_rebuild(url: str, top: int = 25) -> str:
    """One rebuild under pyinstrument; the frames with the most time, as text."""
    from pyinstrument import Profiler

    engine = make_engine(url)
    profiler = Profiler(interval=0.002)
    profiler.start()
    rebuild(engine)
    profiler.stop()
    engine.dispose()
    return str(profiler.output_text(unicode=False, color=False, show_all=False))


def run(rounds: int, runner_events: int = 5000) -> list[Result]:
    source = os.environ.get("SRDI_BENCH_DEMO_LOG")
    section = "Replay of a demo log (real handlers, policies active)"
    if not source or not Path(source).exists():
        return [Result(section, "all cases", float("nan"), "", note="skipped: set SRDI_BENCH_DEMO_LOG")]
    path = _copy(Path(source))
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    ensure_schema(engine)
    with sqlite3.connect(path) as conn:
        events = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        kinds = dict(conn.execute("SELECT event_type, COUNT(*) FROM events GROUP BY event_type").fetchall())
    log(f"demo log: {events:,} events ({kinds}); eventsourcing gets as many")
    es_path = str(data.workdir() / "demo-eventsourcing.db")
    data.remove_sqlite_files(es_path)
    es_compare.populate(es_path, events)
    es_app = es_compare.open_app(es_path)
    cases: dict[str, Any] = {
        "raw": lambda: lambda: raw_scan(str(path)),
        "eventsourcing": lambda: lambda: es_compare.replay(es_app),
        "rebuild": lambda: lambda: rebuild(engine),
    }
    log(f"demo log: {rounds} alternating rounds of {', '.join(cases)}")
    best = interleaved_best(cases, rounds)
    es_app.close()
    rate = {name: events / t.cpu for name, t in best.items()}
    wall = {name: events / t.wall for name, t in best.items()}
    share = {
        k: f"{100 * v / events:.1f}%" for k, v in kinds.items() if k.startswith(("Entitlement", "Policy"))
    }
    title = f"{section}, SQLite ({events:,} events; events per CPU-second)"
    out = [
        throughput_vs(title, "srdi replay (rebuild) vs raw scan", rate["rebuild"], rate["raw"],
                      "sqlite3 + json.loads", 0.35, f"wall {wall['rebuild']:,.0f}/s; {share}"),
        throughput_vs(title, "srdi replay (rebuild) vs eventsourcing decode-only follow", rate["rebuild"],
                      rate["eventsourcing"], "eventsourcing follow", 1.0),
    ]  # fmt: skip
    log(f"demo log: eventsourcing follower writing one row per event over {runner_events} events")
    runner = eventsourcing_runner_rate(es_path, min(runner_events, events))
    out.append(
        throughput_vs(title, "srdi replay (rebuild) vs eventsourcing follower, 1 row + tracking per event",
                      wall["rebuild"], runner, "eventsourcing runner (wall)", None,
                      f"runner over the first {min(runner_events, events):,} events, wall clock"),
    )  # fmt: skip
    engine.dispose()
    for name, ms in read_latencies(url):
        out.append(Result(title, f"read after the rebuild: {name}", ms, "ms", note="median of 5, warm"))
    log("demo log: profiling one rebuild")
    print(profile_rebuild(url))
    return out
