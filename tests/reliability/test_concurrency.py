"""8 `srdi` processes record and report at once, on the same and on different enterprises.

Eight worker threads each run their own list of `srdi` commands as subprocesses, all starting
together, so eight processes decide and append at the same time. Two plans:

- mixed: every worker writes to the one shared enterprise S (reports, and a milestone on a track
  only it touches) and to its own enterprise D_w (a climb that triggers entitlements), and two
  read the ledger (a catch-up of their own);
- burst: every command of every worker is on S (three or four each, reports and milestones), the
  worst case for optimistic concurrency on one stream.

A thread of this process tails the projections (``catch_up`` in a loop) meanwhile. Then: every
command exited 0 (a conflict is retried with a jittered back-off, `service_layer.retry`: none may
survive); each command's event is in the log exactly once, in its enterprise's stream; the chain
verifies; positions and stream versions have no gap; the tailed projections equal a fresh
rebuild; and the log is exactly what running the commands one at a time, in the order the log
holds them, produces in memory (same events, same entitlements: nothing lost, nothing doubled).

Last, deterministic interleavings of a policy activation with commands (hooks, no timing): an
enterprise registered and certified while an activation runs, and a command decided with the
policy list an activation then replaces, are each owed what the new policy gives, once.
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
from events.integrity import verify
from events.store import EventStore
from projections.feed import catch_up, checkpoints, rebuild
from service_layer.commands import today
from tests.backends import fresh_database
from tests.bootstrap import Office, bootstrap
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


def prepare(office: Office) -> Office:
    """Activate every shipped policy on its in-force date, then run the setup commands."""
    office.actor = ACTOR
    office.activate_all()
    for command in setup_commands():
        office.run(command)
    return office


def reports_on_shared(
    financials: tuple[int, int, date], talent: tuple[str, int, date], patent: tuple[str, date]
) -> list[AnyCommand]:
    """Three reports on S: (year, revenue, day) financials, (person, contribution, day) talent for
    2024, and (number, day) patent; each worker's own year, person and number, so none collide."""
    (year, revenue, filed), (person, contribution, paid), (number, granted) = financials, talent, patent
    return [
        ReportFinancials(uscc=SHARED, year=year, revenue=Decimal(revenue), on=filed),
        ReportTalent(uscc=SHARED, person=person, year=2024, contribution=Decimal(contribution), on=paid),
        ReportPatent(uscc=SHARED, number=number, on=granted),
    ]


def worker_commands(w: int) -> list[AnyCommand]:
    """What worker ``w`` writes: a report on S, a climb on its own D_w, then S's track or D_w's figures."""
    own = OWN[w]
    shared = reports_on_shared(
        (2016 + w, 10_000_000 + w, date(2024, 3, 1)), (f"P{w}", 600_000, date(2025, 3, 1)),
        (f"ZL2024-{w}", date(2024, 6, 1)),
    )  # fmt: skip
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

Step = AnyCommand | str
"""A command, or the USCC whose ledger the worker reads (`srdi ledger --enterprise`)."""


def mixed_plan(w: int) -> list[Step]:
    """Worker ``w``'s steps when the workers share S and each also has its own D_w."""
    steps: list[Step] = [*worker_commands(w)]
    if w in READERS:
        steps.insert(2, OWN[w])
    return steps


def burst_plan(w: int) -> list[Step]:
    """Worker ``w``'s steps when everything is on S: its own year, person and patent, and for four
    of them a milestone on a track only they touch; one worker reads S's ledger midway."""
    steps: list[Step] = [
        *reports_on_shared(
            (2008 + w, 20_000_000 + w, date(2024, 4, 1)), (f"Q{w}", 700_000, date(2025, 3, 2)),
            (f"ZL2023-{w}", date(2024, 7, 1)),
        )
    ]  # fmt: skip
    steps = steps[w % 3 :] + steps[: w % 3]  # not all workers start with the same kind of command
    if w in SHARED_TRACK:
        track, action, on = SHARED_TRACK[w]
        steps.insert(1, RecordMilestone(uscc=SHARED, track=track, action=action, on=on, ref=f"B{w}"))
    if w == READERS[1]:
        steps.insert(2, SHARED)
    return steps


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
    """One step a worker ran: the command (None: a ledger read), its exit code, its output."""

    worker: int
    command: AnyCommand | None
    code: int
    out: str
    err: str

    @property
    def event_id(self) -> str:
        return str(json.loads(self.out)["event_id"])


