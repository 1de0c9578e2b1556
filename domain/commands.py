"""What staff (and the demo, the import and the scheduler) ask the system to do, validated at the door.

Each command is a frozen pydantic model with an imperative name. Everything that can be checked
without the enterprise's history is checked here, so the handlers only decide what depends on
state. Every refusal is one `InvalidInput` line naming the CLI option and saying how to fix it;
pydantic's own multi-line errors never reach staff.

Money is `Decimal` yuan, exact to the fen; a binary float is refused rather than rounded. The upper
bound of a year ("not after this year") depends on the clock, which is the handler's business.

The kinds of field the commands share (free text, short text, text that may be left blank, money,
a district, an industry) are annotated types below: each reads what staff typed with the parser of
`domain.inputs` under the field's own name, so a command declares its fields and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from domain.errors import InvalidInput
from domain.industries import parse_industry
from domain.inputs import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_AREA_M2,
    SIZES,
    money,
    option,
    single_line,
    text,
    utf8,
)
from domain.reference import parse_action, parse_district, parse_track, parse_track_action
from domain.uscc import validate_uscc

INSTITUTE = "重庆市高新技术产业研究院"
"""The research institute Rongchang art 29 names (the default of `report incubation`)."""
STANDARD_LEVELS = {
    "international": "international",
    "国际": "international",
    "国际标准": "international",
    "national": "national",
    "国家": "national",
    "国家标准": "national",
    "industry": "industry",
    "行业": "industry",
    "行业标准": "industry",
    "local": "local",
    "地方": "local",
    "地方标准": "local",
    "group": "group",
    "团体": "group",
    "团体标准": "group",
}
ROLES = {"lead": "lead", "主导": "lead", "牵头": "lead", "participant": "participant", "参与": "participant"}
"""A standard's role words (`record standard --role`)."""
OWNERS = {"state": "state", "private": "private", "国有": "state", "私有": "private", "民营": "private"}
"""Who owns leased space (`report lease --owner`)."""
RETROFITS = {
    "smart": "smart",
    "智能化": "smart",
    "green": "green",
    "绿色化": "green",
    "digital": "digital",
    "数字化": "digital",
}
"""The kinds of retrofit (`report retrofit --kind`)."""


_PARSED = object()
"""`_read`'s default for nothing typed: the parser reads it too (and refuses it)."""


def _read(parse: Callable[..., Any], *, blank: object = _PARSED, **options: Any) -> BeforeValidator:
    """A field that `parse(value, field name, **options)` reads; with `blank`, nothing typed (None
    or spaces) is `blank` instead."""

    def read(value: Any, info: ValidationInfo) -> Any:
        if blank is not _PARSED and (value is None or not str(value).strip()):
            return blank
        return parse(value, str(info.field_name), **options)

    return BeforeValidator(read)


def _given(parse: Callable[..., Any], **options: Any) -> BeforeValidator:
    """A field that may be None (not given); anything else `parse` reads."""

    def read(value: Any, info: ValidationInfo) -> Any:
        return None if value is None else parse(value, str(info.field_name), **options)

    return BeforeValidator(read)


Text = Annotated[str, _read(text)]
"""Free text: a name, a project, a standard."""
ShortText = Annotated[str, _read(text, max_length=64)]
"""A person, an id or a number: free text of at most 64 characters."""
BlankText = Annotated[str | None, _read(text, blank=None)]
"""Free text that may be left out or blank (a reference, a department, a unit)."""
Money = Annotated[Decimal, _read(money)]
"""Yuan, exact to the fen, 0 or more."""
PositiveMoney = Annotated[Decimal, _read(money, positive=True)]
"""Yuan, exact to the fen, more than 0."""
Industry = Annotated[str | None, _read(parse_industry)]
"""An industry key, from its key or Chinese name; nothing typed is None."""
Size = Literal["micro", "small", "medium"]


