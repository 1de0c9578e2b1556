"""Every kind of fact srdi records, as frozen, versioned pydantic models.

Streams: ``enterprise-<USCC>`` (registration, milestones, reports, retractions, and the entitlements
a policy says are owed with their approvals and payments), ``policies`` (every activation, in order:
one stream so one expected version guards "which policies were in force"), ``reminders-<USCC>``
(deadline reminders). Money is ``Decimal`` yuan, stored as exact strings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from events.base import Event, JsonDict, registry

Size = Literal["micro", "small", "medium"]
Money = Decimal


def enterprise_stream(uscc: str) -> str:
    return f"enterprise-{uscc}"


def entitlement_stream(entitlement_id: str) -> str:
    return f"entitlement-{entitlement_id}"


def policy_stream(key: str) -> str:
    return f"policy-{key}"


POLICIES_STREAM = "policies"
"""The one stream of `PolicyActivated` events (``policy_stream`` is kept for compatibility)."""


def facility_stream(facility_id: str) -> str:
    return f"facility-{facility_id}"


def reminder_stream(uscc: str) -> str:
    return f"reminders-{uscc}"


# -- the field groups several events share (not events themselves: no event_type) ----------------
class EnterpriseEvent(Event):
    """A fact about one enterprise, recorded in its stream (``enterprise_stream(uscc)``)."""

    uscc: str


class YearlyReport(EnterpriseEvent):
    """A fact about one of the enterprise's years."""

    year: int


class OptionalDetails(EnterpriseEvent):
    """The details an enterprise may be registered without, and may change later."""

    department: str | None = None
    size: Size | None = None
    industry: str | None = None  # an industry key (domain.industries); absent before it was kept


class FacilityEvent(Event):
    """A fact about one facility, recorded in its stream (``facility_stream(facility_id)``)."""

    facility_id: str


class EntitlementEvent(Event):
    """A fact about one entitlement, recorded in its enterprise's stream."""

    entitlement_id: str


class EntitlementDecision(EntitlementEvent):
    """What the policy engine decided an entitlement is owed, and why (its explanation)."""

    amount: Money | None
    note: str = ""
    explanation: dict[str, Any] = Field(default_factory=dict)


class EntitlementSum(EntitlementEvent):
    """An exact amount a person decided on: approved, or paid."""

    amount: Money


class Consequence(EntitlementEvent):
    """A change to an entitlement caused by another event (``cause_event_id``: a report, a retraction)."""

    cause_event_id: str | None = None


class Accrual(EntitlementDecision):
    """An amount owed from a day, for the event that triggered it (``ceiling``: the amount is a cap)."""

    ceiling: bool
    trigger_event_id: str
    accrued_on: date


# -- enterprises --------------------------------------------------------------------------------
class EnterpriseRegistered(OptionalDetails, event_type="EnterpriseRegistered", version=2):
    """An enterprise enters the register. v2 stores ``size`` as a key and adds ``department``."""

    name: str
    district: str


class EnterpriseDetailsChanged(OptionalDetails, event_type="EnterpriseDetailsChanged"):
    """Some of the enterprise's details change from the event's business date on.

    Only the fields that change are set; the others are ``None`` (unchanged). The details in force
    on a day are folded by ``domain.details``.
    """

    name: str | None = None
    district: str | None = None


class SpecialistAssigned(EnterpriseEvent, event_type="SpecialistAssigned"):
    """The service specialist (服务专员, 一企一策一人) now serving the enterprise; a later one replaces."""

    person: str
    unit: str | None = None


_SIZE_V1 = {"微型": "micro", "小型": "small", "中型": "medium"}


@registry.upcaster("EnterpriseRegistered", 1)
def _registered_v1_to_v2(data: JsonDict) -> JsonDict:
    """v1 (before the CLI took keys) stored the size in Chinese and had no department."""
    size = data.get("size")
    data["size"] = _SIZE_V1.get(size, size) if size is not None else None
    data.setdefault("department", None)
    return data


class MilestoneRecorded(EnterpriseEvent, event_type="MilestoneRecorded"):
    """A legal transition of one track; the business date is the envelope's ``occurred_on``."""

    track: str
    action: str
    ref: str | None = None
    override_reason: str | None = None
    from_state: str | None = None
    to_state: str | None = None


class FinancialsReported(YearlyReport, event_type="FinancialsReported"):
    """A year's figures; a later report for the same year supersedes an earlier one."""

    revenue: Money
    rd_expense: Money | None = None


class LeaseReported(YearlyReport, event_type="LeaseReported"):
    area_m2: Decimal
    rent_per_m2_month: Money
    months: int
    owner: Literal["state", "private"]


class TalentContributionReported(YearlyReport, event_type="TalentContributionReported"):
    person: str
    contribution: Money


class RdSubsidyReported(YearlyReport, event_type="RdSubsidyReported"):
    """A municipal R&D subsidy granted to the enterprise (what RC-29a matches)."""

    amount: Money