def run_worker(url: str, w: int, steps: list[Step], start: threading.Barrier, runs: list[Run]) -> None:
    start.wait()
    for step in steps:
        args = ["ledger", "--enterprise", step] if isinstance(step, str) else argv(step)
        done = subprocess.run(
            [SRDI, "--db", url, *args, "--json"], capture_output=True, text=True, timeout=300, env=srdi_env()
        )
        command = None if isinstance(step, str) else step
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
@pytest.mark.parametrize("plan", ["mixed", "burst"])
def test_eight_processes_write_at_once_and_nothing_is_lost_or_doubled(
    backend: str, tmp_path: Any, plan: str
) -> None:
    """Concurrent `srdi` writers (S shared and D_w apart, or all on S): every one exits 0; the log
    equals the commands run one at a time in log order."""
    day = today()
    plans = [(mixed_plan if plan == "mixed" else burst_plan)(w) for w in range(WORKERS)]
    with fresh_database(backend, tmp_path) as url:
        engine = open_engine(url)
        try:
            store = prepare(bootstrap(engine, today=day)).store
            catch_up(engine)
            runs: list[Run] = []
            start = threading.Barrier(WORKERS)
            stop, reached, errors = threading.Event(), [0], list[BaseException]()
            tailer = threading.Thread(target=tail, args=(engine, stop, reached, errors))
            tailer.start()
            workers = [
                threading.Thread(target=run_worker, args=(url, w, plans[w], start, runs))
                for w in range(WORKERS)
            ]
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()
            stop.set()
            tailer.join()
            assert not errors, errors
            assert len(runs) == sum(len(steps) for steps in plans)
            check(engine, store, runs, reached, day)
        finally:
            engine.dispose()


def check(engine: Engine, store: EventStore, runs: list[Run], reached: list[int], day: date) -> None:
    for run in runs:
        assert run.code == 0, f"worker {run.worker} {run.command!r}: exit {run.code} {run.err}"
    accepted = [r for r in runs if r.command is not None]
    result = verify(engine)
    assert result.ok, result
    assert_no_gaps(engine)
    # each command's own event: in the log once, in its enterprise's stream
    position: dict[str, int] = {}
    for run in accepted:
        event = store.get_event(run.event_id)
        assert event is not None, f"accepted but lost: {run.command!r}"
        assert event.stream_id == f"enterprise-{run.command.uscc}"  # type: ignore[union-attr]
        position[run.event_id] = event.position
    assert len(position) == len(accepted), "two commands reported the same event"
    # the tailing projection missed nothing: caught up, it equals a fresh rebuild
    assert reached == sorted(reached), "the tail went backwards"
    catch_up(engine)
    end = store.last_position()
    assert set(checkpoints(engine).values()) == {end}
    tailed = projection_dump(engine)
    rebuild(engine)
    assert projection_dump(engine) == tailed, "the tailed projections differ from a rebuild"
    # serialisable: the commands, one at a time in log order, give exactly this log
    memory = prepare(bootstrap(today=day))
    for run in sorted(accepted, key=lambda r: position[r.event_id]):
        assert run.command is not None
        memory.run(run.command)
    for who in [SHARED, *OWN]:
        assert shape(store.read_stream(f"enterprise-{who}")) == shape(memory.stream(who)), who
    assert store.last_position() == memory.store.last_position()


# ── a policy activation interleaved with commands, step by step ──────────────────────────────

NEWCOMER = uscc("CNR", 1)
KNOWN = uscc("CNR", 2)


def _services(url: str) -> Any:
    """What one `srdi` process wires up: its own engine, store and cached policy list."""
    from service_layer.bootstrap import open_services

    return open_services(url)


def execute_all(services: Any, commands: Sequence[AnyCommand]) -> list[Any]:
    """Run ``commands`` one after the other through the service layer's door (as the CLI does)."""
    from service_layer.commands import execute

    return [execute(services, command) for command in commands]


