"""Every catalogue money rule driven through the command handlers with the live policy reactor."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.policy.model import builtin_keys
from tests.bootstrap import Office, bootstrap, owed, uscc

A, B = uscc(1), uscc(2)
SRDI_2023 = (("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2023-03-01"))


@pytest.fixture
def desk() -> Office:
    """Every built-in policy active from its in-force date, before any enterprise is recorded."""
    d = bootstrap()
    for key in builtin_keys():
        assert d.activate(key).activated
    return d


# ── Yubei: certification awards (art 5) ─────────────────────────────────────────────────────


def _little_giant(
    desk: Office, who: str, district: str, srdi_on: str, giant_on: str, size: str | None = "small"
) -> None:
    """Register ``who`` and climb to little giant: innovative-sme 2021-05-01, srdi-municipal, little-giant."""
    desk.register(who, district, size=size)
    steps = ("srdi-municipal.certified", srdi_on), ("little-giant.certified", giant_on)
    desk.climb(who, ("innovative-sme.certified", "2021-05-01"), *steps)


def test_yb5a_municipal_certification_accrues_100000_with_the_milestone(desk: Office) -> None:
    """YB-5a: srdi-municipal certified 2023 → 100,000 accrued, appended with the milestone."""
    desk.register(A, "yubei", size="medium")
    desk.record(A, "innovative-sme.certified", "2021-05-01")
    result = desk.record(A, "srdi-municipal.certified", "2023-03-01")
    [entry] = result.entitlements()
    assert (entry.rule, *owed(entry)) == ("YB-5a", Decimal(100000), "accrued", False)
    assert result.append.event_ids == (result.event_id, result.reactions[0].event_id)
    assert entry.created["responsible_units"] == ["区财政局", "区经济信息委"]


def test_yb5b_little_giant_certification_accrues_500000(desk: Office) -> None:
    """YB-5b: little-giant certified 2023-07-01 → 500,000 accrued."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2022-02-01"))
    desk.record(A, "little-giant.certified", "2023-07-01")
    assert owed(desk.one(A, "YB-5b")) == (Decimal(500000), "accrued", False)


def _reviewed_in_2026(desk: Office, revenue_2024: int) -> None:
    """A, medium, srdi-municipal since 2023-01-10 with revenue 100 in 2023 and ``revenue_2024``,
    passes its review on 2026-01-10 before its 2025 figures are reported."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2022-01-05"), ("srdi-municipal.certified", "2023-01-10"))
    desk.financials(A, 2023, 100)
    desk.financials(A, 2024, revenue_2024)
    desk.record(A, "srdi-municipal.review-passed", "2026-01-10")


def test_yb5c_later_review_with_growth_then_pending_until_revenue(desk: Office) -> None:
    """YB-5c: a 2026 review without 2025 revenue is pending-data; the 2025 report resolves 50,000."""
    _reviewed_in_2026(desk, 110)
    pending = desk.one(A, "YB-5c")
    assert owed(pending) == (None, "pending-data", False)
    assert "revenue 2025" in pending.created["note"]
    result = desk.financials(A, 2025, 122, on="2026-04-01")
    [resolved] = result.entitlements()
    assert (resolved.entitlement_id, *owed(resolved)) == (
        pending.entitlement_id,
        Decimal(50000),
        "accrued",
        False,
    )


def test_yb5c_low_growth_resolves_as_reversed_not_eligible(desk: Office) -> None:
    """YB-5c: revenue 100/101/102 arriving after the review reverses the pending entitlement."""
    _reviewed_in_2026(desk, 101)
    desk.financials(A, 2025, 102, on="2026-04-01")
    entry = desk.one(A, "YB-5c")
    assert (entry.decided, entry.status) == ("not-eligible", "reversed")
    assert "not above 10%" in entry.events[-1][3]["note"]


def test_yb5d_little_giant_review_with_growth_accrues_250000(desk: Office) -> None:
    """YB-5d: a little-giant review with average growth above 10% → 250,000 accrued."""
    _little_giant(desk, A, "yubei", "2022-02-01", "2022-07-01", size="medium")
    for year, revenue in ((2022, 100), (2023, 120), (2024, 140)):
        desk.financials(A, year, revenue)
    desk.record(A, "little-giant.review-passed", "2025-07-01")
    assert owed(desk.one(A, "YB-5d")) == (Decimal(250000), "accrued", False)


def test_yb5e_first_review_of_a_pre_2022_title_accrues_100000(desk: Office) -> None:
    """YB-5e: certified 2020, first review 2023 → 100,000 without growth figures, and no YB-5c."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, ("innovative-sme.certified", "2019-06-01"), ("srdi-municipal.certified", "2020-06-01"))
    desk.record(A, "srdi-municipal.review-passed", "2023-06-01")
    assert owed(desk.one(A, "YB-5e")) == (Decimal(100000), "accrued", False)
    assert desk.entitlements(A, "YB-5c") == []


