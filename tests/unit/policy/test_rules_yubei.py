"""Yubei 2024 money rules (YB-3, YB-5a–e, YB-7a–g, YB-8): amounts, statuses, readings, reach."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from domain.policy.decisions import ExistingEntitlement, PolicyActivated, entitlement_id
from domain.policy.engine import assess, derive, evaluate, evaluate_history
from domain.policy.facts import EnterpriseFacts, TitlePeriod
from domain.policy.model import load_builtin
from tests.unit.policy import builders as given

YB = load_builtin("yubei-2024")
SRDI_2023 = given.title("srdi-municipal", date(2023, 3, 1))


# ── YB-5a/b: certification awards ─────────────────────────────────────────────────────────


def test_yb5a_municipal_certification_pays_100000() -> None:
    """YB-5a: srdi-municipal certified in 2023 → 100,000 accrued, paid by 区财政局、区经济信息委."""
    f = given.facts("yubei", titles=[SRDI_2023])
    e = given.only(evaluate(YB, f, given.reached(SRDI_2023)), "YB-5a")
    assert (e.amount, e.status, e.ceiling) == (Decimal(100000), "accrued", False)
    assert e.responsible_units == ("区财政局", "区经济信息委")
    assert (e.kind, e.article, e.accrued_on) == ("award", "5", date(2023, 3, 1))
    assert e.id == entitlement_id("yubei-2024", "YB-5a", given.USCC, SRDI_2023.event_id)
    assert "10万元" in e.explanation.source_zh


def test_yb5b_little_giant_certification_pays_500000() -> None:
    """YB-5b: little-giant certified on 2022-01-01 (first day reached) → 500,000 accrued."""
    giant = given.title("little-giant", date(2022, 1, 1))
    e = given.only(evaluate(YB, given.facts("yubei", titles=[giant]), given.reached(giant)), "YB-5b")
    assert (e.amount, e.status) == (Decimal(500000), "accrued")


def test_yb5a_not_paid_again_after_revocation_and_recertification() -> None:
    """YB-5a once per enterprise and title: a re-certification after a revocation pays nothing."""
    first = given.title("srdi-municipal", date(2022, 5, 1), ended_on=date(2023, 6, 1))
    again = given.title("srdi-municipal", date(2024, 9, 1))
    f = given.facts("yubei", titles=[first, again])
    existing = given.apply([], evaluate(YB, f, given.reached(first)))
    outcome = assess(YB, f, given.reached(again), existing)
    assert given.created(outcome.decisions, "YB-5a") == []
    assert any(r.rule == "YB-5a" and "already granted" in r.reason for r in outcome.refusals)


def test_yb5a_each_certification_reading_pays_again() -> None:
    """With the reading `each-certification`, the re-certification pays YB-5a again."""
    policy = given.with_reading(YB, "recertification-award", "each-certification")
    first = given.title("srdi-municipal", date(2022, 5, 1), ended_on=date(2023, 6, 1))
    again = given.title("srdi-municipal", date(2024, 9, 1))
    f = given.facts("yubei", titles=[first, again])
    existing = given.apply([], evaluate(policy, f, given.reached(first)))
    assert given.only(evaluate(policy, f, given.reached(again), existing), "YB-5a").amount == Decimal(100000)


# ── YB-5c/d: later reviews with the growth condition ─────────────────────────────────────


def _srdi_reviewed_2026(revenues: dict[int, int]) -> tuple[EnterpriseFacts, TitlePeriod]:
    """srdi-municipal since 2023-01-10, its review passed on 2026-01-10, with each year's revenue."""
    return given.reviewed("yubei", "srdi-municipal", date(2023, 1, 10), date(2026, 1, 10), revenues=revenues)


def test_yb5c_review_with_growth_above_10_percent_pays_50000() -> None:
    """YB-5c: a 2026 review with revenue 2023/24/25 = 100/110/122 (avg 10.45%) → 50,000."""
    f, review = _srdi_reviewed_2026({2023: 100, 2024: 110, 2025: 122})
    e = given.only(evaluate(YB, f, given.reached(review)), "YB-5c")
    assert (e.amount, e.status) == (Decimal(50000), "accrued")
    assert ("growth-averaging", "arithmetic") in e.explanation.readings
    assert any("average (arithmetic)" in s for s in e.explanation.steps)


