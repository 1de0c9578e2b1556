"""Deciding on an entitlement: approve an amount, record a payment. The ledger's write side.

An entitlement lives in its enterprise's stream: the unit of work
(`service_layer.unit_of_work.decide_on_entitlement`) loads the enterprise aggregate (authoritative;
the ledger projection only told the service layer which enterprise to load), these functions check
the entitlement's lifecycle and return the one event, and the unit of work appends it at the
version read, retrying on a conflict like every other command.

The lifecycle (docs/cli.md): accrued | awaiting-approval | pending-data → approved → partly-paid →
paid | reversed, and `recovery-due` when a correction leaves less owed than was approved or paid
(`domain.entitlement_status`).
- approve: only an entitlement `awaiting-approval` (a ceiling, or an amount the document does
  not state); at most the ceiling when there is one; once (a second approval is refused), except
  that an approval a correction left above the new ceiling may be approved again within it (not
  below what was paid). A tax relief is applied by the tax office and has no payout: refused.
- pay: refused while the entitlement is `recovery-due`.
- pay: an `accrued` entitlement (a fixed amount) is paid directly up to its amount; an approved
  one up to the approved amount; several payments may add up to it, never beyond (`partly-paid`
  until they do, then `paid`). A payment needs a reference and a date, not in the future and not
  before the accrual (the approval's date is not compared: see docs/decisions.md).
- one voucher, one payment: a reference already recorded for the entitlement with the same amount
  and date is the same payment entered again (a retry after a hang): nothing is written and the
  first payment stands; with another amount or date it is a `Conflict` (exit 3).
- four eyes: the person who approved an entitlement may not record a payment of it (`NotPermitted`,
  CLI exit 6), whatever note follows the login in the actor (``login/note``); a fixed amount that
  needed no approval has no approver to exclude.
- pending-data, reversed and not-eligible entitlements take no decision.
Every refusal is one `InvalidInput` line and writes nothing. Money is `Decimal` yuan, > 0, to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.commands import Command, PositiveMoney, ShortText, Text
from domain.deciders import not_in_future
from domain.enterprise import Enterprise, EntitlementRecord
from domain.errors import Conflict, InvalidInput, NotPermitted
from domain.policy.amounts import yuan
from events.envelope import NewEvent
from events.schemas import EntitlementApproved, EntitlementPaid


class _Decision(Command):
    entitlement_id: ShortText
    amount: PositiveMoney


class ApproveEntitlement(_Decision):
    """Set the amount of a ceiling or unstated entitlement (no higher than the ceiling)."""

    on: date | None = None


class PayEntitlement(_Decision):
    """Record a payment of `amount` yuan with the finance office's reference, made on `on`."""

    ref: Text
    on: date


def entitlement(enterprise: Enterprise, entitlement_id: str) -> EntitlementRecord:
    """The entitlement with this id in the enterprise's stream, or a refusal."""
    record = enterprise.entitlements.get(entitlement_id)
    if record is None or not record.created:
        raise InvalidInput(
            f"no entitlement {entitlement_id} for {enterprise.uscc or 'this enterprise'}; "
            "copy the id from 'srdi ledger'"
        )
    return record


def decide_approval(record: EntitlementRecord, cmd: ApproveEntitlement, today: date, actor: str) -> NewEvent:
    """The approval event, or a refusal saying why not."""
    _open(record, "approved")
    on = cmd.on or today
    not_in_future(on, today, "the approval")
    if record.created.get("kind") == "tax-relief":
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is a tax relief applied by the tax office; no payout"
        )
    standing = record.standing
    if record.approved_amount is not None and not standing.recovery_due:
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is already approved at "
            f"{yuan(record.approved_amount or Decimal(0))} yuan; nothing to do"
        )
    if record.decided != "awaiting-approval":
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is {record.status}: only an entitlement awaiting approval "
            "(a ceiling or an unstated amount) is approved; pay a fixed amount with 'srdi entitlement pay'"
        )
    if standing.recovery_due and cmd.amount < record.paid_amount:
        raise InvalidInput(
            f"--amount {yuan(cmd.amount)} is below the {yuan(record.paid_amount)} yuan already paid; "
            "approve at least what was paid, up to the corrected ceiling"
        )
    ceiling = record.amount if record.ceiling else None
    if ceiling is not None and cmd.amount > ceiling:
        raise InvalidInput(
            f"--amount {yuan(cmd.amount)} is above the ceiling of {yuan(ceiling)} yuan "
            f"({record.rule}); approve at most {yuan(ceiling)}"
        )
    _not_before_accrual(record, on, "the approval")
    return NewEvent(EntitlementApproved(entitlement_id=record.entitlement_id, amount=cmd.amount), on, actor)


@dataclass(frozen=True)
class PaymentMade:
    """A payment recorded on an entitlement: its event, amount, voucher reference and date."""

    event_id: str
    amount: Decimal
    ref: str
    on: date