class Command(BaseModel):
    """Base: frozen, no unknown fields, and one-line refusals instead of pydantic's reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _one_line(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else cls.__name__
            if first["type"] == "missing":
                raise InvalidInput(f"{option(field)} is required") from None
            given = first.get("input")
            if first["type"].startswith("date"):
                raise InvalidInput(
                    f"{option(field)} {given!r} is not a date; write it as YYYY-MM-DD"
                ) from None
            raise InvalidInput(f"{option(field)} {given!r}: {first['msg'].lower()}") from None


class EnterpriseCommand(Command):
    """A command about one enterprise, named by its verified USCC, and the day it happened (``on``,
    today when not given; a change of details and a milestone must give it)."""

    uscc: str
    on: date | None = None

    @field_validator("uscc", mode="before")
    @classmethod
    def _uscc(cls, value: Any) -> str:
        return validate_uscc(str(value))


def whole_number(value: Any) -> int | None:
    """What staff typed as a whole number (``2024``, `` 12 ``), or None when it is not one."""
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class _Year(EnterpriseCommand):
    year: int

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> int:
        year = whole_number(value)
        if year is None:
            raise InvalidInput(f"--year {value!r} is not a year; write it as YYYY, e.g. 2024")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidInput(f"--year {year} is impossible; give a year from {FIRST_YEAR} to this year")
        return year


def choice(value: Any, table: dict[str, str], option: str, use: str) -> str:
    """The key of what staff typed (English or Chinese, any case), or one line naming `option`."""
    found = table.get(str(value).strip().lower())
    if found is None:
        raise InvalidInput(f"{option} {value!r} is unknown; use {use}")
    return found


def size_key(value: Any, _field: str = "size") -> str:
    """The size key (micro, small, medium) of what staff typed, English or Chinese."""
    return choice(value, SIZES, "--size", "micro, small or medium (微型, 小型, 中型)")


def _one_of(table: dict[str, str], use: str) -> BeforeValidator:
    """A field staff fill with a word of `table` (English or Chinese); anything else is refused
    naming the option and the words to `use`."""
    return _read(lambda value, field: choice(value, table, option(field), use))


Owner = Annotated[Literal["state", "private"], _one_of(OWNERS, "state or private")]
RetrofitKind = Annotated[
    Literal["smart", "green", "digital"],
    _one_of(RETROFITS, "smart, green or digital (智能化, 绿色化, 数字化)"),
]
StandardLevel = Annotated[
    Literal["international", "national", "industry", "local", "group"],
    _one_of(
        STANDARD_LEVELS, "international, national, industry, local or group (国际, 国家, 行业, 地方, 团体)"
    ),
]
StandardRole = Annotated[Literal["lead", "participant"], _one_of(ROLES, "lead or participant (主导, 参与)")]


def _district(value: Any, _field: str) -> str:
    return parse_district(str(value))


class RegisterEnterprise(EnterpriseCommand):
    """Add an enterprise to the register (its stream starts here). ``on`` defaults to today."""

    name: Text
    district: Annotated[str, _read(_district)]
    department: BlankText = None
    size: Annotated[Size | None, _read(size_key, blank=None)] = None
    industry: Industry = None


class ChangeEnterpriseDetails(EnterpriseCommand):
    """Change some details from ``on``: at least one of name, size, department, district, industry."""

    on: date
    name: Annotated[str | None, _given(text)] = None
    district: Annotated[str | None, _given(_district)] = None
    department: Annotated[str | None, _given(text)] = None
    size: Annotated[Size | None, _given(size_key)] = None
    industry: Industry = None

    @model_validator(mode="after")
    def _something(self) -> ChangeEnterpriseDetails:
        if all(v is None for v in self.fields().values()):
            raise InvalidInput(
                "give at least one detail to change: --name, --size, --department, --district or --industry"
            )
        return self

    def fields(self) -> dict[str, str | None]:
        """The details given, by name (``None``: not given)."""
        return {
            "name": self.name,
            "district": self.district,
            "department": self.department,
            "size": self.size,
            "industry": self.industry,
        }


class RecordMilestone(EnterpriseCommand):
    """Record ``track.action`` on ``on``; a missing ladder prerequisite needs an override and a reason."""

    track: str
    action: str
    on: date
    ref: BlankText = None
    override_prerequisite: bool = False
    reason: str | None = None

    @classmethod
    def parse(cls, uscc: str, milestone: str, on: date, **more: Any) -> RecordMilestone:
        """From `TRACK.ACTION` as staff type it (English or Chinese, e.g. 市级专精特新.认定)."""
        track, action = parse_track_action(milestone)
        return cls(uscc=uscc, track=track, action=action, on=on, **more)

    @field_validator("track", mode="before")
    @classmethod
    def _track(cls, value: Any) -> str:
        return parse_track(str(value))

    @model_validator(mode="after")
    def _action_and_override(self) -> RecordMilestone:
        action = parse_action(self.action, self.track)
        if action != self.action:
            object.__setattr__(self, "action", action)
        reason = " ".join(single_line(utf8(self.reason or "", "reason"), "reason").split())
        if self.override_prerequisite and not reason:
            raise InvalidInput(
                "--override-prerequisite needs --reason TEXT saying why; it is stored with the milestone"
            )
        if reason and not self.override_prerequisite:
            raise InvalidInput("--reason is only used with --override-prerequisite; add it or drop --reason")
        object.__setattr__(self, "reason", reason or None)
        return self


class ReportFinancials(_Year):
    """A year's revenue (主营业务收入) and R&D expense; a later report for the year supersedes."""

    revenue: Annotated[Decimal, _given(money)]
    rd_expense: Annotated[Decimal | None, _given(money)] = None


