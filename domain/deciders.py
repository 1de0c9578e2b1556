"""The decisions: given the enterprise as it stands and a validated command, which events to record.

Pure functions of (aggregate, command, today, actor): no store, no clock. Each refusal raises an
`InvalidInput` (or a subclass) with one line saying what was wrong and how to fix it; a refusal
decides nothing, so nothing is written. Checks run from the most basic to the most specific:
registered, date not in the future, date order within the track, the machine, the ladder.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain import ladder, machines
from domain.commands import (
    AssignSpecialist,
    ChangeEnterpriseDetails,
    Command,
    RecordDemonstration,
    RecordIncubation,
    RecordInnovationProject,
    RecordMilestone,
    RecordStandard,
    RegisterEnterprise,
    ReportCommand,
    ReportFinancials,
    ReportLease,
    ReportPatent,
    ReportRdSubsidy,
    ReportRetrofit,
    ReportTalent,
    Retract,
)
from domain.enterprise import (
    ENTITLEMENT_TYPES,
    REGISTRATION,
    RETRACTABLE_TYPES,
    RETRACTION,
    Enterprise,
)
from domain.errors import IllegalTransition, InvalidInput
from domain.inputs import business_date
from domain.memberships import MembershipState
from domain.reference import MEMBERSHIP_KINDS, track_kind
from domain.titles import RESTARTING_ACTIONS, ListingState, TitleState
from events.base import Event
from events.envelope import NewEvent, RecordedEvent
from events.schemas import (
    DemonstrationSelected,
    EnterpriseDetailsChanged,
    EnterpriseRegistered,
    EventRetracted,
    FinancialsReported,
    IncubationRecorded,
    InnovationProjectRecorded,
    LeaseReported,
    MilestoneRecorded,
    PatentGranted,
    RdSubsidyReported,
    RetrofitReported,
    SpecialistAssigned,
    StandardRecorded,
    TalentContributionReported,
)


def not_in_future(on: date, today: date, what: str) -> None:
    """Refuse a business date after today (Asia/Shanghai): facts are recorded once they happened;
    and one before 1990 (`inputs.business_date`), which is a typo."""
    business_date(on, what)
    if on > today:
        raise InvalidInput(
            f"{what} is dated {on.isoformat()}, after today ({today.isoformat()}); "
            "record it on or after the day it happens"
        )


def require_registered(enterprise: Enterprise, uscc: str) -> None:
    if not enterprise.registered:
        raise InvalidInput(
            f"no enterprise {uscc} is registered; add it first with: "
            f"srdi enterprise add {uscc} --name NAME --district KEY"
        )


def register(enterprise: Enterprise, cmd: RegisterEnterprise, today: date, actor: str) -> list[NewEvent]:
    if enterprise.registered:
        raise InvalidInput(
            f"enterprise {cmd.uscc} is already registered (as {enterprise.name}, {enterprise.district}); "
            "nothing to do"
        )
    on = cmd.on or today
    not_in_future(on, today, "the registration")
    return [NewEvent(recorded(cmd), on, actor)]


def change_details(
    enterprise: Enterprise, cmd: ChangeEnterpriseDetails, today: date, actor: str
) -> list[NewEvent]:
    """The given details that differ from those in force on ``cmd.on``; nothing new is refused."""
    require_registered(enterprise, cmd.uscc)
    not_in_future(cmd.on, today, "the change of details")
    registered_on = enterprise.registered_on
    if registered_on is not None and cmd.on < registered_on:
        raise InvalidInput(
            f"--on {cmd.on.isoformat()} is before the enterprise's registration "
            f"({registered_on.isoformat()}); a change takes effect on or after it"
        )
    before = enterprise.details_on(cmd.on)
    changed = before.changed_by(cmd.fields())
    if not changed:
        same = ", ".join(f"--{k} {v}" for k, v in cmd.fields().items() if v is not None)
        raise InvalidInput(
            f"nothing changes: {same} is already in force for {cmd.uscc} on {cmd.on.isoformat()}; "
            "nothing written"
        )
    event = EnterpriseDetailsChanged(uscc=cmd.uscc, **changed)
    return [NewEvent(event, cmd.on, actor)]


def record_milestone(
    enterprise: Enterprise, cmd: RecordMilestone, today: date, actor: str, *, system: bool = False
) -> list[NewEvent]:
    """A legal transition on the track, in date order, with the ladder's prerequisite met or overridden."""
    require_registered(enterprise, cmd.uscc)
    what = f"{cmd.track}.{cmd.action}"
    not_in_future(cmd.on, today, what)
    latest = enterprise.latest_milestone(cmd.track)
    if latest is not None and cmd.on < latest.on:
        raise InvalidInput(
            f"{what} on {cmd.on.isoformat()} is dated before the track's latest milestone "
            f"({latest.track}.{latest.action} on {latest.on.isoformat()}, event {latest.event_id}); "
            "milestones of a track are recorded in date order: retract the later one with "
            "'srdi retract EVENT_ID --reason TEXT' and record both again in order"
        )
    kind = track_kind(cmd.track)
    if kind == "listing":
        current = enterprise.listing.stage
    elif kind in MEMBERSHIP_KINDS:
        current = enterprise.memberships.get(cmd.track, MembershipState(cmd.track)).state
    else:  # a lapsed title may start again (applied, certified) before its expiry is recorded
        held = enterprise.titles.get(cmd.track, TitleState(cmd.track))
        current = held.state_on(cmd.on) if cmd.action in RESTARTING_ACTIONS else held.state
    machines.require_legal(kind, current, cmd.action, track=cmd.track, system=system)  # asks the Machine
    before: TitleState | ListingState
    if kind == "listing":
        before = enterprise.listing
        after_state = before.advance(cmd.action, cmd.on, system=system).stage
        from_state = before.stage
    elif kind in MEMBERSHIP_KINDS:
        member = enterprise.memberships.get(cmd.track, MembershipState(cmd.track))
        after_state = member.advance(cmd.action, cmd.on, system=system).state
        from_state = member.state
    else:
        title = enterprise.titles.get(cmd.track, TitleState(cmd.track))
        after_state = title.advance(cmd.action, cmd.on, system=system).state
        from_state = title.state_on(cmd.on)
    overridden = ladder.require_prerequisite(
        cmd.track,
        cmd.action,
        cmd.on,
        enterprise.holds_valid,
        override_reason=cmd.reason if cmd.override_prerequisite else None,
    )
    event = MilestoneRecorded(
        uscc=cmd.uscc,
        track=cmd.track,
        action=cmd.action,
        ref=cmd.ref,
        override_reason=cmd.reason if overridden else None,
        from_state=from_state,
        to_state=after_state,
    )
    return [NewEvent(event, cmd.on, actor)]


