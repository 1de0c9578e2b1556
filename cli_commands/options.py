"""The options several commands share, defined once so each reads and behaves the same everywhere.

``--lang`` takes a `Lang`: anything but en or zh (any case) is refused by the option itself, one line
naming the language, exit 2, before the command runs.
"""

from __future__ import annotations

from enum import StrEnum

import typer

__all__ = ["EXPORT_LANG_OPTION", "JSON_OPTION", "LANG_OPTION", "PAGE_LANG_OPTION", "Lang", "parse_lang"]


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


def _lang_option(help_text: str, default: Lang = Lang.en) -> Lang:
    return typer.Option(default, "--lang", parser=parse_lang, metavar="[en|zh]", help=help_text)  # type: ignore[no-any-return]


JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
LANG_OPTION = _lang_option("Labels: en or zh.")
EXPORT_LANG_OPTION = _lang_option("Labels and export headers: en or zh.")
PAGE_LANG_OPTION = _lang_option("Page language: zh (default) or en.", Lang.zh)
