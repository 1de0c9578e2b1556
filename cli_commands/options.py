"""The options and arguments several commands share, defined once so each reads and behaves the same.

Each is an ``Annotated`` type: a command writes ``as_json: Json = False`` or ``uscc: Uscc``, and the
option's name, help and parsing come from here. ``--lang`` takes a `Lang`: anything but en or zh
(any case) is refused by the option itself, one line naming the language, exit 2, before the
command runs. Values that need the domain to parse (dates, districts) are parsed by the command,
so a refusal is the domain's one line.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from typer.models import OptionInfo

__all__ = [
    "AsOf",
    "District",
    "EntitlementId",
    "ExportLanguage",
    "Force",
    "Json",
    "Lang",
    "Language",
    "PageLanguage",
    "ReportOn",
    "Uscc",
    "parse_lang",
]


class Lang(StrEnum):
    """The languages of ``domain.labels``: English keys or Chinese labels (JSON keys never change).

    Defined here, not in the domain, so that ``srdi --help`` loads nothing of the domain.
    """

    en = "en"
    zh = "zh"


def parse_lang(text: str) -> Lang:
    """``--lang`` as a `Lang`; an unknown language is a usage error that says which ones exist."""
    try:
        return Lang(text.strip().lower())
    except ValueError:
        raise typer.BadParameter(f"unknown language {text!r}; use en or zh") from None


def _lang(help_text: str) -> OptionInfo:
    return typer.Option("--lang", parser=parse_lang, metavar="[en|zh]", help=help_text)  # type: ignore[no-any-return]


Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Language = Annotated[Lang, _lang("Labels: en or zh.")]
ExportLanguage = Annotated[Lang, _lang("Labels and export headers: en or zh.")]
PageLanguage = Annotated[Lang, _lang("Page language: zh (default) or en.")]

Uscc = Annotated[str, typer.Argument(metavar="USCC", help="The enterprise's USCC (18 characters).")]
EntitlementId = Annotated[
    str, typer.Argument(metavar="ENTITLEMENT_ID", help="Its id, as 'srdi ledger' prints it.")
]
AsOf = Annotated[str | None, typer.Option("--as-of", help="As the world stood on DATE (YYYY-MM-DD).")]
District = Annotated[str | None, typer.Option("--district", help="Only this district (key or Chinese name).")]
ReportOn = Annotated[str | None, typer.Option("--on", help="Date of the report YYYY-MM-DD (default today).")]
Force = Annotated[bool, typer.Option("--force", help="Replace PATH if it exists.")]
