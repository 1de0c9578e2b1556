"""Ledger exports a finance office opens directly: CSV (UTF-8 with BOM, for Excel) and XLSX.

Amounts are in 元 as exact numbers (a CSV cell `120000.50`, an XLSX number formatted `#,##0.00`),
headers are English or Chinese (`--lang zh`), statuses and kinds are labelled in the same language,
and the last row holds the totals (docs/cli.md's: fixed, approved, paid in their columns; the ceilings
still awaiting approval in the note column).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from projections.ledger_view import LedgerEntry

COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "id", "编号"),
    ("enterprise", "enterprise (USCC)", "统一社会信用代码"),
    ("district", "district", "区县"),
    ("policy", "policy", "政策"),
    ("rule", "rule", "条款编号"),
    ("article", "article", "条"),
    ("kind", "kind", "类别"),
    ("accrued_on", "accrued on", "发生日期"),
    ("amount", "amount (yuan)", "金额（元）"),
    ("ceiling", "ceiling", "是否上限"),
    ("approved_amount", "approved (yuan)", "核定金额（元）"),
    ("paid_amount", "paid (yuan)", "已拨付（元）"),
    ("status", "status", "状态"),
    ("responsible_units", "responsible units", "责任单位"),
    ("note", "note", "备注"),
)
MONEY_COLUMNS = ("amount", "approved_amount", "paid_amount")
STATUS_ZH = {
    "accrued": "应付",
    "awaiting-approval": "待核定",
    "pending-data": "待补数据",
    "approved": "已核定",
    "partly-paid": "部分拨付",
    "paid": "已拨付",
    "reversed": "已撤销",
    "recovery-due": "应追回",
}
KIND_ZH = {
    "award": "奖励",
    "subsidy": "补助",
    "rent-subsidy": "租金补贴",
    "tax-relief": "税费减免",
    "matching": "配套",
}


def headers(lang: str) -> list[str]:
    return [zh if lang == "zh" else en for _key, en, zh in COLUMNS]


def cells(entry: LedgerEntry, lang: str) -> list[Any]:
    """One entry as row values: Decimals for money (None when no amount), labels in `lang`."""
    from domain.reference import label

    zh = lang == "zh"
    values: dict[str, Any] = {
        "id": entry.id,
        "enterprise": entry.enterprise,
        "district": label(entry.district, lang, namespace="district"),
        "policy": entry.policy,
        "rule": entry.rule,
        "article": entry.article,
        "kind": KIND_ZH.get(entry.kind, entry.kind) if zh else entry.kind,
        "accrued_on": entry.accrued_on,
        "amount": entry.amount,
        "ceiling": ("是" if entry.ceiling else "否") if zh else ("yes" if entry.ceiling else "no"),
        "approved_amount": entry.approved_amount,
        "paid_amount": entry.paid_amount,
        "status": STATUS_ZH.get(entry.status, entry.status) if zh else entry.status,
        "responsible_units": "、".join(entry.responsible_units),
        "note": entry.note,
    }
    return [values[key] for key, _en, _zh in COLUMNS]


def totals_row(totals: dict[str, Decimal], lang: str) -> list[Any]:
    row: list[Any] = [None] * len(COLUMNS)
    keys = [key for key, _en, _zh in COLUMNS]
    row[0] = "合计" if lang == "zh" else "Total"
    row[keys.index("amount")] = totals["fixed"]
    row[keys.index("approved_amount")] = totals["approved"]
    row[keys.index("paid_amount")] = totals["paid"]
    ceilings = _plain(totals["ceilings"])
    row[keys.index("note")] = (
        f"定额合计 {_plain(totals['fixed'])} 元；上限待核定 {ceilings} 元"
        if lang == "zh"
        else f"fixed {_plain(totals['fixed'])} yuan; ceilings awaiting approval {ceilings} yuan"
    )
    return row


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else f"{value:.2f}"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP's CSV-injection guidance)."""


def inert(value: str) -> str:
    """Text a spreadsheet shows as text: one beginning like a formula gets a leading apostrophe.

    Only text cells pass through here; numbers (money, a negative figure) stay numbers.
    """
    return "'" + value if value.startswith(FORMULA_START) else value


def write_csv(
    path: Path, entries: Sequence[LedgerEntry], totals: dict[str, Decimal], lang: str, *, force: bool = False
) -> None:
    """UTF-8 with a BOM so Excel shows the Chinese right; money as plain yuan numbers; text `inert`.

    Written atomically (`service_layer.files.output_file`): an existing file is kept unless ``force``.
    """
    from service_layer.files import output_file

    with output_file(path, force=force, encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers(lang))
        for row in [*(cells(e, lang) for e in entries), totals_row(totals, lang)]:
            writer.writerow([_csv_cell(v) for v in row])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _plain(value)
    return inert(value) if isinstance(value, str) else value


def write_xlsx(
    path: Path, entries: Sequence[LedgerEntry], totals: dict[str, Decimal], lang: str, *, force: bool = False
) -> None:
    """One sheet: bold frozen header, money as numbers in 元, dates as dates, a bold totals row.

    Every text cell is stored as a string, never as a formula, whatever it begins with.
    Written atomically, like the CSV.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from service_layer.files import output_file

    book = Workbook()
    sheet = book.active
    sheet.title = "台账" if lang == "zh" else "ledger"
    sheet.append(headers(lang))
    for entry in entries:
        sheet.append(cells(entry, lang))
    sheet.append(totals_row(totals, lang))
    keys = [key for key, _en, _zh in COLUMNS]
    for column, key in enumerate(keys, start=1):
        letter = sheet.cell(row=1, column=column).column_letter
        sheet.column_dimensions[letter].width = 14 if key != "note" else 48
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            if key in MONEY_COLUMNS:
                cell.number_format = "#,##0.00"
            elif key == "accrued_on":
                cell.number_format = "yyyy-mm-dd"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # openpyxl reads text starting with "=" as a formula
                cell.data_type = "s"
    with output_file(path, force=force, binary=True) as handle:
        book.save(handle)
