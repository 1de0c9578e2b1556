"""Small builders for policy-engine tests: facts, triggers, and applying decisions.

Event ids are derived from what they describe so tests can name them; dates are explicit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.policy.decisions import (
    CreateEntitlement,
    Decision,
    ExistingEntitlement,
    MilestoneReached,
    ReportFiled,
    ResolvePending,
)
from domain.policy.engine import report_filed
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
from domain.policy.model import Owner, Policy, ReportKind, Size, Stage, TitleStart, Track

USCC = "91500112MA5UABCD1X"


def title(
    track: Track,
    start: date,
    *,
    by: TitleStart = "certified",
    years: int = 3,
    ended_on: date | None = None,
    event: str | None = None,
) -> TitlePeriod:
    """A title period valid `years` from `start` (through the day before the anniversary)."""
    until = date(start.year + years, start.month, start.day) - timedelta(days=1)
    return TitlePeriod(track, start, until, by, event or f"{track}:{by}:{start}", ended_on)


def listing(stage: Stage, on: date, event: str | None = None) -> ListingMilestone:
    """A listing milestone."""
    return ListingMilestone(stage, on, event or f"listing:{stage}:{on}")


def fin(
    year: int,
    revenue: int | str | None,
    rd: int | str | None = None,
    *,
    on: date | None = None,
    event: str | None = None,
) -> FinancialReport:
    """A financials report for `year`, recorded on 31 March of the next year unless told."""
    return FinancialReport(
        None if revenue is None else Decimal(revenue),
        None if rd is None else Decimal(rd),
        year=year,
        event_id=event or f"fin:{year}:{revenue}:{rd}",
        reported_on=on or date(year + 1, 3, 31),
    )


def lease(
    year: int,
    area: int | str,
    rent: int | str,
    months: int = 12,
    owner: Owner = "state",
    *,
    on: date | None = None,
    event: str | None = None,
) -> LeaseReport:
    """A lease report for `year`, recorded on 30 June of that year unless told."""
    return LeaseReport(
        Decimal(area),
        Decimal(rent),
        months,
        owner,
        year=year,
        event_id=event or f"lease:{year}:{area}:{rent}:{owner}",
        reported_on=on or date(year, 6, 30),
    )


def talent(person: str, year: int, contribution: int | str, on: date | None = None) -> TalentReport:
    """A named talent's contribution for `year`, recorded on 31 March of the next year."""
    return TalentReport(
        person,
        Decimal(contribution),
        year=year,
        event_id=f"talent:{person}:{year}",
        reported_on=on or date(year + 1, 3, 31),
    )


def rd_subsidy(year: int, amount: int | str, on: date | None = None) -> RdSubsidyGrant:
    """A municipal R&D subsidy granted for `year`."""
    return RdSubsidyGrant(
        Decimal(amount), year=year, event_id=f"rdsub:{year}:{amount}", reported_on=on or date(year, 10, 1)
    )


def patent(number: str, granted_on: date) -> PatentGrant:
    """An invention patent grant."""
    return PatentGrant(number, granted_on, f"patent:{number}")


def demonstration(year: int, on: date) -> DemonstrationSelection:
    """A demonstration-enterprise selection."""
    return DemonstrationSelection(year, on, f"demo:{year}")


def measure(
    kind: ReportKind,
    on: date,
    subject: str | None = None,
    *,
    year: int | None = None,
    amount: int | None = None,
) -> MeasureRecord:
    """A retrofit (about ``year``), designation, incubation, project or standard recorded on ``on``."""
    event = f"{kind}-{subject}-{on.isoformat()}"
    invested = None if amount is None else Decimal(amount)
    return MeasureRecord(kind, subject, year or on.year, on, event, invested, year is not None)


def facts(
    district: str,
    *,
    size: Size | None = "small",
    titles: Sequence[TitlePeriod] = (),
    listings: Sequence[ListingMilestone] = (),
    financials: Sequence[FinancialReport] = (),
    first_certified: dict[Track, date] | None = None,
) -> EnterpriseFacts:
    """An enterprise of `district` with the given history."""
    return EnterpriseFacts(
        uscc=USCC,
        district=district,
        size=size,
        titles=tuple(titles),
        first_certified=first_certified or {},
        listings=tuple(listings),
        financials=tuple(financials),
    )


