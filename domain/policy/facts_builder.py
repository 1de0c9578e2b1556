"""From the enterprise aggregate to what the policy engine reads: facts, existing entitlements.

The engine knows nothing of events (`facts`); the aggregate knows nothing of policies
(`enterprise`). This module is the one place that translates, so the live reactor, a policy
activation and `simulate` all see an enterprise the same way:

- titles: one `TitlePeriod` per certification or passed review, with its validity and the date an
  ending action (revoked, review failed, expired) cut it short, taken from the very `TitleState`
  fold the aggregate decides with, so the engine and `status` never disagree about a date;
- listings: the stages reached, in order (the scheduler's tutoring lapse is not a stage);
- reports: for financials, leases, talents and R&D subsidies only the report IN FORCE for each
  enterprise, kind and period (`in_force`: a later report supersedes an earlier one; retracting
  the later brings the earlier back), dated the day the period was first reported; only invention
  patents count (LJ-13 says 发明专利);
- details (size, district …) are dated: a rule reads those in force on its trigger's date;
- retracted events are already out: the aggregate folds as if they never happened.

Existing entitlements are read from the entitlement records folded in the same stream. An
entitlement decided `not-eligible` counts as reversed (it no longer limits anything), and one
approved below its ceiling counts with the approved amount (what YB-3's yearly cap really used).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, cast, get_args

from domain.enterprise import Enterprise, EntitlementRecord
from domain.policy.decisions import ExistingEntitlement
from domain.policy.facts import (
    DemonstrationSelection,
    EnterpriseFacts,
    FinancialReport,
    LeaseReport,
    ListingMilestone,
    MeasureRecord,
    PatentGrant,
    RdSubsidyGrant,
    TalentReport,
    TitlePeriod,
)
from domain.policy.vocab import STAGES, TRACKS, Owner, ReportKind, Size, Status, TitleStart
from domain.reference import track_kind
from events.envelope import RecordedEvent

STATUSES: tuple[str, ...] = get_args(Status)
PERIOD_STARTS = ("certified", "review-passed")


def build_facts(enterprise: Enterprise) -> EnterpriseFacts:
    """Everything the engine may ask about this enterprise, from its folded state."""
    size = enterprise.size if enterprise.size in ("micro", "small", "medium") else None
    return EnterpriseFacts(
        uscc=enterprise.uscc,
        district=enterprise.district or "",
        size=cast(Size | None, size),
        titles=_titles(enterprise),
        listings=tuple(
            ListingMilestone(m.action, m.on, m.event_id)
            for m in enterprise.milestones
            if m.track == "listing" and m.action in STAGES
        ),
        financials=tuple(
            FinancialReport(
                int(d["year"]),
                Decimal(str(d["revenue"])),
                None if d.get("rd_expense") is None else Decimal(str(d["rd_expense"])),
                e.event_id,
                first_on,
            )
            for e, d, first_on in in_force(enterprise, "FinancialsReported")
        ),
        rd_subsidies=tuple(
            RdSubsidyGrant(int(d["year"]), Decimal(str(d["amount"])), e.event_id, first_on)
            for e, d, first_on in in_force(enterprise, "RdSubsidyReported")
        ),
        leases=tuple(
            LeaseReport(
                int(d["year"]),
                Decimal(str(d["area_m2"])),
                Decimal(str(d["rent_per_m2_month"])),
                int(d["months"]),
                cast(Owner, d["owner"]),
                e.event_id,
                first_on,
            )
            for e, d, first_on in in_force(enterprise, "LeaseReported")
        ),
        talents=tuple(
            TalentReport(
                str(d["person"]), int(d["year"]), Decimal(str(d["contribution"])), e.event_id, first_on
            )
            for e, d, first_on in in_force(enterprise, "TalentContributionReported")
        ),
        patents=tuple(
            PatentGrant(p.number, p.on, p.event_id) for p in enterprise.patents if p.kind == "invention"
        ),
        demonstrations=tuple(
            DemonstrationSelection(d.year, d.on, d.event_id) for d in enterprise.demonstrations
        ),
        details=enterprise.details,
        measures=_measures(enterprise),
    )


MEASURE_KINDS: dict[str, ReportKind] = {
    "retrofit": "retrofit",
    "incubation": "incubation",
    "innovation-project": "innovation-project",
    "standard": "standard",
}
"""Measure facts the engine sees (a specialist assignment creates no entitlement)."""


def _measures(enterprise: Enterprise) -> tuple[MeasureRecord, ...]:
    """Retrofits, incubations, projects, standards, and every designation certification, in order.

    A designation certification is a milestone of the aggregate; for the engine it is a record
    `designation` about its track (RC-28 / JJ-28 support what was built, not a title held).
    """
    found: list[tuple[int, MeasureRecord]] = []
    order = {e.event_id: i for i, e in enumerate(enterprise.effective)}
    for m in enterprise.measures:
        kind = MEASURE_KINDS.get(m.kind)
        if kind is None:
            continue
        year = m.year if m.year is not None else m.on.year
        record = MeasureRecord(kind, m.subject, year, m.on, m.event_id, m.amount, m.year is not None)
        found.append((order.get(m.event_id, 0), record))
    for ms in enterprise.milestones:
        if ms.action == "certified" and track_kind(ms.track) == "designation":
            record = MeasureRecord("designation", ms.track, ms.on.year, ms.on, ms.event_id)
            found.append((order.get(ms.event_id, 0), record))
    return tuple(r for _, r in sorted(found, key=lambda pair: pair[0]))


def _titles(enterprise: Enterprise) -> tuple[TitlePeriod, ...]:
    """Each period of each title, paired with the milestone that started it.

    `TitleState` appends one period per certification or passed review, in order, so the n-th
    period of a track belongs to the n-th such milestone of that track.
    """
    found: list[TitlePeriod] = []
    for track, state in enterprise.titles.items():
        if track not in TRACKS:
            continue
        starts = [m for m in enterprise.milestones if m.track == track and m.action in PERIOD_STARTS]
        for milestone, period in zip(starts, state.periods, strict=False):
            found.append(
                TitlePeriod(
                    track=track,
                    start=period.start,
                    valid_until=period.valid_until,
                    started_by=cast(TitleStart, milestone.action),
                    event_id=milestone.event_id,
                    ended_on=period.ended_on,
                )
            )
    order = {m.event_id: i for i, m in enumerate(enterprise.milestones)}
    return tuple(sorted(found, key=lambda p: order.get(p.event_id, 0)))


SUPERSEDING = {
    "FinancialsReported": "financials",
    "LeaseReported": "lease",
    "TalentContributionReported": "talent",
    "RdSubsidyReported": "rd-subsidy",
}
"""The reported figures of which one is in force per enterprise, kind and period."""


def report_slot(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The period a figure is about: ``financials:2024``, ``talent:2024:P-1``; None for other events.

    A later report of the same slot supersedes the earlier one (the earlier stays in history).
    """
    kind = SUPERSEDING.get(event_type)
    if kind is None:
        return None
    slot = f"{kind}:{data['year']}"
    return f"{slot}:{data['person']}" if kind == "talent" else slot


