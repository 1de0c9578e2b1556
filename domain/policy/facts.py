"""What the policy engine knows about one enterprise, and the one place it is built from the aggregate.

`EnterpriseFacts` is small frozen records with query methods. The engine never reads events, the
store or the clock: every date it uses comes from here or from the trigger, which is what makes its
decisions replayable. Every record carries the id of the event it comes from, so an entitlement can
name its trigger and the engine can find a pending entitlement's trigger again.

Conventions: dates are `datetime.date`; money is `Decimal` yuan; `None` means "not reported"
(which the engine turns into `pending-data`, never into a no). Records are in event order; when a
year is reported twice, the later report wins.

`build_facts` translates the enterprise aggregate (which knows nothing of policies) into facts, so
the live reactor, a policy activation and `simulate` all see an enterprise the same way:

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

Existing entitlements are read from the entitlement records folded in the same stream
(`existing_entitlements`). An entitlement decided `not-eligible` counts as reversed (it no longer
limits anything), and one approved below its ceiling counts with the approved amount (what YB-3's
yearly cap really used).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias, cast, get_args

from domain.details import DetailsHistory
from domain.enterprise import Enterprise, EntitlementRecord
from domain.policy.decisions import ExistingEntitlement
from domain.policy.model import STAGES, TRACKS, Owner, ReportKind, Size, Stage, Status, TitleStart, Track
from domain.reference import track_kind
from events.envelope import RecordedEvent

# ══ the facts ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TitlePeriod:
    """One period during which a qualification title was held.

    A certification starts a period; a passed review (复核) starts the next one. The title is
    valid from `start` through `valid_until` inclusive, unless it ended early on `ended_on`
    (revoked, review failed): then it is valid only on days before `ended_on`.
    """

    track: Track
    start: date
    valid_until: date
    started_by: TitleStart
    event_id: str
    ended_on: date | None = None

    def valid_on(self, on: date) -> bool:
        """Is the title of this period valid on `on`?"""
        if self.ended_on is not None and on >= self.ended_on:
            return False
        return self.start <= on <= self.valid_until

    def overlaps(self, first: date, last: date) -> bool:
        """Is the title valid on some day of [first, last]?"""
        end = self.valid_until
        if self.ended_on is not None:
            end = min(end, date.fromordinal(self.ended_on.toordinal() - 1))
        return self.start <= last and end >= first and self.start <= end


@dataclass(frozen=True)
class ListingMilestone:
    """A listing stage reached (`neeq-listed`…) on `on`; a 北交所 listing is `neeq-select`."""

    stage: Stage
    on: date
    event_id: str


@dataclass(frozen=True, kw_only=True)
class YearReport:
    """Figures reported about a `year`, by the event `event_id`, first reported on `reported_on`.

    `kind` is the report trigger the figures stand for; `slot` is the period they are about, which a
    later report of the same slot supersedes (``financials:2024``, ``talent:2024:P-1``).
    """

    kind: ClassVar[ReportKind]
    year: int
    event_id: str
    reported_on: date

    @property
    def slot(self) -> str:
        """The kind and period these figures are about."""
        return f"{self.kind}:{self.year}"


@dataclass(frozen=True)
class FinancialReport(YearReport):
    """Yearly figures: revenue (主营业务收入) and declared R&D expense, either may be absent."""

    kind: ClassVar[ReportKind] = "financials"
    revenue: Decimal | None
    rd_expense: Decimal | None


@dataclass(frozen=True)
class RdSubsidyGrant(YearReport):
    """A municipal R&D subsidy granted for `year` (市级研发补助), as reported."""

    kind: ClassVar[ReportKind] = "rd-subsidy"
    amount: Decimal


@dataclass(frozen=True)
class LeaseReport(YearReport):
    """Production space rented in `year`: area, monthly rent per ㎡, months, who owns it."""

    kind: ClassVar[ReportKind] = "lease"
    area_m2: Decimal
    rent_per_m2_month: Decimal
    months: int
    owner: Owner


@dataclass(frozen=True)
class TalentReport(YearReport):
    """A named talent's (`person`) contribution to the district for `year` (工资薪金综合贡献)."""

    kind: ClassVar[ReportKind] = "talent"
    person: str
    contribution: Decimal

    @property
    def slot(self) -> str:  # each person's contribution of a year is its own period
        return f"{super().slot}:{self.person}"


