"""Liangjiang 2022 money rules (LJ-21 talents, LJ-13 invention patents)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.policy.engine import assess, evaluate, evaluate_history
from domain.policy.model import load_builtin
from tests.unit.policy import builders as given

LJ = load_builtin("liangjiang-2022")
GIANT = given.title("little-giant", date(2022, 7, 1))


def test_lj21_talent_contribution_paid_in_full() -> None:
    """LJ-21: 100% of a named talent's 2023 contribution (120,000.50) → accrued, exact."""
    report = given.talent("张三", 2023, "120000.50")
    f = given.add(given.facts("liangjiang", titles=[GIANT]), report)
    e = given.only(evaluate(LJ, f, given.filed(report)), "LJ-21")
    assert (e.amount, e.status, e.ceiling) == (Decimal("120000.50"), "accrued", False)
    assert (e.subject, e.period_year) == ("张三", 2023)
    assert e.responsible_units == ("组织人事部", "产业促进局", "财政局")
    assert ("talent-tiers", "max-for-every-tier") in e.explanation.readings


def test_lj21_three_years_from_the_first_rewarded_year() -> None:
    """LJ-21: 2022, 2023 and 2024 are rewarded; 2025 is past the 3-year period."""
    reports = [given.talent("张三", year, 100000) for year in (2022, 2023, 2024)]
    f = given.add(
        given.facts("liangjiang", titles=[given.title("srdi-municipal", date(2022, 7, 1), years=5)]), *reports
    )
    history = evaluate_history(LJ, f, [])
    assert [e.period_year for e in given.created(history, "LJ-21")] == [2022, 2023, 2024]
    late = given.talent("张三", 2025, 100000, on=date(2025, 12, 1))
    outcome = assess(LJ, given.add(f, late), given.filed(late), given.apply([], history))
    assert given.created(outcome.decisions) == []
    assert any("2022–2024 has ended" in r.reason for r in outcome.refusals)


def test_lj21_at_most_8_named_talents() -> None:
    """LJ-21: eight different people are rewarded; a ninth is refused (no slot left)."""
    reports = [given.talent(f"p{i}", 2023, 10000) for i in range(9)]
    f = given.add(given.facts("liangjiang", titles=[GIANT]), *reports)
    outcome = assess(LJ, f, given.filed(reports[0]))
    history = evaluate_history(LJ, f, [])
    assert len(given.created(history, "LJ-21")) == 8
    assert len(given.created(outcome.decisions, "LJ-21")) == 1
    ninth = assess(LJ, f, given.filed(reports[8]), given.apply([], given.created(history)))
    assert any("all 8 talent slots" in r.reason for r in ninth.refusals)


def test_lj21_slots_by_track_reading_uses_the_tier_table() -> None:
    """With reading `slots-by-track`, the tier table limits the slots (a 0-slot tier: refused)."""
    policy = given.with_reading(LJ, "talent-tiers", "slots-by-track")
    data = policy.model_dump()
    data["rules"][1]["formula"]["slots_by_track"] = {"little-giant": 8, "srdi-municipal": 0}
    tight = type(policy).model_validate(data)
    report = given.talent("李四", 2023, 5000)
    srdi = given.facts("liangjiang", titles=[given.title("srdi-municipal", date(2022, 7, 1))])
    assert given.created(evaluate(tight, given.add(srdi, report), given.filed(report))) == []
    giant = given.add(given.facts("liangjiang", titles=[GIANT]), report)
    assert given.only(evaluate(tight, giant, given.filed(report)), "LJ-21").amount == Decimal(5000)


def test_lj21_needs_little_giant_or_municipal_title() -> None:
    """LJ-21 refuses an enterprise holding neither little-giant nor srdi-municipal."""
    report = given.talent("王五", 2023, 5000)
    f = given.add(given.facts("liangjiang", titles=[given.title("hnte", date(2022, 7, 1))]), report)
    assert given.created(evaluate(LJ, f, given.filed(report))) == []


def test_lj13_invention_patent_amount_not_stated_once_per_patent() -> None:
    """LJ-13: a granted invention patent → entitlement with no amount, awaiting approval, once."""
    grant = given.patent("ZL202310000001.X", date(2023, 9, 1))
    f = given.add(given.facts("liangjiang"), grant)
    e = given.only(evaluate(LJ, f, given.filed(grant)), "LJ-13")
    assert (e.kind, e.amount, e.status, e.subject) == (
        "subsidy",
        None,
        "awaiting-approval",
        "ZL202310000001.X",
    )
    assert e.responsible_units == ("知识产权中心",)
    assert evaluate(LJ, f, given.filed(grant), given.apply([], [e])) == []


def test_lj13_patent_before_the_plan_is_not_reached() -> None:
    """LJ-13: a patent granted before 2022-06-01 is outside the plan's reach."""
    grant = given.patent("ZL202110000002.X", date(2022, 3, 1))
    assert evaluate(LJ, given.add(given.facts("liangjiang"), grant), given.filed(grant)) == []