class ReportLease(_Year):
    """Space rented in a year (YB-3): area, monthly rent per m², months, state or private owner."""

    area_m2: Decimal
    rent_per_m2_month: PositiveMoney
    months: int
    owner: Owner

    @field_validator("area_m2", mode="before")
    @classmethod
    def _area(cls, value: Any) -> Decimal:
        area = money(value, "area_m2", positive=True)
        if area > MAX_AREA_M2:
            raise InvalidInput(f"--area {value} m² is impossible for one lease; give the area in m²")
        return area

    @field_validator("months", mode="before")
    @classmethod
    def _months(cls, value: Any) -> int:
        months = whole_number(value)
        if months is None or not 1 <= months <= 12:
            raise InvalidInput(f"--months {value!r}: give the months rented in the year, 1 to 12")
        return months


class ReportTalent(_Year):
    """A named talent's salary-tax contribution to the district in a year (LJ-21)."""

    person: ShortText
    contribution: Money


class ReportRdSubsidy(_Year):
    """A municipal R&D subsidy granted for a year (what RC-29a matches)."""

    amount: PositiveMoney


class ReportPatent(EnterpriseCommand):
    """A patent granted on ``on`` (LJ-13 rewards invention patents)."""

    number: ShortText
    kind: Literal["invention", "utility", "design"] = "invention"

    @field_validator("number", mode="after")
    @classmethod
    def _number(cls, value: str) -> str:
        return value.upper()


class RecordDemonstration(_Year):
    """Chosen as one of the district's demonstration enterprises of a year (JJ-27)."""


class ReportRetrofit(_Year):
    """A smart / green retrofit project or new digital model, with its investment (RC-28, JJ-28, YB-6)."""

    kind: RetrofitKind
    investment: Money
    project: BlankText = None


class RecordIncubation(EnterpriseCommand):
    """Incubated by a research institute (Rongchang art 29, first sentence)."""

    institute: Annotated[str, _read(text, blank=INSTITUTE)] = INSTITUTE


class RecordInnovationProject(EnterpriseCommand):
    """A major innovation project (重大创新攻关项目, 揭榜挂帅) in a named field (Yubei art 9)."""

    project: Text
    field: Industry = None


class RecordStandard(EnterpriseCommand):
    """A standard the enterprise led or took part in setting (Yubei art 18)."""

    standard: Text
    level: StandardLevel
    role: StandardRole = "participant"


class AssignSpecialist(EnterpriseCommand):
    """The service specialist (服务专员) who now serves the enterprise (一企一策一人)."""

    person: ShortText
    unit: BlankText = None


class Retract(Command):
    """Correct the record: state is computed as if the event never happened; nothing is deleted."""

    event_id: ShortText
    reason: Annotated[str, _read(text, max_length=500)]
    on: date | None = None


MeasureCommand = (
    ReportRetrofit | RecordIncubation | RecordInnovationProject | RecordStandard | AssignSpecialist
)
ReportCommand = (
    ReportFinancials
    | ReportLease
    | ReportTalent
    | ReportRdSubsidy
    | ReportPatent
    | RecordDemonstration
    | MeasureCommand
)
AnyCommand = RegisterEnterprise | ChangeEnterpriseDetails | RecordMilestone | ReportCommand | Retract
