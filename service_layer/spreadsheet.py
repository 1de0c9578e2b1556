"""Reading an import file's rows: CSV (UTF-8) or XLSX (the first sheet, or one named), one shape.

Districts receive their lists as spreadsheets. An XLSX file is read with openpyxl in read-only
mode, row by row (a large list is streamed, never loaded whole into a workbook tree); cells are
turned into the text a CSV would hold: a date cell is `YYYY-MM-DD`, a whole number has no `.0`, a
decimal keeps its digits (Excel's binary float printed shortest, so 1200000.5 stays 1200000.5).
Headers may be the column keys or their Chinese names (统一社会信用代码, 企业名称, 区县, 部门,
规模, 行业 …), in any order; refusals name the row (`row N` for a sheet, `line N` for CSV).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from domain.errors import InvalidInput, shown
from domain.reference import normalise

COLUMNS = (
    "uscc",
    "name",
    "district",
    "department",
    "size",
    "industry",
    "milestone",
    "on",
    "ref",
    "override_reason",
    "report",
    "year",
    "kind",
    "investment",
    "project",
    "field",
    "standard",
    "level",
    "role",
    "institute",
    "person",
    "unit",
    "number",
)
"""Every column an import file may have (docs/cli.md, `import`)."""
EXAMPLE_HEADER = ",".join(COLUMNS[:9])

HEADERS_ZH: dict[str, tuple[str, ...]] = {
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "统一代码"),
    "name": ("企业名称", "名称", "单位名称"),
    "district": ("区县", "所属区县", "区", "所在区县", "地区"),
    "department": ("部门", "责任部门", "主管部门", "责任单位"),
    "size": ("规模", "企业规模"),
    "industry": ("行业", "所属行业", "产业", "产业领域"),
    "milestone": ("里程碑", "事项", "认定事项", "称号"),
    "on": ("日期", "认定日期", "时间", "发生日期"),
    "ref": ("文号", "文件号", "批准文号"),
    "override_reason": ("例外理由", "越级理由"),
    "report": ("报告类型", "申报事项", "报告"),
    "year": ("年度", "年份"),
    "kind": ("类型", "类别", "改造类型", "专利类型"),
    "investment": ("投资额", "投资金额", "项目投资"),
    "project": ("项目名称", "项目"),
    "field": ("领域", "所属领域"),
    "standard": ("标准名称", "标准"),
    "level": ("标准级别", "级别"),
    "role": ("角色", "参与方式"),
    "institute": ("孵化机构", "研究院"),
    "person": ("服务专员", "人员", "姓名"),
    "unit": ("专员单位", "所属单位"),
    "number": ("专利号", "专利编号"),
}
_HEADER_INDEX = {normalise(name): key for key, names in HEADERS_ZH.items() for name in (key, *names)} | {
    normalise(key.replace("_", " ")): key for key in COLUMNS
}


@dataclass
class Row:
    """One data row: where it is in the file (for messages) and its values by column key."""

    line: int
    values: dict[str, str]
    where: str = "line"

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()

    @property
    def label(self) -> str:
        """`line 7` (CSV) or `row 7` (a sheet)."""
        return f"{self.where} {self.line}"


def is_xlsx(data: bytes) -> bool:
    """An XLSX file is a ZIP archive holding `xl/workbook.xml`."""
    if not data.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def header_keys(names: Sequence[str], where: str) -> list[str]:
    """Map a header row (keys or Chinese names) to column keys; refuse unknown or repeated ones.

    ``where`` names the header's place in messages (`line 1`, `row 3`).
    """
    if not any(_HEADER_INDEX.get(normalise(name)) == "uscc" for name in names if name.strip()):
        raise InvalidInput(
            f"{where}: missing header; the first {where.split()[0]} must name the columns, "
            f"e.g. {EXAMPLE_HEADER} (or 统一社会信用代码,企业名称,区县 …)"
        )
    keys: list[str] = []
    for name in names:
        key = _HEADER_INDEX.get(normalise(name)) if name.strip() else ""
        if key is None:
            raise InvalidInput(
                f"{where}: unknown column {shown(name.strip())}; the columns are uscc, name, district, "
                "department, size, industry, milestone, on, ref, report … (docs/cli.md) or their Chinese "
                "names (统一社会信用代码, 企业名称, 区县 …)"
            )
        if key and key in keys:
            raise InvalidInput(f"{where}: column {shown(name.strip())} appears twice")
        keys.append(key)
    return keys


def read_xlsx(data: bytes, sheet: str | None = None) -> list[Row]:
    """The rows of the first sheet (or ``sheet``), streamed in read-only mode; same checks as CSV."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise InvalidInput(
            f"the file is not a readable .xlsx workbook ({type(error).__name__}); save it again"
        ) from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise InvalidInput(
                f"--sheet {shown(sheet)}: no such sheet; the workbook has {', '.join(book.sheetnames)}"
            )
        return list(_sheet_rows(worksheet.iter_rows(values_only=True)))
    finally:
        book.close()


def _sheet_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[Row]:
    """Rows after the header (the first row that is not empty), blank rows skipped."""
    header: list[str] | None = None
    for number, cells in enumerate(rows, start=1):
        values = [_cell(c) for c in cells]
        if not any(v.strip() for v in values):
            continue
        if header is None:
            header = header_keys(values, f"row {number}")
            continue
        if any(v.strip() for v in values[len(header) :]):
            raise InvalidInput(f"row {number}: a value beyond the {len(header)} columns the header names")
        yield Row(number, {k: v for k, v in zip(header, values, strict=False) if k}, "row")
    if header is None:
        raise InvalidInput(f"the sheet is empty; its first row must be the header, e.g. {EXAMPLE_HEADER}")


def _cell(value: object) -> str:
    """A cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() != time(0, 0):
            return value.isoformat(sep=" ")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        exact = Decimal(repr(value))
        return str(int(exact)) if exact == exact.to_integral_value() else format(exact, "f")
    return str(value)