@dataclass(frozen=True)
class PatentGrant:
    """An invention patent (发明专利) granted to the enterprise."""

    patent: str
    granted_on: date
    event_id: str


@dataclass(frozen=True)
class DemonstrationSelection:
    """Chosen as a demonstration enterprise (示范企业) of `year` on `selected_on`."""

    year: int
    selected_on: date
    event_id: str


@dataclass(frozen=True)
class MeasureRecord:
    """A measure the documents support without an amount: a retrofit (`subject` smart / green /
    digital, `amount` its investment, about `year`), a designation certified (`subject` its track),
    an incubation, a major innovation project (`subject` its field), a standard (`subject` its level).
    """

    kind: ReportKind
    subject: str | None
    year: int
    on: date
    event_id: str
    amount: Decimal | None = None
    year_based: bool = False


@dataclass(frozen=True)
class EnterpriseFacts:
    """Everything the engine may ask about one enterprise.

    - `uscc`, `district` (a district key such as `yubei`), `size` (None: not recorded): the latest.
    - `details`: the dated details (`domain.details`); a rule reads `size_on` / `district_on` its
      trigger's date. Without it the latest `size` and `district` stand for every day.
    - `titles`: every title period of every qualification track, in event order.
    - `first_certified`: the first certification date per track when it predates the recorded
      history (an import); otherwise leave it empty, the periods say it.
    - `listings`: listing milestones reached, in order.
    - `financials`, `rd_subsidies`, `leases`, `talents`, `patents`, `demonstrations`: reports.
    """

    uscc: str
    district: str
    size: Size | None = None
    titles: tuple[TitlePeriod, ...] = ()
    first_certified: Mapping[Track, date] = field(default_factory=dict)
    listings: tuple[ListingMilestone, ...] = ()
    financials: tuple[FinancialReport, ...] = ()
    rd_subsidies: tuple[RdSubsidyGrant, ...] = ()
    leases: tuple[LeaseReport, ...] = ()
    talents: tuple[TalentReport, ...] = ()
    patents: tuple[PatentGrant, ...] = ()
    demonstrations: tuple[DemonstrationSelection, ...] = ()
    details: DetailsHistory | None = None

    # details

    def size_on(self, day: date) -> Size | None:
        """The size in force on `day` (None: never stated)."""
        if self.details is None:
            return self.size
        size = self.details.on(day).size
        return size if size in ("micro", "small", "medium") else None  # type: ignore[return-value]

    def district_on(self, day: date) -> str:
        """The district the enterprise belonged to on `day`."""
        if self.details is None:
            return self.district
        return self.details.on(day).district or self.district

    def districts(self) -> frozenset[str]:
        """Every district the enterprise ever belonged to (the policies that may govern it)."""
        if self.details is None:
            return frozenset({self.district})
        return frozenset({self.district, *(d for _, d in self.details.changes_of("district"))})

    measures: tuple[MeasureRecord, ...] = ()

    # titles

    def periods(self, track: Track) -> tuple[TitlePeriod, ...]:
        """The periods of one track, oldest first."""
        return tuple(sorted((p for p in self.titles if p.track == track), key=lambda p: p.start))

    def holds_valid(self, track: Track, on: date) -> bool:
        """Does the enterprise hold a valid title of `track` on `on`?"""
        return any(p.valid_on(on) for p in self.titles if p.track == track)

    def holds_any(self, tracks: tuple[Track, ...], on: date) -> tuple[Track, ...]:
        """Which of `tracks` are held valid on `on` (in the order given)."""
        return tuple(t for t in tracks if self.holds_valid(t, on))

    def first_certified_on(self, track: Track) -> date | None:
        """The enterprise's first certification of `track` ever, if known."""
        dates = [p.start for p in self.titles if p.track == track and p.started_by == "certified"]
        if track in self.first_certified:
            dates.append(self.first_certified[track])
        return min(dates, default=None)

    def chain_origin(self, track: Track, on: date) -> date | None:
        """The certification date of the title chain a period starting on `on` belongs to.

        A chain is a certification and the reviews passed after it; a re-certification (after a
        revocation or a lapse) starts a new chain. When no certification on or before `on` is
        recorded, `first_certified` stands for it, else the earliest recorded period's start.
        """
        certified = [p.start for p in self.periods(track) if p.started_by == "certified" and p.start <= on]
        if certified:
            return max(certified)
        if track in self.first_certified:
            return self.first_certified[track]
        starts = [p.start for p in self.periods(track) if p.start <= on]
        return min(starts, default=None)

    def reviews_before(self, track: Track, on: date) -> int:
        """How many reviews of the chain containing `on` were passed before `on`."""
        origin = self.chain_origin(track, on)
        if origin is None:
            return 0
        return sum(
            1 for p in self.periods(track) if p.started_by == "review-passed" and origin <= p.start < on
        )

    def title_period(self, event_id: str) -> TitlePeriod | None:
        """The period started by this event."""
        return next((p for p in self.titles if p.event_id == event_id), None)

    # listings

    def listing(self, event_id: str) -> ListingMilestone | None:
        """The listing milestone recorded by this event."""
        return next((m for m in self.listings if m.event_id == event_id), None)

    def reached_before(self, stage: Stage | str, on: date, event_id: str) -> bool:
        """Was `stage` reached before this milestone (earlier date, or earlier the same day)?"""
        order = {m.event_id: i for i, m in enumerate(self.listings)}
        mine = (on, order.get(event_id, len(self.listings)))
        return any(
            m.stage == stage and m.event_id != event_id and (m.on, i) < mine
            for i, m in enumerate(self.listings)
        )

    # reports

    def financial_report(self, year: int) -> FinancialReport | None:
        """The latest financials report for `year`."""
        reports = [r for r in self.financials if r.year == year]
        return reports[-1] if reports else None

    def revenue(self, year: int) -> Decimal | None:
        """Revenue (主营业务收入) of `year`, None if not reported."""
        report = self.financial_report(year)
        return None if report is None else report.revenue

    def rd_expense(self, year: int) -> Decimal | None:
        """Declared R&D expense of `year`, None if not reported."""
        report = self.financial_report(year)
        return None if report is None else report.rd_expense

    def rd_subsidy(self, year: int) -> Decimal | None:
        """Total municipal R&D subsidy reported for `year`, None if none."""
        grants = [g.amount for g in self.rd_subsidies if g.year == year]
        return sum(grants, Decimal(0)) if grants else None

    def report(self, event_id: str) -> Report | None:
        """Any report or record by the id of the event that recorded it."""
        everything: tuple[Report, ...] = (
            *self.financials,
            *self.rd_subsidies,
            *self.leases,
            *self.talents,
            *self.patents,
            *self.demonstrations,
            *self.measures,
        )
        return next((r for r in everything if r.event_id == event_id), None)