def report(enterprise: Enterprise, cmd: ReportCommand, today: date, actor: str) -> list[NewEvent]:
    """Figures the policy rules need; the business date is the day they were reported (or granted)."""
    require_registered(enterprise, cmd.uscc)
    on = cmd.on or today
    not_in_future(on, today, "the report")
    year = getattr(cmd, "year", None)
    if year is not None and year > on.year:
        raise InvalidInput(
            f"--year {year} has not begun on the report's date {on.isoformat()}; give a year up to {on.year}"
        )
    _year_ended(cmd, on)
    _not_recorded_yet(enterprise, cmd)
    return [NewEvent(recorded(cmd), on, actor)]


RECORDS: dict[type[Command], type[Event]] = {
    RegisterEnterprise: EnterpriseRegistered,
    ReportFinancials: FinancialsReported,
    ReportLease: LeaseReported,
    ReportTalent: TalentContributionReported,
    ReportRdSubsidy: RdSubsidyReported,
    ReportPatent: PatentGranted,
    RecordDemonstration: DemonstrationSelected,
    ReportRetrofit: RetrofitReported,
    RecordIncubation: IncubationRecorded,
    RecordInnovationProject: InnovationProjectRecorded,
    RecordStandard: StandardRecorded,
    AssignSpecialist: SpecialistAssigned,
}
"""The event a registration or a report records: it carries the command's fields by name, all but
`on`, which is the event's business date."""


def recorded(cmd: Command) -> Event:
    """The event `cmd` records (`RECORDS`), carrying the command's fields of the same names."""
    event_type = RECORDS[type(cmd)]
    return event_type(**{name: getattr(cmd, name) for name in event_type.model_fields})


