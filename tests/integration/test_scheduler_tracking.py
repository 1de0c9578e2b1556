"""The scan's position is a tracking record committed with its reminders and lapses (both back-ends).

A process killed after the scan wrote its reminders and lapses, before its position, leaves none of
them (one transaction); the next scan issues each once. A scan of an older day, or of the same day
from a calendar that saw nothing new, is refused and writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.migrate import upgrade
from events.tracking import tracked_position
from scheduler import jobs
from scheduler.scan import scanned_day
from scheduler.scan_transaction import SCHEDULER
from scheduler.tables import notices_table, scans_table
from tests.backends import fresh_database
from tests.bootstrap import FakeNotifier, bootstrap

CERTIFIED = date(2021, 3, 1)
V = date(2024, 2, 29)  # innovative-sme certified 2021-03-01 is valid through 2024-02-29
ROOT = Path(__file__).resolve().parents[2]

# A scheduler process that dies (os._exit: no rollback, no cleanup) at the moment the scan moves its
# tracking record, after every reminder and lapse of the scan was appended in its transaction. It
# prints what its own transaction held just before dying.
_DIES_AT_THE_POSITION = textwrap.dedent(
    """
    import json, os, sys
    from datetime import date
    from pathlib import Path
    from scheduler import jobs
    from service_layer.bootstrap import Services
    from service_layer.settings import Settings

    def die(conn, name, position):
        held = conn.exec_driver_sql(
            "SELECT event_type, COUNT(*) FROM events WHERE position > %s GROUP BY event_type"
            % int(sys.argv[4])
        ).all()
        notices = conn.exec_driver_sql("SELECT COUNT(*) FROM scheduler_notices").scalar()
        print(json.dumps({"held": dict(held), "notices": notices}), flush=True)
        os._exit(17)

    jobs.record_position = die
    url, outbox, day = sys.argv[1:4]
    settings = Settings(database_url=url, notify_channels=("log", "outbox"), outbox_path=Path(outbox))
    jobs.scan_since_last(Services(settings), date.fromisoformat(day))
    """
)


def _pending(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(notices_table)).scalar() or 0)


def _scans(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(scans_table.c.day).order_by(scans_table.c.day))]


def test_a_crash_between_the_reminders_and_the_position_leaves_nothing_then_each_once(
    engine: Engine, notifier: FakeNotifier
) -> None:
    """Killed after appending reminders and a lapse, before its position: none of it is in the log and
    no notice waits; the next scan issues every reminder and the lapse once and sends each once."""
    office = bootstrap(engine, notifier=notifier)
    svc = office.services
    due = [office.add_enterprise(n) for n in (1, 2, 3)]  # each reminded 30 days before the deadline
    for code in due:
        office.record(code, "innovative-sme.certified", CERTIFIED)
    lapsing = office.add_enterprise(4, district="rongchang")  # valid through the day before yesterday
    office.record(lapsing, "innovative-sme.certified", CERTIFIED - timedelta(days=31))
    logged = office.store.last_position()
    day = V - timedelta(days=30)
    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [sys.executable, "-c", _DIES_AT_THE_POSITION, url, str(notifier.path), str(day), str(logged)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert child.returncode == 17, child.stderr[-3000:]
    held = json.loads(child.stdout.strip().splitlines()[-1])
    assert held == {"held": {"ReminderIssued": 3, "MilestoneRecorded": 1}, "notices": 4}
    assert office.store.last_position() == logged  # nothing of the scan was committed
    assert [office.reminders(code) for code in due] == [[], [], []]
    assert office.milestones(lapsing, "expired") == []
    assert _pending(engine) == 0 and _scans(engine) == [] and notifier.sent() == []
    assert tracked_position(engine, SCHEDULER) == 0 and jobs.last_scanned(svc) is None

    report = jobs.scan_since_last(svc, day)
    again = jobs.scan_since_last(svc, day)
    assert len(report.reminders) == 3 and len(report.expiries) == 1
    assert [office.reminders(code) for code in due] == [[("innovative-sme", 30, 30)]] * 3
    assert office.milestones(lapsing, "expired") == [("innovative-sme", V - timedelta(days=31), "system")]
    sent = [n["event_id"] for n in notifier.sent()]
    assert len(sent) == len(set(sent)) == 4
    assert again.reminders == again.expiries == ()  # it ran: the lapse moved the calendar on
    assert jobs.scan_since_last(svc, day).refused_at == day  # nothing new since: refused
    assert jobs.last_scanned(svc) == day and _scans(engine) == [day]


def test_an_older_day_is_refused_and_the_same_day_runs_only_on_a_newer_calendar(
    engine: Engine, notifier: FakeNotifier
) -> None:
    """After a scan of day D: D - 1 is refused with what it would have issued unwritten; D again runs
    when the calendar has read more of the log (a certification since, or the last scan's own
    events) and is refused when not."""
    office = bootstrap(engine, notifier=notifier)
    svc = office.services
    first = office.add_enterprise(5)
    office.record(first, "innovative-sme.certified", CERTIFIED)
    day = V - timedelta(days=30)
    assert len(jobs.scan_since_last(svc, day).reminders) == 1
    stands = tracked_position(engine, SCHEDULER)
    assert scanned_day(stands) == day

    late = office.add_enterprise(6)  # certified on the same day as the first, recorded after the scan
    office.record(late, "innovative-sme.certified", CERTIFIED)
    older = jobs.run_scan(svc, day - timedelta(days=1), day - timedelta(days=1))
    assert older.refused_at == day and older.reminders == ()
    assert office.reminders(late) == [] and tracked_position(engine, SCHEDULER) == stands

    newer = jobs.scan_since_last(svc, day)
    assert [n.uscc for n in newer.reminders] == [late] and newer.refused_at is None
    assert office.reminders(late) == [("innovative-sme", 30, 30)]
    assert tracked_position(engine, SCHEDULER) > stands

    caught_up = jobs.scan_since_last(svc, day)  # the calendar has read the scan's own reminder since
    assert caught_up.refused_at is None and caught_up.reminders == caught_up.expiries == ()
    unchanged = jobs.scan_since_last(svc, day)
    assert unchanged.refused_at == day and unchanged.reminders == ()
    assert [n["uscc"] for n in notifier.sent()] == [first, late]
    assert jobs.scan_since_last(svc, day + timedelta(days=1)).refused_at is None


def test_the_upgrade_puts_a_database_scanned_before_on_its_last_day(backend: str, tmp_path: Path) -> None:
    """Migration 0011: the last day in ``scheduler_scans`` becomes the scheduler's tracking record."""
    from events.db import make_engine

    with fresh_database(backend, tmp_path, migrate=False) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0010")
            with engine.begin() as conn:
                for day in (date(2024, 1, 30), date(2024, 2, 2)):
                    conn.execute(
                        sa.insert(scans_table).values(
                            day=day, covered_from=day, scanned_at=sa.func.now(), reminders=0, expiries=0
                        )
                    )
            upgrade(engine)
            assert scanned_day(tracked_position(engine, SCHEDULER)) == date(2024, 2, 2)
            office = bootstrap(engine, notifier=FakeNotifier(tmp_path / "outbox.jsonl"))
            svc = office.services
            assert jobs.run_scan(svc, date(2024, 2, 1), date(2024, 2, 1)).refused_at == date(2024, 2, 2)
            office.add_enterprise(9)  # the calendar has read something of the log: the same day goes ahead
            assert jobs.scan_since_last(svc, date(2024, 2, 2)).refused_at is None
        finally:
            engine.dispose()