# ── Yubei: listing stages (art 7) ──────────────────────────────────────────────────────────


def test_yb7a_otc_listing_of_a_holder_accrues_600000(desk: Office) -> None:
    """YB-7a: otc-listed while holding srdi-municipal → 600,000 accrued."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    desk.record(A, "listing.otc-listed", "2024-04-01")
    assert owed(desk.one(A, "YB-7a")) == (Decimal(600000), "accrued", False)


def test_yb7bcd_neeq_stages_capped_at_3000000(desk: Office) -> None:
    """YB-7b/c 1,000,000 each; YB-7d capped from 2,000,000 to 1,000,000 with the cap in its note."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    desk.record(A, "listing.neeq-filed", "2024-01-05")
    desk.record(A, "listing.neeq-listed", "2024-06-05")
    desk.record(A, "listing.neeq-select", "2025-03-05")
    assert owed(desk.one(A, "YB-7b")) == (Decimal(1000000), "accrued", False)
    assert owed(desk.one(A, "YB-7c")) == (Decimal(1000000), "accrued", False)
    capped = desk.one(A, "YB-7d")
    assert owed(capped) == (Decimal(1000000), "accrued", False)
    assert (
        "capped: YB-7 新三板 stages total at most 3,000,000; 1,000,000 of 2,000,000" in capped.created["note"]
    )


def test_yb7efg_ipo_stages_accrue_2_3_5_million(desk: Office) -> None:
    """YB-7e/f/g: tutoring 2,000,000, accepted 3,000,000, listed 5,000,000 for a little giant."""
    _little_giant(desk, A, "yubei", "2022-06-01", "2023-01-01", size="medium")
    desk.climb(
        A,
        ("listing.ipo-tutoring", "2023-05-01"),
        ("listing.ipo-accepted", "2024-02-01"),
        ("listing.ipo-listed", "2025-01-01"),
    )
    amounts = {r: owed(desk.one(A, r)) for r in ("YB-7e", "YB-7f", "YB-7g")}
    assert amounts == {
        "YB-7e": (Decimal(2000000), "accrued", False),
        "YB-7f": (Decimal(3000000), "accrued", False),
        "YB-7g": (Decimal(5000000), "accrued", False),
    }


# ── Yubei: rent (art 3) and tax relief (art 8) ─────────────────────────────────────────────


def test_yb3_state_rent_subsidy_and_a_restated_lease(desk: Office) -> None:
    """YB-3: 8,000 ㎡ → 480,000; a second 2024 lease report restates it: the same entry, 60,000."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    desk.financials(A, 2022, 100)
    desk.financials(A, 2023, 130)
    first = desk.lease(A, 2024, 8000, 30).entitlements()
    second = desk.lease(A, 2024, 1000, 30).entitlements()
    assert [owed(e) for e in first] == [(Decimal(480000), "accrued", False)]
    assert [owed(e) for e in second] == [(Decimal(60000), "accrued", False)]
    assert second[0].entitlement_id == first[0].entitlement_id
    assert second[0].adjusted_from == Decimal(480000)
    assert [r.rule for r in desk.entitlements(A)].count("YB-3") == 1


def test_yb3_private_space_is_a_ceiling_and_missing_revenue_is_pending(desk: Office) -> None:
    """YB-3: private idle space awaits approval; without 2022 revenue a lease is pending, then decided."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    desk.financials(A, 2023, 130)
    [pending] = desk.lease(A, 2024, 1000, 25).entitlements()
    assert owed(pending) == (None, "pending-data", False)
    [decided] = desk.financials(A, 2022, 100, on="2024-08-01").entitlements()
    assert owed(decided) == (Decimal(60000), "accrued", False)
    [private] = desk.lease(A, 2024, 1000, 25, owner="private").entitlements()
    assert owed(private) == (Decimal(60000), "awaiting-approval", True)


def test_yb8_small_holder_gets_one_tax_relief_without_amount(desk: Office) -> None:
    """YB-8: a small SRDI holder in 2022–2024 → one tax-relief entitlement, no amount, once."""
    desk.register(A, "yubei", size="small")
    desk.climb(A, *SRDI_2023)
    relief = desk.one(A, "YB-8")
    assert owed(relief) == (None, "awaiting-approval", False)
    assert relief.created["kind"] == "tax-relief" and "no payout" in relief.created["note"]
    desk.record(A, "srdi-municipal.review-passed", "2024-03-01")
    assert len(desk.entitlements(A, "YB-8")) == 1


