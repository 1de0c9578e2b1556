"""Conditions on the enterprise (titles held, size, revenue growth, R&D expense), one verdict each.

A condition passes, fails with a reason, or is undecidable because a figure has not been reported
(`missing`): the engine turns the last into `pending-data`, never into a no (catalogue, readings).
Growth is compared as exact fractions; the percentages in the steps are for reading only.

Readings used (POLICY-CATALOGUE.md, last section):
- `average-last-2-years` (YB-5c/d): a review in year R uses the growth of R-1 over R-2 and of R-2
  over R-3, averaged arithmetically (or compound: (rev R-1 / rev R-3)^(1/2) - 1).
- `previous-year` (YB-3): growth of Y-1 over Y-2 for a report about year Y.
A growth from a revenue of zero or less is undefined: the condition fails and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Literal

from domain.policy.amounts import yuan
from domain.policy.facts import EnterpriseFacts
from domain.policy.model import (
    Condition,
    HoldsCondition,
    Policy,
    RdExpenseCondition,
    RevenueGrowthCondition,
    SizeCondition,
)
from domain.policy.occasions import Occasion


@dataclass(frozen=True)
class Finding:
    """One condition's verdict, with the figures and steps that led to it."""

    outcome: Literal["pass", "fail", "missing"]
    figures: tuple[tuple[str, str], ...] = ()
    steps: tuple[str, ...] = ()
    reason: str = ""
    missing: tuple[str, ...] = ()


def check(policy: Policy, condition: Condition, facts: EnterpriseFacts, occ: Occasion) -> Finding:
    """The verdict of one condition for this occasion."""
    if isinstance(condition, HoldsCondition):
        return _holds(condition, facts, occ)
    if isinstance(condition, SizeCondition):
        return _size(condition, facts, occ)
    if isinstance(condition, RevenueGrowthCondition):
        return _growth(policy, condition, facts, occ)
    return _rd_expense(policy, condition, facts, occ)


def _holds(cond: HoldsCondition, facts: EnterpriseFacts, occ: Occasion) -> Finding:
    held = facts.holds_any(cond.tracks, occ.check_on)
    wanted = " or ".join(cond.tracks)
    figures = (("titles held on " + occ.check_on.isoformat(), ", ".join(held) or "none"),)
    if held:
        return Finding("pass", figures, (f"holds a valid {held[0]} title on {occ.check_on}",))
    return Finding("fail", figures, reason=f"no valid {wanted} title on {occ.check_on}")


def _size(cond: SizeCondition, facts: EnterpriseFacts, occ: Occasion) -> Finding:
    """The size in force on the trigger's date (`EnterpriseFacts.size_on`)."""
    size = facts.size_on(occ.on)
    if size is None:
        return Finding("missing", missing=("enterprise size",))
    figures = ((f"size on {occ.on.isoformat()}", size),)
    if size in cond.sizes:
        return Finding("pass", figures, (f"size {size} is {'/'.join(cond.sizes)}",))
    wanted = "/".join(cond.sizes)
    return Finding("fail", figures, reason=f"size {size} on {occ.on.isoformat()} is not {wanted}")


def _growth(policy: Policy, cond: RevenueGrowthCondition, facts: EnterpriseFacts, occ: Occasion) -> Finding:
    reading = policy.reading(cond.reading) if cond.reading else ""
    if cond.span == "average-last-2-years":
        last = occ.on.year - 1
        years: tuple[int, ...] = (last - 2, last - 1, last)
    else:
        base = occ.year if occ.year is not None else occ.on.year
        last = base if reading == "report-year" else base - 1
        years = (last - 1, last)
    reported = {year: facts.revenue(year) for year in years}
    absent = tuple(f"revenue {year}" for year, value in reported.items() if value is None)
    if absent:
        need = ", ".join(str(y) for y in years)
        return Finding("missing", steps=(f"the growth needs revenue for {need}",), missing=absent)
    revenue = {y: v for y, v in reported.items() if v is not None}
    figures = tuple((f"revenue {y}", yuan(v)) for y, v in revenue.items())
    exact = [Fraction(revenue[y]) for y in years]
    if any(v <= 0 for v in exact[:-1]):
        return Finding("fail", figures, reason="growth from a revenue of zero or less is undefined")
    threshold = Fraction(cond.more_than_percent) / 100
    if cond.span == "previous-year":
        growth = exact[1] / exact[0] - 1
        steps = [f"growth {years[1]} over {years[0]}: {percent(growth)}"]
        return _verdict(growth > threshold, figures, steps, percent(growth), cond)
    if reading == "compound":
        ratio = exact[2] / exact[0]
        shown = _root_percent(ratio)
        steps = [
            f"compound growth {years[0]}–{years[2]}: "
            f"({yuan(revenue[years[2]])} / {yuan(revenue[years[0]])})^(1/2) − 1 = {shown}"
        ]
        return _verdict(ratio > (1 + threshold) ** 2, figures, steps, shown, cond)
    first = exact[1] / exact[0] - 1
    second = exact[2] / exact[1] - 1
    growth = (first + second) / 2
    steps = [
        f"growth {years[1]} over {years[0]}: {percent(first)}",
        f"growth {years[2]} over {years[1]}: {percent(second)}",
        f"average (arithmetic): ({percent(first)} + {percent(second)}) / 2 = {percent(growth)}",
    ]
    return _verdict(growth > threshold, figures, steps, percent(growth), cond)


def percent(ratio: Fraction) -> str:
    """Fraction(1, 8) → '12.50%' (rounded half-even to 0.01%, for display only)."""
    shown = Decimal(ratio.numerator) * 100 / Decimal(ratio.denominator)
    return f"{shown.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)}%"


def _root_percent(ratio: Fraction) -> str:
    """(ratio^(1/2) − 1) as a percentage, for display."""
    root = (Decimal(ratio.numerator) / Decimal(ratio.denominator)).sqrt()
    return percent(Fraction(root) - 1)


def _verdict(
    ok: bool,
    figures: tuple[tuple[str, str], ...],
    steps: list[str],
    shown: str,
    cond: RevenueGrowthCondition,
) -> Finding:
    limit = f"{cond.more_than_percent}%"
    if ok:
        return Finding("pass", figures, (*steps, f"{shown} > {limit}: condition met"))
    reason = f"revenue growth {shown} is not above {limit}"
    return Finding("fail", figures, (*steps, f"{shown} ≤ {limit}: condition not met"), reason)


def _rd_expense(policy: Policy, cond: RdExpenseCondition, facts: EnterpriseFacts, occ: Occasion) -> Finding:
    year = occ.year if occ.year is not None else occ.on.year
    if cond.reading is not None and policy.reading(cond.reading) == "previous-year":
        year -= 1
    value = facts.rd_expense(year)
    if value is None:
        return Finding("missing", missing=(f"R&D expense {year}",))
    figures = ((f"R&D expense {year}", yuan(value)),)
    if cond.at_least is not None:
        ok, words = value >= cond.at_least, f"at least {yuan(cond.at_least)}"
    else:
        assert cond.below is not None
        ok, words = value < cond.below, f"below {yuan(cond.below)}"
    if ok:
        return Finding("pass", figures, (f"R&D expense {year} {yuan(value)} is {words}",))
    return Finding("fail", figures, reason=f"R&D expense {year} {yuan(value)} is not {words}")
