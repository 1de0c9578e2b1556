"""One active scheduler per database: the leader lock, and a standby taking over from a killed leader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from scheduler.leader import leader_lock
from tests.bootstrap import FakeNotifier, bootstrap

T = TypeVar("T")
SRDI = str(Path(sys.executable).parent / "srdi")


def test_only_one_process_holds_the_leader_lock(engine: Engine, tmp_path: Path) -> None:
    """While one holder has the lock a second cannot take it; once released, the second can."""
    first, second = leader_lock(engine), leader_lock(engine)
    try:
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire()
        first.release()
        assert not first.still_held()
        assert second.try_acquire() and second.still_held()
    finally:
        first.release()
        second.release()


def _events(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def _wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _logged(logs: dict[int, Path], event: str, exclude: int | None = None) -> int | None:
    """The pid of a process that logged ``event`` (other than ``exclude``)."""
    for pid, log in logs.items():
        if pid != exclude and any(e.get("event") == event for e in _events(log)):
            return pid
    return None


def test_a_standby_takes_over_from_a_killed_leader_and_nothing_is_sent_twice(
    db_url: str, tmp_path: Path, notifier: FakeNotifier
) -> None:
    """Three `scheduler run` processes: SIGKILL the leader, a standby leads within 30 s, no duplicates."""
    office = bootstrap(url=db_url, notifier=notifier)
    office.store.last_position()  # the database migrated before the processes start
    early = office.add_enterprise(31)
    office.record(early, "innovative-sme.certified", date(2021, 3, 1))
    env = {
        **os.environ,
        "SRDI_DATABASE_URL": db_url,
        "SRDI_STANDBY_POLL_SECONDS": "0.2",
        **notifier.environment(),
        "SRDI_LOG_FORMAT": "json",
        "SRDI_LOG_LEVEL": "info",
    }
    processes: dict[int, subprocess.Popen[bytes]] = {}
    logs: dict[int, Path] = {}
    try:
        for n in range(3):
            log = tmp_path / f"scheduler-{n}.log"
            with log.open("wb") as err:
                proc = subprocess.Popen(
                    [SRDI, "scheduler", "run", "--today", "2024-02-01"], env=env, stderr=err
                )
            processes[proc.pid], logs[proc.pid] = proc, log
        leader = _wait_for("a leader", lambda: _logged(logs, "scheduler leading"), 20)
        _wait_for("the leader's first scan", lambda: _logged({leader: logs[leader]}, "scan done"), 20)
        late = office.add_enterprise(
            32
        )  # appears while the leader is already up: the next leader must issue it
        office.record(late, "innovative-sme.certified", date(2021, 3, 15))
        os.kill(leader, signal.SIGKILL)
        killed_at = time.monotonic()
        processes[leader].wait(10)
        successor = _wait_for(
            "a standby to lead", lambda: _logged(logs, "scheduler leading", exclude=leader), 30
        )
        took = time.monotonic() - killed_at
        _wait_for("the successor's scan", lambda: _logged({successor: logs[successor]}, "scan done"), 20)
        assert took < 30
        standby = next(pid for pid in processes if pid not in (leader, successor))
        # up and standing by before it is stopped: a process still starting has no handler yet, and
        # the three start at once (on a loaded host the third was still starting: killed by SIGTERM)
        _wait_for(
            "the third to stand by", lambda: _logged({standby: logs[standby]}, "scheduler standing by"), 30
        )
        for pid in (standby, successor):  # the standby first, or it would lead once the successor stops
            processes[pid].send_signal(signal.SIGTERM)
            assert processes[pid].wait(20) == 0
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    leading = [
        pid for pid, log in logs.items() if any(e.get("event") == "scheduler leading" for e in _events(log))
    ]
    assert sorted(leading) == sorted({leader, successor})
    sent = notifier.sent()
    assert len({n["event_id"] for n in sent}) == len(sent) == 2
    assert sorted((n["uscc"], n["threshold"]) for n in sent) == sorted([(early, 30), (late, 90)])