Report: TypeAlias = (
    FinancialReport
    | RdSubsidyGrant
    | LeaseReport
    | TalentReport
    | PatentGrant
    | DemonstrationSelection
    | MeasureRecord
)


# ══ building them from the aggregate ────────────────────────────────────────────────────────


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
                Decimal(str(d["revenue"])),
                None if d.get("rd_expense") is None else Decimal(str(d["rd_expense"])),
                year=int(d["year"]),
                event_id=e.event_id,
                reported_on=first_on,
            )
            for e, d, first_on in in_force(enterprise, "FinancialsReported")
        ),
        rd_subsidies=tuple(
            RdSubsidyGrant(
                Decimal(str(d["amount"])), year=int(d["year"]), event_id=e.event_id, reported_on=first_on
            )
            for e, d, first_on in in_force(enterprise, "RdSubsidyReported")
        ),
        leases=tuple(
            LeaseReport(
                Decimal(str(d["area_m2"])),
                Decimal(str(d["rent_per_m2_month"])),
                int(d["months"]),
                cast(Owner, d["owner"]),
                year=int(d["year"]),
                event_id=e.event_id,
                reported_on=first_on,
            )
            for e, d, first_on in in_force(enterprise, "LeaseReported")
        ),
        talents=tuple(
            TalentReport(
                str(d["person"]),
                Decimal(str(d["contribution"])),
                year=int(d["year"]),
                event_id=e.event_id,
                reported_on=first_on,
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
