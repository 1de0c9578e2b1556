"""The daily scan on both back-ends: thresholds, lapses, catching up, and the CLI around it."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from scheduler import daemon, jobs
from tests.integration.scheduler_support import (
    milestones,
    outbox,
    record,
    register,
    reminders,
    services_for,
    url_of,
)

CERTIFIED = date(2021, 3, 1)
V = date(2024, 2, 29)  # innovative-sme certified 2021-03-01 is valid through 2024-02-29


def test_reminders_at_each_threshold_none_early_none_twice(engine: Engine, tmp_path: Path) -> None:
    """Day by day, a reminder appears exactly on the 90-, 30- and 7-day marks, once each, never early."""
    svc = services_for(engine, tmp_path)
    code = register(svc, 1)
    record(svc, code, "innovative-sme", "certified", CERTIFIED)
    seen: dict[int, list[tuple[str, int, int]]] = {}
    for before in (91, 90, 90, 89, 31, 30, 29, 8, 7, 7, 6, 0):
        jobs.scan_since_last(svc, V - timedelta(days=before))
        seen[before] = reminders(svc, code)
    assert seen[91] == []
    assert seen[90] == seen[89] == seen[31] == [("innovative-sme", 90, 90)]
    assert seen[30] == seen[29] == seen[8] == [("innovative-sme", 90, 90), ("innovative-sme", 30, 30)]
    assert seen[0] == [("innovative-sme", 90, 90), ("innovative-sme", 30, 30), ("innovative-sme", 7, 7)]
    lines = outbox(tmp_path / "outbox.jsonl")
    assert [(n["threshold"], n["days_left"], n["kind"]) for n in lines] == [
        (90, 90, "review-due"),
        (30, 30, "review-due"),
        (7, 7, "review-due"),
    ]
    assert milestones(svc, code, "expired") == []


def test_expiry_is_recorded_once_after_two_runs(engine: Engine, tmp_path: Path) -> None:
    """The day after valid_until the title lapses as the system actor, dated then; a rerun adds nothing."""
    svc = services_for(engine, tmp_path)
    code = register(svc, 2)
    record(svc, code, "innovative-sme", "certified", CERTIFIED)
    first = jobs.scan_since_last(svc, V + timedelta(days=1))
    second = jobs.scan_since_last(svc, V + timedelta(days=1))
    third = jobs.scan_since_last(svc, V + timedelta(days=5))
    assert len(first.expiries) == 1 and second.expiries == () and third.expiries == ()
    assert milestones(svc, code, "expired") == [("innovative-sme", V + timedelta(days=1), "system")]
    assert [n["kind"] for n in outbox(tmp_path / "outbox.jsonl")] == ["expired"]
    assert reminders(svc, code) == []  # past the deadline a reminder would only be noise


def test_a_review_passed_moves_the_deadline_and_nothing_lapses(engine: Engine, tmp_path: Path) -> None:
    """A review recorded before valid_until starts a new period: no lapse, reminders for the new deadline."""
    svc = services_for(engine, tmp_path)
    code = register(svc, 3)
    record(svc, code, "innovative-sme", "certified", CERTIFIED)
    jobs.scan_since_last(svc, V - timedelta(days=30))
    record(svc, code, "innovative-sme", "review-passed", V - timedelta(days=10))
    report = jobs.scan_since_last(svc, V + timedelta(days=1))
    assert report.expiries == () and report.reminders == ()
    assert milestones(svc, code, "expired") == []


def test_a_week_of_downtime_is_caught_up(engine: Engine, tmp_path: Path) -> None:
    """After seven days without a scan, what fell due in the gap is issued or recorded on the next run."""
    svc = services_for(engine, tmp_path)
    gap_start = V - timedelta(days=3)
    thirty = register(svc, 4)  # its 30-day mark falls inside the gap
    record(svc, thirty, "innovative-sme", "certified", CERTIFIED + timedelta(days=30))
    lapsing = register(svc, 5, district="rongchang")  # its deadline passes inside the gap
    record(svc, lapsing, "innovative-sme", "certified", CERTIFIED)
    tutoring = register(svc, 6, district="jiangjin")  # tutoring accepted 12 months before the gap ends
    record(svc, tutoring, "listing", "ipo-tutoring", date(2023, 3, 1))
    jobs.scan_since_last(svc, gap_start)
    before = {code: reminders(svc, code) for code in (thirty, lapsing, tutoring)}
    report = jobs.scan_since_last(svc, gap_start + timedelta(days=7))
    assert report.covered_from == gap_start + timedelta(days=1)
    assert reminders(svc, thirty) == [*before[thirty], ("innovative-sme", 30, 26)]
    assert milestones(svc, lapsing, "expired") == [("innovative-sme", V + timedelta(days=1), "system")]
    assert milestones(svc, tutoring, "expired") == [("listing", date(2024, 3, 1), "system")]
    assert sorted(n.kind for n in report.expiries) == ["expired", "tutoring-lapsed"]
    assert jobs.last_scanned(svc) == gap_start + timedelta(days=7)


def test_a_tutoring_acceptance_is_reminded_then_lapses(engine: Engine, tmp_path: Path) -> None:
    """ipo-tutoring with no application: reminded before its 12 months end, lapsed the day after."""
    svc = services_for(engine, tmp_path)
    code = register(svc, 7)
    record(svc, code, "listing", "ipo-tutoring", date(2023, 3, 1))  # holds through 2024-02-29
    jobs.scan_since_last(svc, date(2024, 2, 22))
    assert reminders(svc, code) == [("listing", 7, 7)]
    jobs.scan_since_last(svc, date(2024, 3, 1))
    jobs.scan_since_last(svc, date(2024, 3, 2))
    assert milestones(svc, code, "expired") == [("listing", date(2024, 3, 1), "system")]
    assert [n["kind"] for n in outbox(tmp_path / "outbox.jsonl")] == ["tutoring-lapses", "tutoring-lapsed"]


def test_cli_run_once_and_reminders_json(engine: Engine, tmp_path: Path) -> None:
    """`reminders --json` lists without recording (docs/cli.md shape); `scheduler run --once` then records."""
    from cli import app

    svc = services_for(engine, tmp_path)
    code = register(svc, 8)
    record(svc, code, "innovative-sme", "certified", CERTIFIED)
    cli = CliRunner()
    base = ["--db", url_of(engine)]
    listed = cli.invoke(app, [*base, "reminders", "--json", "--today", "2024-01-31", "--within", "30"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {
            "uscc": code,
            "track": "innovative-sme",
            "valid_until": "2024-02-29",
            "days_left": 29,
            "kind": "review-due",
        }
    ]
    assert reminders(svc, code) == []
    env = {"SRDI_NOTIFY_CHANNELS": '["log"]'}
    ran = cli.invoke(app, [*base, "scheduler", "run", "--once", "--today", "2024-01-31"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "1 reminder(s) issued" in ran.stdout
    assert reminders(svc, code) == [("innovative-sme", 30, 29)]
    table = cli.invoke(app, [*base, "reminders", "--today", "2024-01-31", "--lang", "zh"])
    assert table.exit_code == 0 and "创新型中小企业" in table.stdout


def test_missed_daily_runs_coalesce_into_one_run(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily job (defined in code) that missed a week of runs runs once, then on schedule (coalesced)."""
    svc = services_for(engine, tmp_path, scan_time="00:10")
    calls: list[date] = []
    monkeypatch.setattr(jobs, "scan_since_last", lambda _svc, day: calls.append(day))
    clock = daemon.Clock.pinned(ZoneInfo("Asia/Shanghai"), None)
    monkeypatch.setattr(daemon, "_ACTIVE", (svc, clock))
    trigger = daemon.daily_trigger(svc.settings)
    week_ago = trigger.get_next_fire_time(None, datetime.now(UTC)) - timedelta(days=8)
    scheduler = daemon.build_scheduler(svc.settings)
    daemon.add_jobs(scheduler, svc.settings)
    assert [job.id for job in scheduler.get_jobs()] == [daemon.DAILY_JOB_ID]  # no key: no anchor job
    scheduler.modify_job(daemon.DAILY_JOB_ID, next_run_time=week_ago)
    scheduler.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    next_run = scheduler.get_job(daemon.DAILY_JOB_ID).next_run_time
    daemon.stop_scheduler(scheduler)
    assert calls == [clock.today()]
    assert next_run == week_ago + timedelta(days=8)  # the next regular run, not a backlog