def payment_with_ref(record: EntitlementRecord, ref: str) -> PaymentMade | None:
    """The payment recorded under voucher ``ref`` for this entitlement, if any."""
    for kind, event_id, on, data in record.events:
        if kind == "EntitlementPaid" and data.get("ref") == ref:
            return PaymentMade(event_id, Decimal(str(data["amount"])), ref, on)
    return None


def repeated_payment(record: EntitlementRecord, cmd: PayEntitlement) -> PaymentMade | None:
    """The earlier payment this command repeats exactly (None: a new voucher); a clash is a Conflict."""
    earlier = payment_with_ref(record, cmd.ref)
    if earlier is None:
        return None
    if earlier.amount != cmd.amount or earlier.on != cmd.on:
        raise Conflict(
            f"voucher {cmd.ref!r} already records a payment of {yuan(earlier.amount)} yuan on "
            f"{earlier.on.isoformat()} for entitlement {record.entitlement_id} (event {earlier.event_id}); "
            f"not {yuan(cmd.amount)} yuan on {cmd.on.isoformat()}: one voucher, one payment"
        )
    return earlier


def decide_payment(
    record: EntitlementRecord, cmd: PayEntitlement, today: date, actor: str, *, vouched: bool = False
) -> NewEvent | None:
    """The payment event, None when the same voucher was already paid alike, or a refusal."""
    if repeated_payment(record, cmd) is not None:
        return None
    _open(record, "paid")
    not_in_future(cmd.on, today, "the payment")
    if record.created.get("kind") == "tax-relief":
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is a tax relief applied by the tax office; no payout"
        )
    if record.approved_amount is not None:
        # Not checked against the approval's date: `entitlement approve` (docs/cli.md) takes no date, so
        # that date is often just the day the approval was entered, and a payment voucher from
        # before it (history being entered) could then never be recorded: approvals are once only.
        limit, basis = record.approved_amount, "approved"
    elif record.decided == "accrued" and record.amount is not None and not record.ceiling:
        limit, basis = record.amount, "owed"
    else:
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is {record.status}: approve an amount first with "
            f"'srdi entitlement approve {record.entitlement_id} --amount YUAN'"
        )
    _not_before_accrual(record, cmd.on, "the payment")
    left = limit - record.paid_amount
    if cmd.amount > left:
        raise InvalidInput(
            f"--amount {yuan(cmd.amount)} is above what is left to pay: {yuan(left)} yuan "
            f"({yuan(limit)} {basis}, {yuan(record.paid_amount)} paid)"
        )
    four_eyes(record, actor, vouched=vouched)  # last: a malformed payment is exit 2 whoever asks
    event = EntitlementPaid(entitlement_id=record.entitlement_id, amount=cmd.amount, ref=cmd.ref)
    return NewEvent(event, cmd.on, actor)


def four_eyes(record: EntitlementRecord, actor: str, *, vouched: bool = False) -> None:
    """Refuse a payment by the person who approved the entitlement.

    ``vouched``: the database vouches for the login (PostgreSQL, a login bound to its own actor):
    the person is then the login, the actor's part before the first ``/`` (`accountable`), and what
    follows is a note anyone may type. Otherwise (SQLite; the schema's owner, who can switch any
    check off) the whole actor names the person, as well as anything can.
    """
    approver = record.approved_by
    if approver is None:
        return
    same = approver == actor or (vouched and accountable(approver) == accountable(actor))
    if same:
        raise NotPermitted(
            f"{accountable(actor)} approved entitlement {record.entitlement_id} (as {record.approved_by}) "
            "and so may not pay it; another person records the payment (four eyes)"
        )


def accountable(actor: str) -> str:
    """Who answers for an event: ``login`` of ``login/note`` (the whole actor when it has no ``/``)."""
    return actor.split("/", 1)[0]


def _open(record: EntitlementRecord, what: str) -> None:
    if record.decided in ("reversed", "not-eligible"):
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is {record.status}: it cannot be {what}; "
            "see 'srdi explain' for why"
        )
    if record.decided == "pending-data":
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is pending-data (waiting for figures): it cannot be {what} "
            "until a report decides it"
        )
    standing = record.standing
    if standing.recovery_due and what == "paid":
        raise InvalidInput(
            f"entitlement {record.entitlement_id} is recovery-due: a correction left "
            f"{yuan(standing.owed or Decimal(0))} yuan owed, less than was approved or paid "
            f"({yuan(standing.recovery_amount)} yuan to recover); no further payment"
        )


def _not_before_accrual(record: EntitlementRecord, on: date, what: str) -> None:
    accrued = date.fromisoformat(str(record.created.get("accrued_on")))
    if on < accrued:
        raise InvalidInput(
            f"{what} is dated {on.isoformat()}, before the entitlement accrued on {accrued.isoformat()}"
        )