def test_yb5c_average_of_exactly_10_percent_is_refused() -> None:
    """YB-5c: 超过10% is strict: 100/110/121 averages exactly 10% → no award, reason given."""
    f, review = _srdi_reviewed_2026({2023: 100, 2024: 110, 2025: 121})
    outcome = assess(YB, f, given.reached(review))
    assert given.created(outcome.decisions, "YB-5c") == []
    assert any("not above 10%" in r.reason for r in outcome.refusals if r.rule == "YB-5c")


def test_yb5c_compound_reading_can_differ_from_arithmetic() -> None:
    """Revenue 100/150/120: arithmetic average 15% pays; compound 9.54% does not."""
    f, review = _srdi_reviewed_2026({2023: 100, 2024: 150, 2025: 120})
    assert given.only(evaluate(YB, f, given.reached(review)), "YB-5c").amount == Decimal(50000)
    compound = given.with_reading(YB, "growth-averaging", "compound")
    assert given.created(evaluate(compound, f, given.reached(review)), "YB-5c") == []


def test_yb5c_missing_revenue_is_pending_then_resolved() -> None:
    """YB-5c without 2025 revenue is pending-data (no amount); the 2025 report resolves it."""
    f, review = given.reviewed(
        "yubei", "srdi-municipal", date(2023, 1, 10), date(2026, 1, 10), revenues={2023: 100, 2024: 110}
    )
    pending = given.only(evaluate(YB, f, given.reached(review)), "YB-5c")
    assert (pending.status, pending.amount) == ("pending-data", None)
    assert "revenue 2025" in pending.note
    existing = given.apply([], [pending])
    report = given.fin(2025, 130, on=date(2026, 4, 1))
    decisions = evaluate(YB, given.add(f, report), given.filed(report), existing)
    [done] = given.resolutions(decisions)
    assert (done.entitlement_id, done.status, done.amount) == (pending.id, "accrued", Decimal(50000))
    assert given.created(decisions) == []


def test_yb5c_pending_resolved_as_not_eligible_when_growth_is_low() -> None:
    """A pending YB-5c whose revenue arrives showing low growth is reversed with the reason."""
    f, review = given.reviewed(
        "yubei", "srdi-municipal", date(2023, 1, 10), date(2026, 1, 10), revenues={2023: 100, 2024: 101}
    )
    existing = given.apply([], evaluate(YB, f, given.reached(review)))
    report = given.fin(2025, 102)
    [done] = given.resolutions(evaluate(YB, given.add(f, report), given.filed(report), existing))
    assert (done.status, done.eligible, done.amount) == ("reversed", False, None)
    assert "not above 10%" in done.note


def test_yb5d_little_giant_review_with_growth_pays_250000() -> None:
    """YB-5d: a little-giant review with average growth above 10% → 250,000 accrued."""
    f, review = given.reviewed(
        "yubei",
        "little-giant",
        date(2022, 7, 1),
        date(2025, 7, 1),
        revenues={2022: 100, 2023: 120, 2024: 140},
    )
    e = given.only(evaluate(YB, f, given.reached(review)), "YB-5d")
    assert (e.amount, e.status) == (Decimal(250000), "accrued")


# ── YB-5e: certified before 2022, first review ───────────────────────────────────────────


def test_yb5e_first_review_of_pre_2022_title_pays_without_growth() -> None:
    """YB-5e: certified 2020, first review 2023 → 100,000 (no revenue needed), and no YB-5c."""
    cert = given.title("srdi-municipal", date(2020, 6, 1))
    review = given.title("srdi-municipal", date(2023, 6, 1), by="review-passed")
    decisions = evaluate(YB, given.facts("yubei", titles=[cert, review]), given.reached(review))
    e = given.only(decisions, "YB-5e")
    assert (e.amount, e.status, e.subject) == (Decimal(100000), "accrued", "srdi-municipal")
    assert given.created(decisions, "YB-5c") == []


def test_yb5e_little_giant_pays_500000_and_later_reviews_are_yb5d() -> None:
    """YB-5e little-giant → 500,000; its second review is YB-5d with the growth condition."""
    f, second = given.reviewed(
        "yubei",
        "little-giant",
        date(2021, 3, 1),
        date(2024, 3, 1),
        date(2027, 3, 1),
        revenues={2024: 100, 2025: 120, 2026: 150},
    )
    first = given.title("little-giant", date(2024, 3, 1), by="review-passed")
    e = given.only(evaluate(YB, f, given.reached(first)), "YB-5e")
    assert e.amount == Decimal(500000)
    later = evaluate(YB, f, given.reached(second), given.apply([], [e]))
    assert given.created(later, "YB-5e") == []
    assert given.only(later, "YB-5d").amount == Decimal(250000)


