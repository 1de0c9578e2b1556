"""Jiangjin 2022 money rules (JJ-27, JJ-29, JJ-30): amounts not stated, broad SRDI scope."""

from __future__ import annotations

from datetime import date

from domain.policy.engine import assess, evaluate, evaluate_history
from domain.policy.model import load_builtin
from tests.unit.policy import builders as given

JJ = load_builtin("jiangjin-2022")
INNOVATIVE = given.title("innovative-sme", date(2022, 3, 1))
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
    chosen = given.demonstration(2023, date(2023, 5, 1))
    f = given.add(given.facts("jiangjin", titles=[INNOVATIVE]), chosen)
    e = given.only(evaluate(JJ, f, given.filed(chosen)), "JJ-27")
    assert (e.amount, e.status, e.ceiling, e.period_year) == (None, "awaiting-approval", False, 2023)
    assert e.responsible_units == UNITS
    assert evaluate(JJ, f, given.filed(chosen), given.apply([], [e])) == []


def test_jj27_needs_a_jiangjin_srdi_title() -> None:
    """JJ-27 reaches innovative-sme/srdi-municipal/little-giant holders only (not tech-sme)."""
    chosen = given.demonstration(2023, date(2023, 5, 1))
    f = given.add(
        given.facts("jiangjin", titles=[given.title("tech-sme", date(2023, 1, 1), years=1)]), chosen
    )
    outcome = assess(JJ, f, given.filed(chosen))
    assert given.created(outcome.decisions) == []
    assert outcome.refusals[0].rule == "JJ-27"


def test_jj29_rd_investment_reported_amount_not_stated() -> None:
    """JJ-29: a financials report declaring R&D → entitlement awaiting approval, no amount."""
    report = given.fin(2023, 30000000, 2000000)
    f = given.facts("jiangjin", titles=[INNOVATIVE], financials=[report])
    e = given.only(evaluate(JJ, f, given.filed(report)), "JJ-29")
    assert (e.amount, e.status, e.kind) == (None, "awaiting-approval", "subsidy")


def test_jj29_nothing_without_declared_rd() -> None:
    """JJ-29: a financials report without R&D expense creates nothing."""
    report = given.fin(2023, 30000000)
    f = given.facts("jiangjin", titles=[INNOVATIVE], financials=[report])
    assert given.created(evaluate(JJ, f, given.filed(report))) == []


def test_jj30_each_listing_stage_once() -> None:
    """JJ-30: every listing stage of a holder → one entitlement per stage, no amount."""
    stages = [given.listing("neeq-filed", date(2023, 2, 1)), given.listing("neeq-listed", date(2023, 11, 1))]
    history = evaluate_history(JJ, given.facts("jiangjin", titles=[INNOVATIVE], listings=stages), [])
    found = given.created(history, "JJ-30")
    assert [(e.subject, e.amount, e.status) for e in found] == [
        ("neeq-filed", None, "awaiting-approval"),
        ("neeq-listed", None, "awaiting-approval"),
    ]
    again = evaluate(
        JJ,
        given.facts("jiangjin", titles=[INNOVATIVE], listings=stages),
        given.reached(stages[0]),
        given.apply([], history),
    )
    assert again == []


def test_jj30_before_the_plan_is_not_reached() -> None:
    """JJ-30: a stage reached before 2022-07-05 is outside the plan's reach."""
    early = given.listing("otc-listed", date(2022, 7, 4))
    f = given.facts("jiangjin", titles=[INNOVATIVE], listings=[early])
    assert evaluate(JJ, f, given.reached(early)) == []


def test_jj28_retrofit_and_designation_amount_not_stated_once_a_year() -> None:
    """JJ-28: a green retrofit and a 智能工厂 each owe support of an unstated amount; same kind+year once."""
    retrofit = given.measure("retrofit", date(2024, 5, 1), "green", year=2024, amount=500000)
    factory = given.measure("designation", date(2024, 6, 1), "smart-factory")
    f = given.add(given.facts("jiangjin", titles=[INNOVATIVE]), retrofit, factory)
    e = given.only(evaluate(JJ, f, given.filed(retrofit)), "JJ-28")
    assert (e.amount, e.status, e.period_year, e.responsible_units) == (
        None,
        "awaiting-approval",
        2024,
        UNITS,
    )
    assert given.only(evaluate(JJ, f, given.filed(factory)), "JJ-28").status == "awaiting-approval"
    again = given.measure("retrofit", date(2024, 9, 1), "green", year=2024, amount=600000)
    g = given.add(f, again)
    assert given.created(evaluate(JJ, g, given.filed(again), given.apply([], [e])), "JJ-28") == []


def test_jj28_needs_a_title_and_ignores_benchmarks() -> None:
    """JJ-28 needs Jiangjin's SRDI scope; a benchmark designation is not in its subjects."""
    retrofit = given.measure("retrofit", date(2024, 5, 1), "smart", year=2024, amount=1)
    assert (
        given.created(evaluate(JJ, given.add(given.facts("jiangjin"), retrofit), given.filed(retrofit))) == []
    )
    benchmark = given.measure("designation", date(2024, 6, 1), "benchmark")
    f = given.add(given.facts("jiangjin", titles=[INNOVATIVE]), benchmark)
    assert evaluate(JJ, f, given.filed(benchmark)) == []