def _not_recorded_yet(enterprise: Enterprise, cmd: ReportCommand) -> None:
    """Refuse a patent, a selection, an incubation, a project or a standard recorded before, and a
    specialist who already serves: recording it again would change nothing."""
    if isinstance(cmd, ReportPatent) and any(p.number == cmd.number for p in enterprise.patents):
        raise InvalidInput(f"patent {cmd.number} is already recorded for {cmd.uscc}; nothing to do")
    if isinstance(cmd, RecordDemonstration) and any(d.year == cmd.year for d in enterprise.demonstrations):
        raise InvalidInput(f"{cmd.uscc} is already a demonstration enterprise of {cmd.year}; nothing to do")
    if isinstance(cmd, RecordIncubation) and any(m.kind == "incubation" for m in enterprise.measures):
        raise InvalidInput(f"{cmd.uscc} is already recorded as incubated; nothing to do")
    if isinstance(cmd, RecordInnovationProject) and any(
        m.kind == "innovation-project" and m.name == cmd.project for m in enterprise.measures
    ):
        raise InvalidInput(f"project {cmd.project!r} is already recorded for {cmd.uscc}; nothing to do")
    if isinstance(cmd, RecordStandard) and any(
        m.kind == "standard" and m.name == cmd.standard for m in enterprise.measures
    ):
        raise InvalidInput(f"standard {cmd.standard!r} is already recorded for {cmd.uscc}; nothing to do")
    if isinstance(cmd, AssignSpecialist):
        current = enterprise.specialist
        if current is not None and (current.name, current.detail) == (cmd.person, cmd.unit):
            raise InvalidInput(f"{cmd.person} already serves {cmd.uscc}; nothing to do")


ANNUAL_FIGURES: dict[str, str] = {"ReportFinancials": "the year's revenue"}
"""Reports of a whole year's figure (by command name): known only once the year has ended.

A talent's contribution, a lease, a subsidy granted or a demonstration selection are known within
their year (LJ-21 pays a contribution as it is reported), so only the financials wait for the year.
"""


def _year_ended(cmd: ReportCommand, on: date) -> None:
    """An annual figure (the financials) needs its year ended."""
    what = ANNUAL_FIGURES.get(type(cmd).__name__)
    if what is not None and isinstance(cmd, ReportFinancials) and cmd.year >= on.year:
        raise InvalidInput(
            f"--year {cmd.year} has not ended on the report's date {on.isoformat()}: {what} is known "
            f"once the year is over; report it from {cmd.year + 1}-01-01 (--on), "
            f"or give a year up to {on.year - 1}"
        )


def retract(
    enterprise: Enterprise, target: RecordedEvent, cmd: Retract, today: date, actor: str
) -> list[NewEvent]:
    """Append a retraction, unless it is a repeat, a retraction, an identity or a policy decision.

    The enterprise folded without the target must still be a legal history: retracting a
    certification that a later review depends on is refused with a hint to retract newest first.
    """
    eid = target.event_id
    if target.event_type == RETRACTION:
        raise InvalidInput(
            f"event {eid} is itself a retraction and cannot be retracted; record the fact again instead"
        )
    earlier = enterprise.retractions.get(eid)
    if earlier is not None:
        raise InvalidInput(
            f"event {eid} was already retracted (by {earlier.event_id} on "
            f"{earlier.occurred_on.isoformat()}); nothing to do"
        )
    if target.event_type == REGISTRATION:
        raise InvalidInput(
            f"event {eid} registers the enterprise and cannot be retracted; "
            "retract its milestones and reports instead"
        )
    if target.event_type in ENTITLEMENT_TYPES or target.event_type not in RETRACTABLE_TYPES:
        raise InvalidInput(
            f"event {eid} is a {target.event_type}, which is decided by the policy engine, not retracted; "
            "retract the milestone or report that triggered it"
        )
    event = EventRetracted(
        uscc=enterprise.uscc, retracted_event_id=eid, retracted_type=target.event_type, reason=cmd.reason
    )
    on = cmd.on or today
    not_in_future(on, today, "the retraction")
    new = NewEvent(event, on, actor, causation_id=eid)
    try:
        Enterprise.load([*enterprise.stream, pending(new, target.stream_id, enterprise.version + 1)])
    except IllegalTransition:
        track = target.data.get("track")
        ids = [m.event_id for m in enterprise.milestones]
        start = ids.index(eid) + 1 if eid in ids else 0
        later = [m for m in enterprise.milestones[start:] if m.track == track]
        names = ", ".join(f"{m.action} on {m.on.isoformat()} ({m.event_id})" for m in later)
        raise InvalidInput(
            f"cannot retract {eid}: the later {track} milestones {names} depend on it; "
            "retract those first, newest first"
        ) from None
    return [new]


def pending(new: NewEvent, stream_id: str, version: int) -> RecordedEvent:
    """A decided, not yet stored event as the fold reads it (so the reactor sees the state after)."""
    return RecordedEvent(
        position=0,
        event_id=new.event_id,
        stream_id=stream_id,
        stream_version=version,
        event_type=new.event_type,
        schema_version=new.event.schema_version,
        occurred_on=new.occurred_on,
        recorded_at=datetime.now(UTC),
        actor=new.actor,
        causation_id=new.causation_id,
        correlation_id=new.correlation_id,
        data=new.event.payload(),
        hash="",
    )
