"""Does a rule's trigger match what happened? If so, on what occasion (date, subject, year)?

An `Occasion` is a trigger seen through one rule: the event that keys the entitlement, the date it
accrues on, the date titles are checked on, the year a report is about, and the subject (track,
stage, person, patent) once-only limits count by. Matching decides three ways: `None` (the rule is
not about this trigger, say nothing), a refusal reason (the rule is about it but a qualifier says
no: not the first certification, a title certified too early), or an occasion.

Dates titles are checked on: a milestone's own date; a report about year Y filed after Y is
checked on 31 December of Y (the enterprise must have held the title in the year it reports),
else on the day it was filed; a patent on its grant day; a selection on its day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from domain.policy.decisions import MilestoneReached, ReportFiled
from domain.policy.facts import (
    DemonstrationSelection,
    EnterpriseFacts,
    FinancialReport,
    MeasureRecord,
    PatentGrant,
    Report,
    TalentReport,
)
from domain.policy.model import MilestoneTrigger, Policy, ReportTrigger, Rule, TitleHeldTrigger, Track

QUALIFICATION_ACTIONS = ("certified", "review-passed")


@dataclass(frozen=True)
class Occasion:
    """A trigger as one rule sees it."""

    event_id: str
    on: date
    check_on: date
    year: int | None = None
    year_based: bool = False
    subject: str | None = None
    track: Track | None = None
    report: Report | None = None
    slot: str | None = None

    @property
    def key(self) -> str:
        """What makes one entitlement of a rule: a figure's kind and period (``financials:2024``),
        so a restated figure decides the same entitlement again; otherwise the triggering event."""
        return self.slot or self.event_id


Match = Occasion | str | None


def match(
    policy: Policy, rule: Rule, facts: EnterpriseFacts, trigger: MilestoneReached | ReportFiled
) -> Match:
    """Match `trigger` against `rule.trigger`: None, a refusal reason, or an occasion."""
    spec = rule.trigger
    if isinstance(spec, MilestoneTrigger):
        if not isinstance(trigger, MilestoneReached):
            return None
        return _milestone(policy, rule, spec, facts, trigger)
    if isinstance(spec, TitleHeldTrigger):
        if not isinstance(trigger, MilestoneReached):
            return None
        return _title_held(spec, facts, trigger)
    if not isinstance(trigger, ReportFiled):
        return None
    return _report(spec, facts, trigger)


def _milestone(
    policy: Policy,
    rule: Rule,
    spec: MilestoneTrigger,
    facts: EnterpriseFacts,
    trigger: MilestoneReached,
) -> Match:
    if trigger.track not in spec.tracks or trigger.action not in spec.actions:
        return None
    on, track = trigger.occurred_on, trigger.track
    occasion = Occasion(event_id=trigger.event_id, on=on, check_on=on, year=on.year, track=track)
    if track == "listing":
        if spec.first_time_only and facts.reached_before(trigger.action, on, trigger.event_id):
            return f"{trigger.action} was reached before: only the first time counts (首次)"
        return replace(occasion, subject=trigger.action)
    origin = on if trigger.action == "certified" else facts.chain_origin(track, on)
    if origin is not None and spec.certified_from is not None and origin < spec.certified_from:
        return f"{track} certified on {origin}, before {spec.certified_from}"
    if spec.certified_before is not None and (origin is None or origin >= spec.certified_before):
        return f"{track} certified on {origin}, not before {spec.certified_before}"
    if trigger.action == "review-passed" and spec.review != "any":
        earlier = facts.reviews_before(track, on)
        if spec.review == "first" and earlier:
            return f"not the first review of the {track} title certified on {origin}"
        if spec.review == "later" and not earlier:
            return f"the first review of the {track} title certified on {origin}"
    if spec.first_time_only and _first_time_ever(policy, rule):
        first = facts.first_certified_on(track)
        if first is not None and first < on:
            return f"not the first {track} certification: first certified on {first} (首次)"
    return replace(occasion, subject=track)


def _first_time_ever(policy: Policy, rule: Rule) -> bool:
    """首次 means first ever, unless the policy's `first-time` reading says within the policy."""
    if "first-time" not in rule.readings:
        return True
    return policy.reading("first-time") == "ever"


def _title_held(spec: TitleHeldTrigger, facts: EnterpriseFacts, trigger: MilestoneReached) -> Match:
    """YB-8: any title period overlapping the window; keyed on the first such period."""
    if trigger.track not in spec.tracks or trigger.action not in QUALIFICATION_ACTIONS:
        return None
    period = facts.title_period(trigger.event_id)
    if period is None or not period.overlaps(spec.window_from, spec.window_until):
        return None
    first = min(
        (
            p
            for p in facts.titles
            if p.track in spec.tracks and p.overlaps(spec.window_from, spec.window_until)
        ),
        key=lambda p: (p.start, p.event_id),
    )
    on = max(first.start, spec.window_from)
    return Occasion(event_id=first.event_id, on=on, check_on=on, subject="window", track=first.track)


def _report(spec: ReportTrigger, facts: EnterpriseFacts, trigger: ReportFiled) -> Match:
    if trigger.kind not in spec.kinds:
        return None
    report = facts.report(trigger.event_id)
    if report is None:
        raise ValueError(f"facts lack the report recorded by event {trigger.event_id}")
    if isinstance(report, MeasureRecord):
        return _measure(spec, report)
    if spec.requires_rd_expense and not (
        isinstance(report, FinancialReport) and report.rd_expense is not None and report.rd_expense > 0
    ):
        return f"the {trigger.year} financials report declares no R&D expense (none, or 0)"
    if isinstance(report, PatentGrant):
        day = report.granted_on
        return Occasion(trigger.event_id, day, day, day.year, subject=report.patent, report=report)
    if isinstance(report, DemonstrationSelection):
        day = report.selected_on
        return Occasion(trigger.event_id, day, day, report.year, report=report)
    check_on = min(trigger.occurred_on, date(report.year, 12, 31))
    subject = report.person if isinstance(report, TalentReport) else None
    return Occasion(
        event_id=trigger.event_id,
        on=trigger.occurred_on,
        check_on=check_on,
        year=report.year,
        year_based=True,
        subject=subject,
        report=report,
        slot=report.slot,
    )


def _measure(spec: ReportTrigger, record: MeasureRecord) -> Match:
    """A retrofit, designation, incubation, project or standard; `subjects` narrows which."""
    if spec.subjects and record.subject not in spec.subjects:
        return None
    check_on = min(record.on, date(record.year, 12, 31)) if record.year_based else record.on
    return Occasion(
        event_id=record.event_id,
        on=record.on,
        check_on=check_on,
        year=record.year,
        year_based=record.year_based,
        subject=record.subject or record.kind,
        report=record,
    )


def in_reach(policy: Policy, occasion: Occasion) -> bool:
    """Reports about a year are in reach when the year overlaps it; anything else by its date."""
    if occasion.year_based and occasion.year is not None:
        return policy.reaches_year(occasion.year)
    return policy.reaches(occasion.on)
