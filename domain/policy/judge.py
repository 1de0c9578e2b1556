"""One rule, one trigger: the steps every money rule goes through, in order.

1. match the trigger (`occasions.match`): not about it → nothing; a qualifier says no → refusal;
   an enterprise of another district on the occasion's date → nothing (details are dated);
2. a rule that `yields_to` another stands aside when that one matches (YB-5c/d vs YB-5e);
3. reach: the occasion must fall inside the policy's reach (reach-back date, in-force window);
4. the deterministic id: an entitlement that already exists is never created again;
5. once-only limits (`once_per` subject / subject-year, shared with `once_with` rules);
6. conditions: any fail → refusal; any figure missing → `pending-data` with no amount yet;
7. the amount (fixed, by track, formula) and the caps it shares; a formula may refuse (rent
   not above the floor) or miss a figure too. While figures are missing the amount is held
   back (None) and the steps show what it would be;
8. the status: `accrued` for a fixed amount owed, `awaiting-approval` for a ceiling or an
   amount not stated (a tax relief included), `pending-data` while figures are missing.
The same steps decide a pending entitlement again when new figures arrive (`resolving`): the
entitlement itself is then left out of every sum and limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.policy.amounts import Amount, apply_caps, compute
from domain.policy.conditions import check
from domain.policy.decisions import (
    CreateEntitlement,
    ExistingEntitlement,
    Explanation,
    MilestoneReached,
    Refusal,
    ReportFiled,
    entitlement_id,
)
from domain.policy.facts import EnterpriseFacts
from domain.policy.fmt import yuan
from domain.policy.model import Policy, Rule
from domain.policy.occasions import Occasion, in_reach, match
from domain.policy.vocab import InitialStatus


@dataclass
class Book:
    """A working copy of the enterprise's entitlements under one policy, updated as we decide."""

    entries: dict[str, ExistingEntitlement]

    @classmethod
    def of(cls, existing: Iterable[ExistingEntitlement]) -> Book:
        return cls({e.id: e for e in existing})

    def active(self, excluding: str | None = None) -> list[ExistingEntitlement]:
        """Entitlements that count (not reversed), optionally leaving one out."""
        return [e for e in self.entries.values() if e.active and e.id != excluding]

    def put(self, entry: ExistingEntitlement) -> None:
        self.entries[entry.id] = entry


Outcome = CreateEntitlement | Refusal | None