def _register(who: str) -> RegisterEnterprise:
    return RegisterEnterprise(uscc=who, name="重庆交错科技有限公司", district="yubei", size="small",
                              on=date(2020, 1, 2))  # fmt: skip


INNOVATIVE = RecordMilestone(uscc=NEWCOMER, track="innovative-sme", action="certified", on=date(2021, 5, 1))
SRDI_2023 = RecordMilestone(uscc=NEWCOMER, track="srdi-municipal", action="certified", on=date(2023, 3, 1))


def _yb5a(store: EventStore, who: str) -> list[Any]:
    """The YB-5a entitlements (市级专精特新 award, Yubei 2024) in ``who``'s stream."""
    return [
        e
        for e in store.read_stream(f"enterprise-{who}")
        if e.event_type == "EntitlementCreated" and e.data["rule"] == "YB-5a"
    ]


class Once:
    """Runs ``action`` the first time it is called, and never again."""

    def __init__(self, action: Any) -> None:
        self.action, self.done = action, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.action()


@pytest.mark.parametrize("moment", ["after-the-scan", "during-the-evaluation"])
def test_an_enterprise_registered_during_an_activation_is_evaluated_by_it(
    backend: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """Registered and certified (with the old policy list) after the activation listed Yubei's
    enterprises, before it appended: the new policy still owes it YB-5a, once, by the activation."""
    import service_layer.activation as activation
    from service_layer import policies

    with fresh_database(backend, tmp_path) as url:
        admin, other = _services(url), _services(url)
        try:
            execute_all(other, [_register(KNOWN)])
            interleave = Once(lambda: execute_all(other, [_register(NEWCOMER), INNOVATIVE, SRDI_2023]))
            if moment == "after-the-scan":
                scan = policies.district_usccs

                def scan_then_interleave(services: Any, districts: Sequence[str]) -> list[str]:
                    found = scan(services, districts)
                    interleave()
                    return found

                monkeypatch.setattr(policies, "district_usccs", scan_then_interleave)
            else:
                from domain.policy.reactor import reconcile as evaluate  # what activation calls

                def interleave_then_evaluate(*args: Any, **kwargs: Any) -> Any:
                    interleave()
                    return evaluate(*args, **kwargs)

                monkeypatch.setattr(activation, "reconcile", interleave_then_evaluate)
            result = policies.activate_policy(admin, "yubei-2024")
            assert interleave.done and result.activated
            assert result.enterprises == 2  # KNOWN and NEWCOMER
            owed = _yb5a(admin.store, NEWCOMER)
            assert [(e.data["status"], e.data["amount"]) for e in owed] == [("accrued", "100000")]
            assert owed[0].causation_id == result.event_id
            assert verify(admin.engine).ok
        finally:
            admin.close()
            other.close()


def test_a_command_decided_before_an_activation_and_appended_after_it_is_decided_again(
    backend: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certification decided with the old policy list, appended after the activation committed:
    its append asserts the `policies` version, so it is decided again and owes YB-5a, once."""
    from service_layer import policies

    with fresh_database(backend, tmp_path) as url:
        admin, other = _services(url), _services(url)
        try:
            execute_all(other, [_register(NEWCOMER), INNOVATIVE])
            reactor = other.reactor
            react = reactor.react
            interleave = Once(lambda: policies.activate_policy(admin, "yubei-2024"))

            def react_then_interleave(enterprise: Any, new_events: Any, *, today: date) -> Any:
                decided = react(enterprise, new_events, today=today)
                if not interleave.done:
                    assert "yubei-2024" not in reactor.active()  # decided with the old list
                interleave()
                return decided

            monkeypatch.setattr(reactor, "react", react_then_interleave)
            [done] = execute_all(other, [SRDI_2023])
            assert interleave.done
            owed = _yb5a(admin.store, NEWCOMER)
            assert [(e.data["status"], e.causation_id) for e in owed] == [("accrued", done.event_id)]
            assert verify(admin.engine).ok
        finally:
            admin.close()
            other.close()
