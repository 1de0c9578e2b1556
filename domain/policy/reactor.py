"""The policy engine as a process manager: the entitlement events that keep the books equal to the
facts, and the policies in force it applies.

`PolicyReactor` implements the unit of work's reactor. It is called with the enterprise AFTER a
command's events, and what it returns is appended in the same transaction, so a fact and the
entitlements it changes are stored together or not at all. It is pure: the active policies are
handed to it, everything else comes from the aggregate, so a retried command gets the same answer.

How: `reconcile` computes what the enterprise is owed from the facts in force, afresh
(`engine.derive`: a pure function of facts and policies, plus the amounts people approved), and
compares it with the entitlements on record. Each difference is one explicit event:

- owed and not on record → `EntitlementCreated`;
- on record as `pending-data` and now decidable → `EntitlementResolved` (or `not-eligible` with
  the condition that failed);
- on record with another amount, status, ceiling, trigger, accrual day or arithmetic →
  `EntitlementAdjusted` (old and new amount; the earlier explanation stays in the stream, so
  `explain` shows both); an entitlement reversed earlier that is owed again is reinstated so;
- on record and no longer owed → `EntitlementReversed`.

So whatever changed — a figure reported, restated or retracted, a milestone retracted, details
changed, a policy activated, an approval that a shared cap counts — every entitlement whose
inputs changed is decided again, not only those the event itself triggered, and the books after
any sequence of commands equal the books computed from scratch on the final facts. Approvals
and payments are never touched: where they exceed what a correction leaves owed the entitlement
reads `recovery-due` (`domain.entitlement_status`). A later revocation or failed review is a
change in the world, not a correction: every condition is checked on its trigger's date, so it
changes nothing already owed.

Entitlement ids are uuid5 of (policy, rule, USCC, occasion): the occasion is a figure's kind and
period (``financials:2024``) for reports, else the triggering event. A figure reported again for
the same period therefore decides the same entitlement again, never a second one. Event ids are
uuid5 of (what, entitlement id, cause): retrying a command can never record a decision twice.
Records made before occasions were stored are matched by rule and trigger event.

Switching a policy on (the pure part): the digest that names a version, the active set, the result.

Which policies are in force is itself recorded: every activation is a `PolicyActivated` event in
the one `policies` stream, carrying the key, a digest and the full validated policy data, so a
replay or an audit knows exactly which rules were applied, even after the shipped file changed.
The active set is the latest activation of each key. Reading the stream, evaluating every
enterprise and appending in one batch is the service layer's (`service_layer.activation`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.enterprise import Enterprise, EntitlementRecord
from domain.entitlement_status import CLOSED
from domain.policy.decisions import Assessment, CreateEntitlement, Refusal
from domain.policy.engine import derive
from domain.policy.facts import EnterpriseFacts, YearReport, build_facts, policy_of
from domain.policy.model import Policy
from events.envelope import SYSTEM_ACTOR, AppendResult, NewEvent, RecordedEvent
from events.schemas import (
    EntitlementAdjusted,
    EntitlementCreated,
    EntitlementResolved,
    EntitlementReversed,
)

# ══ keeping the books equal to the facts ────────────────────────────────────────────────────


EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:srdi:entitlement-event")
RETRACTION = "EventRetracted"
DerivedEvent = EntitlementCreated | EntitlementResolved | EntitlementAdjusted | EntitlementReversed


def derived_event_id(what: str, entitlement_id: str, cause: str) -> str:
    """The deterministic id of the event recording `what` happened to an entitlement, and why."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{what}|{entitlement_id}|{cause}"))


