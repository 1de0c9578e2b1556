"""The enterprise aggregate: the two-pass fold, as_of, recorded_before, and its derived answers."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

from domain.commands import ReportFinancials, Retract
from domain.enterprise import Enterprise
from domain.titles import TitleState
from projections.status import fold_status
from tests.bootstrap import Office, bootstrap, uscc

A = uscc(1)


def _desk() -> Office:
    d = bootstrap()
    d.register(A)
    return d


def test_empty_stream_is_unregistered() -> None:
    """An enterprise with no events is not registered and has no titles."""
    ent = Enterprise.load([])
    assert not ent.registered and ent.titles == {} and ent.version == 0


def test_fold_registration_titles_and_listing() -> None:
    """Registration fields, titles through TitleState and the listing stage are folded from the stream."""
    d = _desk()
    d.record(A, "innovative-sme.certified", "2022-03-01")
    d.record(A, "listing.otc-listed", "2023-01-10")
    d.record(A, "listing.neeq-filed", "2023-06-10")
    ent = d.load(A)
    assert (ent.uscc, ent.name, ent.district) == (A, "重庆测试科技有限公司", "yubei")
    expected = TitleState("innovative-sme").advance("certified", date(2022, 3, 1))
    assert ent.titles["innovative-sme"] == expected
    assert ent.listing.stage == "neeq-filed" and ent.listing.first("otc-listed") == date(2023, 1, 10)
    assert ent.version == 4


def test_the_status_document_has_the_contract_shape() -> None:
    """`status --json` is exactly {uscc, name, district, titles{track:{state,...}}, listing}."""
    d = _desk()
    d.record(A, "srdi-municipal.certified", "2023-03-01", override_prerequisite=True, reason="legacy record")
    view = fold_status(A, d.stream(A))
    assert view is not None and view.to_json() == {
        "uscc": A,
        "name": "重庆测试科技有限公司",
        "district": "yubei",
        "titles": {
            "srdi-municipal": {
                "state": "certified",
                "certified_on": "2023-03-01",
                "valid_until": "2026-02-28",
            }
        },
        "listing": {"stage": None, "since": None},
    }


def test_as_of_before_on_and_after_a_milestone() -> None:
    """as_of keeps facts dated on or before it: before a certification the track is absent."""
    d = _desk()
    d.record(A, "hnte.certified", "2023-03-01")
    d.record(A, "hnte.review-passed", "2025-12-01")
    assert "hnte" not in d.load(A, as_of=date(2023, 2, 28)).titles
    on = d.load(A, as_of=date(2023, 3, 1)).titles["hnte"]
    assert (on.state, on.valid_until) == ("certified", date(2026, 2, 28))
    after = d.load(A, as_of=date(2025, 12, 1)).titles["hnte"]
    assert after.valid_until == date(2028, 11, 30)
    assert d.load(A, as_of=date(2019, 1, 1)).name == "重庆测试科技有限公司"  # identity always counts


def test_retractions_apply_whatever_the_as_of_date() -> None:
    """A correction dated today still removes a fact from a view of the past."""
    d = _desk()
    cert = d.record(A, "hnte.certified", "2023-03-01").event_id
    d.run(Retract(event_id=cert, reason="wrong enterprise"))
    assert "hnte" not in d.load(A, as_of=date(2024, 1, 1)).titles


def test_recorded_before_shows_what_the_log_knew_then() -> None:
    """recorded_before keeps only events and retractions recorded strictly before the moment."""
    d = _desk()
    cert = d.record(A, "hnte.certified", "2023-03-01").event_id
    time.sleep(0.002)
    moment = datetime.now(UTC)
    time.sleep(0.002)
    d.run(Retract(event_id=cert, reason="wrong enterprise"))
    d.record(A, "tech-sme.certified", "2024-01-01")
    then = d.load(A, recorded_before=moment)
    assert then.titles["hnte"].state == "certified" and "tech-sme" not in then.titles
    assert then.retracted == frozenset()
    now = d.load(A)
    assert "hnte" not in now.titles and cert in now.retracted
    assert d.load(A, recorded_before=datetime(2000, 1, 1, tzinfo=UTC)).registered is False


def test_financials_later_report_supersedes() -> None:
    """A later report for the same year replaces the earlier one in the state."""
    d = _desk()
    d.run(ReportFinancials(uscc=A, year=2023, revenue="100", rd_expense="5"))
    d.run(ReportFinancials(uscc=A, year=2023, revenue="120"))
    d.run(ReportFinancials(uscc=A, year=2024, revenue="150"))
    ent = d.load(A)
    assert ent.financials[2023].revenue == Decimal(120) and ent.financials[2023].rd_expense is None
    assert sorted(ent.financials) == [2023, 2024]


def test_effective_events_leave_out_retracted_ones() -> None:
    """effective lists the non-retracted facts with their ids and dates; stream keeps everything."""
    d = _desk()
    keep = d.record(A, "hnte.applied", "2023-01-01").event_id
    drop = d.run(ReportFinancials(uscc=A, year=2023, revenue="1")).event_id
    d.run(Retract(event_id=drop, reason="x"))
    ent = d.load(A)
    ids = [e.event_id for e in ent.effective]
    assert keep in ids and drop not in ids
    assert drop in {e.event_id for e in ent.stream} and drop in ent.retractions


def test_holds_valid_follows_the_periods() -> None:
    """holds_valid is true inside a validity period and false after a revocation or before the start."""
    d = _desk()
    d.record(A, "hnte.certified", "2022-01-01")
    d.record(A, "hnte.revoked", "2023-06-01")
    ent = d.load(A)
    assert ent.holds_valid("hnte", date(2023, 5, 31))
    assert not ent.holds_valid("hnte", date(2023, 6, 1))
    assert not ent.holds_valid("hnte", date(2021, 12, 31))
    assert not ent.holds_valid("champion", date(2023, 1, 1))


def test_evolve_equals_a_full_fold() -> None:
    """The incremental state a handler returns equals folding the stored stream again."""
    d = _desk()
    results = [
        d.record(A, "innovative-sme.certified", "2022-03-01"),
        d.run(ReportFinancials(uscc=A, year=2023, revenue="10")),
        d.record(A, "innovative-sme.review-passed", "2025-01-10"),
    ]
    retraction = d.run(Retract(event_id=results[1].event_id, reason="x"))
    for result in (*results, retraction):
        assert result.enterprise.version <= d.load(A).version
    assert retraction.enterprise == d.load(A)
    assert results[-1].enterprise.titles == d.load(A).titles


def test_evolve_leaves_the_original_untouched() -> None:
    """evolve returns a new state; the aggregate it started from (what a reactor saw) does not change."""
    from domain.commands import RecordMilestone
    from domain.deciders import pending, record_milestone

    d = _desk()
    d.record(A, "hnte.applied", "2023-01-01")
    d.run(ReportFinancials(uscc=A, year=2023, revenue="10"))
    before = d.load(A)
    snapshot = (list(before.milestones), dict(before.titles), dict(before.financials), list(before.effective))
    command = RecordMilestone(uscc=A, track="hnte", action="certified", on=date(2023, 6, 1))
    [new] = record_milestone(before, command, date(2026, 1, 1), "clerk")
    after = before.evolve([pending(new, f"enterprise-{A}", before.version + 1)])
    assert after.titles["hnte"].state == "certified" and len(after.milestones) == 2
    assert (before.milestones, before.titles, before.financials, before.effective) == snapshot
    assert before.titles["hnte"].state == "applied" and before.version == after.version - 1