def test_yb5e_first_review_before_2022_is_outside_reach_later_review_is_yb5c() -> None:
    """A first review in 2021 is not reached; the 2024 review is a later one: YB-5c."""
    f, second = given.reviewed(
        "yubei",
        "srdi-municipal",
        date(2018, 5, 1),
        date(2021, 5, 1),
        date(2024, 5, 1),
        revenues={2021: 100, 2022: 115, 2023: 130},
        size="medium",
    )
    first = given.title("srdi-municipal", date(2021, 5, 1), by="review-passed")
    assert given.created(evaluate(YB, f, given.reached(first))) == []
    decisions = evaluate(YB, f, given.reached(second))
    assert given.created(decisions, "YB-5e") == []
    assert given.only(decisions, "YB-5c").amount == Decimal(50000)


# ── YB-7: listing stages ────────────────────────────────────────────────────────────────


def test_yb7a_otc_listing_of_srdi_holder_pays_600000() -> None:
    """YB-7a: otc-listed while holding a valid srdi-municipal title → 600,000 accrued."""
    otc = given.listing("otc-listed", date(2024, 4, 1))
    e = given.only(
        evaluate(YB, given.facts("yubei", titles=[SRDI_2023], listings=[otc]), given.reached(otc)), "YB-7a"
    )
    assert (e.amount, e.status, e.subject) == (Decimal(600000), "accrued", "otc-listed")
    assert e.responsible_units == ("区财政局", "区金融服务办")


def test_yb7a_refused_without_valid_title_on_listing_date() -> None:
    """YB-7a: a title revoked before the listing date (or none at all) → refused with reason."""
    revoked = given.title("srdi-municipal", date(2023, 3, 1), ended_on=date(2024, 1, 1))
    otc = given.listing("otc-listed", date(2024, 4, 1))
    for titles in ([revoked], [], [given.title("tech-sme", date(2024, 1, 1), years=1)]):
        outcome = assess(YB, given.facts("yubei", titles=titles, listings=[otc]), given.reached(otc))
        assert given.created(outcome.decisions) == []
        [refusal] = [r for r in outcome.refusals if r.rule == "YB-7a"]
        assert "no valid srdi-municipal or little-giant title on 2024-04-01" in refusal.reason


def test_yb7_neeq_stages_are_capped_at_3000000() -> None:
    """YB-7b 1,000,000 + YB-7c 1,000,000 + YB-7d capped to 1,000,000 with a note saying so."""
    stages = [
        given.listing("neeq-filed", date(2024, 1, 5)),
        given.listing("neeq-listed", date(2024, 6, 5)),
        given.listing("neeq-select", date(2025, 3, 5)),
    ]
    f = given.facts("yubei", titles=[SRDI_2023], listings=stages)
    existing: list[ExistingEntitlement] = []
    amounts: dict[str, tuple[Decimal | None, str, str]] = {}
    for stage in stages:
        decisions = evaluate(YB, f, given.reached(stage), existing)
        existing = given.apply(existing, decisions)
        for d in given.created(decisions):
            amounts[d.rule] = (d.amount, d.status, d.note)
    assert amounts["YB-7b"][:2] == (Decimal(1000000), "accrued")
    assert amounts["YB-7c"][:2] == (Decimal(1000000), "accrued")
    assert amounts["YB-7d"] == (
        Decimal(1000000),
        "accrued",
        "capped: YB-7 新三板 stages total at most 3,000,000; 1,000,000 of 2,000,000",
    )


def test_yb7d_select_alone_pays_2000000_and_stage_amounts_reading_ignores_cap() -> None:
    """YB-7d alone is not capped; with reading `stage-amounts` the three stages pay 4,000,000."""
    select = given.listing("neeq-select", date(2024, 8, 1))
    f = given.facts("yubei", titles=[SRDI_2023], listings=[select])
    assert given.only(evaluate(YB, f, given.reached(select)), "YB-7d").amount == Decimal(2000000)
    policy = given.with_reading(YB, "neeq-cap", "stage-amounts")
    stages = [
        given.listing("neeq-filed", date(2024, 1, 5)),
        given.listing("neeq-listed", date(2024, 6, 5)),
        select,
    ]
    history = evaluate_history(policy, given.facts("yubei", titles=[SRDI_2023], listings=stages), [])
    total = sum((d.amount or Decimal(0)) for d in given.created(history) if d.rule.startswith("YB-7"))
    assert total == Decimal(4000000)