# ── Rongchang ───────────────────────────────────────────────────────────────────────────────


def test_rc27ab_first_certifications_are_ceilings(desk: Office) -> None:
    """RC-27b up to 200,000 and RC-27a up to 1,000,000, both awaiting approval."""
    _little_giant(desk, B, "rongchang", "2022-08-01", "2023-07-01")
    assert owed(desk.one(B, "RC-27b")) == (Decimal(200000), "awaiting-approval", True)
    assert owed(desk.one(B, "RC-27a")) == (Decimal(1000000), "awaiting-approval", True)


def test_rc29a_matching_and_pending_until_rd_expense(desk: Office) -> None:
    """RC-29a: pending until the year's R&D arrives; 12,000,000 R&D → up to 300,000 matching."""
    desk.register(B, "rongchang")
    desk.record(B, "hnte.certified", "2022-01-01")
    [pending] = desk.rd_subsidy(B, 2023, 300000).entitlements()
    assert (pending.rule, *owed(pending)) == ("RC-29a", None, "pending-data", True)
    [resolved] = desk.financials(B, 2023, 50000000, 12000000).entitlements()
    assert (resolved.rule, *owed(resolved)) == ("RC-29a", Decimal(300000), "awaiting-approval", True)


def test_rc29b_stock_and_increment_ceiling(desk: Office) -> None:
    """RC-29b: R&D 5,000,000 after 4,000,000 → 3% × 4,000,000 + 10% × 1,000,000 = 220,000."""
    desk.register(B, "rongchang")
    desk.record(B, "hnte.certified", "2022-01-01")
    desk.financials(B, 2022, 1, 4000000)
    [entry] = desk.financials(B, 2023, 1, 5000000).entitlements()
    assert (entry.rule, *owed(entry)) == ("RC-29b", Decimal(220000), "awaiting-approval", True)


def test_rc30_listing_stage_with_no_stated_amount(desk: Office) -> None:
    """RC-30: a tech-sme holder's otc listing → an entitlement with no amount, awaiting approval."""
    desk.register(B, "rongchang")
    desk.record(B, "tech-sme.certified", "2023-01-01")
    [entry] = desk.record(B, "listing.otc-listed", "2023-03-01").entitlements()
    assert (entry.rule, *owed(entry)) == ("RC-30", None, "awaiting-approval", False)


# ── Liangjiang and Jiangjin ─────────────────────────────────────────────────────────────────


def test_lj21_talent_contribution_and_lj13_patent(desk: Office) -> None:
    """LJ-21: 100% of 120,000.50 accrued; LJ-13: an invention patent awaits an amount."""
    who = uscc(3, "500000")
    _little_giant(desk, who, "liangjiang", "2022-02-01", "2022-07-01")
    [talent] = desk.talent(who, "张三", 2023, "120000.50").entitlements()
    assert (talent.rule, *owed(talent)) == ("LJ-21", Decimal("120000.50"), "accrued", False)
    [patent] = desk.patent(who, "ZL202310000001.X", "2023-09-01").entitlements()
    assert (patent.rule, *owed(patent)) == ("LJ-13", None, "awaiting-approval", False)


def test_jj27_jj29_jj30_amounts_not_stated(desk: Office) -> None:
    """JJ-27 demonstration, JJ-29 R&D investment, JJ-30 each listing stage: no amount, awaiting."""
    who = uscc(4, "500116")
    desk.register(who, "jiangjin")
    desk.record(who, "innovative-sme.certified", "2022-03-01")
    [demo] = desk.demonstration(who, 2023, "2023-05-01").entitlements()
    [rd] = desk.financials(who, 2023, 30000000, 2000000).entitlements()
    desk.record(who, "listing.neeq-filed", "2023-02-01")
    desk.record(who, "listing.neeq-listed", "2023-11-01")
    assert [(e.rule, *owed(e)) for e in (demo, rd)] == [
        ("JJ-27", None, "awaiting-approval", False),
        ("JJ-29", None, "awaiting-approval", False),
    ]
    stages = sorted(e.created["subject"] for e in desk.entitlements(who, "JJ-30"))
    assert stages == ["neeq-filed", "neeq-listed"]


def test_other_district_and_unmatched_events_owe_nothing(desk: Office) -> None:
    """A Qianjiang enterprise (no money rules) and a mere application trigger nothing."""
    who = uscc(5, "500114")
    desk.register(who, "qianjiang")
    assert desk.record(who, "innovative-sme.applied", "2023-01-01").reactions == ()
    assert desk.record(who, "innovative-sme.certified", "2023-06-01").reactions == ()
    assert date(2023, 6, 1) < desk.today
