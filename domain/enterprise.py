"""The enterprise aggregate: one ``enterprise-<USCC>`` stream folded into what the enterprise is.

Registration, titles (one `TitleState` per qualification track, from the shared pure fold in
``domain.titles`` so the status projection can never disagree), the listing stage, reported
figures, retractions and the entitlements the policy engine recorded in the same stream.

Folding is two passes, because a retraction can come long after what it retracts: first collect
the retracted event ids, then apply every other event in stream order as if the retracted ones
never happened. Machines are driven with ``system=True`` and no callbacks fire: history is facts
already accepted, so an impossible step means a corrupt stream and raises.

The fold reads the stored JSON (``RecordedEvent.data``) directly instead of validating a pydantic
model per event: the demo and the import fold streams thousands of times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from domain.details import Details, DetailsHistory, change_of
from domain.memberships import MembershipState
from domain.records import (
    Demonstration,
    EntitlementRecord,
    Financials,
    Lease,
    MeasureFact,
    Milestone,
    Patent,
    RdSubsidy,
    Talent,
    money_or_none,
)
from domain.reference import MEMBERSHIP_KINDS, track_kind, tracks
from domain.titles import ListingState, TitleState
from events.envelope import RecordedEvent

__all__ = [
    "Demonstration",
    "Enterprise",
    "EntitlementRecord",
    "Financials",
    "Lease",
    "Milestone",
    "Patent",
    "RdSubsidy",
    "Talent",
]

RETRACTION = "EventRetracted"
MEASURE_TYPES: dict[str, str] = {
    "RetrofitReported": "retrofit",
    "IncubationRecorded": "incubation",
    "InnovationProjectRecorded": "innovation-project",
    "StandardRecorded": "standard",
    "SpecialistAssigned": "specialist",
}
"""Event types folded into `Enterprise.measures`, and the kind of `MeasureFact` each records."""
REGISTRATION = "EnterpriseRegistered"
DETAILS_CHANGE = "EnterpriseDetailsChanged"
ENTITLEMENT_TYPES = frozenset(
    {
        "EntitlementCreated",
        "EntitlementResolved",
        "EntitlementAdjusted",
        "EntitlementApproved",
        "EntitlementPaid",
        "EntitlementReversed",
    }
)
RETRACTABLE_TYPES = frozenset(
    {
        "MilestoneRecorded",
        "EnterpriseDetailsChanged",
        "FinancialsReported",
        "LeaseReported",
        "TalentContributionReported",
        "RdSubsidyReported",
        "PatentGranted",
        "DemonstrationSelected",
        *MEASURE_TYPES,
    }
)
"""Facts staff record and may correct; registrations, retractions and entitlements are not."""


class HoldsDetails(Protocol):
    """What keeps an enterprise's dated details: the aggregate here, the projections' fold."""

    details: DetailsHistory
    name: str | None
    district: str | None
    department: str | None
    size: str | None
    industry: str | None


def set_details(holder: HoldsDetails, history: DetailsHistory) -> None:
    """Keep the dated details; ``name`` … ``industry`` become the latest (what ``status`` shows).

    A registration alone (most enterprises, and every one as a replay meets it) states them all:
    its fields are read as they are, without a `Details` made for them (a replay meets each).
    """
    holder.details = history
    changes = history.changes
    if len(changes) == 1:
        stated = dict(changes[0].fields).get
        holder.name, holder.district = stated("name"), stated("district")
        holder.department, holder.size = stated("department"), stated("size")
        holder.industry = stated("industry")
        return
    now = history.current
    holder.name, holder.district = now.name, now.district
    holder.department, holder.size = now.department, now.size
    holder.industry = now.industry


def take_details(holder: HoldsDetails, event_id: str, on: date, data: dict[str, Any]) -> None:
    """A registration's or a details change's fields, dated ``on``, taken into ``holder``."""
    set_details(holder, holder.details.with_change(change_of(event_id, on, data)))


@dataclass
class Enterprise:
    """The state of one enterprise. Treat as immutable: build it with `load` or `evolve`."""

    uscc: str = ""
    name: str | None = None
    district: str | None = None
    department: str | None = None
    size: str | None = None
    industry: str | None = None
    registered_on: date | None = None
    registration_event_id: str | None = None
    details: DetailsHistory = field(default_factory=DetailsHistory)
    titles: dict[str, TitleState] = field(default_factory=dict)
    memberships: dict[str, MembershipState] = field(default_factory=dict)
    listing: ListingState = field(default_factory=ListingState)
    milestones: list[Milestone] = field(default_factory=list)
    financials: dict[int, Financials] = field(default_factory=dict)
    leases: list[Lease] = field(default_factory=list)
    talents: list[Talent] = field(default_factory=list)
    rd_subsidies: list[RdSubsidy] = field(default_factory=list)
    patents: list[Patent] = field(default_factory=list)
    demonstrations: list[Demonstration] = field(default_factory=list)
    measures: list[MeasureFact] = field(default_factory=list)
    entitlements: dict[str, EntitlementRecord] = field(default_factory=dict)
    retracted: frozenset[str] = frozenset()
    retractions: dict[str, RecordedEvent] = field(default_factory=dict, compare=False)
    effective: list[RecordedEvent] = field(default_factory=list, compare=False)
    stream: list[RecordedEvent] = field(default_factory=list, compare=False, repr=False)
    version: int = field(default=0, compare=False)

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        events: Sequence[RecordedEvent],
        *,
        as_of: date | None = None,
        recorded_before: datetime | None = None,
    ) -> Enterprise:
        """Fold a stream (oldest first).

        ``as_of`` keeps facts dated on or before it; retractions always apply (a correction is the
        truth about the past) and the registration always counts (it is identity, not a dated
        fact); a details change dated after ``as_of`` is left out like any later fact, so
        ``name`` … ``size`` are the details stated by then (``details_on`` answers for any day
        from what is folded). ``recorded_before`` keeps only what the log knew then: events and
        retractions recorded strictly before it. ``version`` is the stream's length as read,
        whatever the filters, so a handler can append with it as the expected version.
        """
        known = [e for e in events if recorded_before is None or e.recorded_at < recorded_before]
        retractions = {e.data["retracted_event_id"]: e for e in known if e.event_type == RETRACTION}
        ent = cls(uscc=_uscc_of(events), retracted=frozenset(retractions), retractions=retractions)
        ent.stream = list(events)
        ent.version = events[-1].stream_version if events else 0
        for event in known:
            if event.event_type == RETRACTION or event.event_id in ent.retracted:
                continue
            if as_of is not None and event.occurred_on > as_of and event.event_type != REGISTRATION:
                continue
            ent._apply(event)
        return ent

    def evolve(self, new: Iterable[RecordedEvent]) -> Enterprise:
        """The state after ``new`` events; incremental unless one of them is a retraction."""
        added = list(new)
        if any(e.event_type == RETRACTION for e in added):
            return Enterprise.load([*self.stream, *added])
        ent = self._clone()
        for event in added:
            ent._apply(event)
            ent.stream.append(event)
            ent.version = event.stream_version
        return ent

    def _clone(self) -> Enterprise:
        copy = Enterprise(**{name: getattr(self, name) for name in self.__dataclass_fields__})
        for name in ("titles", "memberships", "financials", "retractions"):
            setattr(copy, name, dict(getattr(self, name)))
        for name in (
            "milestones",
            "leases",
            "talents",
            "rd_subsidies",
            "patents",
            "demonstrations",
            "measures",
        ):
            setattr(copy, name, list(getattr(self, name)))
        copy.effective = list(self.effective)
        copy.stream = list(self.stream)
        copy.entitlements = {key: r.copy() for key, r in self.entitlements.items()}
        return copy

    def _apply(self, event: RecordedEvent) -> None:
        data, on, eid, kind = event.data, event.occurred_on, event.event_id, event.event_type
        self.effective.append(event)
        if kind == REGISTRATION:
            self.uscc = data["uscc"]
            self.registered_on, self.registration_event_id = on, eid
            take_details(self, eid, on, data)
        elif kind == DETAILS_CHANGE:
            take_details(self, eid, on, data)
        elif kind == "MilestoneRecorded":
            track, action = data["track"], data["action"]
            kind_of_track = track_kind(track)
            if kind_of_track == "listing":
                self.listing = self.listing.advance(action, on, system=True)
            elif kind_of_track in MEMBERSHIP_KINDS:
                self.memberships[track] = self.memberships.get(track, MembershipState(track)).advance(
                    action, on, system=True
                )
            else:
                self.titles[track] = self.titles.get(track, TitleState(track)).advance(
                    action, on, system=True
                )
            self.milestones.append(
                Milestone(eid, track, action, on, data.get("ref"), data.get("override_reason"))
            )
        elif kind == "FinancialsReported":
            revenue = Decimal(data["revenue"])
            self.financials[data["year"]] = Financials(
                eid, on, data["year"], revenue, money_or_none(data.get("rd_expense"))
            )
        elif kind == "LeaseReported":
            self.leases.append(
                Lease(
                    eid,
                    on,
                    data["year"],
                    Decimal(data["area_m2"]),
                    Decimal(data["rent_per_m2_month"]),
                    data["months"],
                    data["owner"],
                )
            )
        elif kind == "TalentContributionReported":
            self.talents.append(Talent(eid, on, data["person"], data["year"], Decimal(data["contribution"])))
        elif kind == "RdSubsidyReported":
            self.rd_subsidies.append(RdSubsidy(eid, on, data["year"], Decimal(data["amount"])))
        elif kind == "PatentGranted":
            self.patents.append(Patent(eid, on, data["number"], data.get("kind", "invention")))
        elif kind == "DemonstrationSelected":
            self.demonstrations.append(Demonstration(eid, on, data["year"]))
        elif kind in MEASURE_TYPES:
            self.measures.append(_measure(event))
        elif kind in ENTITLEMENT_TYPES:
            key = data["entitlement_id"]
            self.entitlements.setdefault(key, EntitlementRecord(key)).apply(event)

    # -- questions ------------------------------------------------------------------------------
    @property
    def registered(self) -> bool:
        return self.registration_event_id is not None

    def details_on(self, day: date | None) -> Details:
        """The name, district, department and size in force on ``day`` (the latest for ``None``)."""
        return self.details.on(day)

    def holds_valid(self, track: str, on: date) -> bool:
        """Does the enterprise hold a valid title of ``track`` on ``on``?"""
        title = self.titles.get(track)
        return title is not None and title.holds_valid(on)

    def latest_milestone(self, track: str) -> Milestone | None:
        """The effective milestone of ``track`` recorded last (the one dates are checked against)."""
        return next((m for m in reversed(self.milestones) if m.track == track), None)

    def find(self, event_id: str) -> RecordedEvent | None:
        """The event with this id in the stream as read (retracted or not)."""
        return next((e for e in self.stream if e.event_id == event_id), None)

    def measures_json(self) -> dict[str, Any]:
        """The `srdi measures --json` document: industry, pools, designations (docs/cli.md)."""
        return {
            "uscc": self.uscc,
            "name": self.name,
            "district": self.district,
            "industry": self.industry,
            "pools": self.memberships_json("pool"),
            "designations": self.memberships_json("designation"),
            "specialist": _specialist_json(self.specialist),
            "records": [_measure_json(m) for m in self.measures if m.kind != "specialist"],
        }

    @property
    def specialist(self) -> MeasureFact | None:
        """The service specialist assigned last (一企一策一人), if any."""
        return next((m for m in reversed(self.measures) if m.kind == "specialist"), None)

    def memberships_json(self, kind: str) -> dict[str, dict[str, str | None]]:
        """Pools or designations ever recorded, in tracks.toml order (`srdi measures`)."""
        return {
            t: self.memberships[t].as_json()
            for t, spec in tracks().items()
            if spec.kind == kind and t in self.memberships
        }


def _measure(event: RecordedEvent) -> MeasureFact:
    """The `MeasureFact` one measure event records (stored JSON read directly)."""
    data, kind = event.data, MEASURE_TYPES[event.event_type]
    subject = {"retrofit": "kind", "innovation-project": "field", "standard": "level"}.get(kind)
    name = {
        "retrofit": "project",
        "incubation": "institute",
        "innovation-project": "project",
        "standard": "standard",
        "specialist": "person",
    }[kind]
    return MeasureFact(
        event.event_id,
        event.occurred_on,
        kind,
        data.get(subject) if subject else None,
        data.get(name),
        data.get("year"),
        money_or_none(data.get("investment")),
        data.get("unit") or data.get("role"),
    )


def _measure_json(m: MeasureFact) -> dict[str, Any]:
    return {
        "event_id": m.event_id,
        "kind": m.kind,
        "on": m.on.isoformat(),
        "subject": m.subject,
        "name": m.name,
        "year": m.year,
        "amount": None if m.amount is None else str(m.amount),
        "detail": m.detail,
    }


def _specialist_json(m: MeasureFact | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"person": m.name, "unit": m.detail, "since": m.on.isoformat(), "event_id": m.event_id}


def _uscc_of(events: Sequence[RecordedEvent]) -> str:
    if not events:
        return ""
    return events[0].stream_id.removeprefix("enterprise-")