def test_yb7c_only_the_first_neeq_listing_counts() -> None:
    """YB-7c 首次: a second neeq-listed (after delisting) is refused."""
    first = given.listing("neeq-listed", date(2023, 6, 1))
    second = given.listing("neeq-listed", date(2024, 9, 1))
    f = given.facts("yubei", titles=[SRDI_2023], listings=[first, second])
    outcome = assess(YB, f, given.reached(second))
    assert given.created(outcome.decisions) == []
    assert any("first time" in r.reason for r in outcome.refusals if r.rule == "YB-7c")


def test_yb7e_f_g_ipo_stages_pay_2_3_5_million() -> None:
    """YB-7e/f/g: tutoring 2,000,000, accepted 3,000,000, listed 5,000,000, all accrued."""
    giant = given.title("little-giant", date(2023, 1, 1))
    stages = [
        given.listing("ipo-tutoring", date(2023, 5, 1)),
        given.listing("ipo-accepted", date(2024, 2, 1)),
        given.listing("ipo-listed", date(2025, 1, 1)),
    ]
    history = evaluate_history(YB, given.facts("yubei", titles=[giant], listings=stages), [])
    paid = {d.rule: (d.amount, d.status) for d in given.created(history) if d.rule.startswith("YB-7")}
    assert paid == {
        "YB-7e": (Decimal(2000000), "accrued"),
        "YB-7f": (Decimal(3000000), "accrued"),
        "YB-7g": (Decimal(5000000), "accrued"),
    }


def test_yb7e_second_tutoring_after_withdrawal_is_not_paid_again() -> None:
    """YB-7e once per enterprise: tutoring again after ipo-withdrawn pays nothing more."""
    stages = [
        given.listing("ipo-tutoring", date(2023, 5, 1)),
        given.listing("ipo-withdrawn", date(2024, 1, 1)),
        given.listing("ipo-tutoring", date(2024, 6, 1), event="tutoring-2"),
    ]
    history = evaluate_history(YB, given.facts("yubei", titles=[SRDI_2023], listings=stages), [])
    assert len(given.created(history, "YB-7e")) == 1


# ── YB-3: rent subsidy ──────────────────────────────────────────────────────────────────

GROWING = [given.fin(2022, 100), given.fin(2023, 130)]  # 2023 over 2022: 30%


def test_yb3_state_space_rent_subsidy() -> None:
    """YB-3: 5 元 × 1,000 ㎡ × 12 months = 60,000 accrued for a 2024 state-owned lease."""
    report = given.lease(2024, 1000, 25)
    f = given.add(given.facts("yubei", titles=[SRDI_2023], financials=GROWING), report)
    e = given.only(evaluate(YB, f, given.filed(report)), "YB-3")
    assert (e.amount, e.status, e.ceiling, e.kind) == (Decimal(60000), "accrued", False, "rent-subsidy")
    assert e.period_year == 2024
    assert any("5 元/㎡·月 × 1000 ㎡ × 12 months = 60,000" in s for s in e.explanation.steps)


def test_yb3_yearly_cap_of_500000() -> None:
    """YB-3: 5 元 × 10,000 ㎡ × 12 months = 600,000 is capped at 500,000 for the year."""
    big = given.lease(2025, 10000, 30)
    f2 = given.add(
        given.facts("yubei", titles=[SRDI_2023], financials=[given.fin(2023, 100), given.fin(2024, 130)]), big
    )
    assert given.only(evaluate(YB, f2, given.filed(big)), "YB-3").amount == Decimal(500000)


def test_yb3_one_entitlement_per_year_whatever_report_is_in_force() -> None:
    """YB-3: the entitlement of a year is keyed by the year, so a restated lease decides the same one."""
    one, two = given.lease(2024, 8000, 30), given.lease(2024, 1000, 30, event="lease-2")
    first = given.only(
        derive(YB, given.add(given.facts("yubei", titles=[SRDI_2023], financials=GROWING), one)).decisions,
        "YB-3",
    )
    again = given.only(
        derive(YB, given.add(given.facts("yubei", titles=[SRDI_2023], financials=GROWING), two)).decisions,
        "YB-3",
    )
    assert first.id == again.id and first.occasion == "lease:2024"
    assert (first.amount, again.amount) == (Decimal(480000), Decimal(60000))


