"""The parts a money rule is built from: its trigger, its conditions and its amount formula.

Each is a small frozen pydantic model with a discriminator (`on`, `type`, `name`), so a policy
file names what it means (`on = "milestone"`, `type = "revenue-growth"`) and a typo is refused
with the list of valid choices. The engine gives each kind its meaning (`occasions`,
`conditions`, `amounts`); `model.Rule` puts them together.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from domain.errors import shown
from domain.inputs import MAX_AMOUNT
from domain.policy.vocab import Action, Owner, ReportKind, Size, Track


def _unsigned_zero(value: Decimal) -> Decimal:
    """``-0`` (``amount = -0.0`` in a file) is zero: no sign is kept on nothing."""
    return value.copy_abs() if value.is_zero() else value


def _to_the_fen(value: Decimal) -> Decimal:
    """Refuse an amount below the fen (``1.001``): no payment could ever settle it exactly.

    Trailing zeros are not decimal places: ``1.000`` is one yuan.
    """
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: allow_inf_nan=False ran first
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if exponent + trailing_zeros < -2 and any(digits):
        raise ValueError(
            f"{shown(value, quote=False)} has more than 2 decimal places; "
            "amounts in yuan are exact to the fen (0.01)"
        )
    return _unsigned_zero(value)


Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False), AfterValidator(_to_the_fen)]
"""Yuan, 0 or more, exact to the fen."""
Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False), AfterValidator(_unsigned_zero)]


class Frozen(BaseModel):
    """Immutable, and refuses unknown fields (a misspelt key in a policy file is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# ── triggers: what must happen for a rule to be considered ──────────────────────────────────


class MilestoneTrigger(Frozen):
    """A qualification or listing milestone (`srdi-municipal` `certified`, `listing` `ipo-listed`).

    `certified_from` / `certified_before` bound the date of the *original* certification of the
    title chain the milestone belongs to (a review-passed period inherits it); `review` picks the
    first review of that chain or the later ones; `first_time_only` means first ever (首次): the
    enterprise never had this certification or listing stage before, whatever the district.
    """

    on: Literal["milestone"]
    tracks: tuple[Track, ...] = Field(min_length=1)
    actions: tuple[Action, ...] = Field(min_length=1)
    first_time_only: bool = False
    certified_from: date | None = None
    certified_before: date | None = None
    review: Literal["any", "first", "later"] = "any"


class ReportTrigger(Frozen):
    """A report was filed (financials, lease, talent, R&D subsidy, patent, demonstration)."""

    on: Literal["report"]
    report: ReportKind
    also: tuple[ReportKind, ...] = Field(
        default=(), description="further report kinds that trigger the same rule (RC-28: designations too)"
    )
    subjects: tuple[str, ...] = Field(
        default=(), description="only records about these subjects (retrofit kinds, designation tracks)"
    )
    requires_rd_expense: bool = Field(
        default=False, description="only a financials report that declares an R&D expense"
    )

    @property
    def kinds(self) -> tuple[ReportKind, ...]:
        """Every report kind that triggers the rule."""
        return (self.report, *self.also)


class TitleHeldTrigger(Frozen):
    """A title of `tracks` held on some day of a window (YB-8): one entitlement per enterprise."""

    on: Literal["title-held"]
    tracks: tuple[Track, ...] = Field(min_length=1)
    window_from: date
    window_until: date

    @model_validator(mode="after")
    def _window_ordered(self) -> TitleHeldTrigger:
        if self.window_until < self.window_from:
            raise ValueError("window_until is before window_from")
        return self


TriggerSpec = Annotated[MilestoneTrigger | ReportTrigger | TitleHeldTrigger, Field(discriminator="on")]


# ── conditions: what must be true of the enterprise ─────────────────────────────────────────


class HoldsCondition(Frozen):
    """Holds a valid title of any of `tracks` on the trigger date (reports: see engine docs)."""

    type: Literal["holds"]
    tracks: tuple[Track, ...] = Field(min_length=1)


class SizeCondition(Frozen):
    """The enterprise's size is one of `sizes` (unknown size is pending-data, never a no)."""

    type: Literal["size"]
    sizes: tuple[Size, ...] = Field(min_length=1)


class RevenueGrowthCondition(Frozen):
    """Revenue (主营业务收入) growth strictly above `more_than_percent`.

    `average-last-2-years`: the two complete years before the trigger year, averaged by the
    reading named in `reading` (`arithmetic` or `compound`); `previous-year`: growth of year Y-1
    over Y-2 for a report of year Y (or a milestone in year Y).
    """

    type: Literal["revenue-growth"]
    span: Literal["average-last-2-years", "previous-year"]
    more_than_percent: Percent
    reading: str | None = None


class RdExpenseCondition(Frozen):
    """Declared R&D expense of the report's year (or the year the reading names) vs thresholds."""

    type: Literal["rd-expense"]
    at_least: Money | None = None
    below: Money | None = None
    reading: str | None = Field(default=None, description="a reading with values same-year / previous-year")

    @model_validator(mode="after")
    def _one_bound(self) -> RdExpenseCondition:
        if (self.at_least is None) == (self.below is None):
            raise ValueError("give exactly one of at_least, below")
        return self


Condition = Annotated[
    HoldsCondition | SizeCondition | RevenueGrowthCondition | RdExpenseCondition,
    Field(discriminator="type"),
]


# ── formulas: how an amount is computed from reported figures ───────────────────────────────


class RentAreaMonths(Frozen):
    """YB-3: rate × area × months, at most `yearly_cap` per enterprise per year, rent above a floor.

    Private idle space (社会闲置) follows the same standard but is reviewed by the district
    economy commission, so its entitlement is a ceiling awaiting approval (`private_reviewed`).
    """

    name: Literal["rent_area_months"]
    rate_per_m2_month: Money
    yearly_cap: Money
    rent_above: Money
    owners: tuple[Owner, ...] = ("state", "private")
    private_reviewed: bool = True
    threshold_reading: str | None = None


class RdStockIncrement(Frozen):
    """RC-29b: `stock_percent` of the R&D stock plus `increment_percent` of its increment."""

    name: Literal["rd_stock_increment"]
    stock_percent: Percent
    increment_percent: Percent
    reading: str | None = None


class MatchSubsidy(Frozen):
    """RC-29a: `percent` of the municipal R&D subsidy reported for the year (区级配套)."""

    name: Literal["match_subsidy"]
    percent: Percent


class TalentContribution(Frozen):
    """LJ-21: `percent` of a named talent's reported contribution, for `years` from the first.

    `slots_by_track` is the number of named talents (名额) per enterprise by the title it holds
    (the 分档 tiers are not stated: every tier defaults to `max_talents`).
    """

    name: Literal["talent_contribution"]
    percent: Percent
    years: int = Field(ge=1)
    max_talents: int = Field(ge=1)
    slots_by_track: dict[Track, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _slots_within_max(self) -> TalentContribution:
        for track, slots in self.slots_by_track.items():
            if not 0 <= slots <= self.max_talents:
                raise ValueError(f"slots_by_track.{track}: must be 0..{self.max_talents}")
        return self


Formula = Annotated[
    RentAreaMonths | RdStockIncrement | MatchSubsidy | TalentContribution,
    Field(discriminator="name"),
]