def judge(
    policy: Policy,
    rule: Rule,
    facts: EnterpriseFacts,
    trigger: MilestoneReached | ReportFiled,
    book: Book,
    resolving: str | None = None,
) -> Outcome:
    """Decide what `rule` owes for `trigger`; `resolving` is a pending entitlement's id."""
    occ = match(policy, rule, facts, trigger)
    if occ is None:
        return None
    if isinstance(occ, str):
        return _refuse(policy, rule, trigger.event_id, occ)
    if facts.district_on(occ.on) not in policy.districts:
        return None  # the enterprise belonged to another district on the trigger's date
    for other in rule.yields_to:
        if isinstance(match(policy, policy.rule(other), facts, trigger), Occasion):
            return None
    if not in_reach(policy, occ):
        until = policy.in_force_until or "open"
        return _refuse(policy, rule, occ.event_id, f"outside the reach {policy.reach_from}–{until}")
    new_id = entitlement_id(policy.key, rule.id, facts.uscc, occ.key)
    if resolving is None and new_id in book.entries:
        return None
    others = book.active(excluding=resolving)
    repeat = _repeat(policy, rule, occ, others)
    if repeat:
        return _refuse(policy, rule, occ.event_id, repeat)
    findings = [check(policy, c, facts, occ) for c in rule.conditions]
    failed = next((f for f in findings if f.outcome == "fail"), None)
    if failed is not None:
        return _refuse(policy, rule, occ.event_id, failed.reason)
    figures = tuple(pair for f in findings for pair in f.figures)
    steps = tuple(step for f in findings for step in f.steps)
    missing = tuple(m for f in findings for m in f.missing)
    amount = apply_caps(policy, rule, compute(policy, rule, facts, occ, others), others)
    if amount.refused:
        return _refuse(policy, rule, occ.event_id, amount.refused)
    missing += amount.missing
    if not missing and amount.value is not None and amount.value <= 0:
        # Nothing to owe, approve or pay (a used-up yearly cap, a zero figure): an entry of 0, or a
        # ceiling of 0 that no approval (> 0) could ever clear, would sit in the ledger forever.
        why = amount.notes[0] if amount.notes else (amount.steps[-1] if amount.steps else "0")
        return _refuse(policy, rule, occ.event_id, f"nothing owed: {why}")
    explanation = Explanation(
        policy=policy.key,
        rule=rule.id,
        article=rule.article,
        source_zh=rule.source_zh,
        readings=_readings(policy, rule),
        figures=figures + amount.figures,
        steps=steps + amount.steps,
        missing=missing,
    )
    status = _status(rule, amount, missing)
    return CreateEntitlement(
        id=resolving or new_id,
        policy=policy.key,
        rule=rule.id,
        article=rule.article,
        kind=rule.kind,
        amount=None if missing else amount.value,
        ceiling=amount.ceiling,
        status=status,
        responsible_units=rule.responsible_units,
        trigger_event=occ.event_id,
        accrued_on=occ.on,
        subject=occ.subject,
        period_year=occ.year,
        occasion=occ.key,
        note=_note(rule, amount, missing),
        explanation=explanation,
    )


def _refuse(policy: Policy, rule: Rule, event_id: str, reason: str) -> Refusal:
    return Refusal(policy=policy.key, rule=rule.id, trigger_event=event_id, reason=reason)


def _repeat(policy: Policy, rule: Rule, occ: Occasion, others: list[ExistingEntitlement]) -> str | None:
    """Why a once-only rule may not pay again, or None."""
    per = rule.once_per
    if (
        "recertification-award" in rule.readings
        and policy.reading("recertification-award") == "each-certification"
    ):
        per = "event"
    if per == "event":
        return None
    family = {rule.id, *rule.once_with}
    for e in others:
        same_year = per == "subject" or e.period_year == occ.year
        if e.rule in family and e.subject == occ.subject and same_year:
            what = occ.subject or "this enterprise"
            year = f" for {occ.year}" if per == "subject-year" else ""
            return f"already granted under {e.rule} for {what}{year} (entitlement {e.id})"
    return None


def _readings(policy: Policy, rule: Rule) -> tuple[tuple[str, str], ...]:
    """The readings this rule used, with the value in force."""
    names = [*rule.reading_names(), *(policy.cap(c).reading for c in rule.caps)]
    return tuple((n, policy.reading(n)) for n in dict.fromkeys(names) if n is not None)


def _status(rule: Rule, amount: Amount, missing: tuple[str, ...]) -> InitialStatus:
    if missing:
        return "pending-data"
    if amount.value is None or amount.ceiling:
        return "awaiting-approval"
    return "accrued"


def _note(rule: Rule, amount: Amount, missing: tuple[str, ...]) -> str:
    parts: list[str] = []
    if missing:
        parts.append(f"pending-data: waiting for {', '.join(missing)}")
    if rule.kind == "tax-relief":
        unit = "、".join(rule.responsible_units)
        parts.append(f"tax relief, no payout (applied by {unit}): {rule.summary}")
    elif not missing and amount.value is None:
        parts.append("amount not stated: set at approval")
    elif not missing and amount.ceiling and amount.value is not None:
        parts.append(f"ceiling: up to {yuan(amount.value)}, the amount is set at approval")
    parts += [n for n in amount.notes if not (missing and n.startswith("capped"))]
    return "; ".join(dict.fromkeys(parts))
