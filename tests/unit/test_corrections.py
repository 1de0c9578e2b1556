"""Corrections per rule family: a restated or retracted fact re-decides the money, explicitly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.policy.model import builtin_keys
from tests.bootstrap import Office, bootstrap, uscc

A = uscc(1)


@pytest.fixture
def desk() -> Office:
    """Every built-in policy active before any enterprise is recorded."""
    d = bootstrap()
    for key in builtin_keys():
        d.activate(key)
    return d


def _growth_review(desk: Office, district: str = "yubei") -> None:
    desk.register(A, district, size="medium")
    desk.climb(A, ("innovative-sme.certified", "2022-01-05"), ("srdi-municipal.certified", "2023-01-10"))
    desk.financials(A, 2023, 100)
    desk.financials(A, 2024, 120)
    desk.record(A, "srdi-municipal.review-passed", "2026-01-10")


def test_yb5c_restated_revenue_reverses_then_reinstates_the_growth_award(desk: Office) -> None:
    """YB-5c: 2025 revenue 140 owes 50,000; restated to 110 (growth ≤ 10%) reverses it; 140 reinstates it."""
    _growth_review(desk)
    desk.financials(A, 2025, 140, on="2026-04-01")
    assert desk.one(A, "YB-5c").status == "accrued"
    desk.financials(A, 2025, 110, on="2026-05-01")
    assert desk.one(A, "YB-5c").status == "reversed"
    assert "not above 10%" in desk.one(A, "YB-5c").events[-1][3]["reason"]
    desk.financials(A, 2025, 140, on="2026-06-01")
    entry = desk.one(A, "YB-5c")
    assert (entry.status, entry.amount) == ("accrued", Decimal(50000))
    assert len(desk.entitlements(A, "YB-5c")) == 1


def test_yb5c_paid_then_restated_lower_is_recovery_due(desk: Office) -> None:
    """YB-5c paid 50,000, then an earlier year restated so growth fails: recovery-due 50,000."""
    _growth_review(desk)
    desk.financials(A, 2025, 140, on="2026-04-01")
    key = desk.one(A, "YB-5c").entitlement_id
    desk.pay(A, key, 50000, on="2026-04-15")
    desk.financials(A, 2023, 130, on="2026-05-01")  # growth 2024/2023 now negative
    entry = desk.one(A, "YB-5c")
    assert (entry.status, entry.recovery_amount) == ("recovery-due", Decimal(50000))


def test_rc29b_increment_follows_a_restated_previous_year(desk: Office) -> None:
    """RC-29b 2023: 3% of stock + 10% of increment over 2022; restating 2022 adjusts the 2023 ceiling."""
    desk.register(A, "rongchang", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2022-09-01"))
    desk.financials(A, 2022, 40000000, rd=2000000, on="2023-03-01")
    desk.financials(A, 2023, 50000000, rd=4000000, on="2024-03-01")
    entry = next(e for e in desk.entitlements(A, "RC-29b") if e.created["period_year"] == 2023)
    assert entry.amount == Decimal(260000)  # 3% × 2,000,000 + 10% × 2,000,000
    desk.financials(A, 2022, 40000000, rd=3000000, on="2024-05-01")
    after = desk.load(A).entitlements[entry.entitlement_id]
    assert (after.amount, after.adjusted_from) == (Decimal(190000), Decimal(260000))
    assert len([e for e in desk.entitlements(A, "RC-29b") if e.created["period_year"] == 2023]) == 1


def test_jj29_twice_for_a_year_is_one_entitlement_and_zero_rd_reverses_it(desk: Office) -> None:
    """JJ-29: reported twice for 2024 → one entitlement; restated with R&D expense 0 → reversed."""
    desk.register(A, "jiangjin", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2022-09-01"))
    desk.financials(A, 2024, 10000000, rd=500000, on="2025-03-01")
    desk.financials(A, 2024, 10000000, rd=600000, on="2025-04-01")
    assert len(desk.entitlements(A, "JJ-29")) == 1
    desk.financials(A, 2024, 10000000, rd=0, on="2025-05-01")
    assert desk.one(A, "JJ-29").status == "reversed"


def test_yb3_retracted_previous_year_leaves_the_rent_subsidy_pending(desk: Office) -> None:
    """YB-3 reads Y-1 over Y-2 growth: retracting the 2022 revenue puts the 2024 subsidy back to pending."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2023-03-01"))
    old = desk.financials(A, 2022, 100)
    desk.financials(A, 2023, 130)
    desk.lease(A, 2024, 1000, 25)
    assert desk.one(A, "YB-3").status == "accrued"
    desk.retract(old.event_id)
    assert (desk.one(A, "YB-3").status, desk.one(A, "YB-3").amount) == ("pending-data", None)


def test_yb7_capped_stage_retracted_leaves_the_stages_before_it(desk: Office) -> None:
    """YB-7 新三板 cap: neeq-select capped at 1,000,000; retracted, it is reversed, 2,000,000 left."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2023-03-01"))
    desk.record(A, "listing.neeq-filed", "2024-01-05")
    desk.record(A, "listing.neeq-listed", "2024-06-05")
    select = desk.record(A, "listing.neeq-select", "2025-03-05")
    assert desk.one(A, "YB-7d").amount == Decimal(1000000)
    desk.retract(select.event_id)
    live = [e for e in desk.entitlements(A) if str(e.rule).startswith("YB-7") and e.status != "reversed"]
    assert sum((e.amount or Decimal(0) for e in live), Decimal(0)) == Decimal(2000000)
    assert desk.one(A, "YB-7d").status == "reversed"


def test_rc27_first_time_moves_to_the_certification_left_after_a_retraction(desk: Office) -> None:
    """RC-27b 首次: a wrongly recorded first certification retracted; the real one is then the first."""
    desk.register(A, "rongchang", size="medium")
    desk.record(A, "innovative-sme.certified", "2021-05-01")
    wrong = desk.record(A, "srdi-municipal.certified", "2022-08-01")
    [first] = desk.entitlements(A, "RC-27b")
    desk.retract(wrong.event_id)
    desk.record(A, "srdi-municipal.certified", "2022-09-01")
    live = [e for e in desk.entitlements(A, "RC-27b") if e.status != "reversed"]
    assert [e.entitlement_id != first.entitlement_id for e in live] == [True]
    assert desk.load(A).entitlements[first.entitlement_id].status == "reversed"
