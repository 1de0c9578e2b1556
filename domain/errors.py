"""Domain errors: each carries one line a member of district staff can act on.

The CLI maps `InvalidInput` (and its subclasses) to exit code 2 and prints `str(error)` on stderr,
so messages must be a single line saying what was wrong and how to fix it. Newlines and runs of
whitespace are collapsed here, once, so no caller can break that contract by accident; so are the
two other ways a refusal could stop being one clear line:

- text from argv that was not UTF-8 (Python keeps those bytes as lone surrogates) is written as
  ``\\xNN`` escapes, because a lone surrogate cannot be printed or stored as UTF-8 (and a
  ``repr`` of such text, ``'\\udcff'``, is rewritten the same way);
- a message that still runs over `MAX_MESSAGE` characters (a site that quoted a huge argument
  whole) has its middle cut, keeping the start (what was wrong) and the end (how to fix it).

Quote what the user typed with `shown`, which cuts it to a readable length itself.
"""

from __future__ import annotations

import re

SHOWN = 60
"""Characters of a user's value quoted in a message before it is cut (`shown`)."""
MAX_MESSAGE = 1000
"""The longest message kept whole; a longer one loses its middle (a safety net, see the docstring)."""
_KEEP_HEAD, _KEEP_TAIL = 600, 300
_ESCAPED_SURROGATE = re.compile(r"\\udc([89a-f][0-9a-f])")


def is_utf8(text: str) -> bool:
    """False when the text holds lone surrogates (argv or environment bytes that were not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escaped(text: str) -> str:
    r"""The text with each lone surrogate written as an escape: the byte ``\xff`` it stood for.

    Python decodes argv bytes that are not UTF-8 into U+DC80..U+DCFF ("surrogateescape"); those
    are shown as the bytes typed. Any other lone surrogate is shown as ``\udXXX``.
    """
    if is_utf8(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def shown(value: object, limit: int = SHOWN, *, quote: bool = True) -> str:
    r"""A user's value for a message: ``'abc'`` (``abc`` with ``quote=False``), cut after `limit`.

    ``'99999…'… (10,000 characters)`` for a long one; bytes that were not UTF-8 as ``\xff``.
    Quoted, control characters are escaped too (`repr`); unquoted suits ids and codes.
    """
    text = str(value)
    head = text[:limit]
    if quote:
        head = repr(head)
        if not is_utf8(text):
            head = _ESCAPED_SURROGATE.sub(r"\\x\1", head)
    else:
        head = escaped(head)
    return head if len(text) <= limit else f"{head}… ({len(text):,} characters)"


def one_line(message: str) -> str:
    """The message as one printable line of at most about `MAX_MESSAGE` characters."""
    line = _ESCAPED_SURROGATE.sub(r"\\x\1", " ".join(escaped(message).split()))
    if len(line) <= MAX_MESSAGE:
        return line
    cut = len(line) - _KEEP_HEAD - _KEEP_TAIL
    return f"{line[:_KEEP_HEAD]} …({cut:,} characters cut)… {line[-_KEEP_TAIL:]}"


class DomainError(Exception):
    """Base of every error the domain raises on purpose (anything else is a bug, exit 1)."""

    def __init__(self, message: str) -> None:
        self.message = one_line(message)
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The user asked for something malformed or not allowed: nothing is written, CLI exit 2."""


class Conflict(DomainError):
    """What was asked contradicts what is already recorded under the same key: CLI exit 3.

    A payment voucher reference used again for the same entitlement with another amount or date
    is one: nothing is written, and the line names what the reference already records.
    """


class IllegalTransition(InvalidInput):
    """The track's state machine does not allow this action from the current state."""


class PrerequisiteMissing(InvalidInput):
    """A ladder prerequisite (a valid lower title) is missing on the action's date."""


class NotPermitted(DomainError):
    """The actor may not do this, however valid the request (the approver paying): CLI exit 6."""
