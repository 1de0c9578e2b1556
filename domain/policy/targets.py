"""Targets a policy document sets (市级专精特新 180 by 2025…) and Qianjiang's annex tables.

Targets belong to the document that states them, so they live in the policy data next to the
rules. Every measure the documents name as a countable thing is counted from events: titles,
listings, pools (培育库, 储备库), designations (数字化车间, 智能工厂, 绿色工厂, 标杆企业), invention
patents, SRDI parks and internship bases, a sector's SRDI share. `counts` says what is counted when
the measure's own name is not a track (`seed-enterprises` counts `cultivation-pool` admissions);
`holding` keeps only enterprises holding one of those titles on the day counted; a target that
truly cannot be counted (a qualitative aim) says why in `reason`. Qianjiang's annexes split the
new 科技型 and 高新 enterprises per responsible department and year; the table is validated
against its own totals row (合计) and the cumulative totals it prints, so a mistyped cell is
refused on load.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Comparison = Literal["at-least", "more-than"]
"""达到 / 不少于 / 及以上 → at-least; 突破 / 超过 → more-than."""

Basis = Literal["total", "new-in-period", "new-each-year", "new-in-year", "share-percent"]
"""What is counted: the stock at the end of `year`; new ones from `from_year` to `year`; at
least `value` new ones in each year from `from_year` to `year`; new ones in `year` alone; or a
percentage share."""


class Target(BaseModel):
    """One target row: a measure, a year, a number and how the number is compared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    measure: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    label_zh: str
    year: int = Field(ge=2000, le=2100)
    from_year: int | None = None
    value: int = Field(ge=0)
    comparison: Comparison = "at-least"
    basis: Basis = "total"
    countable: bool = True
    reason: str | None = None
    counts: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")
    holding: tuple[str, ...] = ()
    industry: str | None = None
    department: str | None = None
    responsible_units: tuple[str, ...] = ()
    article: str
    source_zh: str = Field(min_length=1)

    @property
    def counted(self) -> str:
        """What is counted: `counts` when given, else the measure itself."""
        return self.counts or self.measure

    @model_validator(mode="after")
    def _period_ordered(self) -> Target:
        if not self.countable and not self.reason:
            raise ValueError(f"target {self.measure}: a target that cannot be counted says why (reason)")
        if self.basis == "share-percent" and self.industry is None:
            raise ValueError(f"target {self.measure}: a share-percent target names its industry")
        if self.from_year is not None and self.from_year > self.year:
            raise ValueError(f"target {self.measure}: from_year after year")
        if self.basis in ("new-in-period", "new-each-year") and self.from_year is None:
            raise ValueError(f"target {self.measure}: basis {self.basis} needs from_year")
        return self


class TargetTableRow(BaseModel):
    """One department's new enterprises per year of the table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    department: str
    new: tuple[int, ...]


class TargetTable(BaseModel):
    """An annex table: baseline, new per department per year, totals and cumulative totals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    measure: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    label_zh: str
    annex: str
    source_zh: str = Field(min_length=1)
    baseline_year: int
    baseline: int = Field(ge=0)
    years: tuple[int, ...] = Field(min_length=1)
    new_totals: tuple[int, ...]
    cumulative: tuple[int, ...]
    rows: tuple[TargetTableRow, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _adds_up(self) -> TargetTable:
        """Each row has a cell per year, columns add to 合计, and totals accumulate."""
        n = len(self.years)
        if len(self.new_totals) != n or len(self.cumulative) != n:
            raise ValueError(f"table {self.measure}: new_totals and cumulative need {n} values")
        for row in self.rows:
            if len(row.new) != n:
                raise ValueError(f"table {self.measure}: {row.department} needs {n} values")
        running = self.baseline
        for i, year in enumerate(self.years):
            column = sum(row.new[i] for row in self.rows)
            if column != self.new_totals[i]:
                raise ValueError(
                    f"table {self.measure}: {year} departments add to {column}, not {self.new_totals[i]}"
                )
            running += column
            if running != self.cumulative[i]:
                raise ValueError(
                    f"table {self.measure}: {year} cumulative is {running}, not {self.cumulative[i]}"
                )
        return self

    def targets(self) -> tuple[Target, ...]:
        """The table as target rows: per department and year, then the cumulative totals."""
        per_department = [
            self._target(year, row.new[i], "new-in-year", row.department)
            for row in self.rows
            for i, year in enumerate(self.years)
        ]
        totals = [self._target(year, self.cumulative[i], "total") for i, year in enumerate(self.years)]
        return (*per_department, *totals)

    def _target(self, year: int, value: int, basis: Basis, department: str | None = None) -> Target:
        """One row of the table as a target of the annex."""
        return Target(
            measure=self.measure,
            label_zh=self.label_zh,
            year=year,
            value=value,
            basis=basis,
            department=department,
            article=self.annex,
            source_zh=self.source_zh,
        )
