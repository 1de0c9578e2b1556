"""The small records the enterprise aggregate keeps: milestones, reported figures, entitlements.

Each carries the id of the event it comes from, so the policy engine can name a trigger and an
auditor can find the fact. Frozen where they are facts; `EntitlementRecord` is folded in place
from its events, generically: the policy engine owns what the statuses mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from domain.entitlement_status import Standing, standing
from events.envelope import RecordedEvent


def money_or_none(value: Any) -> Decimal | None:
    """A stored amount (exact text) as a Decimal; None stays None."""
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class Milestone:
    """One effective milestone of a track, with the id of the event that recorded it."""

    event_id: str
    track: str
    action: str
    on: date
    ref: str | None
    override_reason: str | None


@dataclass(frozen=True, slots=True)
class Financials:
    event_id: str
    on: date
    year: int
    revenue: Decimal
    rd_expense: Decimal | None


@dataclass(frozen=True, slots=True)
class Lease:
    event_id: str
    on: date
    year: int
    area_m2: Decimal
    rent_per_m2_month: Decimal
    months: int
    owner: str


@dataclass(frozen=True, slots=True)
class Talent:
    event_id: str
    on: date
    person: str
    year: int
    contribution: Decimal


@dataclass(frozen=True, slots=True)
class RdSubsidy:
    event_id: str
    on: date
    year: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Patent:
    event_id: str
    on: date
    number: str
    kind: str


@dataclass(frozen=True, slots=True)
class Demonstration:
    event_id: str
    on: date
    year: int


@dataclass(frozen=True, slots=True)
class MeasureFact:
    """A recorded measure of the documents that is not a milestone: a retrofit, an incubation, a
    major innovation project, a standard, a specialist assignment (``kind`` says which).

    ``subject`` is what it is about (the retrofit kind, the standard's level, the project's field);
    ``name`` its name (project, standard, institute, person); ``year`` and ``amount`` for a retrofit;
    ``detail`` the specialist's unit or the enterprise's role in setting a standard (lead, participant).
    """

    event_id: str
    on: date
    kind: str
    subject: str | None
    name: str | None
    year: int | None = None
    amount: Decimal | None = None
    detail: str | None = None


@dataclass
class EntitlementRecord:
    """An entitlement folded generically from its events; the policy engine owns the meaning.

    ``decided`` is the engine's last decision (created, resolved, adjusted, reversed); ``status``
    adds the money people decided (`domain.entitlement_status`). ``events`` keeps every
    (event type, event id, date, raw data) so nothing is lost here.
    """

    entitlement_id: str
    rule: str | None = None
    decided: str | None = None
    amount: Decimal | None = None
    approved_amount: Decimal | None = None
    paid_amount: Decimal = Decimal(0)
    created: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, str, date, dict[str, Any]]] = field(default_factory=list)
    approved_by: str | None = None
    """The actor of the approval: the one person who may not also pay it (four eyes)."""
    adjusted_from: Decimal | None = None
    ceiling: bool = False
    trigger_event_id: str | None = None

    def apply(self, event: RecordedEvent) -> None:
        data = event.data
        self.events.append((event.event_type, event.event_id, event.occurred_on, data))
        kind = event.event_type
        if kind == "EntitlementCreated":
            self.created = data
            self.rule = data.get("rule")
            self.decided = data.get("status")
            self.amount = money_or_none(data.get("amount"))
            self.ceiling = bool(data.get("ceiling", False))
            self.trigger_event_id = data.get("trigger_event_id")
        elif kind == "EntitlementResolved":
            self.decided = data.get("status")
            self.amount = money_or_none(data.get("amount"))
        elif kind == "EntitlementAdjusted":
            self.decided = data.get("status")
            self.adjusted_from = money_or_none(data.get("previous_amount"))
            self.amount = money_or_none(data.get("amount"))
            self.ceiling = bool(data.get("ceiling", self.ceiling))
            self.trigger_event_id = data.get("trigger_event_id", self.trigger_event_id)
        elif kind == "EntitlementApproved":
            self.approved_amount = money_or_none(data.get("amount"))
            self.approved_by = event.actor
        elif kind == "EntitlementPaid":
            self.paid_amount += money_or_none(data.get("amount")) or Decimal(0)
        elif kind == "EntitlementReversed":
            self.decided = "reversed"

    @property
    def standing(self) -> Standing:
        """Status, amount owed and amount to recover (`domain.entitlement_status`)."""
        return standing(self.decided, self.amount, self.ceiling, self.approved_amount, self.paid_amount)

    @property
    def status(self) -> str:
        """The ledger status: the engine's decision with the approvals and payments made."""
        return self.standing.status

    @property
    def recovery_amount(self) -> Decimal:
        return self.standing.recovery_amount

    def copy(self) -> EntitlementRecord:
        """An independent copy (the aggregate's `evolve` folds new events into copies)."""
        return replace(self, events=list(self.events))
