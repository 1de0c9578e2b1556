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

The per-rule steps are in `judge`; conditions, amounts and caps in their own modules.

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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from domain.policy.decisions import (
    Assessment,
    CreateEntitlement,
    Decision,
    ExistingEntitlement,
    Explanation,
    PolicyActivated,
    Refusal,
    ResolvePending,
    Trigger,
)
from domain.policy.facts import EnterpriseFacts
from domain.policy.history import PastTrigger, past_triggers, trigger_for_event
from domain.policy.judge import Book, judge
from domain.policy.model import Policy
from domain.policy.occasions import Occasion, match


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
            explanation = Explanation(
                policy=policy.key,
                rule=rule.id,
                article=rule.article,
                source_zh=rule.source_zh,
                steps=(outcome.reason,),
            )
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
