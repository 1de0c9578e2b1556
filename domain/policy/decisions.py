"""The policy engine's vocabulary: what happened (triggers), what exists, what to do (decisions).

The engine is a pure function from (policy, facts, trigger, existing entitlements) to decisions;
these are its input and output records. The caller (the enterprise's command handler) turns each
decision into an event; nothing here touches storage. An entitlement's id is a uuid5 of policy
key, rule id, USCC and trigger event id, so evaluating the same trigger twice, or replaying a
policy activation over a history already evaluated, can never create a second entitlement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Literal, TypeAlias

from domain.policy.model import Action, InitialStatus, ReportKind, RuleKind, Status, Track

ENTITLEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:srdi:entitlement")


def entitlement_id(policy: str, rule: str, uscc: str, trigger_event: str) -> str:
    """The deterministic id of the entitlement `rule` of `policy` creates for this trigger."""
    return str(uuid.uuid5(ENTITLEMENT_NAMESPACE, f"{policy}|{rule}|{uscc}|{trigger_event}"))


# ── triggers ────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class MilestoneReached:
    """A qualification or listing milestone was recorded (`srdi-municipal` `certified` on …)."""

    track: Track
    action: Action | str
    occurred_on: date
    event_id: str


@dataclass(frozen=True)
class ReportFiled:
    """A report was recorded; its figures are in the facts under the same `event_id`.

    `occurred_on` is the day it was recorded (a patent's grant day, a selection's day).
    """

    kind: ReportKind
    year: int
    occurred_on: date
    event_id: str


@dataclass(frozen=True)
class PolicyActivated:
    """The policy was activated for the district: evaluate the whole history it reaches."""

    policy: str
    occurred_on: date
    event_id: str


Trigger: TypeAlias = MilestoneReached | ReportFiled | PolicyActivated


# ── what already exists ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ExistingEntitlement:
    """An entitlement already created under the policy for this enterprise (any status).

    `subject` is the track, listing stage, patent or person the entitlement is about and
    `period_year` the year of the report it rewards; both come from `CreateEntitlement`.
    """

    id: str
    rule: str
    status: Status
    amount: Decimal | None
    trigger_event: str
    accrued_on: date
    subject: str | None = None
    period_year: int | None = None
    ceiling: bool = False

    @property
    def active(self) -> bool:
        """Counts towards caps and once-only limits (everything but reversed)."""
        return self.status != "reversed"


# ── decisions ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Explanation:
    """Why an amount and status: readings used, figures used, each arithmetic step as text."""

    policy: str
    rule: str
    article: str
    source_zh: str
    readings: tuple[tuple[str, str], ...] = ()
    figures: tuple[tuple[str, str], ...] = ()
    steps: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def quote(self) -> str:
        """`source_zh` without the seed's line and page breaks, for display."""
        return "".join(part.strip() for part in self.source_zh.splitlines())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form (figures keep their text, as shown)."""
        return {
            "policy": self.policy,
            "rule": self.rule,
            "article": self.article,
            "source_zh": self.source_zh,
            "readings": dict(self.readings),
            "figures": dict(self.figures),
            "steps": list(self.steps),
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class CreateEntitlement:
    """Create an entitlement: owed (`accrued`), a ceiling or unstated amount (`awaiting-approval`),
    or waiting for figures (`pending-data`, amount None until resolved)."""

    id: str
    policy: str
    rule: str
    article: str
    kind: RuleKind
    amount: Decimal | None
    ceiling: bool
    status: InitialStatus
    responsible_units: tuple[str, ...]
    trigger_event: str
    accrued_on: date
    subject: str | None
    period_year: int | None
    note: str
    explanation: Explanation
    occasion: str = ""

    def as_existing(self) -> ExistingEntitlement:
        """The entitlement as it exists once this decision is applied (the fields both records have)."""
        return ExistingEntitlement(**{f.name: getattr(self, f.name) for f in fields(ExistingEntitlement)})


@dataclass(frozen=True)
class ResolvePending:
    """A `pending-data` entitlement is now decidable: its new status and amount, or `reversed`
    (`eligible` False) with the reason in `note`."""

    entitlement_id: str
    policy: str
    rule: str
    status: Literal["accrued", "awaiting-approval", "reversed"]
    eligible: bool
    amount: Decimal | None
    ceiling: bool
    note: str
    explanation: Explanation


Decision: TypeAlias = CreateEntitlement | ResolvePending


@dataclass(frozen=True)
class Refusal:
    """A rule considered the trigger and said no (not persisted; for `explain` and tests)."""

    policy: str
    rule: str
    trigger_event: str
    reason: str


@dataclass(frozen=True)
class Assessment:
    """Everything one evaluation concluded: decisions to apply, and refusals with reasons."""

    decisions: tuple[Decision, ...]
    refusals: tuple[Refusal, ...]
