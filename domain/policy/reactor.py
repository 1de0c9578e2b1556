"""The policy engine as a process manager: what each new enterprise event makes the enterprise owed.

`PolicyReactor` implements `domain.handlers.Reactor`. The handler calls it with the enterprise
AFTER the command's events and appends what it returns in the same append, so a milestone and
the entitlements it triggers are stored together or not at all. It is pure: the active policies
are handed to it (the service layer reads them from the `policies` stream), and everything else
comes from the aggregate, so a retried command gets the same answer from the reloaded state.

For each new event:
- a milestone or a report is a trigger: every active policy governing the enterprise's district
  is evaluated on it (`domain.policy.evaluate`), with the entitlements that already exist, and each
  decision becomes an event (`EntitlementCreated`, or `EntitlementResolved` for a pending-data
  entitlement the new figures decide);
- a change of details (`EnterpriseDetailsChanged`) decides again the `pending-data` entitlements:
  the size YB-8 waits for may have arrived;
- a retraction (a correction) reverses what the retracted event triggered: every entitlement whose
  trigger it was gets `EntitlementReversed`, whatever its status (if money was paid, the reversal
  says so: it is to be recovered). An entitlement that the retracted report had *resolved* (and
  that no one has approved or paid since) is re-opened: decided again from the figures left (a
  superseded report of the same year may still supply them), else back to `pending-data`.
  Nothing else claws back: a later revocation or failed review changes no entitlement, and an
  entitlement capped because of a stage whose milestone is retracted stays as it was.

Event ids are uuid5 of (what, entitlement id, cause), entitlement ids uuid5 of (policy, rule,
USCC, trigger): evaluating the same trigger again, replaying, or retrying a command can never
create a second entitlement or a second event for the same decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from domain.enterprise import Enterprise, EntitlementRecord
from domain.policy.decisions import CreateEntitlement, Decision, ExistingEntitlement, ResolvePending
from domain.policy.engine import assess_pending, evaluate
from domain.policy.facts import EnterpriseFacts
from domain.policy.facts_builder import build_facts, existing_entitlements, policy_of
from domain.policy.history import trigger_for_event
from domain.policy.model import Policy
from events.envelope import SYSTEM_ACTOR, NewEvent
from events.schemas import EntitlementCreated, EntitlementResolved, EntitlementReversed

EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:srdi:entitlement-event")
RETRACTION = "EventRetracted"
DETAILS_CHANGE = "EnterpriseDetailsChanged"
CLOSED = ("reversed", "not-eligible")


def derived_event_id(what: str, entitlement_id: str, cause: str) -> str:
    """The deterministic id of the event recording `what` happened to an entitlement, and why."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{what}|{entitlement_id}|{cause}"))


