"""A district policy document as validated data: its vocabularies, the parts of a money rule,
the rules, readings, caps and targets, and how a file is loaded.

Policies change by data, never by code (ARCHITECTURE.md): each seed document is a TOML file in
`domain/policies/`, loaded here into frozen pydantic models that refuse anything malformed with one
line naming the field and the reason (`load_policy`). Each rule carries its catalogue id, its
article, the structured trigger, conditions and amount or formula the engine evaluates, and the
Chinese sentence it comes from (`source_zh`, copied byte for byte from the seed so `explain` can
quote it). Wording the documents leave vague is a named *reading* with a default the district can
change; the engine reads it from here and `explain` shows which one it used.

The closed vocabularies (tracks, stages, statuses…) are `Literal` types so that pydantic refuses a
typo in a policy file (`srdi-municipel`) with the list of valid values, and mypy refuses one in
code. The slugs are the ones of the CLI contract and of `domain/data/tracks.toml`; they are
repeated here, not imported, so that a policy file is validated before anything else is running.

A rule's parts (trigger, conditions, amount formula) are small frozen models with a discriminator
(`on`, `type`, `name`), so a policy file names what it means (`on = "milestone"`, `type =
"revenue-growth"`) and a typo is refused with the list of valid choices. The engine gives each kind
its meaning (`occasions`, `conditions`, `amounts`).

Money is `Decimal` yuan: files are parsed with `parse_float=Decimal`, so a TOML float never passes
through binary floating point.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.errors import InvalidInput, shown
from domain.inputs import MAX_AMOUNT
from domain.policy.targets import Target, TargetTable

# ══ vocabularies ────────────────────────────────────────────────────────────────────────────


Track = Literal["tech-sme", "innovative-sme", "hnte", "srdi-municipal", "little-giant", "champion", "listing"]
"""A qualification track, or `listing` (the capital-market ladder)."""

TitleStart = Literal["certified", "review-passed"]
"""How a title period began: a (re-)certification, or a passed review (复核) extending it."""

StageReached = Literal[
    "otc-listed",
    "neeq-filed",
    "neeq-listed",
    "neeq-select",
    "ipo-tutoring",
    "ipo-accepted",
    "ipo-listed",
]
"""A listing stage reached, in the catalogue's order."""

Stage = Literal[StageReached, "ipo-withdrawn"]
"""A listing milestone (`ipo-withdrawn` is a regression)."""

Action = Literal[TitleStart, StageReached]
"""A milestone action a money rule can be triggered by."""

Size = Literal["micro", "small", "medium"]

ReportKind = Literal[
    "financials",
    "lease",
    "talent",
    "rd-subsidy",
    "patent-granted",
    "demonstration-selected",
    "retrofit",
    "designation",
    "incubation",
    "innovation-project",
    "standard",
]
"""What a report trigger says was reported (the CLI's `report` kinds, plus record kinds:
`designation` is the certification of a 数字化车间 / 智能工厂 / 绿色工厂 / benchmark designation)."""

Owner = Literal["state", "private"]
"""Who owns rented space: a state-owned platform (国有厂房) or private idle space (社会闲置)."""

RuleKind = Literal["award", "subsidy", "rent-subsidy", "tax-relief", "matching"]

Status = Literal[
    "accrued",
    "awaiting-approval",
    "pending-data",
    "approved",
    "partly-paid",
    "paid",
    "recovery-due",
    "reversed",
]
"""Entitlement statuses of the ledger contract (docs/cli.md). A status outside it reads as reversed
where the engine counts what exists (`facts.existing_of`): a partly paid entitlement still
counts towards caps and once-only limits."""

InitialStatus = Literal["accrued", "awaiting-approval", "pending-data"]
"""The statuses the engine creates an entitlement with."""

STAGES: tuple[Stage, ...] = get_args(Stage)
TRACKS: tuple[Track, ...] = get_args(Track)


# ══ the parts of a rule ─────────────────────────────────────────────────────────────────────


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


# ══ the document ────────────────────────────────────────────────────────────────────────────


