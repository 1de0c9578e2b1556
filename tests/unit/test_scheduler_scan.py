"""The scheduler's pure decision: which reminders and lapses one day's scan owes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.scan import (
    LOG_BITS,
    Deadline,
    plan,
    reminder_id,
    scan_position,
    scanned_day,
    tightest_threshold,
    within,
)

V = date(2024, 2, 29)
ROW = Deadline("91500000000000000X", "innovative-sme", "review-due", V)
THRESHOLDS = (90, 30, 7)


def _on(days_before: int, issued: dict[tuple[str, str, date], int] | None = None) -> list[tuple[int, int]]:
    due = plan([ROW], V - timedelta(days=days_before), THRESHOLDS, issued or {})
    return [(r.threshold, r.days_left) for r in due.reminders]


def test_nothing_is_due_before_the_widest_threshold() -> None:
    """91 days before the deadline no reminder is due."""
    assert _on(91) == []


def test_each_threshold_is_due_on_its_day() -> None:
    """On the day a threshold is reached, exactly that threshold's reminder is due."""
    assert _on(90) == [(90, 90)]
    assert _on(30, {ROW.key: 90}) == [(30, 30)]
    assert _on(7, {ROW.key: 30}) == [(7, 7)]


def test_an_issued_threshold_is_not_due_again() -> None:
    """Between thresholds, or once the tightest reached is issued, nothing is due."""
    assert _on(89, {ROW.key: 90}) == []
    assert _on(0, {ROW.key: 7}) == []


def test_catching_up_issues_only_the_tightest_threshold_reached() -> None:
    """A scan 20 days out with nothing issued owes the 30-day reminder only, not a stale 90-day one."""
    assert _on(20) == [(30, 20)]


def test_a_looser_threshold_is_never_issued_after_a_tighter_one() -> None:
    """Scanning an earlier day after a later one does not send a 90-day reminder after the 30-day one."""
    assert _on(60, {ROW.key: 30}) == []


def test_the_day_after_the_deadline_the_title_lapses_dated_that_day() -> None:
    """From deadline + 1 on, a lapse (dated deadline + 1) is due instead of any reminder."""
    due = plan([ROW], V + timedelta(days=9), THRESHOLDS, {})
    assert due.reminders == ()
    assert [e.on for e in due.expiries] == [V + timedelta(days=1)]
    assert plan([ROW], V, THRESHOLDS, {}).expiries == ()


def test_reminder_ids_are_deterministic_per_title_deadline_and_threshold() -> None:
    """The same (title, deadline, threshold) always gives the same id; any change gives another."""
    first = reminder_id(ROW.uscc, ROW.track, V, 30)
    assert first == reminder_id(ROW.uscc, ROW.track, V, 30)
    assert len({first, reminder_id(ROW.uscc, ROW.track, V, 7), reminder_id(ROW.uscc, "hnte", V, 30)}) == 3


def test_tightest_threshold_and_within() -> None:
    """Helpers: the tightest threshold reached; rows within N days, overdue included, soonest first."""
    assert tightest_threshold(91, THRESHOLDS) is None
    assert tightest_threshold(7, THRESHOLDS) == 7
    late = Deadline("91500000000000001X", "listing", "tutoring-lapses", V + timedelta(days=40))
    early = Deadline("91500000000000002X", "hnte", "review-due", V - timedelta(days=3))
    assert within([late, ROW, early], V, 30) == [early, ROW]


def test_a_later_day_is_ahead_whatever_the_log_and_the_same_day_by_the_log() -> None:
    """The scheduler's tracking position orders scans by day first, then by the calendar's log position."""
    assert scan_position(V, (1 << LOG_BITS) - 1) < scan_position(V + timedelta(days=1), 0)
    assert scan_position(V, 41) < scan_position(V, 42)
    assert scanned_day(scan_position(V, 12345)) == V
    assert scanned_day(0) is None


def test_a_log_position_too_large_for_the_record_is_refused() -> None:
    """Beyond 2**40 events the position would spill into the day: refused, never wrapped."""
    with pytest.raises(ValueError, match="does not fit"):
        scan_position(V, 1 << LOG_BITS)
    with pytest.raises(ValueError, match="does not fit"):
        scan_position(V, -1)
