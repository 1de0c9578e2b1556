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
from tests.bootstrap import FakeNotifier, Office, bootstrap

CERTIFIED = date(2021, 3, 1)
V = date(2024, 2, 29)  # innovative-sme certified 2021-03-01 is valid through 2024-02-29


def test_reminders_at_each_threshold_none_early_none_twice(office: Office, notifier: FakeNotifier) -> None:
    """Day by day, a reminder appears exactly on the 90-, 30- and 7-day marks, once each, never early."""
    code = office.add_enterprise(1)
    office.record(code, "innovative-sme.certified", CERTIFIED)
    seen: dict[int, list[tuple[str, int, int]]] = {}
    for before in (91, 90, 90, 89, 31, 30, 29, 8, 7, 7, 6, 0):
        office.scan(V - timedelta(days=before))
        seen[before] = office.reminders(code)
    assert seen[91] == []
    assert seen[90] == seen[89] == seen[31] == [("innovative-sme", 90, 90)]
    assert seen[30] == seen[29] == seen[8] == [("innovative-sme", 90, 90), ("innovative-sme", 30, 30)]
    assert seen[0] == [("innovative-sme", 90, 90), ("innovative-sme", 30, 30), ("innovative-sme", 7, 7)]
    lines = notifier.sent()
    assert [(n["threshold"], n["days_left"], n["kind"]) for n in lines] == [
        (90, 90, "review-due"),
        (30, 30, "review-due"),
        (7, 7, "review-due"),
    ]
    assert office.milestones(code, "expired") == []


def test_expiry_is_recorded_once_after_two_runs(office: Office, notifier: FakeNotifier) -> None:
    """The day after valid_until the title lapses as the system actor, dated then; a rerun adds nothing."""
    code = office.add_enterprise(2)
    office.record(code, "innovative-sme.certified", CERTIFIED)
    first = office.scan(V + timedelta(days=1))
    second = office.scan(V + timedelta(days=1))
    third = office.scan(V + timedelta(days=5))
    assert len(first.expiries) == 1 and second.expiries == () and third.expiries == ()
    assert office.milestones(code, "expired") == [("innovative-sme", V + timedelta(days=1), "system")]
    assert [n["kind"] for n in notifier.sent()] == ["expired"]
    assert office.reminders(code) == []  # past the deadline a reminder would only be noise


def test_a_review_passed_moves_the_deadline_and_nothing_lapses(office: Office) -> None:
    """A review recorded before valid_until starts a new period: no lapse, reminders for the new deadline."""
    code = office.add_enterprise(3)
    office.record(code, "innovative-sme.certified", CERTIFIED)
    office.scan(V - timedelta(days=30))
    office.record(code, "innovative-sme.review-passed", V - timedelta(days=10))
    report = office.scan(V + timedelta(days=1))
    assert report.expiries == () and report.reminders == ()
    assert office.milestones(code, "expired") == []


def test_a_week_of_downtime_is_caught_up(office: Office) -> None:
    """After seven days without a scan, what fell due in the gap is issued or recorded on the next run."""
    gap_start = V - timedelta(days=3)
    thirty = office.add_enterprise(4)  # its 30-day mark falls inside the gap
    office.record(thirty, "innovative-sme.certified", CERTIFIED + timedelta(days=30))
    lapsing = office.add_enterprise(5, district="rongchang")  # its deadline passes inside the gap
    office.record(lapsing, "innovative-sme.certified", CERTIFIED)
    tutoring = office.add_enterprise(
        6, district="jiangjin"
    )  # tutoring accepted 12 months before the gap ends
    office.record(tutoring, "listing.ipo-tutoring", date(2023, 3, 1))
    office.scan(gap_start)
    before = {code: office.reminders(code) for code in (thirty, lapsing, tutoring)}
    report = office.scan(gap_start + timedelta(days=7))
    assert report.covered_from == gap_start + timedelta(days=1)
    assert office.reminders(thirty) == [*before[thirty], ("innovative-sme", 30, 26)]
    assert office.milestones(lapsing, "expired") == [("innovative-sme", V + timedelta(days=1), "system")]
    assert office.milestones(tutoring, "expired") == [("listing", date(2024, 3, 1), "system")]
    assert sorted(n.kind for n in report.expiries) == ["expired", "tutoring-lapsed"]
    assert jobs.last_scanned(office.services) == gap_start + timedelta(days=7)


def test_a_tutoring_acceptance_is_reminded_then_lapses(office: Office, notifier: FakeNotifier) -> None:
    """ipo-tutoring with no application: reminded before its 12 months end, lapsed the day after."""
    code = office.add_enterprise(7)
    office.record(code, "listing.ipo-tutoring", date(2023, 3, 1))  # holds through 2024-02-29
    office.scan(date(2024, 2, 22))
    assert office.reminders(code) == [("listing", 7, 7)]
    office.scan(date(2024, 3, 1))
    office.scan(date(2024, 3, 2))
    assert office.milestones(code, "expired") == [("listing", date(2024, 3, 1), "system")]
    assert [n["kind"] for n in notifier.sent()] == ["tutoring-lapses", "tutoring-lapsed"]


def test_cli_run_once_and_reminders_json(engine: Engine, tmp_path: Path, office: Office) -> None:
    """`reminders --json` lists without recording (docs/cli.md shape); `scheduler run --once` then records."""
    from cli import app

    code = office.add_enterprise(8)
    office.record(code, "innovative-sme.certified", CERTIFIED)
    cli = CliRunner()
    base = ["--db", engine.url.render_as_string(hide_password=False)]
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
    assert office.reminders(code) == []
    env = {"SRDI_NOTIFY_CHANNELS": '["log"]'}
    ran = cli.invoke(app, [*base, "scheduler", "run", "--once", "--today", "2024-01-31"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "1 reminder(s) issued" in ran.stdout
    assert office.reminders(code) == [("innovative-sme", 30, 29)]
    table = cli.invoke(app, [*base, "reminders", "--today", "2024-01-31", "--lang", "zh"])
    assert table.exit_code == 0 and "创新型中小企业" in table.stdout


def test_missed_daily_runs_coalesce_into_one_run(
    engine: Engine, tmp_path: Path, notifier: FakeNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily job (defined in code) that missed a week of runs runs once, then on schedule (coalesced)."""
    office = bootstrap(engine, notifier=notifier, scan_time="00:10")
    calls: list[date] = []
    monkeypatch.setattr(jobs, "scan_since_last", lambda _svc, day: calls.append(day))
    clock = daemon.Clock.pinned(ZoneInfo("Asia/Shanghai"), None)
    monkeypatch.setattr(daemon, "_ACTIVE", (office.services, clock))
    trigger = daemon.daily_trigger(office.services.settings)
    week_ago = trigger.get_next_fire_time(None, datetime.now(UTC)) - timedelta(days=8)
    scheduler = daemon.build_scheduler(office.services.settings)
    daemon.add_jobs(scheduler, office.services.settings)
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