_RULE_ID = r"^[A-Z]{2}-\d+[a-z]?$"
_KEY = r"^[a-z][a-z0-9-]*$"
_PAGE_BREAK = re.compile(r"\s*\n\s*")
_ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters no text of a policy file may hold (line breaks and tabs are kept)."""


# ── rules, readings, caps, notes ────────────────────────────────────────────────────────────


class Rule(Frozen):
    """One money rule of the catalogue (`YB-5a`), with the sentence it comes from.

    The amount is exactly one of: `amount` (fixed yuan), `amount_by_track` (fixed, by the track
    of the milestone), `formula`, or none of them ("amount not stated"). `ceiling` marks 最高 /
    不超过: the entitlement waits for an approval that sets an amount no higher than it.
    `once_per` limits repeats per enterprise: `subject` (the track, stage, patent or person) or
    `subject-year`; `once_with` names rules sharing that limit (a base award paid under either).
    `yields_to` names rules that take a trigger first (a first review is YB-5e's, not YB-5c's).
    """

    id: str = Field(pattern=_RULE_ID, max_length=20)
    article: str = Field(min_length=1, max_length=20, pattern=_ONE_LINE)
    kind: RuleKind
    summary: str = Field(min_length=1)
    trigger: TriggerSpec
    amount: Money | None = None
    amount_by_track: dict[Track, Money] | None = None
    formula: Formula | None = None
    ceiling: bool = False
    caps: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    once_per: Literal["event", "subject", "subject-year"] = "event"
    once_with: tuple[str, ...] = ()
    yields_to: tuple[str, ...] = ()
    responsible_units: tuple[str, ...] = Field(min_length=1)
    readings: tuple[str, ...] = ()
    decided: tuple[str, ...] = Field(
        default=(), description="what the software decided where the text is open, and why"
    )
    source_zh: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_amount(self) -> Rule:
        given = [n for n in ("amount", "amount_by_track", "formula") if getattr(self, n)]
        if len(given) > 1:
            raise ValueError(f"rule {self.id}: give at most one of {', '.join(given)}")
        return self

    @property
    def amount_stated(self) -> bool:
        """False for "amount not stated" rules (entitled, amount decided later)."""
        return bool(self.amount is not None or self.amount_by_track or self.formula)

    def reading_names(self) -> tuple[str, ...]:
        """Every reading the rule uses: its own list and those its conditions and formula name."""
        return tuple(dict.fromkeys([*self.readings, *_nested_readings(self)]))

    @property
    def quote(self) -> str:
        """`source_zh` without the seed's line and page breaks, for display."""
        return _PAGE_BREAK.sub("", self.source_zh)


class Reading(Frozen):
    """A named reading of vague wording: the value the engine uses and the alternatives."""

    name: str = Field(pattern=_KEY)
    default: str
    options: tuple[str, ...] = Field(min_length=1)
    wording_zh: str
    about: str

    @model_validator(mode="after")
    def _default_is_an_option(self) -> Reading:
        if self.default not in self.options:
            raise ValueError(f"reading {self.name}: default {self.default!r} not in options")
        return self


class Cap(Frozen):
    """A total across several rules per enterprise (YB-7 新三板 stages: 3,000,000)."""

    id: str = Field(pattern=_KEY)
    total: Money
    label: str
    reading: str | None = None
    wording_zh: str | None = None  # the document's sentence that sets the total, quoted by `explain`


class Note(Frozen):
    """Something the data says about the document that is not a rule (北交所, inconsistencies)."""

    key: str = Field(pattern=_KEY)
    text: str


# ── the document ────────────────────────────────────────────────────────────────────────────


class Policy(Frozen):
    """One policy document with everything the engine, `explain` and `targets` need."""

    key: str = Field(pattern=r"^[a-z]+-\d{4}$", max_length=50)
    data_version: int = Field(default=1, ge=1)
    title_zh: str
    title: str
    document_number: str | None = None
    issuer_zh: str
    issued_on: date
    issued_text: str = Field(description="the date as the document prints it")
    published_on: date | None = None
    in_force_from: date
    in_force_until: date | None = None
    reaches_back_to: date | None = None
    covers: tuple[int, int]
    districts: tuple[Annotated[str, Field(pattern=_KEY, max_length=50)], ...] = Field(min_length=1)
    repeals: tuple[str, ...] = ()
    seed_file: str
    readings: tuple[Reading, ...] = ()
    caps: tuple[Cap, ...] = ()
    rules: tuple[Rule, ...] = ()
    targets: tuple[Target, ...] = ()
    target_tables: tuple[TargetTable, ...] = ()
    notes: tuple[Note, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        """Cross-references: ids unique, and every reading, cap and rule named exists."""
        if self.in_force_until is not None and self.in_force_until < self.in_force_from:
            raise ValueError("in_force_until is before in_force_from")
        if self.reaches_back_to is not None and self.reaches_back_to > self.in_force_from:
            raise ValueError("reaches_back_to is after in_force_from")
        for what, keys in (
            ("rule id", [r.id for r in self.rules]),
            ("reading", [r.name for r in self.readings]),
            ("cap", [c.id for c in self.caps]),
        ):
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"duplicate {what}: {', '.join(dupes)}")
        readings = {r.name for r in self.readings}
        caps = {c.id for c in self.caps}
        rule_ids = {r.id for r in self.rules}
        for rule in self.rules:
            for name in rule.reading_names():
                if name not in readings:
                    raise ValueError(f"rule {rule.id}: unknown reading {name!r}")
            for cap in rule.caps:
                if cap not in caps:
                    raise ValueError(f"rule {rule.id}: unknown cap {cap!r}")
            for other in (*rule.once_with, *rule.yields_to):
                if other not in rule_ids:
                    raise ValueError(f"rule {rule.id}: unknown rule {other!r}")
        for cap_ in self.caps:
            if cap_.reading is not None and cap_.reading not in readings:
                raise ValueError(f"cap {cap_.id}: unknown reading {cap_.reading!r}")
        return self

    # queries the engine uses

    def rule(self, rule_id: str) -> Rule:
        """The rule with this catalogue id (KeyError if the document has none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def reading(self, name: str) -> str:
        """The value of a named reading (its default: a district changes it in the data)."""
        for reading in self.readings:
            if reading.name == name:
                return reading.default
        raise KeyError(name)

    def cap(self, cap_id: str) -> Cap:
        """The cap with this id."""
        for cap in self.caps:
            if cap.id == cap_id:
                return cap
        raise KeyError(cap_id)

    def rules_in_cap(self, cap_id: str) -> tuple[str, ...]:
        """Ids of the rules sharing a cap."""
        return tuple(r.id for r in self.rules if cap_id in r.caps)

    @property
    def reach_from(self) -> date:
        """The earliest trigger date the document reaches (its reach-back date, or in-force)."""
        return self.reaches_back_to or self.in_force_from

    def reaches(self, on: date) -> bool:
        """Is a trigger on `on` inside the document's reach?"""
        if on < self.reach_from:
            return False
        return self.in_force_until is None or on <= self.in_force_until

    def reaches_year(self, year: int) -> bool:
        """Does the reach overlap calendar year `year` (for reports about a year)?"""
        if date(year, 12, 31) < self.reach_from:
            return False
        return self.in_force_until is None or date(year, 1, 1) <= self.in_force_until

    def all_targets(self) -> tuple[Target, ...]:
        """Main-text targets, then annex rows; an annex total yields to a main-text one."""
        stated = {(t.measure, t.year, t.basis, t.department) for t in self.targets}
        extra = [
            t
            for table in self.target_tables
            for t in table.targets()
            if (t.measure, t.year, t.basis, t.department) not in stated
        ]
        return (*self.targets, *extra)


