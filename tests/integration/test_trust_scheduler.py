"""The scheduler runs no data as code, and its notices survive a kill: on both backends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from events import anchors
from events.db import make_engine
from scheduler import daemon, jobs, outbox
from scheduler.tables import notices_table
from service_layer.anchoring import anchor
from tests.integration.scheduler_support import outbox as outbox_lines
from tests.integration.scheduler_support import record, register, reminders, services_for, url_of
from tests.integration.test_scheduler_email import Inbox, _free_port

CERTIFIED = date(2021, 3, 1)
V = date(2024, 2, 29)  # innovative-sme certified 2021-03-01 is valid through 2024-02-29


def planted(marker: str) -> None:
    """What a planted job would run: leave a marker (it must never run)."""
    Path(marker).write_text("ran", encoding="utf-8")


def _pending(engine: Engine) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            sa.or_(notices_table.c.outbox_pending, notices_table.c.email_pending)
        )
        return int(conn.execute(query).scalar_one())


def test_a_planted_job_row_never_runs_when_the_scheduler_leads(engine: Engine, tmp_path: Path) -> None:
    """A pickled job planted in an 'apscheduler_jobs' table, due now: the leader never reads or runs it."""
    marker = tmp_path / "planted-ran"
    planter = BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=make_engine(url_of(engine)), tablename="apscheduler_jobs")
        }
    )
    planter.add_job(planted, "interval", seconds=1, args=[str(marker)], id="planted", next_run_time=None)
    planter.start(paused=True)
    planter.modify_job("planted", next_run_time=None)
    with engine.begin() as conn:  # due a minute ago, as an attacker would leave it
        conn.execute(sa.text("UPDATE apscheduler_jobs SET next_run_time = :t"), {"t": time.time() - 60})
    planter.shutdown(wait=False)
    svc = services_for(engine, tmp_path, standby_poll_seconds=0.05)
    stop = threading.Event()
    clock = daemon.Clock.pinned(ZoneInfo("Asia/Shanghai"), date(2024, 1, 1))
    runner = threading.Thread(target=daemon.run, args=(svc, clock, stop))
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while jobs.last_scanned(svc) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert jobs.last_scanned(svc) == date(2024, 1, 1)  # it led and scanned
        time.sleep(1.5)  # an interval job due a minute ago would have run by now
    finally:
        stop.set()
        runner.join(20)
    assert not marker.exists()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM apscheduler_jobs")).scalar_one() == 1


def test_the_jobs_come_from_code_and_include_the_anchor_when_a_key_is_set(
    engine: Engine, tmp_path: Path
) -> None:
    """add_jobs: the daily scan; with SRDI_ANCHOR_KEY also the daily anchor, which signs the log."""
    key = tmp_path / "anchor.key"
    anchors.keygen(key)
    svc = services_for(engine, tmp_path, anchor_key=key, anchor_log=tmp_path / "anchors.jsonl")
    scheduler = daemon.build_scheduler(svc.settings)
    daemon.add_jobs(scheduler, svc.settings)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(
        [daemon.DAILY_JOB_ID, daemon.ANCHOR_JOB_ID]
    )
    register(svc, 1)
    previous, daemon._ACTIVE = daemon._ACTIVE, (svc, daemon.Clock(ZoneInfo("Asia/Shanghai")))
    try:
        daemon.scheduled_anchor()
    finally:
        daemon._ACTIVE = previous
    (signed,) = anchors.read(tmp_path / "anchors.jsonl")
    assert signed.position == svc.store.last_position() == 1


def test_a_kill_after_the_scan_commits_loses_no_notice(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reminders committed but never sent (killed before delivery) wait in the outbox; the next delivery
    sends each once, and a delivery killed after writing the file does not write them again."""
    svc = services_for(engine, tmp_path)
    codes = [register(svc, n) for n in range(1, 6)]
    for code in codes:
        record(svc, code, "innovative-sme", "certified", CERTIFIED)
    monkeypatch.setattr(jobs, "deliver", lambda *_: 0)  # the process dies right after the commits
    jobs.scan_since_last(svc, V - timedelta(days=30))
    issued = sum(len(reminders(svc, code)) for code in codes)
    assert issued == 5 and _pending(engine) == 5 and outbox_lines(tmp_path / "outbox.jsonl") == []

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # after the file was written, before the rows were marked sent

    monkeypatch.setattr(outbox, "_clear", killed)
    with pytest.raises(KeyboardInterrupt):
        outbox.deliver(engine, svc.settings)
    assert len(outbox_lines(tmp_path / "outbox.jsonl")) == 5 and _pending(engine) == 5
    monkeypatch.undo()
    assert outbox.deliver(engine, svc.settings) == 5
    sent = outbox_lines(tmp_path / "outbox.jsonl")
    assert len(sent) == len({n["event_id"] for n in sent}) == 5 and _pending(engine) == 0
    assert outbox.deliver(engine, svc.settings) == 0
    jobs.scan_since_last(svc, V - timedelta(days=30))  # a rerun of the same day: nothing new, nothing resent
    assert len(outbox_lines(tmp_path / "outbox.jsonl")) == 5


def test_a_notice_exists_exactly_when_its_event_does(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reminder whose notice cannot be written is not recorded either (one transaction)."""
    svc = services_for(engine, tmp_path)
    code = register(svc, 7)
    record(svc, code, "innovative-sme", "certified", CERTIFIED)

    def broken(*_: object) -> None:
        raise RuntimeError("outbox table unwritable")

    monkeypatch.setattr(outbox, "enqueue", broken)
    with pytest.raises(RuntimeError):
        jobs.scan_since_last(svc, V - timedelta(days=30))
    assert reminders(svc, code) == [] and _pending(engine) == 0
    monkeypatch.undo()
    jobs.scan_since_last(svc, V - timedelta(days=30))
    assert reminders(svc, code) == [("innovative-sme", 30, 30)]
    assert [n["uscc"] for n in outbox_lines(tmp_path / "outbox.jsonl")] == [code]


@pytest.fixture
def auditors_smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback for the auditors' mail."""
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_an_anchor_is_mailed_to_the_auditors(
    engine: Engine, tmp_path: Path, auditors_smtp: tuple[Inbox, int]
) -> None:
    """With SRDI_AUDITOR_EMAILS set, each anchor is also mailed there, its signed line in the body."""
    inbox, port = auditors_smtp
    key = tmp_path / "anchor.key"
    anchors.keygen(key)
    svc = services_for(
        engine, tmp_path, smtp_port=port, auditor_emails=["audit@czj.example"], anchor_key=key,
        anchor_log=tmp_path / "anchors.jsonl",
    )  # fmt: skip
    register(svc, 3)
    done = anchor(svc.settings, svc.engine)
    assert done.mailed_to == ("audit@czj.example",)
    ((to, message),) = inbox.received
    assert to == ["audit@czj.example"] and f"position {done.anchor.position}" in str(message["Subject"])
    body = message.get_content()
    signed = next(json.loads(line) for line in body.splitlines() if line.startswith("{"))
    assert signed == json.loads((tmp_path / "anchors.jsonl").read_text())
