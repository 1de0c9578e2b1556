"""Migration 0013's backfill of ``events.district`` on a PostgreSQL log, batch by batch.

``python -m bench.district_backfill --events 1000000`` (prints JSON; not part of ``bench.run``):

1. A schema at revision 0012 gets a log built as ``bench.pg_scale`` builds one (``srdi demo`` seed,
   its enterprise streams cloned under new USCCs and ids, the hash chain computed, ``COPY``), then
   ``VACUUM ANALYZE`` (a log in service is vacuumed).
2. ``events.migrate.upgrade(engine, "0013")`` runs (as the URL's superuser; ``--owner``: lifting
   the append-only trigger as a schema owner who is not one must) while a probe takes the lock an
   append takes (``LOCK TABLE events IN ROW EXCLUSIVE MODE``, then rolls back) every 10 ms on
   another connection: its longest wait is the longest any append waited on the migration.
3. Reported: the whole migration's wall time, the backfill's, the batches' (median and longest:
   wall, and the part the table was locked), the probe's waits, the plan of one batch's query, and,
   for comparison, the first version's single ``UPDATE`` of every row (run after, then rolled back:
   the time it held the table locked).

Everything lives in one schema of ``SRDI_BENCH_PG_URL`` (default: the test server), dropped at the
end unless ``--keep``. Load averages are printed with every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import alembic.util
import psycopg
import sqlalchemy as sa

from bench import data
from bench.pg_scale import _drop_schema, _dsn, load, load_average, make_seed, read_seed, schema_url
from bench.util import ROOT, log
from events.db import make_engine
from events.migrate import upgrade

Batch = tuple[int, int, int, float, float]  # lo, hi, rows filled, wall seconds, locked seconds


@contextmanager
def timed_batches(batches: list[Batch], size: int | None, owner: bool) -> Iterator[None]:
    """Time every batch of migration 0013 as Alembic loads the script; set its batch size, and with
    ``owner`` lift the append-only trigger as the schema's owner must (``DISABLE TRIGGER``)."""
    real = alembic.util.load_python_file

    def patched(dir_: str, filename: str) -> ModuleType:
        module: Any = real(dir_, filename)  # migration 0013's names are set on it below
        if filename.startswith("0013_"):
            fill: Callable[[sa.Connection, int, int, bool], tuple[int, float]] = module.fill_batch

            def timed(conn: sa.Connection, lo: int, hi: int, replica: bool) -> tuple[int, float]:
                started = time.perf_counter()
                rows, locked = fill(conn, lo, hi, replica)
                batches.append((lo, hi, rows, time.perf_counter() - started, locked))
                return rows, locked

            module.fill_batch = timed
            if size is not None:
                module.BATCH = size
            if owner:
                module.may_silence_triggers = lambda conn: False
        return module  # type: ignore[no-any-return]

    alembic.util.load_python_file = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        alembic.util.load_python_file = real


