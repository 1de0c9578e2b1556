"""Jiangjin 2022 money rules (JJ-27, JJ-29, JJ-30): amounts not stated, broad SRDI scope."""

from __future__ import annotations

from datetime import date

from domain.policy.engine import assess, evaluate, evaluate_history
from domain.policy.model import load_builtin
from tests.unit.policy.builders import (
    add,
    apply,
    created,
    demonstration,
    facts,
    filed,
    fin,
    listing,
    measure,
    only,
    reached,
    title,
)

JJ = load_builtin("jiangjin-2022")
INNOVATIVE = title("innovative-sme", date(2022, 3, 1))
UNITS = (
    "区经济信息委",
    "区财政局",
    "区科技局",
    "区金融发展服务中心",
    "江津区税务局",
    "各工业园发展中心",
    "相关镇街",
)


def test_jj27_demonstration_enterprise_amount_not_stated() -> None:
    """JJ-27: chosen as a demonstration enterprise → no amount, awaiting approval, once a year."""
    chosen = demonstration(2023, date(2023, 5, 1))
    f = add(facts("jiangjin", titles=[INNOVATIVE]), chosen)
    e = only(evaluate(JJ, f, filed(chosen)), "JJ-27")
    assert (e.amount, e.status, e.ceiling, e.period_year) == (None, "awaiting-approval", False, 2023)
    assert e.responsible_units == UNITS
    assert evaluate(JJ, f, filed(chosen), apply([], [e])) == []


def test_jj27_needs_a_jiangjin_srdi_title() -> None:
    """JJ-27 reaches innovative-sme/srdi-municipal/little-giant holders only (not tech-sme)."""
    chosen = demonstration(2023, date(2023, 5, 1))
    f = add(facts("jiangjin", titles=[title("tech-sme", date(2023, 1, 1), years=1)]), chosen)
    outcome = assess(JJ, f, filed(chosen))
    assert created(outcome.decisions) == []
    assert outcome.refusals[0].rule == "JJ-27"


def test_jj29_rd_investment_reported_amount_not_stated() -> None:
    """JJ-29: a financials report declaring R&D → entitlement awaiting approval, no amount."""
    report = fin(2023, 30000000, 2000000)
    f = facts("jiangjin", titles=[INNOVATIVE], financials=[report])
    e = only(evaluate(JJ, f, filed(report)), "JJ-29")
    assert (e.amount, e.status, e.kind) == (None, "awaiting-approval", "subsidy")


def test_jj29_nothing_without_declared_rd() -> None:
    """JJ-29: a financials report without R&D expense creates nothing."""
    report = fin(2023, 30000000)
    f = facts("jiangjin", titles=[INNOVATIVE], financials=[report])
    assert created(evaluate(JJ, f, filed(report))) == []


def test_jj30_each_listing_stage_once() -> None:
    """JJ-30: every listing stage of a holder → one entitlement per stage, no amount."""
    stages = [listing("neeq-filed", date(2023, 2, 1)), listing("neeq-listed", date(2023, 11, 1))]
    history = evaluate_history(JJ, facts("jiangjin", titles=[INNOVATIVE], listings=stages), [])
    found = created(history, "JJ-30")
    assert [(e.subject, e.amount, e.status) for e in found] == [
        ("neeq-filed", None, "awaiting-approval"),
        ("neeq-listed", None, "awaiting-approval"),
    ]
    again = evaluate(
        JJ, facts("jiangjin", titles=[INNOVATIVE], listings=stages), reached(stages[0]), apply([], history)
    )
    assert again == []


def test_jj30_before_the_plan_is_not_reached() -> None:
    """JJ-30: a stage reached before 2022-07-05 is outside the plan's reach."""
    early = listing("otc-listed", date(2022, 7, 4))
    f = facts("jiangjin", titles=[INNOVATIVE], listings=[early])
    assert evaluate(JJ, f, reached(early)) == []


def test_jj28_retrofit_and_designation_amount_not_stated_once_a_year() -> None:
    """JJ-28: a green retrofit and a 智能工厂 each owe support of an unstated amount; same kind+year once."""
    retrofit = measure("retrofit", date(2024, 5, 1), "green", year=2024, amount=500000)
    factory = measure("designation", date(2024, 6, 1), "smart-factory")
    f = add(facts("jiangjin", titles=[INNOVATIVE]), retrofit, factory)
    e = only(evaluate(JJ, f, filed(retrofit)), "JJ-28")
    assert (e.amount, e.status, e.period_year, e.responsible_units) == (
        None,
        "awaiting-approval",
        2024,
        UNITS,
    )
    assert only(evaluate(JJ, f, filed(factory)), "JJ-28").status == "awaiting-approval"
    again = measure("retrofit", date(2024, 9, 1), "green", year=2024, amount=600000)
    g = add(f, again)
    assert created(evaluate(JJ, g, filed(again), apply([], [e])), "JJ-28") == []


def test_jj28_needs_a_title_and_ignores_benchmarks() -> None:
    """JJ-28 needs Jiangjin's SRDI scope; a benchmark designation is not in its subjects."""
    retrofit = measure("retrofit", date(2024, 5, 1), "smart", year=2024, amount=1)
    assert created(evaluate(JJ, add(facts("jiangjin"), retrofit), filed(retrofit))) == []
    benchmark = measure("designation", date(2024, 6, 1), "benchmark")
    f = add(facts("jiangjin", titles=[INNOVATIVE]), benchmark)
    assert evaluate(JJ, f, filed(benchmark)) == []