def _nested_readings(rule: Rule) -> list[str]:
    """Readings named inside a rule's conditions and formula."""
    names = [c.reading for c in rule.conditions if isinstance(c, RevenueGrowthCondition)]
    names += [c.reading for c in rule.conditions if isinstance(c, RdExpenseCondition)]
    if isinstance(rule.formula, RentAreaMonths):
        names.append(rule.formula.threshold_reading)
    if isinstance(rule.formula, RdStockIncrement):
        names.append(rule.formula.reading)
    return [n for n in names if n is not None]


# ── loading ─────────────────────────────────────────────────────────────────────────────────


def load_policy(path: Path | str, data: bytes | None = None) -> Policy:
    """Validate a policy TOML file (its bytes, read by the caller through the file-safety door
    `service_layer.files.read_input`, or read here); refuse it with one line naming field and reason."""
    path = Path(path)
    try:
        raw = path.read_bytes() if data is None else data
        text = raw.decode("utf-8")
    except OSError as exc:
        raise InvalidInput(f"policy file {path.name}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"policy file {path.name}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None
    return parse_policy(text, path.name)


def parse_policy(text: str, name: str) -> Policy:
    """Validate policy TOML text; `name` is used in the error line (`policy file NAME: …`)."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"policy file {name}: not valid TOML: {exc}") from exc
    _refuse_control_characters(data, name, "")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"policy file {name}: {describe_error(exc)}") from exc


def _refuse_control_characters(value: object, name: str, where: str) -> None:
    """A NUL or an escape sequence in any text of the file: refused (PostgreSQL cannot store a NUL;
    a terminal or a spreadsheet would act on the others)."""
    if isinstance(value, str):
        found = _NOT_TEXT.search(value)
        if found:
            raise InvalidInput(
                f"policy file {name}: {where or 'document'}: holds the control character "
                f"{found.group()!r}; remove it"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_control_characters(key, name, where)
            _refuse_control_characters(item, name, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_control_characters(item, name, f"{where}[{i}]")


def describe_error(exc: ValidationError) -> str:
    """`rules[3].amount: Input should be a valid decimal` (+ how many more errors there are)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ""
    for part in first["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'document'}: {message}{more}"


def builtin_keys() -> tuple[str, ...]:
    """Keys of the policy files shipped in `domain/policies/`, sorted."""
    folder = resources.files("domain").joinpath("policies")
    return tuple(sorted(f.name.removesuffix(".toml") for f in folder.iterdir() if f.name.endswith(".toml")))


@cache
def load_builtin(key: str) -> Policy:
    """Load a shipped policy by key (`yubei-2024`); refuse an unknown key naming the known ones."""
    if key not in builtin_keys():
        raise InvalidInput(f"unknown policy {key!r}: choose one of {', '.join(builtin_keys())}")
    resource = resources.files("domain").joinpath("policies", f"{key}.toml")
    return parse_policy(resource.read_text(encoding="utf-8"), f"{key}.toml")