def test_yb3_refusals_rent_floor_growth_and_title() -> None:
    """YB-3 refused: rent of 20 元 (not above 20), growth of 20% (not above), no SRDI title."""
    cheap = given.lease(2024, 1000, 20)
    f = given.add(given.facts("yubei", titles=[SRDI_2023], financials=GROWING), cheap)
    assert given.created(evaluate(YB, f, given.filed(cheap))) == []
    flat = given.lease(2024, 1000, 25)
    f = given.add(
        given.facts("yubei", titles=[SRDI_2023], financials=[given.fin(2022, 100), given.fin(2023, 120)]),
        flat,
    )
    assert given.created(evaluate(YB, f, given.filed(flat))) == []
    f = given.add(given.facts("yubei", titles=[], financials=GROWING), flat)
    assert given.created(evaluate(YB, f, given.filed(flat))) == []


def test_yb3_private_space_awaits_the_commission() -> None:
    """YB-3 on private idle space: same standard, a ceiling awaiting 区经济信息委 approval."""
    report = given.lease(2024, 1000, 25, owner="private")
    f = given.add(given.facts("yubei", titles=[SRDI_2023], financials=GROWING), report)
    e = given.only(evaluate(YB, f, given.filed(report)), "YB-3")
    assert (e.amount, e.status, e.ceiling) == (Decimal(60000), "awaiting-approval", True)
    assert "区经济信息委" in e.note


def test_yb3_missing_previous_revenue_is_pending_data() -> None:
    """YB-3 without 2022 revenue is pending-data; the 2022 report decides it (60,000)."""
    report = given.lease(2024, 1000, 25)
    f = given.add(given.facts("yubei", titles=[SRDI_2023], financials=[given.fin(2023, 130)]), report)
    pending = given.only(evaluate(YB, f, given.filed(report)), "YB-3")
    assert (pending.status, pending.amount) == ("pending-data", None)
    late = given.fin(2022, 100, on=date(2024, 8, 1))
    [done] = given.resolutions(
        evaluate(YB, given.add(f, late), given.filed(late), given.apply([], [pending]))
    )
    assert (done.status, done.amount) == ("accrued", Decimal(60000))


# ── YB-8: tax relief ────────────────────────────────────────────────────────────────────


def test_yb8_small_srdi_enterprise_gets_tax_relief_once() -> None:
    """YB-8: a small SRDI holder in 2022–2024 → one tax-relief entitlement, no amount."""
    old = given.title("srdi-municipal", date(2019, 6, 1))
    review = given.title("srdi-municipal", date(2022, 6, 1), by="review-passed")
    history = evaluate_history(YB, given.facts("yubei", size="micro", titles=[old, review]), [])
    e = given.only(history, "YB-8")
    assert (e.kind, e.amount, e.status) == ("tax-relief", None, "awaiting-approval")
    assert (e.trigger_event, e.accrued_on) == (old.event_id, date(2022, 1, 1))
    assert "no payout" in e.note


def test_yb8_medium_refused_unknown_size_pending_outside_window_nothing() -> None:
    """YB-8: medium → no; size unknown → pending-data; a title only from 2025 → nothing."""
    assert (
        given.created(
            evaluate_history(YB, given.facts("yubei", size="medium", titles=[SRDI_2023]), []), "YB-8"
        )
        == []
    )
    pending = given.only(
        evaluate_history(YB, given.facts("yubei", size=None, titles=[SRDI_2023]), []), "YB-8"
    )
    assert pending.status == "pending-data"
    late = given.title("srdi-municipal", date(2025, 2, 1))
    assert given.created(evaluate_history(YB, given.facts("yubei", titles=[late]), []), "YB-8") == []


# ── reach, districts, determinism, activation ───────────────────────────────────────────


def test_evaluating_twice_with_existing_creates_nothing_new() -> None:
    """Deterministic ids: the same trigger evaluated again with `existing` gives no decision."""
    f = given.facts("yubei", titles=[SRDI_2023])
    first = evaluate(YB, f, given.reached(SRDI_2023))
    again = evaluate(YB, f, given.reached(SRDI_2023))
    assert [d.id for d in given.created(first)] == [d.id for d in given.created(again)]
    assert evaluate(YB, f, given.reached(SRDI_2023), given.apply([], first)) == []


