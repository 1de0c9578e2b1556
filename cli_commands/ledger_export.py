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

from service_layer.reads import LedgerEntry

COLUMNS = (
    "id",
    "enterprise",
    "district",
    "policy",
    "rule",
    "article",
    "kind",
    "accrued_on",
    "amount",
    "ceiling",
    "approved_amount",
    "paid_amount",
    "status",
    "responsible_units",
    "note",
)
MONEY_COLUMNS = ("amount", "approved_amount", "paid_amount")


def headers(lang: str) -> list[str]:
    """The export's header row (the catalogue's ``export-*`` column labels)."""
    from domain.labels import label

    return [label("export-" + key.replace("_", "-"), lang, namespace="column") for key in COLUMNS]


def cells(entry: LedgerEntry, lang: str) -> list[Any]:
    """One entry as row values: Decimals for money (None when no amount), labels in `lang`."""
    from domain.labels import label

    values: dict[str, Any] = {
        "id": entry.id,
        "enterprise": entry.enterprise,
        "district": label(entry.district, lang, namespace="district"),
        "policy": entry.policy,
        "rule": entry.rule,
        "article": entry.article,
        "kind": label(entry.kind, lang, namespace="kind"),
        "accrued_on": entry.accrued_on,
        "amount": entry.amount,
        "ceiling": label("yes" if entry.ceiling else "no", lang, namespace="text"),
        "approved_amount": entry.approved_amount,
        "paid_amount": entry.paid_amount,
        "status": label(entry.status, lang, namespace="status"),
        "responsible_units": label("names-separator", lang, namespace="text").join(entry.responsible_units),
        "note": entry.note,
    }
    return [values[key] for key in COLUMNS]


def totals_row(totals: dict[str, Decimal], lang: str) -> list[Any]:
    from domain.labels import label, sentence

    row: list[Any] = [None] * len(COLUMNS)
    keys = list(COLUMNS)
    row[0] = label("total", lang, namespace="text")
    row[keys.index("amount")] = totals["fixed"]
    row[keys.index("approved_amount")] = totals["approved"]
    row[keys.index("paid_amount")] = totals["paid"]
    ceilings = _plain(totals["ceilings"])
    row[keys.index("note")] = sentence(
        "export-totals", lang, fixed=_plain(totals["fixed"]), ceilings=ceilings
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

    from domain.labels import label
    from service_layer.files import output_file

    book = Workbook()
    sheet = book.active
    sheet.title = label("ledger", lang, namespace="text")
    sheet.append(headers(lang))
    for entry in entries:
        sheet.append(cells(entry, lang))
    sheet.append(totals_row(totals, lang))
    for column, key in enumerate(COLUMNS, start=1):
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
