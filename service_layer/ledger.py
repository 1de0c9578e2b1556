"""The ledger's use cases: approve, pay, explain. Thin: find the enterprise, then the domain decides.

An entitlement id does not say which enterprise stream it lives in; the ledger projection does
(caught up first, so an entitlement created a moment ago is found). The domain handler then
checks the entitlement against the enterprise aggregate, which is authoritative.

An id or reference from argv that is not UTF-8 is refused before it reaches a query or the log,
and an id that matches nothing is quoted back cut to a readable length.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.enterprise import Enterprise, EntitlementRecord
from domain.errors import InvalidInput, shown
from domain.inputs import utf8
from domain.policy.activation import read_active
from domain.policy.payouts import ApproveEntitlement, PayEntitlement, decide
from events.envelope import RecordedEvent
from events.schemas import enterprise_stream
from service_layer.commands import current_actor, today


def find_uscc(engine: Any, entitlement_id: str) -> str:
    """The enterprise an entitlement belongs to, from the caught-up ledger projection."""
    from projections.feed import view
    from projections.ledger_view import find_entry

    wanted = utf8(entitlement_id, "entitlement_id").strip()
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
    return decide(services.store, uscc, command, today=day, actor=current_actor(services))[1]


def pay(services: Any, entitlement_id: str, amount: str, ref: str, on: date) -> EntitlementRecord:
    """`srdi entitlement pay ID --amount YUAN --ref TEXT --on DATE`."""
    command = PayEntitlement(entitlement_id=entitlement_id, amount=amount, ref=utf8(ref, "ref"), on=on)
    uscc = find_uscc(services.engine, command.entitlement_id)
    day = today(services.settings.timezone)
    return decide(services.store, uscc, command, today=day, actor=current_actor(services))[1]


def record_json(record: EntitlementRecord) -> dict[str, Any]:
    """What `entitlement approve|pay --json` prints."""
    return {
        "id": record.entitlement_id,
        "rule": record.rule,
        "status": "reversed" if record.status == "not-eligible" else record.status,
        "amount": record.amount,
        "approved_amount": record.approved_amount,
        "paid_amount": record.paid_amount,
    }


def explain(services: Any, entitlement_id: str) -> dict[str, Any]:
    """Everything `srdi explain` shows: rule, quoted article, triggers, figures, readings, steps."""
    uscc = find_uscc(services.engine, entitlement_id)
    store = services.store
    enterprise = Enterprise.load(store.read_stream(enterprise_stream(uscc)))
    record = enterprise.entitlements[entitlement_id.strip()]
    created = record.created
    explanation = dict(created.get("explanation") or {})
    causes = [str(created["trigger_event_id"])]
    for kind, _id, _on, data in record.events:
        if kind == "EntitlementResolved" and data.get("explanation"):
            explanation = dict(data["explanation"])
        cause = data.get("cause_event_id")
        if kind in ("EntitlementResolved", "EntitlementReversed") and cause and cause not in causes:
            causes.append(str(cause))
    active = read_active(store)[0].get(str(created["policy"]))
    summary, units = "", created.get("responsible_units", [])
    if active is not None:
        rule = next((r for r in active.policy.rules if r.id == created["rule"]), None)
        summary = rule.summary if rule is not None else ""
    source = str(explanation.get("source_zh", ""))
    return {
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
        "status": "reversed" if record.status == "not-eligible" else record.status,
        "amount": record.amount,
        "ceiling": bool(created.get("ceiling")),
        "approved_amount": record.approved_amount,
        "paid_amount": record.paid_amount,
        "note": _note(record),
        "triggers": [_trigger(store.get_event(c), c, enterprise) for c in causes],
        "readings": explanation.get("readings", {}),
        "figures": explanation.get("figures", {}),
        "steps": explanation.get("steps", []),
        "missing": explanation.get("missing", []),
        "history": [_step(kind, on, data) for kind, _id, on, data in record.events],
    }


def _note(record: EntitlementRecord) -> str:
    note = str(record.created.get("note", ""))
    for kind, _id, _on, data in record.events:
        if kind == "EntitlementResolved":
            note = str(data.get("note") or "")
        elif kind == "EntitlementReversed":
            note = f"reversed: {data.get('reason', '')}"
    return note


def _trigger(event: RecordedEvent | None, event_id: str, enterprise: Enterprise) -> dict[str, Any]:
    if event is None:
        return {"event_id": event_id, "event_type": None}
    data = {k: v for k, v in event.data.items() if k != "policy"}
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_on": event.occurred_on,
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "retracted": event.event_id in enterprise.retracted,
        "data": data,
    }


def _step(kind: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"event": kind, "on": on}
    for key in ("status", "amount", "ref", "reason", "cause_event_id"):
        if data.get(key) is not None:
            value = data[key]
            step[key] = Decimal(str(value)) if key == "amount" else value
    return step
