"""The scheduler runs no data as code, and its notices survive a kill: on both backends."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
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
from tests.bootstrap import FakeNotifier, Inbox, Office, bootstrap

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


def test_a_planted_job_row_never_runs_when_the_scheduler_leads(
    engine: Engine, tmp_path: Path, notifier: FakeNotifier
) -> None:
    """A pickled job planted in an 'apscheduler_jobs' table, due now: the leader never reads or runs it."""
    marker = tmp_path / "planted-ran"
    planter = BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(
                engine=make_engine(engine.url.render_as_string(hide_password=False)),
                tablename="apscheduler_jobs",
            )
        }
    )
    planter.add_job(planted, "interval", seconds=1, args=[str(marker)], id="planted", next_run_time=None)
    planter.start(paused=True)
    planter.modify_job("planted", next_run_time=None)
    with engine.begin() as conn:  # due a minute ago, as an attacker would leave it
        conn.execute(sa.text("UPDATE apscheduler_jobs SET next_run_time = :t"), {"t": time.time() - 60})
    planter.shutdown(wait=False)
    office = bootstrap(engine, notifier=notifier, standby_poll_seconds=0.05)
    stop = threading.Event()
    clock = daemon.Clock.pinned(ZoneInfo("Asia/Shanghai"), date(2024, 1, 1))
    runner = threading.Thread(target=daemon.run, args=(office.services, clock, stop))
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while jobs.last_scanned(office.services) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert jobs.last_scanned(office.services) == date(2024, 1, 1)  # it led and scanned
        time.sleep(1.5)  # an interval job due a minute ago would have run by now
    finally:
        stop.set()
        runner.join(20)
    assert not marker.exists()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM apscheduler_jobs")).scalar_one() == 1


def test_the_jobs_come_from_code_and_include_the_anchor_when_a_key_is_set(
    engine: Engine, tmp_path: Path, notifier: FakeNotifier
) -> None:
    """add_jobs: the daily scan; with SRDI_ANCHOR_KEY also the daily anchor, which signs the log."""
    key = tmp_path / "anchor.key"
    anchors.keygen(key)
    office = bootstrap(engine, notifier=notifier, anchor_key=key, anchor_log=tmp_path / "anchors.jsonl")
    scheduler = daemon.build_scheduler(office.services.settings)
    daemon.add_jobs(scheduler, office.services.settings)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(
        [daemon.DAILY_JOB_ID, daemon.ANCHOR_JOB_ID]
    )
    office.add_enterprise(1)
    previous, daemon._ACTIVE = daemon._ACTIVE, (office.services, daemon.Clock(ZoneInfo("Asia/Shanghai")))
    try:
        daemon.scheduled_anchor()
    finally:
        daemon._ACTIVE = previous
    (signed,) = anchors.read(tmp_path / "anchors.jsonl")
    assert signed.position == office.services.store.last_position() == 1


def test_a_kill_after_the_scan_commits_loses_no_notice(
    engine: Engine, office: Office, notifier: FakeNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reminders committed but never sent (killed before delivery) wait in the outbox; the next delivery
    sends each once, and a delivery killed after writing the file does not write them again."""
    codes = [office.add_enterprise(n) for n in range(1, 6)]
    for code in codes:
        office.record(code, "innovative-sme.certified", CERTIFIED)
    monkeypatch.setattr(jobs, "deliver", lambda *_: 0)  # the process dies right after the commits
    office.scan(V - timedelta(days=30))
    issued = sum(len(office.reminders(code)) for code in codes)
    assert issued == 5 and _pending(engine) == 5 and notifier.sent() == []

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # after the file was written, before the rows were marked sent

    monkeypatch.setattr(outbox, "_clear", killed)
    with pytest.raises(KeyboardInterrupt):
        outbox.deliver(engine, office.services.settings)
    assert len(notifier.sent()) == 5 and _pending(engine) == 5
    monkeypatch.undo()
    assert outbox.deliver(engine, office.services.settings) == 5
    sent = notifier.sent()
    assert len(sent) == len({n["event_id"] for n in sent}) == 5 and _pending(engine) == 0
    assert outbox.deliver(engine, office.services.settings) == 0
    office.scan(V - timedelta(days=30))  # the same day again: nothing new or resent
    assert len(notifier.sent()) == 5


def test_a_notice_exists_exactly_when_its_event_does(
    engine: Engine, office: Office, notifier: FakeNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reminder whose notice cannot be written is not recorded either (one transaction)."""
    code = office.add_enterprise(7)
    office.record(code, "innovative-sme.certified", CERTIFIED)

    def broken(*_: object) -> None:
        raise RuntimeError("outbox table unwritable")

    monkeypatch.setattr(outbox, "enqueue", broken)
    with pytest.raises(RuntimeError):
        office.scan(V - timedelta(days=30))
    assert office.reminders(code) == [] and _pending(engine) == 0
    monkeypatch.undo()
    office.scan(V - timedelta(days=30))
    assert office.reminders(code) == [("innovative-sme", 30, 30)]
    assert [n["uscc"] for n in notifier.sent()] == [code]


def test_an_anchor_is_mailed_to_the_auditors(
    engine: Engine, tmp_path: Path, notifier: FakeNotifier, smtp: tuple[Inbox, int]
) -> None:
    """With SRDI_AUDITOR_EMAILS set, each anchor is also mailed there, its signed line in the body."""
    inbox, port = smtp
    key = tmp_path / "anchor.key"
    anchors.keygen(key)
    mail: dict[str, Any] = {"smtp_port": port, "auditor_emails": ["audit@czj.example"]}
    office = bootstrap(
        engine, notifier=notifier, anchor_key=key, anchor_log=tmp_path / "anchors.jsonl", **mail
    )
    office.add_enterprise(3)
    done = anchor(office.services.settings, office.services.engine)
    assert done.mailed_to == ("audit@czj.example",)
    ((to, message),) = inbox.received
    assert to == ["audit@czj.example"] and f"position {done.anchor.position}" in str(message["Subject"])
    body = message.get_content()
    signed = next(json.loads(line) for line in body.splitlines() if line.startswith("{"))
    assert signed == json.loads((tmp_path / "anchors.jsonl").read_text())
