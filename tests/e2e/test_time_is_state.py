"""Time is part of state, through the real script on SQLite and PostgreSQL: lapses read expired at once."""

from __future__ import annotations

from tests.e2e.acceptance import Srdi, assert_rejection, future, today, uscc

U = uscc(81)


def _lapsed(db_url: str) -> Srdi:
    """An innovative SME certified 2019-06-01 (valid until 2022-05-31), nothing recorded since."""
    s = Srdi(db_url)
    s.setup("enterprise", "add", U, "--name", "渝北测试", "--district", "yubei", "--on", "2019-01-01")
    s.setup("record", U, "innovative-sme.certified", "--on", "2019-06-01")
    return s


def test_a_lapsed_title_reads_expired_before_and_after_the_scheduler_records_it(db_url: str) -> None:
    """status --json: expired with expiry_recorded false, then true once the scheduler ran."""
    s = _lapsed(db_url)
    title = s.json("status", U)["titles"]["innovative-sme"]
    assert (title["state"], title["expiry_recorded"]) == ("expired", False)
    before = s.json("status", U, "--as-of", "2022-05-31")["titles"]["innovative-sme"]
    assert before["state"] == "certified" and "expiry_recorded" not in before
    entry = next(e for e in s.json("calendar", "--within", "30")["entries"] if e["uscc"] == U)
    assert entry["lapsed"] is True and entry["days_left"] < 0
    s.ok("scheduler", "run", "--once", "--today", today().isoformat())
    title = s.json("status", U)["titles"]["innovative-sme"]
    assert (title["state"], title["expiry_recorded"]) == ("expired", True)


def test_a_lapsed_title_is_certified_again_and_the_scheduler_then_expires_nothing(db_url: str) -> None:
    """Re-certified after the lapse (no expiry recorded): accepted; the scheduler's scan adds no expiry."""
    s = _lapsed(db_url)
    s.ok("record", U, "innovative-sme.certified", "--on", "2023-03-01")
    history = s.json("history", U)["events"]
    again = [e["data"] for e in history if e["type"] == "MilestoneRecorded"][-1]
    assert (again["from_state"], again["to_state"]) == ("expired", "certified")
    events = s.events()
    s.ok("scheduler", "run", "--once", "--today", "2025-01-01")
    assert s.events() == events  # nothing left to expire; no reminder due that day
    title = s.json("status", U, "--as-of", "2025-01-01")["titles"]["innovative-sme"]
    assert (title["state"], title["certified_on"], title["valid_until"]) == (
        "certified",
        "2023-03-01",
        "2026-02-28",
    )


def test_nothing_is_written_for_a_day_still_to_come(db_url: str) -> None:
    """scheduler --today in the future and a year's revenue before the year ended: exit 2, nothing written."""
    s = _lapsed(db_url)
    events = s.events()
    assert_rejection(s.here("scheduler", "run", "--once", "--today", future()), "after today")
    done = s.here("report", U, "financials", "--year", "2024", "--revenue", "100", "--on", "2024-06-01")
    assert_rejection(done, "has not ended")
    assert s.events() == events
    s.ok("report", U, "financials", "--year", "2024", "--revenue", "100", "--on", "2025-01-01")