class LockProbe(threading.Thread):
    """Takes an append's lock on ``events`` every ``every`` seconds; records each wait."""

    def __init__(self, url: str, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.waits: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        dsn, options = _dsn(self.url)
        with psycopg.connect(dsn, options=options) as conn:
            while not self.stopped.is_set():
                started = time.perf_counter()
                conn.execute("LOCK TABLE events IN ROW EXCLUSIVE MODE")
                self.waits.append(time.perf_counter() - started)
                conn.rollback()
                self.stopped.wait(self.every)


def _schema_at(revision: str) -> tuple[str, str]:
    schema = f"bench_district_{uuid.uuid4().hex[:8]}"
    url = schema_url(schema)
    engine = make_engine(url)
    upgrade(engine, revision)
    engine.dispose()
    return schema, url


def _vacuum(url: str) -> None:
    dsn, options = _dsn(url)
    with psycopg.connect(dsn, options=options, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) events")


def _plan(url: str, module: ModuleType, lo: int, hi: int) -> list[str]:
    """The plan of one batch's query (no ANALYZE: nothing is written)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE srdi_district_batch (position bigint PRIMARY KEY, district varchar(50))"
        )
        found = conn.execute(sa.text(f"EXPLAIN {module.BATCH_DISTRICTS}"), {"lo": lo, "hi": hi})
        plan = [str(row[0]) for row in found]
        conn.rollback()
    engine.dispose()
    return plan


def _single_update(url: str, module: ModuleType) -> float:
    """Seconds the first version's one UPDATE of every row takes (and holds the table), rolled back."""
    dsn, options = _dsn(url)
    with psycopg.connect(dsn, options=options) as conn:
        started = time.perf_counter()
        conn.execute("ALTER TABLE events DROP COLUMN district")  # as before 0013: no column
        conn.execute("ALTER TABLE events ADD COLUMN district varchar(50)")
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        conn.execute(module.BACKFILL)
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def _the_migration() -> ModuleType:
    import importlib.util

    path = ROOT / "migrations" / "versions" / "0013_event_districts.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed-enterprises", type=int, default=2000)
    parser.add_argument("--seed", type=Path, default=None, help="a seed log (SQLite) to reuse")
    parser.add_argument("--batch", type=int, default=None, help="positions per batch (default: 0013's)")
    parser.add_argument(
        "--owner", action="store_true",
        help="lift the append-only trigger as a non-superuser owner must (DISABLE TRIGGER per batch)",
    )  # fmt: skip
    parser.add_argument("--no-single", action="store_true", help="skip the single-UPDATE comparison")
    parser.add_argument("--keep", action="store_true", help="keep the schema (its URL is printed)")
    args = parser.parse_args()
    module = _the_migration()
    figures: dict[str, Any] = {
        "events": args.events,
        "batch": args.batch or module.BATCH,
        "lift": "disable trigger (owner)" if args.owner else "session_replication_role (superuser)",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    schema, url = _schema_at("0012")
    try:
        seed = args.seed or data.workdir() / f"scale-seed-{args.seed_enterprises}.db"
        make_seed(seed, args.seed_enterprises)
        templates = read_seed(seed)
        log(f"load: {args.events:,} events from {len(templates):,} seed events; load {load_average()}")
        figures["load"] = load(url, templates, args.events)
        del templates
        _vacuum(url)
        figures["load_before"] = load_average()
        log(f"migrating to 0013; load {load_average()}")
        batches: list[Batch] = []
        probe = LockProbe(url)
        probe.start()
        engine = make_engine(url)
        started = time.perf_counter()
        with timed_batches(batches, args.batch, args.owner):
            upgrade(engine, "0013")
        figures["migration_s"] = time.perf_counter() - started
        probe.stopped.set()
        probe.join()
        engine.dispose()
        figures["load_after"] = load_average()
        walls, locked = [b[3] for b in batches], [b[4] for b in batches]
        slowest = max(batches, key=lambda b: b[3])
        figures["backfill"] = {
            "batches": len(batches),
            "rows_filled": sum(b[2] for b in batches),
            "seconds": sum(walls),
            "batch_median_s": statistics.median(walls),
            "batch_max_s": max(walls),
            "slowest_batch": slowest[:2],
            "locked_median_s": statistics.median(locked),
            "locked_max_s": max(locked),
        }
        figures["probe"] = {
            "locks_taken": len(probe.waits),
            "max_wait_s": max(probe.waits, default=0.0),
            "waits_over_100ms": sum(1 for w in probe.waits if w > 0.1),
        }
        log(f"backfill: {figures['backfill']}; probe: {figures['probe']}")
        middle = batches[len(batches) // 2]
        figures["plan_of_one_batch"] = _plan(url, module, middle[0], middle[1])
        if not args.no_single:
            _vacuum(url)
            log(f"the single UPDATE, for comparison; load {load_average()}")
            figures["single_update_s"] = _single_update(url, module)
            figures["load_single"] = load_average()
    finally:
        if args.keep:
            log(f"kept: {url}")
        else:
            _drop_schema(schema)
        print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