def in_force(enterprise: Enterprise, event_type: str) -> list[tuple[RecordedEvent, Mapping[str, Any], date]]:
    """The reports of one kind in force: the latest effective report of each period, in the order
    the periods were first reported, with the day the period was FIRST reported.

    That day is when the claim was made: a restatement corrects the figures, not the date an
    entitlement accrued on (so a ledger after a restatement equals one where the first report had
    carried the right figures). Retracted reports are already out of ``enterprise.effective``.
    """
    latest: dict[str, RecordedEvent] = {}
    first: dict[str, date] = {}
    for event in enterprise.effective:
        if event.event_type != event_type:
            continue
        slot = report_slot(event_type, event.data) or event.event_id
        latest[slot] = event
        first.setdefault(slot, event.occurred_on)
    return [(latest[slot], latest[slot].data, first[slot]) for slot in latest]


def existing_entitlements(enterprise: Enterprise, policy_key: str) -> list[ExistingEntitlement]:
    """The entitlements `policy_key` already created for this enterprise, as the engine counts them."""
    return [
        existing_of(record)
        for record in enterprise.entitlements.values()
        if record.created.get("policy") == policy_key
    ]


def existing_of(record: EntitlementRecord) -> ExistingEntitlement:
    """One folded entitlement record in the engine's terms."""
    created = record.created
    status = record.status if record.status in STATUSES else "reversed"
    amount = record.approved_amount if record.approved_amount is not None else record.amount
    return ExistingEntitlement(
        id=record.entitlement_id,
        rule=str(record.rule),
        status=cast(Status, status),
        amount=amount,
        trigger_event=str(created.get("trigger_event_id", "")),
        accrued_on=_day(created.get("accrued_on")),
        subject=created.get("subject"),
        period_year=created.get("period_year"),
        ceiling=bool(created.get("ceiling", False)),
    )


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def policy_of(record: EntitlementRecord) -> str:
    """The key of the policy that created the entitlement."""
    return str(record.created.get("policy", ""))


def active_records(records: Iterable[EntitlementRecord]) -> list[EntitlementRecord]:
    """Records that still count: neither reversed nor found not eligible."""
    return [r for r in records if r.status not in ("reversed", "not-eligible")]