def test_activation_reaches_back_to_2022_but_not_earlier() -> None:
    """Activation over history: a 2022-01-01 certification pays YB-5a; 2021-12-31 does not."""
    early = given.title("srdi-municipal", date(2021, 12, 31))
    on_time = given.title("srdi-municipal", date(2022, 1, 1))
    trigger = PolicyActivated("yubei-2024", date(2024, 12, 12), "activation-1")
    assert given.created(evaluate(YB, given.facts("yubei", size="medium", titles=[early]), trigger)) == []
    e = given.only(evaluate(YB, given.facts("yubei", size="medium", titles=[on_time]), trigger), "YB-5a")
    assert e.accrued_on == date(2022, 1, 1)


def test_activation_twice_creates_nothing_new() -> None:
    """evaluate_history over a history already evaluated returns no decision."""
    f = given.facts(
        "yubei",
        titles=[SRDI_2023],
        listings=[given.listing("neeq-filed", date(2024, 1, 5))],
        financials=GROWING,
    )
    first = evaluate_history(YB, f, [])
    assert {d.rule for d in given.created(first)} == {"YB-5a", "YB-7b", "YB-8"}
    assert evaluate_history(YB, f, given.apply([], first)) == []


def test_enterprise_of_another_district_gets_nothing() -> None:
    """Yubei rules apply only to Yubei enterprises."""
    f = given.facts("rongchang", titles=[SRDI_2023])
    assert evaluate(YB, f, given.reached(SRDI_2023)) == []


def test_existing_without_subject_still_limits_repeats() -> None:
    """An existing YB-5a stored without subject/year still blocks a second YB-5a (derived)."""
    first = given.title("srdi-municipal", date(2022, 5, 1), ended_on=date(2023, 6, 1))
    again = given.title("srdi-municipal", date(2024, 9, 1))
    f = given.facts("yubei", size="medium", titles=[first, again])
    e = given.only(evaluate(YB, f, given.reached(first)), "YB-5a")
    bare = ExistingEntitlement(e.id, e.rule, "paid", e.amount, e.trigger_event, e.accrued_on)
    assert given.created(evaluate(YB, f, given.reached(again), [bare]), "YB-5a") == []


def test_explanation_is_json_ready() -> None:
    """The explanation serialises: readings, figures and steps as plain strings."""
    f, review = _srdi_reviewed_2026({2023: 100, 2024: 110, 2025: 122})
    data = given.only(evaluate(YB, f, given.reached(review)), "YB-5c").explanation.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False))["figures"]["revenue 2025"] == "122"
    assert data["readings"] == {"growth-averaging": "arithmetic"}


def test_yb6_retrofit_of_an_srdi_holder_amount_not_stated() -> None:
    """YB-6: a digital (new models) retrofit of a 市级专精特新 holder → support to be set; none without."""
    retrofit = given.measure("retrofit", date(2024, 5, 1), "digital", year=2024, amount=800000)
    f = given.add(given.facts("yubei", titles=[SRDI_2023]), retrofit)
    e = given.only(evaluate(YB, f, given.filed(retrofit)), "YB-6")
    assert (e.amount, e.status, e.responsible_units) == (
        None,
        "awaiting-approval",
        ("区财政局", "区经济信息委"),
    )
    assert given.created(evaluate(YB, given.add(given.facts("yubei"), retrofit), given.filed(retrofit))) == []


def test_yb9_major_innovation_project_reaches_any_enterprise() -> None:
    """YB-9: each major innovation project, titles or not, owes support to be set (区科技局)."""
    project = given.measure("innovation-project", date(2025, 3, 1), "equipment")
    f = given.add(given.facts("yubei"), project)
    e = given.only(evaluate(YB, f, given.filed(project)), "YB-9")
    assert (e.amount, e.status, e.responsible_units) == (None, "awaiting-approval", ("区科技局",))


def test_yb18_invention_patents_and_standards_of_srdi_holders() -> None:
    """YB-18: an invention patent and a standard of a 市级专精特新 holder each owe support to be set."""
    granted = given.patent("ZL2025100001.1", date(2025, 4, 1))
    standard = given.measure("standard", date(2025, 5, 1), "national")
    f = given.add(given.facts("yubei", titles=[SRDI_2023]), granted, standard)
    assert given.only(evaluate(YB, f, given.filed(granted)), "YB-18").status == "awaiting-approval"
    e = given.only(evaluate(YB, f, given.filed(standard)), "YB-18")
    assert e.explanation.source_zh == "对“专精特新”企业发明专利和参与标准化工作按政策给予扶持。"
    assert given.created(evaluate(YB, given.add(given.facts("yubei"), standard), given.filed(standard))) == []
