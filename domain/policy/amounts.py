"""Amounts: fixed, by track, or by a named formula; then the caps shared by several rules.

Each formula mirrors one sentence of a seed document and writes its arithmetic as steps:
- `rent_area_months` (YB-3): rate × area × months, within `yearly_cap` per enterprise and year
  across that year's lease reports (each later report gets what is left); state-owned space
  needs rent strictly above `rent_above`; private idle space follows the same standard (the floor
  too unless the `private-rent-threshold` reading says not) and is a ceiling awaiting approval.
- `rd_stock_increment` (RC-29b): stock = this year's R&D expense up to last year's, increment =
  the part above; ceiling = stock% × stock + increment% × increment. Last year's figure
  missing: pending-data.
Every computed amount is rounded down to the fen: neither an owed amount nor a ceiling may
exceed what the rate gives.
- `match_subsidy` (RC-29a): percent × the municipal subsidy reported.
- `talent_contribution` (LJ-21): percent × the reported contribution, for `years` counted from
  the person's first rewarded year, and at most the slots (名额) of the enterprise's tier.
Caps (YB-7 新三板 3,000,000): stages are paid in the order reached until the total is used; the
entry that meets the cap carries the capped amount and says so in its note.
Figures are written for notes and explanations by `yuan` and `plain`: decisions compare exact
values, these only render them, so a rounded display can never change an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from domain.policy.decisions import ExistingEntitlement
from domain.policy.facts import EnterpriseFacts, LeaseReport, RdSubsidyGrant, TalentReport
from domain.policy.model import (
    MatchSubsidy,
    Policy,
    RdStockIncrement,
    RentAreaMonths,
    Rule,
    TalentContribution,
)
from domain.policy.occasions import Occasion

FEN = Decimal("0.01")


def yuan(value: Decimal) -> str:
    """1000000 → '1,000,000'; 1234.5 → '1,234.50' (fen shown only when there are some)."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.quantize(Decimal('0.01')):,}"


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: Decimal('5.0') → '5'."""
    text = format(value.normalize(), "f")
    return text


def to_fen(value: Decimal) -> Decimal:
    """Yuan to the fen, rounded down (an owed amount or a ceiling never exceeds its rate)."""
    rounded = value.quantize(FEN, rounding=ROUND_DOWN)
    return value if rounded == value else rounded


@dataclass(frozen=True)
class Amount:
    """A computed amount (None: not stated), or `missing` figures, or a `refused` reason."""

    value: Decimal | None = None
    ceiling: bool = False
    figures: tuple[tuple[str, str], ...] = ()
    steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    refused: str = ""


def compute(
    policy: Policy,
    rule: Rule,
    facts: EnterpriseFacts,
    occ: Occasion,
    others: Iterable[ExistingEntitlement],
) -> Amount:
    """The rule's amount for this occasion; `others` are the active entitlements of the policy."""
    others = list(others)
    if rule.amount is not None:
        return Amount(rule.amount, rule.ceiling, steps=(f"fixed amount {yuan(rule.amount)}",))
    if rule.amount_by_track:
        if occ.track is None or occ.track not in rule.amount_by_track:
            return Amount(refused=f"no amount for track {occ.track}")
        value = rule.amount_by_track[occ.track]
        return Amount(value, rule.ceiling, steps=(f"{occ.track}: fixed amount {yuan(value)}",))
    formula = rule.formula
    if isinstance(formula, RentAreaMonths):
        return _rent(policy, rule, formula, occ, others)
    if isinstance(formula, RdStockIncrement):
        return _rd_stock_increment(policy, rule, formula, facts, occ)
    if isinstance(formula, MatchSubsidy):
        return _match(rule, formula, occ)
    if isinstance(formula, TalentContribution):
        return _talent(policy, rule, formula, facts, occ, others)
    return Amount(None, rule.ceiling)


def _rent(
    policy: Policy,
    rule: Rule,
    f: RentAreaMonths,
    occ: Occasion,
    others: list[ExistingEntitlement],
) -> Amount:
    lease = occ.report
    assert isinstance(lease, LeaseReport)
    figures = (
        ("area", f"{plain(lease.area_m2)} ㎡"),
        ("rent", f"{plain(lease.rent_per_m2_month)} 元/㎡·月"),
        ("months", str(lease.months)),
        ("owner", lease.owner),
    )
    if lease.owner not in f.owners:
        return Amount(refused=f"{lease.owner} space is not covered")
    private = lease.owner == "private"
    floor_applies = not private or (
        f.threshold_reading is None or policy.reading(f.threshold_reading) == "applies"
    )
    if floor_applies and lease.rent_per_m2_month <= f.rent_above:
        return Amount(
            refused=f"rent {plain(lease.rent_per_m2_month)} 元/㎡·月 is not above "
            f"{plain(f.rent_above)} 元/㎡·月"
        )
    base = to_fen(f.rate_per_m2_month * lease.area_m2 * lease.months)
    steps = [
        f"{plain(f.rate_per_m2_month)} 元/㎡·月 × {plain(lease.area_m2)} ㎡ × {lease.months} months"
        f" = {yuan(base)}"
    ]
    used = sum(
        (e.amount for e in others if e.rule == rule.id and e.period_year == occ.year and e.amount),
        Decimal(0),
    )
    left = max(f.yearly_cap - used, Decimal(0))
    notes: list[str] = []
    value = base
    if base > left:
        value = left
        steps.append(
            f"yearly cap {yuan(f.yearly_cap)} for {occ.year}, {yuan(used)} already granted: {yuan(value)}"
        )
        notes.append(f"capped: at most {yuan(f.yearly_cap)} a year; {yuan(value)} of {yuan(base)}")
    if private and f.private_reviewed:
        notes.append("private idle space: reviewed by 区经济信息委 before payment")
    return Amount(
        value, rule.ceiling or (private and f.private_reviewed), figures, tuple(steps), tuple(notes)
    )


