"""8 `srdi` processes record and report at once, on the same and on different enterprises.

Eight worker threads each run their own list of `srdi` commands as subprocesses, all starting
together, so eight processes decide and append at the same time: every worker writes to the one
shared enterprise S (reports, and a milestone on a track only it touches) and to its own
enterprise D_w (a climb that triggers entitlements), and reads the ledger (a catch-up of its own).
A thread of this process tails the projections (``catch_up`` in a loop) meanwhile.

Then: every command exited 0, or 3 (a conflict that survived the retries: nothing written); each
accepted command's event is in the log exactly once and a refused one's not at all; the chain
verifies; positions and stream versions have no gap; the tailed projections equal a fresh rebuild;
and the log is exactly what running the accepted commands one at a time, in the order the log
holds them, produces in memory (same events, same entitlements: nothing lost, nothing doubled).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from domain.commands import (
    AnyCommand,
    RecordMilestone,
    RegisterEnterprise,
    ReportFinancials,
    ReportPatent,
    ReportTalent,
)
from domain.handlers import handle
from domain.policy.activation import activate
from domain.policy.model import builtin_keys, load_builtin
from events.integrity import verify
from events.memory import InMemoryEventStore
from events.sql_store import SqlEventStore
from events.store import EventStore
from projections.runner import catch_up, checkpoints, rebuild
from service_layer.commands import today
from service_layer.policies import LiveReactor
from tests.backends import fresh_database
from tests.reliability.support import (
    DISTRICTS,
    SRDI,
    assert_no_gaps,
    open_engine,
    projection_dump,
    srdi_env,
    uscc,
)

WORKERS = 8
ACTOR = "reliability"
SHARED = uscc("CNC", 0)
OWN = [uscc("CNC", w + 1) for w in range(WORKERS)]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHARED_TRACK = {
    0: ("srdi-municipal", "certified", date(2023, 3, 1)),
    1: ("hnte", "applied", date(2022, 1, 10)),
    2: ("listing", "otc-listed", date(2024, 5, 1)),
    3: ("tech-sme", "certified", date(2023, 1, 5)),
}


def setup_commands() -> list[AnyCommand]:
    """The enterprises, each already holding the title the workers' milestones build on."""
    out: list[AnyCommand] = []
    for n, who in enumerate([SHARED, *OWN]):
        district = "yubei" if who == SHARED else DISTRICTS[n % len(DISTRICTS)]
        name = f"重庆并发{n}科技有限公司"
        out.append(
            RegisterEnterprise(uscc=who, name=name, district=district, size="small", on=date(2020, 1, 2))
        )
        out.append(RecordMilestone(uscc=who, track="innovative-sme", action="certified", on=date(2021, 5, 1)))
    return out


def prepare(store: EventStore, day: date) -> None:
    """Activate every shipped policy on its in-force date, then run the setup commands."""
    for key in builtin_keys():
        policy = load_builtin(key)
        activate(store, policy, on=policy.in_force_from, today=day, actor=ACTOR)
    reactor = LiveReactor(store)
    for command in setup_commands():
        handle(store, command, today=day, actor=ACTOR, reactor=reactor)


def worker_commands(w: int) -> list[AnyCommand]:
    """What worker ``w`` writes: a report on S, a climb on its own D_w, then S's track or D_w's figures."""
    own = OWN[w]
    shared: list[AnyCommand] = [
        ReportFinancials(uscc=SHARED, year=2016 + w, revenue=Decimal(10_000_000 + w), on=date(2024, 3, 1)),
        ReportTalent(uscc=SHARED, person=f"P{w}", year=2024, contribution=Decimal(600_000),
                     on=date(2025, 3, 1)),
        ReportPatent(uscc=SHARED, number=f"ZL2024-{w}", on=date(2024, 6, 1)),
    ]  # fmt: skip
    on_shared = shared[w % 3]
    climb = RecordMilestone(
        uscc=own, track="srdi-municipal", action="certified", on=date(2023, 3, 1), ref=f"W{w}"
    )
    third: AnyCommand = ReportFinancials(
        uscc=own, year=2023, revenue=Decimal(50_000_000), rd_expense=Decimal(3_000_000), on=date(2024, 3, 31)
    )
    if w in SHARED_TRACK:
        track, action, on = SHARED_TRACK[w]
        third = RecordMilestone(uscc=SHARED, track=track, action=action, on=on, ref=f"S{w}")
    return [on_shared, climb, third]


READERS = (0, 5)  # workers that also read the ledger (a catch-up in their own process) midway


def argv(command: AnyCommand) -> list[str]:
    """The `srdi` arguments that make ``command``."""
    if isinstance(command, RecordMilestone):
        args = ["record", command.uscc, f"{command.track}.{command.action}", "--on", command.on.isoformat()]
        return [*args, *(["--ref", command.ref] if command.ref else [])]
    assert not isinstance(command, RegisterEnterprise)
    on = ["--on", command.on.isoformat()] if command.on else []
    if isinstance(command, ReportFinancials):
        rd = ["--rd-expense", str(command.rd_expense)] if command.rd_expense is not None else []
        return ["report", command.uscc, "financials", "--year", str(command.year),
                "--revenue", str(command.revenue), *rd, *on]  # fmt: skip
    if isinstance(command, ReportTalent):
        return ["report", command.uscc, "talent", "--person", command.person, "--year", str(command.year),
                "--contribution", str(command.contribution), *on]  # fmt: skip
    if isinstance(command, ReportPatent):
        return ["report", command.uscc, "patent", "--number", command.number, *on]
    raise TypeError(type(command).__name__)


