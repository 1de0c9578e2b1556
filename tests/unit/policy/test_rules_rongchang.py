"""Rongchang 2022 money rules (RC-27a/b, RC-29a/b, RC-30): ceilings, 首次, R&D formula, reach."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.policy.engine import assess, evaluate, evaluate_history
from domain.policy.model import load_builtin
from tests.unit.policy import builders as given

RC = load_builtin("rongchang-2022")
HNTE = given.title("hnte", date(2022, 1, 1))


def test_rc27a_first_little_giant_is_a_ceiling_of_1000000() -> None:
    """RC-27a: first little-giant certification → up to 1,000,000, awaiting approval."""
    giant = given.title("little-giant", date(2023, 7, 1))
    e = given.only(evaluate(RC, given.facts("rongchang", titles=[giant]), given.reached(giant)), "RC-27a")
    assert (e.amount, e.ceiling, e.status) == (Decimal(1000000), True, "awaiting-approval")
    assert e.responsible_units == ("区经济信息委", "区财政局")
    assert "ceiling: up to 1,000,000" in e.note


def test_rc27b_first_municipal_is_a_ceiling_of_200000() -> None:
    """RC-27b: first srdi-municipal certification → up to 200,000, awaiting approval."""
    srdi = given.title("srdi-municipal", date(2022, 8, 1))
    e = given.only(evaluate(RC, given.facts("rongchang", titles=[srdi]), given.reached(srdi)), "RC-27b")
    assert (e.amount, e.ceiling, e.status) == (Decimal(200000), True, "awaiting-approval")


def test_rc27_first_time_only_ever() -> None:
    """RC-27b 首次: a re-certification after an earlier title (even before 2022) is refused."""
    old = given.title("srdi-municipal", date(2019, 4, 1))
    again = given.title("srdi-municipal", date(2023, 4, 1))
    outcome = assess(RC, given.facts("rongchang", titles=[old, again]), given.reached(again))
    assert given.created(outcome.decisions) == []
    assert any("not the first srdi-municipal" in r.reason for r in outcome.refusals)
    imported = given.facts("rongchang", titles=[again], first_certified={"srdi-municipal": date(2018, 1, 1)})
    assert given.created(evaluate(RC, imported, given.reached(again))) == []


def test_rc27_within_policy_reading_pays_first_one_reached() -> None:
    """With the reading `within-policy`, the first certification the plan reaches is paid."""
    policy = given.with_reading(RC, "first-time", "within-policy")
    old = given.title("srdi-municipal", date(2019, 4, 1))
    again = given.title("srdi-municipal", date(2023, 4, 1))
    f = given.facts("rongchang", titles=[old, again])
    assert given.only(evaluate(policy, f, given.reached(again)), "RC-27b").amount == Decimal(200000)


def test_rc27_outside_in_force_window_is_not_reached() -> None:
    """A certification before 2022-06-30 or after 2025-12-31 is outside the plan's reach."""
    for day in (date(2022, 6, 29), date(2026, 1, 1)):
        giant = given.title("little-giant", day)
        assert evaluate(RC, given.facts("rongchang", titles=[giant]), given.reached(giant)) == []
    first_day = given.title("little-giant", date(2022, 6, 30))
    assert given.created(evaluate(RC, given.facts("rongchang", titles=[first_day]), given.reached(first_day)))


def test_rc29a_matches_municipal_subsidy_when_rd_at_least_10_million() -> None:
    """RC-29a: R&D 12,000,000 in 2023 and a 300,000 municipal subsidy → up to 300,000 matching."""
    grant = given.rd_subsidy(2023, 300000)
    f = given.add(
        given.facts("rongchang", titles=[HNTE], financials=[given.fin(2023, None, 12000000)]), grant
    )
    e = given.only(evaluate(RC, f, given.filed(grant)), "RC-29a")
    assert (e.kind, e.amount, e.ceiling, e.status) == (
        "matching",
        Decimal(300000),
        True,
        "awaiting-approval",
    )
    assert e.responsible_units == ("区经济信息委", "区科技局", "区财政局", "区税务局")


def test_rc29a_pending_until_rd_expense_is_reported_then_refused_below_threshold() -> None:
    """RC-29a without the year's R&D is pending-data; 9,000,000 arriving reverses it."""
    grant = given.rd_subsidy(2023, 300000)
    f = given.add(given.facts("rongchang", titles=[HNTE]), grant)
    pending = given.only(evaluate(RC, f, given.filed(grant)), "RC-29a")
    assert (pending.status, pending.amount) == ("pending-data", None)
    report = given.fin(2023, 50000000, 9000000)
    decisions = evaluate(RC, given.add(f, report), given.filed(report), given.apply([], [pending]))
    [done] = given.resolutions(decisions)
    assert (done.status, done.eligible) == ("reversed", False)
    assert "not at least 10,000,000" in done.note
    assert given.only(decisions, "RC-29b").status in ("awaiting-approval", "pending-data")


def test_rc29b_stock_and_increment_ceiling() -> None:
    """RC-29b: R&D 5,000,000 after 4,000,000 → 3% × 4,000,000 + 10% × 1,000,000 = 220,000."""
    report = given.fin(2023, None, 5000000)
    f = given.facts("rongchang", titles=[HNTE], financials=[given.fin(2022, None, 4000000), report])
    e = given.only(evaluate(RC, f, given.filed(report)), "RC-29b")
    assert (e.amount, e.ceiling, e.status) == (Decimal(220000), True, "awaiting-approval")
    assert ("rd-stock-increment", "capped-at-last-year") in e.explanation.readings


