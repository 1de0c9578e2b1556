"""kill -9 of `srdi scheduler run --once` mid-scan: no notice lost, none sent twice (both backends)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from domain.commands import RecordMilestone, RegisterEnterprise
from events.schemas import reminder_stream
from service_layer.bootstrap import Services
from service_layer.settings import Settings
from service_layer.unit_of_work import handle
from tests.reliability.support import SRDI, srdi_env, uscc
from tests.reliability.test_crashes import cpu_seconds

ENTERPRISES = 40
TODAY = "2024-01-30"  # 30 days before 2024-02-29, when a 2021-03-01 certification lapses
KILLS_AT = (0.45, 0.6, 0.75, 0.9, 1.1)  # CPU seconds into each run (start-up is about 0.3 s)


def _history(url: str) -> list[str]:
    svc = Services(Settings(database_url=url))
    codes = []
    for n in range(ENTERPRISES):
        code = uscc("RMD", n)
        registered = RegisterEnterprise(
            uscc=code, name=f"重庆提醒{n}有限公司", district="yubei", on=date(2019, 1, 2)
        )
        handle(svc.store, registered, today=date(2019, 1, 2), actor="t")
        certified = RecordMilestone(
            uscc=code, track="innovative-sme", action="certified", on=date(2021, 3, 1)
        )
        handle(svc.store, certified, today=date(2021, 3, 1), actor="t")
        codes.append(code)
    svc.close()
    return codes


def _reminder_ids(url: str, codes: list[str]) -> set[str]:
    svc = Services(Settings(database_url=url))
    try:
        return {e.event_id for code in codes for e in svc.store.read_stream(reminder_stream(code))}
    finally:
        svc.close()


def _sent(outbox: Path) -> list[str]:
    if not outbox.exists():
        return []
    return [json.loads(line)["event_id"] for line in outbox.read_text(encoding="utf-8").splitlines()]


def _run(url: str, env: dict[str, str], kill_at: float | None) -> int:
    process = subprocess.Popen(
        [SRDI, "--db", url, "scheduler", "run", "--once", "--today", TODAY],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    while kill_at is not None and process.poll() is None:
        used = cpu_seconds(process.pid)
        if used is not None and used >= kill_at:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, -signal.SIGKILL), err[-2000:]
    return process.returncode


@pytest.mark.slow
def test_killed_scans_lose_no_notice_and_send_none_twice(db_url: str, tmp_path: Path) -> None:
    """Kill the scan at five points; after each, every notice sent is a recorded reminder, sent once;
    a last uninterrupted run sends every reminder the log holds."""
    codes = _history(db_url)
    outbox = tmp_path / "outbox.jsonl"
    env = {
        **srdi_env(),
        "SRDI_NOTIFY_CHANNELS": '["log", "outbox"]',
        "SRDI_OUTBOX_PATH": str(outbox),
        "SRDI_LEADER_LOCK_PATH": str(tmp_path / "leader.lock"),
    }
    killed = 0
    for cpu in KILLS_AT:
        killed += _run(db_url, env, cpu) == -signal.SIGKILL
        sent = _sent(outbox)
        assert len(sent) == len(set(sent)), "a notice was sent twice"
        assert set(sent) <= _reminder_ids(db_url, codes), "a notice without its reminder"
    assert _run(db_url, env, None) == 0
    recorded = _reminder_ids(db_url, codes)
    sent = _sent(outbox)
    assert len(recorded) == ENTERPRISES and killed >= 1
    assert sorted(sent) == sorted(recorded)