@dataclass
class Run:
    """One command a worker ran: what, its exit code, its output."""

    worker: int
    command: AnyCommand | None  # None: a read
    code: int
    out: str
    err: str

    @property
    def event_id(self) -> str:
        return str(json.loads(self.out)["event_id"])


def run_worker(url: str, w: int, start: threading.Barrier, runs: list[Run]) -> None:
    start.wait()
    steps: list[AnyCommand | None] = [*worker_commands(w)]
    if w in READERS:
        steps.insert(2, None)
    for command in steps:
        args = argv(command) if command is not None else ["ledger", "--enterprise", OWN[w]]
        done = subprocess.run(
            [SRDI, "--db", url, *args, "--json"], capture_output=True, text=True, timeout=300, env=srdi_env()
        )
        runs.append(Run(w, command, done.returncode, done.stdout, done.stderr))


def tail(engine: Engine, stop: threading.Event, reached: list[int], errors: list[BaseException]) -> None:
    """Catch the projections up again and again while the workers write."""
    try:
        while not stop.is_set():
            reached.append(catch_up(engine).position)
            time.sleep(0.05)
    except BaseException as error:  # pragma: no cover - reported by the test
        errors.append(error)


def shape(events: Sequence[Any]) -> list[tuple[str, str, date]]:
    """A stream as comparable text: type, payload with every uuid masked, business date."""
    out = []
    for e in events:
        data = json.dumps(e.data, sort_keys=True, ensure_ascii=False, default=str)
        out.append((e.event_type, UUID.sub("<id>", data), e.occurred_on))
    return out


@pytest.mark.slow
def test_eight_processes_write_at_once_and_nothing_is_lost_or_doubled(backend: str, tmp_path: Any) -> None:
    """Concurrent `srdi` writers: exits 0 or 3 only; the log equals the accepted commands run serially."""
    day = today()
    with fresh_database(backend, tmp_path) as url:
        engine = open_engine(url)
        try:
            store = SqlEventStore(engine)
            prepare(store, day)
            catch_up(engine)
            runs: list[Run] = []
            start = threading.Barrier(WORKERS)
            stop, reached, errors = threading.Event(), [0], list[BaseException]()
            tailer = threading.Thread(target=tail, args=(engine, stop, reached, errors))
            tailer.start()
            workers = [
                threading.Thread(target=run_worker, args=(url, w, start, runs)) for w in range(WORKERS)
            ]
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()
            stop.set()
            tailer.join()
            assert not errors, errors
            check(engine, store, runs, reached, day)
        finally:
            engine.dispose()


def check(engine: Engine, store: SqlEventStore, runs: list[Run], reached: list[int], day: date) -> None:
    assert len(runs) == sum(len(worker_commands(w)) for w in range(WORKERS)) + len(READERS)
    for run in runs:
        assert run.code in (0, 3), f"worker {run.worker} {run.command!r}: exit {run.code} {run.err}"
        if run.code == 3:
            lines = run.err.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in run.err, run.err
    accepted = [r for r in runs if r.command is not None and r.code == 0]
    conflicts = [r for r in runs if r.command is not None and r.code == 3]
    result = verify(engine)
    assert result.ok, result
    assert_no_gaps(engine)
    # each accepted command's own event: in the log once, in its enterprise's stream
    position: dict[str, int] = {}
    for run in accepted:
        event = store.get_event(run.event_id)
        assert event is not None, f"accepted but lost: {run.command!r}"
        assert event.stream_id == f"enterprise-{run.command.uscc}"  # type: ignore[union-attr]
        position[run.event_id] = event.position
    assert len(position) == len(accepted), "two commands reported the same event"
    # the refused ones wrote nothing: their distinguishing values appear nowhere
    for run in conflicts:
        marker = json.dumps(run.command.model_dump(mode="json"), sort_keys=True)  # type: ignore[union-attr]
        assert not [e for e in store.read_all() if _same(run.command, e)], f"exit 3 but written: {marker}"
    # the tailing projection missed nothing: caught up, it equals a fresh rebuild
    assert reached == sorted(reached), "the tail went backwards"
    catch_up(engine)
    end = store.last_position()
    assert set(checkpoints(engine).values()) == {end}
    tailed = projection_dump(engine)
    rebuild(engine)
    assert projection_dump(engine) == tailed, "the tailed projections differ from a rebuild"
    # serialisable: the accepted commands, one at a time in log order, give exactly this log
    memory = InMemoryEventStore()
    prepare(memory, day)
    reactor = LiveReactor(memory)
    for run in sorted(accepted, key=lambda r: position[r.event_id]):
        assert run.command is not None
        handle(memory, run.command, today=day, actor=ACTOR, reactor=reactor)
    for who in [SHARED, *OWN]:
        stream = f"enterprise-{who}"
        assert shape(store.read_stream(stream)) == shape(memory.read_stream(stream)), who
    assert store.last_position() == memory.last_position()


def _same(command: AnyCommand | None, event: Any) -> bool:
    """Is ``event`` what ``command`` would have written (same stream, type and values)?"""
    if command is None or event.stream_id != f"enterprise-{getattr(command, 'uscc', '')}":
        return False
    if isinstance(command, RecordMilestone):
        return bool(event.event_type == "MilestoneRecorded" and event.data.get("ref") == command.ref)
    if isinstance(command, ReportFinancials):
        return bool(event.event_type == "FinancialsReported" and event.data.get("year") == command.year)
    if isinstance(command, ReportTalent):
        return bool(
            event.event_type == "TalentContributionReported" and event.data["person"] == command.person
        )
    if isinstance(command, ReportPatent):
        return bool(event.event_type == "PatentGranted" and event.data["number"] == command.number)
    return False
