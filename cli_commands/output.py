"""The one place the command line prints text that came from users: text stays text.

Names, departments, references and policy wording are data. Printed through rich with its
defaults they would be read as markup (``Tools [/] Co`` is a markup error, ``Acme [old name] Ltd``
loses a word, ``[link=…]`` becomes a link) and an escape sequence or a bidi override (U+202E)
would reach the terminal and act there. So every table, title and line goes through here:

- `console`: a rich console that never reads markup, emoji codes or highlights, and shows every
  string through `visible`;
- `echo`: a plain line, through `visible`;
- `visible`: control characters (C0, C1, DEL), the bidi embedding/override/isolate marks and
  the line and paragraph separators written as ``\\x1b`` / ``\\u202e`` escapes; lone surrogates
  (bytes that were not UTF-8) as ``\\xff``.

JSON output is not touched here: ``json`` escapes control characters itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

_HIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)
"""Characters that would act on a terminal instead of being shown (or hide what follows them).

A newline is left alone: no stored value holds one (`domain.inputs.text`) and our own messages
may span lines."""


def visible(text: str) -> str:
    """The text with every character that would act on a terminal written as an escape."""
    from domain.errors import escaped  # here: `srdi --help` loads no domain module

    text = escaped(text)
    return _HIDDEN.sub(_escape, text) if _HIDDEN.search(text) else text


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def console(*, stderr: bool = False) -> Console:
    """A rich console for tables and lines: no markup, no emoji codes, every string `visible`."""
    from rich.console import Console
    from rich.text import Text

    class PlainConsole(Console):
        def render_str(self, text: str, **options: Any) -> Text:
            options.update(markup=False, emoji=False, highlight=False)
            return super().render_str(visible(text), **options)

    return PlainConsole(stderr=stderr, markup=False, emoji=False, highlight=False)


def echo(line: str = "", *, err: bool = False, nl: bool = True) -> None:
    """One plain line on stdout (or stderr), `visible`."""
    typer.echo(visible(line), err=err, nl=nl)