def _rd_stock_increment(
    policy: Policy, rule: Rule, f: RdStockIncrement, facts: EnterpriseFacts, occ: Occasion
) -> Amount:
    assert occ.year is not None
    this_year = facts.rd_expense(occ.year)
    last_year = facts.rd_expense(occ.year - 1)
    if this_year is None:
        return Amount(ceiling=rule.ceiling, missing=(f"R&D expense {occ.year}",))
    if last_year is None:
        return Amount(ceiling=rule.ceiling, missing=(f"R&D expense {occ.year - 1}",))
    whole = f.reading is not None and policy.reading(f.reading) == "whole-stock"
    stock = this_year if whole else min(this_year, last_year)
    increment = max(this_year - last_year, Decimal(0))
    raw = stock * f.stock_percent / 100 + increment * f.increment_percent / 100
    value = to_fen(raw)
    figures = ((f"R&D expense {occ.year}", yuan(this_year)), (f"R&D expense {occ.year - 1}", yuan(last_year)))
    steps = (
        f"stock = {'this year' if whole else 'min(this year, last year)'} = {yuan(stock)}",
        f"increment = max({yuan(this_year)} − {yuan(last_year)}, 0) = {yuan(increment)}",
        f"{plain(f.stock_percent)}% × {yuan(stock)} + {plain(f.increment_percent)}% × "
        f"{yuan(increment)} = {yuan(value)}",
    )
    return Amount(value, rule.ceiling, figures, steps)


def _match(rule: Rule, f: MatchSubsidy, occ: Occasion) -> Amount:
    grant = occ.report
    assert isinstance(grant, RdSubsidyGrant)
    value = to_fen(grant.amount * f.percent / 100)
    steps = (f"{plain(f.percent)}% × municipal subsidy {yuan(grant.amount)} = {yuan(value)}",)
    return Amount(value, rule.ceiling, ((f"municipal subsidy {grant.year}", yuan(grant.amount)),), steps)


def _talent(
    policy: Policy,
    rule: Rule,
    f: TalentContribution,
    facts: EnterpriseFacts,
    occ: Occasion,
    others: list[ExistingEntitlement],
) -> Amount:
    talent = occ.report
    assert isinstance(talent, TalentReport) and occ.year is not None
    mine = [e for e in others if e.rule == rule.id]
    named = {e.subject for e in mine}
    slots = f.max_talents
    if "talent-tiers" in rule.readings and policy.reading("talent-tiers") == "slots-by-track":
        held = facts.holds_any(tuple(f.slots_by_track), occ.check_on)
        slots = max((f.slots_by_track[t] for t in held), default=f.max_talents)
    if talent.person not in named and len(named) >= slots:
        return Amount(refused=f"all {slots} talent slots (人才支持名额) are named already")
    years = [e.period_year for e in mine if e.subject == talent.person and e.period_year]
    first = min([*years, occ.year])
    if occ.year > first + f.years - 1:
        return Amount(
            refused=f"{talent.person}: the {f.years}-year reward period "
            f"{first}–{first + f.years - 1} has ended"
        )
    value = to_fen(talent.contribution * f.percent / 100)
    figures = (("person", talent.person), (f"contribution {occ.year}", yuan(talent.contribution)))
    steps = (
        f"reward year {occ.year - first + 1} of {f.years} (from {first}); "
        f"talent {len(named | {talent.person})} of {slots}",
        f"{plain(f.percent)}% × {yuan(talent.contribution)} = {yuan(value)}",
    )
    return Amount(value, rule.ceiling, figures, steps)


def apply_caps(policy: Policy, rule: Rule, amount: Amount, others: Iterable[ExistingEntitlement]) -> Amount:
    """Cut the amount to what is left of each cap the rule shares (stages in order reached)."""
    if amount.value is None or not rule.caps:
        return amount
    others = list(others)
    value, steps, notes = amount.value, list(amount.steps), list(amount.notes)
    for cap_id in rule.caps:
        cap = policy.cap(cap_id)
        if cap.reading is not None and policy.reading(cap.reading) != "in-order":
            continue
        members = set(policy.rules_in_cap(cap_id))
        used = sum((e.amount for e in others if e.rule in members and e.amount), Decimal(0))
        left = max(cap.total - used, Decimal(0))
        if value > left:
            steps.append(f"{cap.label}: {yuan(used)} already, {yuan(left)} left")
            notes.append(f"capped: {cap.label}; {yuan(left)} of {yuan(value)}")
            value = left
    return Amount(value, amount.ceiling, amount.figures, tuple(steps), tuple(notes))