class PatentGranted(EnterpriseEvent, event_type="PatentGranted"):
    number: str
    kind: Literal["invention", "utility", "design"] = "invention"


class DemonstrationSelected(YearlyReport, event_type="DemonstrationSelected"):
    """Chosen as one of a district's demonstration enterprises for a year (JJ-27)."""


class RetrofitReported(YearlyReport, event_type="RetrofitReported"):
    """A smart (智能化), green (绿色化) or digital (数字化 new models) retrofit project and its investment."""

    kind: Literal["smart", "green", "digital"]
    investment: Money
    project: str | None = None


class IncubationRecorded(EnterpriseEvent, event_type="IncubationRecorded"):
    """Incubated by a research institute (Rongchang art 29: 重庆市高新技术产业研究院)."""

    institute: str


class InnovationProjectRecorded(EnterpriseEvent, event_type="InnovationProjectRecorded"):
    """A major innovation project (重大创新攻关项目, 揭榜挂帅) of the enterprise (Yubei art 9)."""

    project: str
    field: str | None = None  # an industry key (domain.industries)


class StandardRecorded(EnterpriseEvent, event_type="StandardRecorded"):
    """A standard the enterprise led or took part in setting (标准制修订, Yubei art 18)."""

    standard: str
    level: Literal["international", "national", "industry", "local", "group"]
    role: Literal["lead", "participant"] = "participant"


class EventRetracted(EnterpriseEvent, event_type="EventRetracted"):
    """A correction: state is computed as if the retracted event never happened."""

    retracted_event_id: str
    retracted_type: str
    reason: str


# -- facilities (parks, internship bases, incubators) ------------------------------------------
class FacilityEstablished(FacilityEvent, event_type="FacilityEstablished"):
    """A park (产业园), internship base (见习基地) or incubator (孵化器) established in a district."""

    kind: Literal["srdi-park", "internship-base", "incubator"]
    name: str
    district: str
    unit: str | None = None
    ref: str | None = None


class FacilityClosed(FacilityEvent, event_type="FacilityClosed"):
    """The facility closed or lost its designation; it no longer counts from that day."""

    reason: str


# -- policies and entitlements ------------------------------------------------------------------
class PolicyActivated(Event, event_type="PolicyActivated"):
    """A policy document switched on; the full rule data is kept so a replay uses what was in force."""

    key: str
    digest: str
    policy: dict[str, Any]
    source: str | None = None  # "builtin" or the file name it was read from


class EntitlementCreated(Accrual, event_type="EntitlementCreated"):
    policy: str
    rule: str
    article: str
    kind: str
    uscc: str
    district: str
    status: Literal["accrued", "awaiting-approval", "pending-data"]
    responsible_units: list[str] = Field(default_factory=list)
    subject: str | None = None  # the track, stage, person or patent once-only limits count by
    period_year: int | None = None  # the year of the report it rewards (yearly caps)
    occasion: str | None = None  # what makes it one entitlement: a report's kind and period, else the trigger


class EntitlementResolved(EntitlementDecision, Consequence, event_type="EntitlementResolved"):
    """A pending-data entitlement decided once the missing figures arrived.

    ``pending-data`` re-opens it: the report that decided it was retracted and no other supplies
    the figures (see ``domain.policy.reactor``).
    """

    status: Literal["accrued", "awaiting-approval", "not-eligible", "pending-data"]


class EntitlementAdjusted(Accrual, Consequence, event_type="EntitlementAdjusted"):
    """A correction changed what an entitlement is owed: its amount, status, trigger or figures.

    A restated or retracted figure, a retracted milestone, changed details or a policy activated
    made the engine decide the entitlement again (``domain.policy.reactor``). The earlier decision
    stays in the stream (``previous_amount``, the earlier event's explanation); approvals and
    payments already made are untouched: if they exceed what is now owed the ledger shows
    ``recovery-due``. ``status`` ``reversed`` is never carried here (that is `EntitlementReversed`);
    an entitlement reversed earlier that the facts owe again is reinstated by this event.
    """

    status: Literal["accrued", "awaiting-approval", "pending-data"]
    previous_status: str | None = None
    previous_amount: Money | None = None
    reason: str = ""


class EntitlementApproved(EntitlementSum, event_type="EntitlementApproved"):
    """The amount one person approved for payment (another must pay it: four eyes)."""


class EntitlementPaid(EntitlementSum, event_type="EntitlementPaid"):
    """An amount paid under a voucher ``ref`` (paying again under the same voucher is a no-op)."""

    ref: str


class EntitlementReversed(Consequence, event_type="EntitlementReversed"):
    """The entitlement is no longer owed (a correction took away what it was owed for)."""

    reason: str


# -- the scheduler ------------------------------------------------------------------------------
class ReminderIssued(EnterpriseEvent, event_type="ReminderIssued"):
    track: str
    deadline: date
    days_left: int
    threshold: int
    kind: Literal["review-due", "tutoring-lapses"]
    responsible_units: list[str] = Field(default_factory=list)
