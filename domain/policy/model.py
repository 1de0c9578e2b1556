"""A district policy document as validated data: metadata, money rules, readings, caps, targets.

Policies change by data, never by code (ARCHITECTURE.md): each seed document is a TOML file in
`domain/policies/`, loaded here into frozen pydantic models that refuse anything malformed with one
line naming the field and the reason (`load_policy`). Each rule carries its catalogue id, its
article, the structured trigger, conditions and amount or formula the engine evaluates, and the
Chinese sentence it comes from (`source_zh`, copied byte for byte from the seed so `explain` can
quote it). Wording the documents leave vague is a named *reading* with a default the district can
change; the engine reads it from here and `explain` shows which one it used.

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
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from domain.errors import InvalidInput
from domain.policy.parts import (
    Condition,
    Formula,
    Frozen,
    HoldsCondition,
    MatchSubsidy,
    MilestoneTrigger,
    Money,
    RdExpenseCondition,
    RdStockIncrement,
    RentAreaMonths,
    ReportTrigger,
    RevenueGrowthCondition,
    SizeCondition,
    TalentContribution,
    TitleHeldTrigger,
    TriggerSpec,
)
from domain.policy.targets import Target, TargetTable
from domain.policy.vocab import RuleKind, Track

__all__ = [
    "Cap",
    "Condition",
    "Formula",
    "HoldsCondition",
    "MatchSubsidy",
    "MilestoneTrigger",
    "Note",
    "Policy",
    "RdExpenseCondition",
    "RdStockIncrement",
    "Reading",
    "RentAreaMonths",
    "ReportTrigger",
    "RevenueGrowthCondition",
    "Rule",
    "SizeCondition",
    "TalentContribution",
    "Target",
    "TargetTable",
    "TitleHeldTrigger",
    "TriggerSpec",
    "builtin_keys",
    "describe_error",
    "load_builtin",
    "load_policy",
    "parse_policy",
]
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
