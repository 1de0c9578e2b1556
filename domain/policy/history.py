"""The triggers an enterprise's facts contain, rebuilt from the facts themselves.

A policy activation evaluates every past trigger the policy reaches, once; a pending entitlement
is decided again from its original trigger. Both need the trigger back from the facts, by event
id, with the same date the live evaluation used: a title period's start, a listing stage's day,
a report's recording day (a patent's grant day, a selection's day).
"""

from __future__ import annotations

from datetime import date

from domain.policy.decisions import MilestoneReached, ReportFiled
from domain.policy.facts import (
    DemonstrationSelection,
    EnterpriseFacts,
    FinancialReport,
    LeaseReport,
    MeasureRecord,
    PatentGrant,
    RdSubsidyGrant,
    Report,
    TalentReport,
)
from domain.policy.vocab import ReportKind

PastTrigger = MilestoneReached | ReportFiled


def past_triggers(facts: EnterpriseFacts) -> list[PastTrigger]:
    """Every trigger in the facts, oldest first (same day: titles, listings, reports)."""
    found: list[PastTrigger] = [
        MilestoneReached(p.track, p.started_by, p.start, p.event_id) for p in facts.titles
    ]
    found += [MilestoneReached("listing", m.stage, m.on, m.event_id) for m in facts.listings]
    reports: tuple[Report, ...] = (
        *facts.financials,
        *facts.rd_subsidies,
        *facts.leases,
        *facts.talents,
        *facts.patents,
        *facts.demonstrations,
        *facts.measures,
    )
    found += [report_filed(r) for r in reports]
    return sorted(found, key=_day)


def _day(trigger: PastTrigger) -> date:
    return trigger.occurred_on


def report_filed(report: Report) -> ReportFiled:
    """The trigger a recorded report stands for."""
    if isinstance(report, PatentGrant):
        day = report.granted_on
        return ReportFiled("patent-granted", day.year, day, report.event_id)
    if isinstance(report, DemonstrationSelection):
        return ReportFiled("demonstration-selected", report.year, report.selected_on, report.event_id)
    if isinstance(report, MeasureRecord):
        return ReportFiled(report.kind, report.year, report.on, report.event_id)
    kind: ReportKind
    if isinstance(report, FinancialReport):
        kind = "financials"
    elif isinstance(report, RdSubsidyGrant):
        kind = "rd-subsidy"
    elif isinstance(report, LeaseReport):
        kind = "lease"
    else:
        assert isinstance(report, TalentReport)
        kind = "talent"
    return ReportFiled(kind, report.year, report.reported_on, report.event_id)


def trigger_for_event(facts: EnterpriseFacts, event_id: str) -> PastTrigger | None:
    """The trigger recorded by `event_id`, or None when the facts no longer hold it."""
    period = facts.title_period(event_id)
    if period is not None:
        return MilestoneReached(period.track, period.started_by, period.start, event_id)
    milestone = facts.listing(event_id)
    if milestone is not None:
        return MilestoneReached("listing", milestone.stage, milestone.on, event_id)
    report = facts.report(event_id)
    return None if report is None else report_filed(report)
