"""kill -9 at random points: a bulk import and a replay, 20 runs each per back-end.

Each run starts the real `srdi` script, lets it use a random amount of CPU drawn from a seeded
generator (seeded by the command, the back-end and the run number, so a failure reproduces), sends
SIGKILL, waits for the process (and, on PostgreSQL, for its server session) to be gone, then checks:

- import: the file's events are all in the log or none are (one batch); the idempotency key is
  stored exactly when they are; the chain verifies; positions and versions have no gap; the
  projections, caught up, equal a fresh rebuild; on every tenth run the import is run again to
  the end and writes exactly the rest (nothing, or everything). The database is reset to its
  state before the import between runs.
- replay: the log is untouched (same length, same last hash, the chain verifies); every
  projection holds exactly what a rebuild up to its own checkpoint holds (a crash loses a whole
  batch or nothing); and caught up, every projection equals the fresh rebuild taken at the start.

The kill points are spread over the CPU time a whole run takes (measured once, uninterrupted),
stratified so that every part of it, start-up, work and commit, gets some of the 20 kills; the
child is killed when /proc says it has used that much CPU, which a loaded machine does not skew.
The runs go two at a time (two lanes, each on its own database) to use both cores of the runner.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.integrity import verify
from events.sql_store import SqlEventStore
from projections import registry
from projections.feed import catch_up, checkpoints, rebuild
from projections.framework import checkpoints_table
from service_layer.importer import ImportReport, import_csv
from service_layer.policies import LiveReactor
from tests.backends import fresh_database
from tests.bootstrap import bootstrap
from tests.reliability.support import (
    SRDI,
    assert_no_gaps,
    event_count,
    import_csv_text,
    kill_at_cpu,
    open_engine,
    projection_dump,
    restore_rows,
    run_cli,
    snapshot_rows,
    srdi_env,
    table_names,
    wait_for_sessions_to_end,
)

RUNS = 20
IMPORT_ENTERPRISES = 500  # 1,500 lines: register, then two milestones each
DEMO_ENTERPRISES = 700  # about 10,000 events: four replay batches of REPLAY_BATCH
REPLAY_BATCH = "2500"  # `srdi replay --batch`: smaller than the default 20,000, so kills land between batches


@dataclass(frozen=True)
class Kill:
    """One run: the CPU time it was allowed, and whether it was still running when killed."""

    cpu: float
    killed: bool


def targets(seed: str, full: float) -> list[float]:
    """``RUNS`` kill points over [0.15, 1.05] x the CPU time of a whole run, one per stratum, shuffled."""
    rng = random.Random(seed)
    out = [full * (0.15 + 0.9 * (i + rng.random()) / RUNS) for i in range(RUNS)]
    rng.shuffle(out)
    return out


def start(url: str, args: list[str], name: str | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SRDI, "--db", url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=srdi_env(application_name=name),
    )


def run_and_kill(url: str, args: list[str], cpu: float, name: str, engine: Engine) -> Kill:
    """Start ``srdi ARGS``, SIGKILL it once it has used ``cpu`` seconds of CPU, wait until it and
    its server session are gone. CPU time, unlike wall time, does not stretch on a busy machine,
    so the kill lands at the same point of the work however loaded the CI runner is."""
    process = start(url, args, name)
    kill_at_cpu(process, cpu)
    wait_for_sessions_to_end(engine, name)
    return Kill(cpu, process.returncode == -signal.SIGKILL)


def cpu_of_a_whole_run(url: str, args: list[str]) -> float:
    """The CPU time of one uninterrupted run of ``srdi ARGS`` (which must succeed)."""
    process = start(url, args)
    assert process.stderr is not None
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    err = process.stderr.read()
    process.stderr.close()
    assert process.returncode == 0, err
    return float(usage.ru_utime + usage.ru_stime)


def assert_projections_equal_a_rebuild(engine: Engine) -> None:
    catch_up(engine)
    caught_up = projection_dump(engine)
    rebuild(engine)
    assert projection_dump(engine) == caught_up, "caught-up projections differ from a fresh rebuild"


LANES = 2


@pytest.fixture
def lanes(backend: str, tmp_path: Path) -> Iterator[list[tuple[str, Engine]]]:
    """Two empty databases (URL and engine) on the current back-end, one per lane."""
    with ExitStack() as stack:
        out = []
        for lane in range(LANES):
            folder = tmp_path / f"lane{lane}"
            folder.mkdir()
            url = stack.enter_context(fresh_database(backend, folder))
            engine = open_engine(url)
            stack.callback(engine.dispose)
            out.append((url, engine))
        yield out


def in_lanes(work: Callable[[int, int], str]) -> list[str]:
    """``work(run, lane)`` for runs 0..RUNS-1, lane ``run % LANES``, the lanes side by side."""

    def lane(n: int) -> list[str]:
        return [work(run, n) for run in range(n, RUNS, LANES)]

    with ThreadPoolExecutor(LANES) as pool:
        return [outcome for done in pool.map(lane, range(LANES)) for outcome in done]


# ── import ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.slow
def test_killed_imports_leave_the_whole_file_or_nothing(
    lanes: list[tuple[str, Engine]], backend: str, tmp_path: Path
) -> None:
    """kill -9 of `srdi import` at 20 random points: all or none of the file, chain and views intact."""
    csv = tmp_path / "big.csv"
    data = import_csv_text("KLL", IMPORT_ENTERPRISES).encode()
    csv.write_bytes(data)
    key = "import:" + hashlib.sha256(data).hexdigest()
    pristine = []
    for _, engine in lanes:
        bootstrap(engine).activate_all()
        catch_up(engine)
        pristine.append(snapshot_rows(engine, [t for t in table_names(engine) if t != "alembic_version"]))
    base = event_count(lanes[0][1])
    full = cpu_of_a_whole_run(lanes[0][0], ["import", str(csv)])
    whole, tagged = event_count(lanes[0][1]) - base, _imported(lanes[0][1], key)
    assert tagged == 3 * IMPORT_ENTERPRISES  # one event per line, carrying the import's key
    assert whole > tagged  # and the entitlements the milestones triggered
    cpu = targets(f"import-{backend}", full)

    def work(run: int, lane: int) -> str:
        url, engine = lanes[lane]
        restore_rows(engine, pristine[lane])
        assert event_count(engine) == base
        kill = run_and_kill(url, ["import", str(csv)], cpu[run], f"srdi-kill-import-{lane}-{run}", engine)
        written = event_count(engine) - base
        where = f"run {run} ({cpu[run]:.2f} s CPU)"
        assert written in (0, whole), f"{where}: {written} of {whole} events"
        assert _imported(engine, key) == (tagged if written else 0)
        assert _key_stored(engine, key) == (written == whole), f"{where}: idempotency key out of step"
        result = verify(engine)
        assert result.ok, f"{where}: {result}"
        assert_no_gaps(engine)
        assert_projections_equal_a_rebuild(engine)
        if run % 10 == 0:
            again = _import_again(engine, data)
            assert again.events == whole - written, f"{where}: the rerun wrote {again.events}"
            assert event_count(engine) == base + whole and _imported(engine, key) == tagged
            assert verify(engine).ok
        return f"{'killed' if kill.killed else 'finished'}, {'all' if written else 'none'} written"

    outcomes = Counter(in_lanes(work))
    killed = sum(n for outcome, n in outcomes.items() if outcome.startswith("killed"))
    assert killed >= RUNS // 2, f"most runs must be killed mid-way: {outcomes}"
    print(f"import kills on {backend}: {dict(outcomes)}")


def _imported(engine: Engine, key: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT COUNT(*) FROM events WHERE correlation_id = :c"), {"c": key[:36]}
        )
        return int(found.scalar_one())


def _key_stored(engine: Engine, key: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(sa.text('SELECT COUNT(*) FROM idempotency_keys WHERE "key" = :k'), {"k": key})
        return bool(found.scalar_one())


def _import_again(engine: Engine, data: bytes) -> ImportReport:
    """Run the same import to the end in this process (it must write exactly what is missing)."""
    from service_layer.commands import today

    store = SqlEventStore(engine)
    return import_csv(store, data, today=today(), actor="reliability", reactor=LiveReactor(store))


# ── replay ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class ReplayLane:
    """A demo database, and what its projections hold rebuilt in full and up to each checkpoint."""

    url: str
    engine: Engine
    end: int
    last_hash: str
    reference: dict[str, list[str]]
    at_checkpoint: dict[tuple[str, int], list[str]]


@pytest.mark.slow
def test_killed_replays_leave_every_projection_exact_at_its_checkpoint(
    lanes: list[tuple[str, Engine]], backend: str
) -> None:
    """kill -9 of `srdi replay` at 20 random points: the log untouched, each view exact at its checkpoint."""
    first_url, first = lanes[0]
    demo = run_cli(first_url, "demo", "--enterprises", str(DEMO_ENTERPRISES), "--json")
    assert demo.code == 0, demo.err
    copied = snapshot_rows(first, [t for t in table_names(first) if t != "alembic_version"])
    prepared = []
    for url, engine in lanes:
        if engine is not first:
            restore_rows(engine, copied)  # the same demo, row for row
        end = SqlEventStore(engine).last_position()
        assert end > 2 * int(REPLAY_BATCH), "two replay batches at least"
        assert verify(engine).ok
        rebuild(engine)
        reference = _by_projection(projection_dump(engine))
        prepared.append(ReplayLane(url, engine, end, _last_hash(engine), reference, {}))
    cpu = targets(
        f"replay-{backend}", cpu_of_a_whole_run(lanes[0][0], ["replay", "--batch", REPLAY_BATCH, "--json"])
    )

    def work(run: int, lane: int) -> str:
        db = prepared[lane]
        kill = run_and_kill(
            db.url,
            ["replay", "--batch", REPLAY_BATCH, "--json"],
            cpu[run],
            f"srdi-kill-replay-{lane}-{run}",
            db.engine,
        )
        where = f"run {run} ({cpu[run]:.2f} s CPU)"
        result = verify(db.engine)
        assert result.ok and result.events == db.end, f"{where}: {result}"
        assert _last_hash(db.engine) == db.last_hash
        marks = checkpoints(db.engine)
        state = _by_projection(projection_dump(db.engine))
        for name in registry.PROJECTIONS:
            mark = marks.get(name, 0)
            if (name, mark) not in db.at_checkpoint:
                db.at_checkpoint[(name, mark)] = _rebuilt_up_to(db.engine, name, mark)
            assert state[name] == db.at_checkpoint[(name, mark)], (
                f"{where}: {name} at checkpoint {mark} is not a rebuild up to it"
            )
        catch_up(db.engine)
        assert _by_projection(projection_dump(db.engine)) == db.reference, f"{where}: caught up != rebuild"
        at = ",".join(sorted({str(m) for m in marks.values()}))
        return f"{'killed' if kill.killed else 'finished'} at checkpoint {at}"

    outcomes = Counter(in_lanes(work))
    killed = sum(n for outcome, n in outcomes.items() if outcome.startswith("killed"))
    assert killed >= RUNS // 2, f"most runs must be killed mid-way: {outcomes}"
    print(f"replay kills on {backend}: {dict(outcomes)}")


def _last_hash(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(sa.text("SELECT hash FROM events ORDER BY position DESC LIMIT 1")).scalar_one()
        )


def _by_projection(dump: dict[str, list[str]]) -> dict[str, list[str]]:
    """Rows per projection (all its tables), from a per-table dump."""
    return {name: [row for t in p.tables for row in dump[t.name]] for name, p in registry.PROJECTIONS.items()}


def _rebuilt_up_to(engine: Engine, name: str, position: int) -> list[str]:
    """What ``name`` holds rebuilt from nothing up to ``position`` (left so: the caller catches up next)."""
    projection = registry.PROJECTIONS[name]
    with engine.connect() as conn:
        conn = conn.execution_options(srdi_write=True)
        with conn.begin():
            projection.reset(conn)
            conn.execute(
                sa.update(checkpoints_table).where(checkpoints_table.c.name == name).values(position=0)
            )
    if position:
        catch_up(engine, [name], until_position=position)
    assert checkpoints(engine).get(name, 0) == position
    return _by_projection(projection_dump(engine))[name]
