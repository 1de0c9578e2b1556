"""The ledger's use cases: approve, pay, explain. Thin: find the enterprise, then the domain decides.

An entitlement id does not say which enterprise stream it lives in; the ledger projection does
(caught up first, so an entitlement created a moment ago is found). The domain handler then
checks the entitlement against the enterprise aggregate, which is authoritative.

An id or reference from argv that is not UTF-8 is refused before it reaches a query or the log,
and an id that matches nothing is quoted back cut to a readable length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.enterprise import Enterprise, EntitlementRecord
from domain.errors import InvalidInput, shown
from domain.inputs import single_line, utf8
from domain.policy.facts import report_slot
from domain.policy.model import Policy, builtin_keys, load_builtin
from domain.policy.payouts import ApproveEntitlement, PayEntitlement, PaymentMade, payment_with_ref
from events.envelope import RecordedEvent
from events.schemas import enterprise_stream
from service_layer.activation import read_active
from service_layer.commands import actor_bound, current_actor, today
from service_layer.unit_of_work import decide_on_entitlement


def find_uscc(engine: Any, entitlement_id: str) -> str:
    """The enterprise an entitlement belongs to, from the caught-up ledger projection."""
    from projections.feed import view
    from projections.ledger_view import find_entry

    wanted = single_line(utf8(entitlement_id, "entitlement_id"), "entitlement_id").strip()
    with view(engine, ["ledger"]) as conn:
        entry = find_entry(conn, wanted)
    if entry is None:
        raise InvalidInput(
            f"no entitlement {shown(wanted, quote=False)} in the ledger; copy the id from 'srdi ledger'"
        )
    return entry.enterprise


def approve(services: Any, entitlement_id: str, amount: str, on: date | None = None) -> EntitlementRecord:
    """`srdi entitlement approve ID --amount YUAN`: the entitlement as it stands after."""
    command = ApproveEntitlement(entitlement_id=entitlement_id, amount=amount, on=on)
    uscc = find_uscc(services.engine, command.entitlement_id)
    day = today(services.settings.timezone)
    actor, reactor = current_actor(services), getattr(services, "reactor", None)
    return decide_on_entitlement(services.store, uscc, command, today=day, actor=actor, reactor=reactor)[1]


@dataclass(frozen=True)
class PayResult:
    """The entitlement after a payment command, the payment under its voucher, whether it was new."""

    record: EntitlementRecord
    payment: PaymentMade
    written: bool


def pay(services: Any, entitlement_id: str, amount: str, ref: str, on: date) -> PayResult:
    """`srdi entitlement pay ID --amount YUAN --ref TEXT --on DATE` (the same voucher again: a no-op)."""
    command = PayEntitlement(entitlement_id=entitlement_id, amount=amount, ref=utf8(ref, "ref"), on=on)
    uscc = find_uscc(services.engine, command.entitlement_id)
    day = today(services.settings.timezone)
    actor, reactor = current_actor(services), getattr(services, "reactor", None)
    new, record, _ = decide_on_entitlement(
        services.store, uscc, command, today=day, actor=actor, reactor=reactor,
        vouched=actor_bound(services.engine),
    )  # fmt: skip
    payment = payment_with_ref(record, command.ref)
    assert payment is not None  # decided or found under this voucher
    return PayResult(record, payment, written=new is not None)


def record_json(record: EntitlementRecord) -> dict[str, Any]:
    """What `entitlement approve|pay --json` prints."""
    fields = ("rule", "status", "amount", "approved_amount", "paid_amount", "recovery_amount")
    return {"id": record.entitlement_id} | {name: getattr(record, name) for name in fields}


def explain(services: Any, entitlement_id: str, lang: str = "en") -> dict[str, Any]:
    """Everything `srdi explain` shows: rule, quoted article, triggers, figures, readings, steps.

    ``caps`` lists the totals the rule shares, each quoting the sentence of the document that sets
    it (YB-7: 在新三板挂牌的，分阶段给予300万元奖励). ``lang="zh"``: every text in Chinese
    (`service_layer.explain_zh`).
    """
    uscc = find_uscc(services.engine, entitlement_id)
    store = services.store
    enterprise = Enterprise.load(store.read_stream(enterprise_stream(uscc)))
    record = enterprise.entitlements[entitlement_id.strip()]
    created = record.created
    explanation = dict(created.get("explanation") or {})
    causes = [str(created["trigger_event_id"])]
    adjustments: list[dict[str, Any]] = []
    for kind, _id, on, data in record.events:
        if kind == "EntitlementAdjusted":
            adjustments.append(_adjustment(on, data, explanation))
        if kind in ("EntitlementResolved", "EntitlementAdjusted") and data.get("explanation"):
            explanation = dict(data["explanation"])
        for cause in (
            data.get("trigger_event_id") if kind == "EntitlementAdjusted" else None,
            data.get("cause_event_id"),
        ):
            if kind in DECIDED and cause and cause not in causes:
                causes.append(str(cause))
    active = read_active(store)[0].get(str(created["policy"]))
    summary, units = "", created.get("responsible_units", [])
    caps: list[dict[str, Any]] = []
    policy = active.policy if active is not None else None
    if policy is not None:
        rule = next((r for r in policy.rules if r.id == created["rule"]), None)
        summary = rule.summary if rule is not None else ""
        caps = [_cap(policy, cap_id) for cap_id in (rule.caps if rule is not None else ())]
    source = str(explanation.get("source_zh", ""))
    doc: dict[str, Any] = {
        "id": record.entitlement_id,
        "enterprise": uscc,
        "name": enterprise.name,
        "district": created.get("district"),
        "policy": created.get("policy"),
        "rule": created.get("rule"),
        "article": created.get("article"),
        "kind": created.get("kind"),
        "summary": summary,
        "quote": "".join(part.strip() for part in source.splitlines()),
        "source_zh": source,
        "responsible_units": units,
        "accrued_on": created.get("accrued_on"),
        "status": record.status,
        "amount": record.amount,
        "ceiling": record.ceiling,
        "approved_amount": record.approved_amount,
        "paid_amount": record.paid_amount,
        "recovery_amount": record.recovery_amount,
        "adjusted_from": record.adjusted_from,
        "note": _note(record),
        "in_force": record.trigger_event_id,
        "triggers": [_trigger(store.get_event(c), c, enterprise, record) for c in causes],
        "adjustments": adjustments,
        "readings": explanation.get("readings", {}),
        "figures": explanation.get("figures", {}),
        "steps": explanation.get("steps", []),
        "missing": explanation.get("missing", []),
        "history": [_step(kind, on, data) for kind, _id, on, data in record.events],
        "caps": caps,
    }
    if lang == "zh":
        from service_layer.explain_zh import in_chinese

        doc = in_chinese(doc, policy)
    return doc


def _cap(policy: Policy, cap_id: str) -> dict[str, Any]:
    """A total the rule shares, with the document's sentence that sets it.

    A policy activated before the sentence was kept in the data takes it from the shipped document
    of the same key (the total is the activated one's).
    """
    cap = policy.cap(cap_id)
    quote = cap.wording_zh
    if quote is None and policy.key in builtin_keys():
        shipped = next((c for c in load_builtin(policy.key).caps if c.id == cap_id), None)
        quote = shipped.wording_zh if shipped is not None else None
    return {"id": cap.id, "total": cap.total, "label": cap.label, "quote_zh": quote}


DECIDED = ("EntitlementResolved", "EntitlementAdjusted", "EntitlementReversed")


def _adjustment(on: date, data: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """One correction of the amount: from → to, why, and both arithmetics (before and after)."""
    after = dict(data.get("explanation") or {})
    return {
        "on": on,
        "from": _money(data.get("previous_amount")),
        "to": _money(data.get("amount")),
        "status_from": data.get("previous_status"),
        "status_to": data.get("status"),
        "reason": data.get("reason", ""),
        "cause_event_id": data.get("cause_event_id"),
        "trigger_event_id": data.get("trigger_event_id"),
        "before": {"figures": before.get("figures", {}), "steps": before.get("steps", [])},
        "after": {"figures": after.get("figures", {}), "steps": after.get("steps", [])},
    }


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _note(record: EntitlementRecord) -> str:
    note = str(record.created.get("note", ""))
    for kind, _id, _on, data in record.events:
        if kind == "EntitlementResolved":
            note = str(data.get("note") or "")
        elif kind == "EntitlementAdjusted":
            note = "; ".join(n for n in (str(data.get("note") or ""), str(data.get("reason") or "")) if n)
        elif kind == "EntitlementReversed":
            note = f"reversed: {data.get('reason', '')}"
    return note


def _trigger(
    event: RecordedEvent | None, event_id: str, enterprise: Enterprise, record: EntitlementRecord
) -> dict[str, Any]:
    """A fact the entitlement was decided on; ``in_force`` names the one it now rests on, and a
    figure reported again for its period names the report that superseded it."""
    if event is None:
        return {"event_id": event_id, "event_type": None}
    data = {k: v for k, v in event.data.items() if k != "policy"}
    slot = report_slot(event.event_type, event.data)
    later = [
        e.event_id
        for e in enterprise.effective
        if slot is not None and e.event_type == event.event_type and report_slot(e.event_type, e.data) == slot
    ]
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_on": event.occurred_on,
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "retracted": event.event_id in enterprise.retracted,
        "in_force": event.event_id == record.trigger_event_id,
        "superseded_by": later[-1]
        if later and later[-1] != event.event_id and event.event_id in later
        else None,
        "data": data,
    }


def _step(kind: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"event": kind, "on": on}
    for key in ("status", "previous_amount", "amount", "ref", "reason", "cause_event_id"):
        if data.get(key) is not None:
            value = data[key]
            step[key] = Decimal(str(value)) if key in ("amount", "previous_amount") else value
    return step
