"""Domain errors: each carries one line a member of district staff can act on.

The CLI maps `InvalidInput` (and its subclasses) to exit code 2 and prints `str(error)` on stderr,
so messages must be a single line saying what was wrong and how to fix it. Newlines and runs of
whitespace are collapsed here, once, so no caller can break that contract by accident.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose (anything else is a bug, exit 1)."""

    def __init__(self, message: str) -> None:
        self.message = " ".join(message.split())
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The user asked for something malformed or not allowed: nothing is written, CLI exit 2."""


class IllegalTransition(InvalidInput):
    """The track's state machine does not allow this action from the current state."""


class PrerequisiteMissing(InvalidInput):
    """A ladder prerequisite (a valid lower title) is missing on the action's date."""
