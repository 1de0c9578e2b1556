"""What the policy engine knows about one enterprise: small frozen records with query methods.

The aggregate builds an `EnterpriseFacts` from the enterprise's event history (retracted events
left out) and hands it to the engine together with what just happened. The engine never reads
events, the store or the clock: every date it uses comes from here or from the trigger, which is
what makes its decisions replayable. Every record carries the id of the event it comes from, so
an entitlement can name its trigger and the engine can find a pending entitlement's trigger again.

Conventions: dates are `datetime.date`; money is `Decimal` yuan; `None` means "not reported"
(which the engine turns into `pending-data`, never into a no). Records are in event order; when a
year is reported twice, the later report wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeAlias

from domain.details import DetailsHistory
from domain.policy.vocab import Owner, ReportKind, Size, Stage, TitleStart, Track


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


@dataclass(frozen=True)
class FinancialReport:
    """Yearly figures: revenue (主营业务收入) and declared R&D expense, either may be absent."""

    year: int
    revenue: Decimal | None
    rd_expense: Decimal | None
    event_id: str
    reported_on: date


@dataclass(frozen=True)
class RdSubsidyGrant:
    """A municipal R&D subsidy granted for `year` (市级研发补助), as reported."""

    year: int
    amount: Decimal
    event_id: str
    reported_on: date


@dataclass(frozen=True)
class LeaseReport:
    """Production space rented in `year`: area, monthly rent per ㎡, months, who owns it."""

    year: int
    area_m2: Decimal
    rent_per_m2_month: Decimal
    months: int
    owner: Owner
    event_id: str
    reported_on: date


@dataclass(frozen=True)
class TalentReport:
    """A named talent's (`person`) contribution to the district for `year` (工资薪金综合贡献)."""

    person: str
    year: int
    contribution: Decimal
    event_id: str
    reported_on: date


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
