"""kill -9 of `srdi scheduler run --once` mid-scan: no notice lost, none sent twice (both backends)."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date
from pathlib import Path

import pytest

from events.schemas import reminder_stream
from tests.bootstrap import FakeNotifier, Office, bootstrap
from tests.reliability.support import SRDI, kill_at_cpu, srdi_env, uscc

ENTERPRISES = 60  # in each half: one scanned whole to time a scan, one scanned under the kills
TODAY = "2024-01-30"  # 30 days before 2024-02-29, when a 2021-03-01 certification lapses
KILL_SHARES = (0.6, 0.7, 0.8, 0.9, 0.95)  # of a whole scan's CPU (start-up is about half of it)


def _certified(office: Office, n: int) -> str:
    """Enterprise ``n``, innovative-sme since 2021-03-01 (it lapses on 2024-03-01)."""
    code = uscc("RMD", n)
    office.register(code, "yubei", None, name=f"重庆提醒{n}有限公司", on=date(2019, 1, 2))
    office.record(code, "innovative-sme.certified", "2021-03-01")
    return code


def _reminder_ids(office: Office, codes: list[str]) -> set[str]:
    return {e.event_id for code in codes for e in office.store.read_stream(reminder_stream(code))}


def _cpu_of_a_whole_run(url: str, env: dict[str, str]) -> float:
    """The CPU seconds of one uninterrupted scan (which must succeed)."""
    process = subprocess.Popen(
        [SRDI, "--db", url, "scheduler", "run", "--once", "--today", TODAY],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return float(usage.ru_utime + usage.ru_stime)


def _run(url: str, env: dict[str, str], kill_at: float | None) -> int:
    process = subprocess.Popen(
        [SRDI, "--db", url, "scheduler", "run", "--once", "--today", TODAY],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    kill_at_cpu(process, kill_at)
    return process.returncode


@pytest.mark.slow
def test_killed_scans_lose_no_notice_and_send_none_twice(db_url: str, tmp_path: Path) -> None:
    """Kill the scan at five points; after each, every notice sent is a recorded reminder, sent once;
    a last uninterrupted run sends every reminder the log holds. The points are shares of the CPU
    a whole scan of as many enterprises took just before (a fixed number of seconds stops landing
    inside the scan when the host or the code gets faster)."""
    notifier = FakeNotifier(tmp_path / "outbox.jsonl")
    office = bootstrap(url=db_url, notifier=notifier)
    codes = [_certified(office, n) for n in range(ENTERPRISES)]
    env = {
        **srdi_env(),
        **notifier.environment(),
        "SRDI_LEADER_LOCK_PATH": str(tmp_path / "leader.lock"),
    }
    whole = _cpu_of_a_whole_run(db_url, env)
    codes += [_certified(office, n) for n in range(ENTERPRISES, 2 * ENTERPRISES)]
    killed = 0
    for share in KILL_SHARES:
        killed += _run(db_url, env, share * whole) == -signal.SIGKILL
        sent = [n["event_id"] for n in notifier.sent()]
        assert len(sent) == len(set(sent)), "a notice was sent twice"
        assert set(sent) <= _reminder_ids(office, codes), "a notice without its reminder"
    assert _run(db_url, env, None) == 0
    recorded = _reminder_ids(office, codes)
    sent = [n["event_id"] for n in notifier.sent()]
    assert len(recorded) == 2 * ENTERPRISES and killed >= 1
    assert sorted(sent) == sorted(recorded)
    office.services.close()
