"""From the enterprise aggregate to what the policy engine reads: facts, existing entitlements.

The engine knows nothing of events (`facts`); the aggregate knows nothing of policies
(`enterprise`). This module is the one place that translates, so the live reactor, a policy
activation and `simulate` all see an enterprise the same way:

- titles: one `TitlePeriod` per certification or passed review, with its validity and the date an
  ending action (revoked, review failed, expired) cut it short, taken from the very `TitleState`
  fold the aggregate decides with, so the engine and `status` never disagree about a date;
- listings: the stages reached, in order (the scheduler's tutoring lapse is not a stage);
- reports: every effective report in event order (a later report of a year supersedes an earlier
  one, which the facts' own queries handle); only invention patents count (LJ-13 says 发明专利);
- details (size, district …) are dated: a rule reads those in force on its trigger's date;
- retracted events are already out: the aggregate folds as if they never happened.

Existing entitlements are read from the entitlement records folded in the same stream. An
entitlement decided `not-eligible` counts as reversed (it no longer limits anything), and one
approved below its ceiling counts with the approved amount (what YB-3's yearly cap really used).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import cast, get_args

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
        financials=_financials(enterprise),
        rd_subsidies=tuple(
            RdSubsidyGrant(r.year, r.amount, r.event_id, r.on) for r in enterprise.rd_subsidies
        ),
        leases=tuple(
            LeaseReport(
                x.year, x.area_m2, x.rent_per_m2_month, x.months, cast(Owner, x.owner), x.event_id, x.on
            )
            for x in enterprise.leases
        ),
        talents=tuple(
            TalentReport(t.person, t.year, t.contribution, t.event_id, t.on) for t in enterprise.talents
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


def _financials(enterprise: Enterprise) -> tuple[FinancialReport, ...]:
    """Every effective financials report in stream order (the aggregate keeps only the latest
    per year, but a pending entitlement's trigger may be a superseded report)."""
    reports: list[FinancialReport] = []
    for event in enterprise.effective:
        if event.event_type != "FinancialsReported":
            continue
        data = event.data
        rd = data.get("rd_expense")
        reports.append(
            FinancialReport(
                int(data["year"]),
                Decimal(str(data["revenue"])),
                None if rd is None else Decimal(str(rd)),
                event.event_id,
                event.occurred_on,
            )
        )
    return tuple(reports)


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
