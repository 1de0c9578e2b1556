"""Parsing of what staff type into exact values, with one-line refusals naming the CLI option.

Shared by the command models (`domain.commands`). Money is `Decimal` yuan exact to the fen: a
binary float is refused rather than rounded, and thousands separators are accepted because staff
copy amounts from spreadsheets. A negative zero (``-0``, ``-0.00``) is zero.

Free text must be UTF-8: argv bytes that are not (a terminal or a script in GBK, say) reach Python
as lone surrogates, which can be neither hashed into the log nor stored, so `text` and `utf8`
refuse them naming the option. Messages quote what was typed through `domain.errors.shown`, cut
to a readable length.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.errors import InvalidInput, is_utf8, shown

FIRST_YEAR = 1990
"""No programme record predates the 1990s; an earlier year is a typo."""
FIRST_DAY = date(FIRST_YEAR, 1, 1)
"""The earliest business date accepted (a milestone, a report, a payment …); the latest is today."""
LAST_YEAR = 2100
MAX_AMOUNT = Decimal(10) ** 12
"""The largest amount of yuan accepted anywhere (one trillion, 1万亿): far above any award, revenue
or lease an SME reports, and far below where exact money meets float trouble (10^14 fen < 2^53),
so a reader that parses the JSON as a double still gets every fen."""
MAX_TEXT = 200
"""The default limit of a free-text value (a name, a department, a reference), in characters."""
MAX_AREA_M2 = Decimal(1_000_000)
SIZES = {
    "micro": "micro",
    "small": "small",
    "medium": "medium",
    "微型": "micro",
    "小型": "small",
    "中型": "medium",
}
_AMOUNT = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+(_\d+)*)(\.\d*)?|[+-]?\.\d+")
"""Plain decimal yuan: digits, thousands commas in groups of three (or ``_``), an optional fraction.

An exponent (``1e5``, Excel's ``1.2E+7``) is refused: a spreadsheet shows large amounts that way
after dropping digits, so the number meant cannot be known. ``1,2`` (a decimal comma) is refused
rather than read as twelve.
"""
_OPTION = {
    "uscc": "USCC",
    "event_id": "EVENT_ID",
    "entitlement_id": "ENTITLEMENT_ID",
    "area_m2": "--area",
    "rent_per_m2_month": "--rent",
    "override_prerequisite": "--override-prerequisite",
}


def option(field: str) -> str:
    """The CLI spelling of a field, for messages (`rd_expense` → `--rd-expense`)."""
    return _OPTION.get(field, "--" + field.replace("_", "-"))


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(text: str) -> date:
    """A calendar date written exactly YYYY-MM-DD; ValueError otherwise (the caller names the field).

    Only that form: `date.fromisoformat` would also take 20240301 or 2024-W09-5, which staff do
    not mean to type and a reader of the command line or the CSV file could not check.
    """
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def money(value: Any, field: str, *, positive: bool = False) -> Decimal:
    """Parse yuan exactly: a Decimal, an int or text such as ``1,200,000.50``; never a float."""
    opt = option(field)
    if isinstance(value, bool | float):
        raise InvalidInput(f"{opt} {value!r}: give yuan as text or a whole number, never a binary float")
    written = unicodedata.normalize("NFKC", str(value)).strip()
    if isinstance(value, Decimal):
        written = format(value, "f")
    if not _AMOUNT.fullmatch(written):
        raise InvalidInput(
            f"{opt} {shown(value)} is not an amount in yuan; write digits with an optional decimal point "
            "and thousands commas, e.g. 1200000 or 1,200,000.50 (no exponent such as 1e5)"
        )
    try:
        amount = Decimal(written.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise InvalidInput(
            f"{opt} {shown(value)} is not an amount; give yuan as a number, e.g. 1200000"
        ) from None
    if not amount.is_finite():
        raise InvalidInput(f"{opt} {shown(value)} is not an amount; give a finite number of yuan")
    if amount < 0:
        raise InvalidInput(f"{opt} {shown(value)} is negative; give an amount of 0 or more")
    if amount.is_zero():
        amount = amount.copy_abs()  # -0 and -0.00 are zero: never store a sign on nothing
    if positive and amount == 0:
        raise InvalidInput(f"{opt} must be more than 0")
    if amount > MAX_AMOUNT:
        raise InvalidInput(
            f"{opt} {shown(value)} is above the largest amount accepted "
            f"({MAX_AMOUNT:,.0f} yuan); check the digits"
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidInput(
            f"{opt} {shown(value)} has more than 2 decimal places; amounts are exact to the fen (0.01)"
        )
    return amount


def utf8(value: str, field: str) -> str:
    """The value unchanged, or a refusal naming the option when it holds bytes that are not UTF-8."""
    if not is_utf8(value):
        raise InvalidInput(
            f"{option(field)} {shown(value)} is not valid UTF-8 text; type it again in a UTF-8 "
            "terminal (e.g. LANG=C.UTF-8) or convert it to UTF-8 first"
        )
    return value


def single_line(value: str, field: str) -> str:
    """The value unchanged, or a refusal naming the option when it holds a control character.

    NUL, escape sequences, tabs, newlines and the other C0/C1 controls (and the Unicode line and
    paragraph separators) have no place in a one-line value: PostgreSQL cannot store a NUL in
    text, a terminal acts on an escape, and a newline would split a CSV cell or a log line.
    """
    for at, char in enumerate(value):
        if unicodedata.category(char) in _CONTROL:
            raise InvalidInput(
                f"{option(field)} {shown(value)} holds the control character {char!r} at position "
                f"{at + 1}; give it as one line of printable text"
            )
    return value


_CONTROL = frozenset({"Cc", "Zl", "Zp"})


def text(value: Any, field: str, *, max_length: int = MAX_TEXT) -> str:
    """Free text (a name, a reference, a reason): UTF-8, one line, spaces collapsed, not empty,
    not longer than ``max_length`` characters (the same limit on every back-end)."""
    raw = single_line(utf8(str(value), field), field) if value is not None else ""
    text = " ".join(raw.split())
    if not text:
        raise InvalidInput(f"{option(field)} is empty; give a value")
    if len(text) > max_length:
        raise InvalidInput(f"{option(field)} is longer than {max_length} characters; shorten it")
    return text


def shifted(day: date, days: int) -> date:
    """``day + days``, held at the calendar's ends (a read asked of 9999-12-31 must not overflow)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def business_date(on: date, what: str) -> date:
    """A business date not before `FIRST_DAY` (the upper bound, today, is the handler's clock)."""
    if on < FIRST_DAY:
        raise InvalidInput(
            f"{what} is dated {on.isoformat()}, before {FIRST_DAY.isoformat()}; check the year"
        )
    return on
