"""`srdi import` of an XLSX workbook with Chinese headers and the measures' rows, on both backends."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from domain.uscc import make_uscc
from tests.cli import invoke

A, B = make_uscc("91500000MA0000001"), make_uscc("91500000MA0000002")
HEADER = [
    "统一社会信用代码",
    "企业名称",
    "区县",
    "部门",
    "规模",
    "行业",
    "里程碑",
    "日期",
    "文号",
    "报告类型",
    "年度",
    "类型",
    "投资额",
    "服务专员",
]


def _row(**cells: Any) -> list[Any]:
    registration = ["uscc", "name", "district", "department", "size", "industry"]
    keys = [*registration, "milestone", "on", "ref", "report", "year", "kind", "investment", "person"]
    return [cells.get(k) for k in keys]


def _workbook(path: Path, rows: list[list[Any]], *, sheet: str = "名单", first: str | None = None) -> Path:
    book = Workbook()
    if first is not None:
        book.active.title = first
        book.active.append(["说明"])
        data = book.create_sheet(sheet)
    else:
        data = book.active
        data.title = sheet
    data.append(HEADER)
    for row in rows:
        data.append(row)
    book.save(path)
    return path


ROWS = [
    _row(
        uscc=A,
        name="重庆甲科技有限公司",
        district="两江",
        size="小型",
        industry="汽车电子",
        on=date(2021, 1, 1),
    ),
    _row(uscc=A, milestone="创新型.认定", on=datetime(2022, 3, 1), ref="渝经信〔2022〕1号"),
    _row(uscc=A, milestone="培育库.入库", on=date(2023, 4, 1)),
    _row(uscc=A, milestone="数字化车间.认定", on=date(2023, 9, 1)),
    _row(uscc=A, report="技术改造", year=2023, kind="智能化", investment=1200000.5, on=date(2023, 10, 1)),
    _row(uscc=A, report="服务专员", person="张三", on=date(2023, 1, 5)),
    _row(uscc=B, name="重庆乙科技有限公司", district="liangjiang", industry="equipment"),
]


def _json(url: str, *args: str) -> Any:
    result = invoke(url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_xlsx_with_chinese_headers_imports_enterprises_milestones_and_measures(
    db_url: str, tmp_path: Path
) -> None:
    """Chinese headers, date and number cells: registrations, pool, designation, retrofit, specialist."""
    path = _workbook(tmp_path / "名单.xlsx", ROWS)
    summary = _json(db_url, "import", str(path))
    assert (summary["lines"], summary["registered"], summary["milestones"], summary["reports"]) == (
        7,
        2,
        3,
        2,
    )
    measures = _json(db_url, "measures", A)
    assert measures["industry"] == "auto-electronics"
    assert measures["pools"]["cultivation-pool"]["since"] == "2023-04-01"
    assert measures["designations"]["digital-workshop"]["state"] == "certified"
    (retrofit,) = measures["records"]
    assert (retrofit["subject"], retrofit["amount"], retrofit["year"]) == ("smart", "1200000.5", 2023)
    assert measures["specialist"]["person"] == "张三"
    history = _json(db_url, "history", A)["events"]
    assert history[1]["data"]["ref"] == "渝经信〔2022〕1号"
    rows = {r["measure"]: r for r in _json(db_url, "targets", "liangjiang")["rows"]}
    assert rows["digital-workshop"]["actual"] == 1


def test_the_same_workbook_twice_writes_nothing_the_second_time(db_url: str, tmp_path: Path) -> None:
    """Idempotent: the second import finds every line on record and writes no event."""
    path = _workbook(tmp_path / "list.xlsx", ROWS)
    first = _json(db_url, "import", str(path))
    again = _json(db_url, "import", str(path))
    assert first["events"] == 7 and (again["events"], again["skipped"]) == (0, 7)
    assert len(_json(db_url, "history", A)["events"]) == 6


def test_a_bad_row_is_named_and_nothing_is_written(db_url: str, tmp_path: Path) -> None:
    """Row 5 has an unknown retrofit kind: exit 2, `row 5` named, no enterprise registered."""
    rows = [*ROWS[:3], _row(uscc=A, report="retrofit", year=2023, kind="blue", investment=1)]
    result = invoke(db_url, "import", str(_workbook(tmp_path / "bad.xlsx", rows)))
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: row 5: --kind")
    assert invoke(db_url, "status", A, "--json").exit_code != 0


def test_sheet_option_picks_a_sheet_and_an_unknown_one_is_refused(db_url: str, tmp_path: Path) -> None:
    """--sheet NAME reads that sheet; without it the first sheet (here a note) is read and refused."""
    path = _workbook(tmp_path / "two.xlsx", ROWS[:1], sheet="名单", first="说明")
    first = invoke(db_url, "import", str(path))
    assert first.exit_code == 2 and "row 1" in first.stderr
    assert _json(db_url, "import", str(path), "--sheet", "名单")["registered"] == 1
    missing = invoke(db_url, "import", str(path), "--sheet", "nope")
    assert missing.exit_code == 2 and "名单" in missing.stderr


@pytest.mark.parametrize(
    "header", [["统一社会信用代码", "企业名称", "区县", "规模", "规模"], ["名称", "区县"]]
)
def test_header_errors_are_one_line(db_url: str, tmp_path: Path, header: list[str]) -> None:
    """A repeated column or no USCC column: exit 2 naming row 1."""
    book = Workbook()
    book.active.append(header)
    book.save(tmp_path / "h.xlsx")
    result = invoke(db_url, "import", str(tmp_path / "h.xlsx"))
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: row 1:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_csv_accepts_chinese_headers_and_report_rows(db_url: str, tmp_path: Path) -> None:
    """The CSV path takes the same Chinese headers and measure rows."""
    text = (
        "统一社会信用代码,企业名称,区县,行业,报告类型,年度,类型,投资额,日期\n"
        f"{A},重庆甲科技有限公司,渝北,汽车电子,,,,,2021-01-01\n"
        f"{A},,,,retrofit,2024,green,500000,2024-03-01\n"
    )
    (tmp_path / "a.csv").write_text(text, encoding="utf-8")
    summary = _json(db_url, "import", str(tmp_path / "a.csv"))
    assert (summary["registered"], summary["reports"]) == (1, 1)
    assert _json(db_url, "measures", A)["records"][0]["subject"] == "green"
