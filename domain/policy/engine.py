"""The policy engine: pure evaluation of a policy's money rules for one enterprise.

`evaluate(policy, facts, trigger, existing)` answers "what is this enterprise owed now that this
happened?" as a list of decisions: create an entitlement, or resolve one that was waiting for
figures. It reads no clock, store or event: the facts (built by the aggregate from its history,
the triggering event included) and the existing entitlements are all it knows, so the same input
always gives the same decisions and entitlement ids (uuid5 of policy, rule, USCC, trigger event).

Every evaluation first decides the enterprise's `pending-data` entitlements again (a report may
have brought the missing revenue), then the rules the trigger concerns. A policy applies only to
enterprises of the districts it governs and to triggers inside its reach. A policy activation
(`PolicyActivated`, or `evaluate_history`) evaluates every past trigger, oldest first, once: what
already exists is recognised by its id and never created again.

Conditions, amounts and caps are in their own modules; the steps one rule goes through (`judge`)
and the triggers rebuilt from the facts (`past_triggers`) are here.

Where the documents leave things open, the engine decided (each also stated in the policy data,
as a reading the district can change or in the rule's `decided` lines):
- Reach: a trigger counts when dated inside [reach-back or in-force date, in-force end]; a report
  about year Y counts when Y overlaps that window. The 2022–2025 plans end on 2025-12-31.
- Yubei's reach-back (2022-01-01) applies to every rule of the document, not only art 5.
- YB-5a/b and YB-5e are paid once per enterprise and title: a re-certification after a
  revocation is not paid again (reading `recertification-award`); later reviews are YB-5c/d.
- Titles are checked on the milestone's date; for a report about year Y on the day it was filed,
  or on 31 December of Y if filed later.
- Listing stage awards are once per enterprise and stage (a second tutoring after a withdrawal
  is not paid again); RC-27 首次 is first ever (reading `first-time`).
- YB-3 private idle space: same standard, created as a ceiling awaiting the commission's review.
- Pending entitlements carry no amount until decided; a failed condition then reverses them.
- Computed amounts are rounded down to the fen.

`judge`, one rule and one trigger: the steps every money rule goes through, in order.

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

`past_triggers`: the triggers an enterprise's facts contain, rebuilt from the facts themselves.
A policy activation evaluates every past trigger the policy reaches, once; a pending entitlement
is decided again from its original trigger. Both need the trigger back from the facts, by event
id, with the same date the live evaluation used: a title period's start, a listing stage's day,
a report's recording day (a patent's grant day, a selection's day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from domain.policy.amounts import Amount, apply_caps, compute, yuan
from domain.policy.conditions import check
from domain.policy.decisions import (
    Assessment,
    CreateEntitlement,
    Decision,
    ExistingEntitlement,
    Explanation,
    MilestoneReached,
    PolicyActivated,
    Refusal,
    ReportFiled,
    ResolvePending,
    Trigger,
    entitlement_id,
)
from domain.policy.facts import (
    DemonstrationSelection,
    EnterpriseFacts,
    MeasureRecord,
    PatentGrant,
    Report,
)
from domain.policy.model import InitialStatus, Policy, Rule
from domain.policy.occasions import Occasion, in_reach, match

# ══ evaluating a policy ─────────────────────────────────────────────────────────────────────


def evaluate(
    policy: Policy,
    facts: EnterpriseFacts,
    trigger: Trigger,
    existing: Iterable[ExistingEntitlement] = (),
) -> list[Decision]:
    """The decisions `trigger` leads to under `policy` (facts must already include it)."""
    return list(assess(policy, facts, trigger, existing).decisions)


def evaluate_history(
    policy: Policy, facts: EnterpriseFacts, existing: Iterable[ExistingEntitlement] = ()
) -> list[Decision]:
    """On activation: every past trigger the policy reaches, once (deduplicated by id)."""
    return list(assess_history(policy, facts, existing).decisions)


def assess(
    policy: Policy,
    facts: EnterpriseFacts,
    trigger: Trigger,
    existing: Iterable[ExistingEntitlement] = (),
) -> Assessment:
    """Like `evaluate`, with the refusals and their reasons (for `explain`, `simulate`, tests)."""
    if isinstance(trigger, PolicyActivated):
        return assess_history(policy, facts, existing)
    return _run(policy, facts, [trigger], existing)


def assess_history(
    policy: Policy, facts: EnterpriseFacts, existing: Iterable[ExistingEntitlement] = ()
) -> Assessment:
    """Like `evaluate_history`, with the refusals."""
    return _run(policy, facts, past_triggers(facts), existing)


def derive(
    policy: Policy, facts: EnterpriseFacts, decided: Mapping[str, Decimal] | None = None
) -> Assessment:
    """Everything the facts in force owe under `policy`, computed afresh: no record is read.

    Every trigger the facts contain is judged, oldest first, each rule once, exactly as a live
    evaluation would have on a history that never had an error; figures still missing give
    `pending-data`. The only thing carried over from what was decided before is `decided`: the
    amounts people approved (by entitlement id), which caps shared between entitlements count
    instead of the ceiling (what a yearly cap really used). The reactor compares the result with
    the entitlements on record and records the differences.
    """
    if not facts.districts() & set(policy.districts):
        return Assessment((), ())
    approved = decided or {}
    book = Book.of(())
    decisions: list[Decision] = []
    refusals: list[Refusal] = []
    for trigger in past_triggers(facts):
        for rule in policy.rules:
            outcome = judge(policy, rule, facts, trigger, book)
            if isinstance(outcome, CreateEntitlement):
                decisions.append(outcome)
                entry = outcome.as_existing()
                if outcome.id in approved and outcome.status != "pending-data":
                    entry = replace(entry, amount=approved[outcome.id])
                book.put(entry)
            elif isinstance(outcome, Refusal):
                refusals.append(outcome)
    return Assessment(tuple(decisions), tuple(refusals))


def assess_pending(
    policy: Policy, facts: EnterpriseFacts, existing: Iterable[ExistingEntitlement]
) -> Assessment:
    """Only decide the `pending-data` entitlements again, with no new trigger.

    The reactor uses it after a correction re-opened an entitlement whose deciding report was
    retracted: another report may still supply the figures.
    """
    return _run(policy, facts, [], existing)


def _run(
    policy: Policy,
    facts: EnterpriseFacts,
    triggers: list[PastTrigger],
    existing: Iterable[ExistingEntitlement],
) -> Assessment:
    if not facts.districts() & set(policy.districts):
        return Assessment((), ())
    book = Book.of(_completed(policy, facts, existing))
    decisions: list[Decision] = []
    refusals: list[Refusal] = []
    _resolve_pending(policy, facts, book, decisions, refusals)
    for trigger in triggers:
        for rule in policy.rules:
            outcome = judge(policy, rule, facts, trigger, book)
            if isinstance(outcome, CreateEntitlement):
                decisions.append(outcome)
                book.put(outcome.as_existing())
            elif isinstance(outcome, Refusal):
                refusals.append(outcome)
    return Assessment(tuple(decisions), tuple(refusals))


def _completed(
    policy: Policy, facts: EnterpriseFacts, existing: Iterable[ExistingEntitlement]
) -> list[ExistingEntitlement]:
    """Existing entitlements, with `subject` / `period_year` derived from the trigger when the
    caller did not keep them (once-only limits and yearly caps count by them)."""
    done: list[ExistingEntitlement] = []
    for entry in existing:
        rule = next((r for r in policy.rules if r.id == entry.rule), None)
        trigger = trigger_for_event(facts, entry.trigger_event)
        if entry.subject is None and entry.period_year is None and rule and trigger:
            occ = match(policy, rule, facts, trigger)
            if isinstance(occ, Occasion):
                entry = replace(entry, subject=occ.subject, period_year=occ.year)
        done.append(entry)
    return done


def _resolve_pending(
    policy: Policy,
    facts: EnterpriseFacts,
    book: Book,
    decisions: list[Decision],
    refusals: list[Refusal],
) -> None:
    """Decide again every pending-data entitlement whose figures may now be there."""
    pending = sorted(
        (e for e in book.entries.values() if e.status == "pending-data"),
        key=lambda e: (e.accrued_on, e.id),
    )
    for entry in pending:
        rule = next((r for r in policy.rules if r.id == entry.rule), None)
        trigger = trigger_for_event(facts, entry.trigger_event)
        if rule is None or trigger is None:
            continue
        outcome = judge(policy, rule, facts, trigger, book, resolving=entry.id)
        if isinstance(outcome, CreateEntitlement) and outcome.status != "pending-data":
            decisions.append(
                ResolvePending(
                    entitlement_id=entry.id,
                    policy=policy.key,
                    rule=rule.id,
                    status=outcome.status,
                    eligible=True,
                    amount=outcome.amount,
                    ceiling=outcome.ceiling,
                    note=outcome.note,
                    explanation=outcome.explanation,
                )
            )
            book.put(replace(entry, status=outcome.status, amount=outcome.amount))
        elif isinstance(outcome, Refusal):
            refusals.append(outcome)
            why = (outcome.reason,)
            explanation = Explanation(policy.key, rule.id, rule.article, rule.source_zh, steps=why)
            decisions.append(
                ResolvePending(
                    entitlement_id=entry.id,
                    policy=policy.key,
                    rule=rule.id,
                    status="reversed",
                    eligible=False,
                    amount=None,
                    ceiling=entry.ceiling,
                    note=f"not eligible: {outcome.reason}",
                    explanation=explanation,
                )
            )
            book.put(replace(entry, status="reversed"))


# ══ one rule, one trigger ───────────────────────────────────────────────────────────────────


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


# ══ the triggers in the facts ───────────────────────────────────────────────────────────────


PastTrigger = MilestoneReached | ReportFiled


def past_triggers(facts: EnterpriseFacts) -> list[PastTrigger]:
    """Every trigger in the facts, oldest first (same day: titles, listings, reports)."""
    found: list[PastTrigger] = [
        MilestoneReached(p.track, p.started_by, p.start, p.event_id) for p in facts.titles
    ]
    found += [MilestoneReached("listing", m.stage, m.on, m.event_id) for m in facts.listings]
    reports: tuple[Report, ...] = (
        *facts.financials,
        *facts.rd_subsidies,
        *facts.leases,
        *facts.talents,
        *facts.patents,
        *facts.demonstrations,
        *facts.measures,
    )
    found += [report_filed(r) for r in reports]
    return sorted(found, key=_day)


def _day(trigger: PastTrigger) -> date:
    return trigger.occurred_on


def report_filed(report: Report) -> ReportFiled:
    """The trigger a recorded report stands for."""
    if isinstance(report, PatentGrant):
        day = report.granted_on
        return ReportFiled("patent-granted", day.year, day, report.event_id)
    if isinstance(report, DemonstrationSelection):
        return ReportFiled("demonstration-selected", report.year, report.selected_on, report.event_id)
    if isinstance(report, MeasureRecord):
        return ReportFiled(report.kind, report.year, report.on, report.event_id)
    return ReportFiled(report.kind, report.year, report.reported_on, report.event_id)


def trigger_for_event(facts: EnterpriseFacts, event_id: str) -> PastTrigger | None:
    """The trigger recorded by `event_id`, or None when the facts no longer hold it."""
    period = facts.title_period(event_id)
    if period is not None:
        return MilestoneReached(period.track, period.started_by, period.start, event_id)
    milestone = facts.listing(event_id)
    if milestone is not None:
        return MilestoneReached("listing", milestone.stage, milestone.on, event_id)
    report = facts.report(event_id)
    return None if report is None else report_filed(report)