def test_rc29b_decrease_fractions_and_whole_stock_reading() -> None:
    """RC-29b: a fall has no increment; fen are rounded down; `whole-stock` reading differs."""
    fall = given.fin(2023, None, 3000000)
    f = given.facts("rongchang", titles=[HNTE], financials=[given.fin(2022, None, 4000000), fall])
    assert given.only(evaluate(RC, f, given.filed(fall)), "RC-29b").amount == Decimal(90000)
    odd = given.fin(2023, None, "1234567.89")
    f = given.facts("rongchang", titles=[HNTE], financials=[given.fin(2022, None, 1000000), odd])
    assert given.only(evaluate(RC, f, given.filed(odd)), "RC-29b").amount == Decimal("53456.78")
    rise = given.fin(2023, None, 5000000)
    f = given.facts("rongchang", titles=[HNTE], financials=[given.fin(2022, None, 4000000), rise])
    whole = given.with_reading(RC, "rd-stock-increment", "whole-stock")
    assert given.only(evaluate(whole, f, given.filed(rise)), "RC-29b").amount == Decimal(250000)


def test_rc29b_pending_until_last_years_rd_expense_arrives() -> None:
    """RC-29b without last year's R&D expense is pending-data, resolved by that report."""
    report = given.fin(2023, None, 5000000)
    f = given.facts("rongchang", titles=[HNTE], financials=[report])
    pending = given.only(evaluate(RC, f, given.filed(report)), "RC-29b")
    assert (pending.status, pending.amount, pending.ceiling) == ("pending-data", None, True)
    assert "R&D expense 2022" in pending.note
    late = given.fin(2022, None, 4000000, on=date(2024, 5, 1))
    decisions = evaluate(RC, given.add(f, late), given.filed(late), given.apply([], [pending]))
    [done] = given.resolutions(decisions)
    assert (done.status, done.amount) == ("awaiting-approval", Decimal(220000))


def test_rc29_needs_a_broad_srdi_title_and_rd_below_threshold() -> None:
    """RC-29b refuses non-holders and R&D of 10,000,000 or more; no R&D declared → nothing."""
    report = given.fin(2023, None, 5000000)
    assert (
        given.created(evaluate(RC, given.facts("rongchang", financials=[report]), given.filed(report))) == []
    )
    big = given.fin(2023, None, 10000000)
    f = given.facts("rongchang", titles=[HNTE], financials=[given.fin(2022, None, 1), big])
    assert given.created(evaluate(RC, f, given.filed(big))) == []
    bare = given.fin(2023, 1000000)
    assert (
        given.created(
            evaluate(RC, given.facts("rongchang", titles=[HNTE], financials=[bare]), given.filed(bare))
        )
        == []
    )


def test_rc30_each_listing_stage_amount_not_stated() -> None:
    """RC-30: each stage of a tech-sme holder → no amount, awaiting approval; once per stage."""
    tech = given.title("tech-sme", date(2023, 1, 1), years=1)
    stages = [given.listing("otc-listed", date(2023, 3, 1)), given.listing("neeq-filed", date(2023, 9, 1))]
    history = evaluate_history(RC, given.facts("rongchang", titles=[tech], listings=stages), [])
    found = given.created(history, "RC-30")
    assert [(e.subject, e.amount, e.status, e.ceiling) for e in found] == [
        ("otc-listed", None, "awaiting-approval", False),
        ("neeq-filed", None, "awaiting-approval", False),
    ]
    assert found[0].note == "amount not stated: set at approval"


def test_rc30_refused_without_any_srdi_title() -> None:
    """RC-30 reaches only tech-sme/hnte/srdi-municipal/little-giant holders on the stage date."""
    otc = given.listing("otc-listed", date(2023, 3, 1))
    innovative = given.title("innovative-sme", date(2022, 9, 1))
    f = given.facts("rongchang", titles=[innovative], listings=[otc])
    assert given.created(evaluate(RC, f, given.reached(otc))) == []


def test_rc28_retrofit_and_designation_amount_not_stated() -> None:
    """RC-28: a smart retrofit and a 数字化车间 of a 高新 holder → support to be set (art 28)."""
    hnte = given.title("hnte", date(2022, 3, 1))
    retrofit = given.measure("retrofit", date(2023, 8, 1), "smart", year=2023, amount=1200000)
    workshop = given.measure("designation", date(2023, 10, 1), "digital-workshop")
    f = given.add(given.facts("rongchang", titles=[hnte]), retrofit, workshop)
    e = given.only(evaluate(RC, f, given.filed(retrofit)), "RC-28")
    assert (e.amount, e.status, e.ceiling, e.subject) == (None, "awaiting-approval", False, "smart")
    assert e.explanation.source_zh.startswith("对“专精特新”企业实施智能化、绿色化改造")
    assert given.only(evaluate(RC, f, given.filed(workshop)), "RC-28").subject == "digital-workshop"
    late = given.measure("retrofit", date(2026, 3, 1), "smart", year=2026, amount=1)
    assert (
        given.created(evaluate(RC, given.add(f, late), given.filed(late))) == []
    )  # the plan ended with 2025


def test_rc29i_incubation_is_not_rc29a() -> None:
    """RC-29i: incubated by the institute → an award to be set, once; RC-29a stays the R&D matching."""
    incubated = given.measure("incubation", date(2023, 1, 10))
    f = given.add(given.facts("rongchang"), incubated)
    e = given.only(evaluate(RC, f, given.filed(incubated)), "RC-29i")
    assert (e.amount, e.status, e.kind) == (None, "awaiting-approval", "award")
    assert RC.rule("RC-29a").kind == "matching" and RC.rule("RC-29a").formula is not None
    assert evaluate(RC, f, given.filed(incubated), given.apply([], [e])) == []