RECORDS: dict[type, str] = {
    FinancialReport: "financials",
    LeaseReport: "leases",
    TalentReport: "talents",
    RdSubsidyGrant: "rd_subsidies",
    PatentGrant: "patents",
    DemonstrationSelection: "demonstrations",
    MeasureRecord: "measures",
    TitlePeriod: "titles",
    ListingMilestone: "listings",
}
"""The field of `EnterpriseFacts` each kind of record is kept in."""


def reviewed(
    district: str,
    track: Track,
    certified: date,
    *passed: date,
    revenues: dict[int, int],
    size: Size | None = "small",
) -> tuple[EnterpriseFacts, TitlePeriod]:
    """An enterprise of ``district`` whose ``track`` title, certified on ``certified``, passed its
    reviews on the ``passed`` days, with each year's revenue; and the last review's period (its trigger)."""
    reviews = [title(track, day, by="review-passed") for day in passed]
    history = facts(district, size=size, titles=[title(track, certified), *reviews])
    return add(history, *(fin(year, revenue) for year, revenue in revenues.items())), reviews[-1]


def add(
    base: EnterpriseFacts,
    *items: FinancialReport
    | LeaseReport
    | TalentReport
    | RdSubsidyGrant
    | PatentGrant
    | DemonstrationSelection
    | MeasureRecord
    | TitlePeriod
    | ListingMilestone,
) -> EnterpriseFacts:
    """The facts with more records appended (as the aggregate would after new events)."""
    result = base
    for item in items:
        field = RECORDS[type(item)]
        appended: dict[str, Any] = {field: (*getattr(result, field), item)}
        result = replace(result, **appended)
    return result


def reached(item: TitlePeriod | ListingMilestone) -> MilestoneReached:
    """The trigger for a title period's start or a listing milestone."""
    if isinstance(item, TitlePeriod):
        return MilestoneReached(item.track, item.started_by, item.start, item.event_id)
    return MilestoneReached("listing", item.stage, item.on, item.event_id)


def filed(
    report: FinancialReport
    | LeaseReport
    | TalentReport
    | RdSubsidyGrant
    | PatentGrant
    | DemonstrationSelection
    | MeasureRecord,
) -> ReportFiled:
    """The trigger for a recorded report."""
    return report_filed(report)


def apply(
    existing: Iterable[ExistingEntitlement], decisions: Iterable[Decision]
) -> list[ExistingEntitlement]:
    """The entitlements after the decisions (what the aggregate would persist)."""
    book = {e.id: e for e in existing}
    for d in decisions:
        if isinstance(d, CreateEntitlement):
            book[d.id] = d.as_existing()
        else:
            assert isinstance(d, ResolvePending)
            book[d.entitlement_id] = replace(book[d.entitlement_id], status=d.status, amount=d.amount)
    return list(book.values())


def created(decisions: Iterable[Decision], rule: str | None = None) -> list[CreateEntitlement]:
    """The create decisions (of one rule)."""
    return [d for d in decisions if isinstance(d, CreateEntitlement) and (rule is None or d.rule == rule)]


def only(decisions: Iterable[Decision], rule: str) -> CreateEntitlement:
    """The single entitlement `rule` created (fails if none or several)."""
    found = created(decisions, rule)
    assert len(found) == 1, f"{rule}: {len(found)} entitlements in {decisions}"
    return found[0]


def resolutions(decisions: Iterable[Decision]) -> list[ResolvePending]:
    """The resolve decisions."""
    return [d for d in decisions if isinstance(d, ResolvePending)]


def with_reading(policy: Policy, name: str, value: str) -> Policy:
    """The policy with one reading set to another of its options (validated again)."""
    readings = [r.model_copy(update={"default": value}) if r.name == name else r for r in policy.readings]
    return Policy.model_validate({**policy.model_dump(), "readings": [r.model_dump() for r in readings]})