class PolicyReactor:
    """Keeps an enterprise's entitlements equal to what the active policies owe (module docstring)."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies = tuple(policies)

    def react(self, enterprise: Enterprise, new_events: Sequence[NewEvent], *, today: date) -> list[NewEvent]:
        """The entitlement events `new_events` lead to; `enterprise` already includes them."""
        if not new_events:
            return []
        cause = new_events[0]
        return reconcile(
            self.policies, enterprise, cause_id=cause.event_id, on=cause.occurred_on, what=describe(cause)
        )


def describe(cause: NewEvent) -> str:
    """What changed, in the words a reversal or an adjustment is noted with."""
    data = cause.event.payload()
    if cause.event_type == RETRACTION:
        return (
            f"{data.get('retracted_type', 'event')} {data['retracted_event_id']} was retracted "
            f"({data.get('reason', '')})"
        )
    if cause.event_type == "PolicyActivated":
        return f"policy {data.get('key')} activated"
    return f"{cause.event_type} {cause.event_id}"


def reconcile(
    policies: Iterable[Policy], enterprise: Enterprise, *, cause_id: str, on: date, what: str
) -> list[NewEvent]:
    """The events that make the enterprise's entitlements under `policies` what its facts owe.

    Only the policies governing a district the enterprise ever belonged to are compared (each
    rule reads the district in force on its trigger's date); entitlements of other policies are
    left as they are.
    """
    if not enterprise.registered:
        return []
    facts = build_facts(enterprise)
    districts = facts.districts()
    out: list[NewEvent] = []
    for policy in policies:
        if not districts & set(policy.districts):
            continue
        records = {
            r.entitlement_id: r for r in enterprise.entitlements.values() if policy_of(r) == policy.key
        }
        approved = {k: r.approved_amount for k, r in records.items() if r.approved_amount is not None}
        assessment = derive(policy, facts, approved)
        out += _differences(facts, assessment, records, cause_id=cause_id, on=on, what=what)
    return out


def _differences(
    facts: EnterpriseFacts,
    assessment: Assessment,
    records: dict[str, EntitlementRecord],
    *,
    cause_id: str,
    on: date,
    what: str,
) -> list[NewEvent]:
    legacy = {
        (r.rule, r.created.get("trigger_event_id")): r
        for r in records.values()
        if not r.created.get("occasion")
    }
    out: list[NewEvent] = []
    matched: set[str] = set()
    for d in assessment.decisions:
        assert isinstance(d, CreateEntitlement)
        record = records.get(d.id) or legacy.get((d.rule, d.trigger_event))
        if record is None:
            out.append(_new(created_event(d, facts), on, derived_event_id("created", d.id, ""), cause_id))
            continue
        matched.add(record.entitlement_id)
        change = _change(record, d, cause_id, what)
        if change is not None:
            kind = "resolved" if isinstance(change, EntitlementResolved) else "adjusted"
            out.append(_new(change, on, derived_event_id(kind, record.entitlement_id, cause_id), cause_id))
    refusals = _refusals_by_occasion(facts, assessment.refusals)
    for record in records.values():
        if record.entitlement_id in matched or record.decided in CLOSED:
            continue
        refusal = refusals.get((record.rule, _occasion(record)))
        event: DerivedEvent
        if record.decided == "pending-data" and refusal is not None:
            event = EntitlementResolved(
                entitlement_id=record.entitlement_id,
                status="not-eligible",
                amount=None,
                note=f"not eligible: {refusal.reason}",
                cause_event_id=cause_id,
            )
            kind = "resolved"
        else:
            why = (
                f"its trigger {what}" if refusal is None else f"no longer owed after {what}: {refusal.reason}"
            )
            paid = record.paid_amount
            recover = f"; {paid} yuan already paid is to be recovered" if paid else ""
            event = EntitlementReversed(
                entitlement_id=record.entitlement_id, reason=f"{why}{recover}", cause_event_id=cause_id
            )
            kind = "reversed"
        out.append(_new(event, on, derived_event_id(kind, record.entitlement_id, cause_id), cause_id))
    return out


def current(record: EntitlementRecord) -> dict[str, Any]:
    """The engine's last decision on record: status, amount, ceiling, trigger, day, note, arithmetic."""
    now: dict[str, Any] = {
        "status": record.decided,
        "amount": record.amount,
        "ceiling": record.ceiling,
        "trigger_event_id": record.trigger_event_id,
        "accrued_on": str(record.created.get("accrued_on")),
        "note": record.created.get("note", ""),
        "explanation": record.created.get("explanation") or {},
    }
    for kind, _id, _on, data in record.events:
        if kind in ("EntitlementResolved", "EntitlementAdjusted"):
            now["note"] = data.get("note", "")
            if data.get("explanation"):
                now["explanation"] = data["explanation"]
        if kind == "EntitlementAdjusted":
            now["accrued_on"] = str(data.get("accrued_on"))
    return now


def _change(
    record: EntitlementRecord, d: CreateEntitlement, cause_id: str, what: str
) -> EntitlementResolved | EntitlementAdjusted | None:
    """The event that brings `record` to decision `d`, or None when they already agree."""
    now = current(record)
    explanation = d.explanation.to_dict()
    same_trigger = (
        now["trigger_event_id"] == d.trigger_event and now["accrued_on"] == d.accrued_on.isoformat()
    )
    if record.decided == "pending-data" and d.status != "pending-data" and same_trigger:
        return EntitlementResolved(
            entitlement_id=record.entitlement_id, cause_event_id=cause_id, **_decided(d)
        )
    if record.decided == "pending-data" and d.status == "pending-data" and same_trigger:
        return None  # still waiting: the figures that arrived are not all it needs
    unchanged = (
        record.decided == d.status
        and _same_money(record.amount, d.amount)
        and record.ceiling == d.ceiling
        and same_trigger
        and _figures(now["explanation"]) == _figures(explanation)
    )
    if unchanged:
        return None
    return EntitlementAdjusted(
        entitlement_id=record.entitlement_id,
        previous_status=record.decided,
        previous_amount=record.amount,
        ceiling=d.ceiling,
        trigger_event_id=d.trigger_event,
        accrued_on=d.accrued_on,
        reason=f"decided again after {what}",
        cause_event_id=cause_id,
        **_decided(d),
    )


def _decided(d: CreateEntitlement) -> dict[str, Any]:
    """What every event recording decision `d` says of it: status, amount, note and arithmetic."""
    return {"status": d.status, "amount": d.amount, "note": d.note, "explanation": d.explanation.to_dict()}


def _same_money(a: Decimal | None, b: Decimal | None) -> bool:
    return a == b if a is not None and b is not None else a is b


def _figures(explanation: dict[str, Any]) -> list[tuple[str, str]]:
    """The reported figures an arithmetic rests on, as compared between two decisions.

    The titles held on the checking day are left out: a title retracted while another still
    satisfies the condition changes no money, and is no reason to record a new decision.
    """
    figures = explanation.get("figures") or {}
    return sorted((str(k), str(v)) for k, v in dict(figures).items() if not str(k).startswith("titles held"))


def _occasion(record: EntitlementRecord) -> str:
    return str(record.created.get("occasion") or record.trigger_event_id or "")


def _refusals_by_occasion(
    facts: EnterpriseFacts, refusals: Iterable[Refusal]
) -> dict[tuple[str | None, str], Refusal]:
    """Each refusal under the occasion its entitlement would have had (a report's kind and period)."""
    found: dict[tuple[str | None, str], Refusal] = {}
    for r in refusals:
        found.setdefault((r.rule, r.trigger_event), r)
        report = facts.report(r.trigger_event)
        if isinstance(report, YearReport):
            found.setdefault((r.rule, report.slot), r)
    return found


def created_event(d: CreateEntitlement, facts: EnterpriseFacts) -> EntitlementCreated:
    """The `EntitlementCreated` recording decision `d`."""
    return EntitlementCreated(
        entitlement_id=d.id,
        policy=d.policy,
        rule=d.rule,
        article=d.article,
        kind=d.kind,
        uscc=facts.uscc,
        district=facts.district_on(d.accrued_on),
        trigger_event_id=d.trigger_event,
        accrued_on=d.accrued_on,
        ceiling=d.ceiling,
        responsible_units=list(d.responsible_units),
        subject=d.subject,
        period_year=d.period_year,
        occasion=d.occasion or None,
        **_decided(d),
    )


def _new(event: DerivedEvent, on: date, event_id: str, cause: str) -> NewEvent:
    return NewEvent(event, on, SYSTEM_ACTOR, event_id=event_id, causation_id=cause)


# ══ the policies in force ───────────────────────────────────────────────────────────────────


ACTIVATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:srdi:policy-activation")


def policy_digest(policy: Policy) -> str:
    """sha256 of the policy's canonical JSON: two activations of the same data share it."""
    text = json.dumps(
        policy.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ActivePolicy:
    """A policy in force: its data as activated, and when and by which event."""

    policy: Policy
    digest: str
    activated_on: date
    event_id: str
    source: str | None


def active_policies(events: Sequence[RecordedEvent]) -> dict[str, ActivePolicy]:
    """The active set from the `policies` stream: the latest activation of each key."""
    active: dict[str, ActivePolicy] = {}
    for event in events:
        if event.event_type != "PolicyActivated":
            continue
        data = event.data
        policy = Policy.model_validate(data["policy"])
        active[policy.key] = ActivePolicy(
            policy, str(data["digest"]), event.occurred_on, event.event_id, data.get("source")
        )
    return active


@dataclass(frozen=True)
class ActivationResult:
    """What an activation wrote (nothing, when the same policy was already active)."""

    key: str
    digest: str
    activated: bool
    event_id: str
    on: date
    enterprises: int
    events: tuple[NewEvent, ...]
    append: AppendResult | None

    @property
    def created(self) -> int:
        """How many entitlements the history owed."""
        return sum(1 for e in self.events if e.event_type == "EntitlementCreated")