class PolicyReactor:
    """Evaluates the active policies on every new enterprise event (see the module docstring)."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies = tuple(policies)

    def react(self, enterprise: Enterprise, new_events: Sequence[NewEvent], *, today: date) -> list[NewEvent]:
        """The entitlement events `new_events` lead to; `enterprise` already includes them."""
        if not enterprise.registered:
            return []
        facts = build_facts(enterprise)
        districts = facts.districts()
        policies = [p for p in self.policies if districts & set(p.districts)]
        books = {p.key: {e.id: e for e in existing_entitlements(enterprise, p.key)} for p in policies}
        out: list[NewEvent] = []
        for new in new_events:
            if new.event_type == RETRACTION:
                out += self._retraction(enterprise, facts, new, policies, books)
                continue
            if new.event_type == DETAILS_CHANGE:
                out += self._details(facts, new, policies, books)
                continue
            trigger = trigger_for_event(facts, new.event_id)
            if trigger is None:
                continue
            for policy in policies:
                decisions = evaluate(policy, facts, trigger, books[policy.key].values())
                _book(books[policy.key], decisions)
                out += decision_events(decisions, facts, on=new.occurred_on, cause=new.event_id)
        return out

    @staticmethod
    def _details(
        facts: EnterpriseFacts,
        new: NewEvent,
        policies: list[Policy],
        books: dict[str, dict[str, ExistingEntitlement]],
    ) -> list[NewEvent]:
        """A change of details may bring what a pending-data entitlement waits for (YB-8's size)."""
        out: list[NewEvent] = []
        for policy in policies:
            decided = assess_pending(policy, facts, books[policy.key].values()).decisions
            _book(books[policy.key], decided)
            out += decision_events(decided, facts, on=new.occurred_on, cause=new.event_id)
        return out

    def _retraction(
        self,
        enterprise: Enterprise,
        facts: EnterpriseFacts,
        new: NewEvent,
        policies: list[Policy],
        books: dict[str, dict[str, ExistingEntitlement]],
    ) -> list[NewEvent]:
        data = new.event.payload()
        gone, reason = str(data["retracted_event_id"]), str(data.get("reason", ""))
        what = f"{data.get('retracted_type', 'event')} {gone} was retracted ({reason})"
        out: list[NewEvent] = []
        reopened: dict[str, list[str]] = {}
        for record in enterprise.entitlements.values():
            if record.status in CLOSED:
                continue
            if record.created.get("trigger_event_id") == gone:
                out.append(reversal(record, what, new))
                book = books.get(policy_of(record), {})
                if record.entitlement_id in book:
                    book[record.entitlement_id] = replace(book[record.entitlement_id], status="reversed")
            elif _resolved_by(record) == gone and record.status in ("accrued", "awaiting-approval"):
                reopened.setdefault(policy_of(record), []).append(record.entitlement_id)
        for policy in policies:
            ids = reopened.get(policy.key, [])
            if ids:
                out += self._reopen(policy, facts, books[policy.key], ids, what, new)
        return out

    @staticmethod
    def _reopen(
        policy: Policy,
        facts: EnterpriseFacts,
        book: dict[str, ExistingEntitlement],
        ids: list[str],
        what: str,
        new: NewEvent,
    ) -> list[NewEvent]:
        """Decide re-opened entitlements again from the figures left, else back to pending-data."""
        for key in ids:
            book[key] = replace(book[key], status="pending-data", amount=None)
        decided = [
            d
            for d in assess_pending(policy, facts, book.values()).decisions
            if isinstance(d, ResolvePending) and d.entitlement_id in ids
        ]
        _book(book, decided)
        out = decision_events(decided, facts, on=new.occurred_on, cause=new.event_id)
        done = {d.entitlement_id for d in decided}
        for key in ids:
            if key in done:
                continue
            event = EntitlementResolved(
                entitlement_id=key,
                status="pending-data",
                amount=None,
                note=f"re-opened: {what}; waiting for the figures again",
                cause_event_id=new.event_id,
            )
            out.append(
                _new(event, new.occurred_on, derived_event_id("reopened", key, new.event_id), new.event_id)
            )
        return out


def _resolved_by(record: EntitlementRecord) -> str | None:
    """The event whose figures last decided this entitlement (None if never resolved)."""
    for kind, _event_id, _on, data in reversed(record.events):
        if kind == "EntitlementResolved":
            cause = data.get("cause_event_id")
            return None if data.get("status") == "pending-data" else cause
    return None


def _book(book: dict[str, ExistingEntitlement], decisions: Iterable[Decision]) -> None:
    """Keep the working copy current, so a second trigger in the same command sees the first."""
    for d in decisions:
        if isinstance(d, CreateEntitlement):
            book[d.id] = d.as_existing()
        elif d.entitlement_id in book:
            book[d.entitlement_id] = replace(book[d.entitlement_id], status=d.status, amount=d.amount)


def reversal(record: EntitlementRecord, what: str, cause: NewEvent) -> NewEvent:
    """`EntitlementReversed` for a correction; a payment already made is named for recovery."""
    paid = record.paid_amount
    recover = f"; {paid} yuan already paid is to be recovered" if paid else ""
    event = EntitlementReversed(
        entitlement_id=record.entitlement_id,
        reason=f"its trigger {what}{recover}",
        cause_event_id=cause.event_id,
    )
    event_id = derived_event_id("reversed", record.entitlement_id, cause.event_id)
    return _new(event, cause.occurred_on, event_id, cause.event_id)


def decision_events(
    decisions: Iterable[Decision], facts: EnterpriseFacts, *, on: date, cause: str
) -> list[NewEvent]:
    """The events recording the engine's decisions (dated `on`, caused by event `cause`)."""
    out: list[NewEvent] = []
    for d in decisions:
        if isinstance(d, CreateEntitlement):
            created = EntitlementCreated(
                entitlement_id=d.id,
                policy=d.policy,
                rule=d.rule,
                article=d.article,
                kind=d.kind,
                uscc=facts.uscc,
                district=facts.district_on(d.accrued_on),
                trigger_event_id=d.trigger_event,
                accrued_on=d.accrued_on,
                amount=d.amount,
                ceiling=d.ceiling,
                status=d.status,
                responsible_units=list(d.responsible_units),
                note=d.note,
                explanation=d.explanation.to_dict(),
                subject=d.subject,
                period_year=d.period_year,
            )
            out.append(_new(created, on, derived_event_id("created", d.id, ""), cause))
        else:
            resolved = EntitlementResolved(
                entitlement_id=d.entitlement_id,
                status="not-eligible" if d.status == "reversed" else d.status,
                amount=d.amount,
                note=d.note,
                cause_event_id=cause,
                explanation=d.explanation.to_dict(),
            )
            out.append(_new(resolved, on, derived_event_id("resolved", d.entitlement_id, cause), cause))
    return out


def _new(
    event: EntitlementCreated | EntitlementResolved | EntitlementReversed, on: date, event_id: str, cause: str
) -> NewEvent:
    return NewEvent(event, on, SYSTEM_ACTOR, event_id=event_id, causation_id=cause)
