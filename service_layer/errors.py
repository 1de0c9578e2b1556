"""What can go wrong behind the service layer, as its callers see it (the CLI maps each to an exit code).

The domain's refusals are `domain.errors.DomainError`; these are the others: a write conflict that
outlived its retries, an event id already in the log, a log that does not verify.
"""

from __future__ import annotations

from events.store import ConcurrencyConflict, DuplicateEventId, IdempotencyMismatch, UnstorableEvent

__all__ = [
    "ConcurrencyConflict",
    "DuplicateEventId",
    "IdempotencyMismatch",
    "IntegrityFailure",
    "UnstorableEvent",
]


class IntegrityFailure(Exception):
    """The log does not verify, so it cannot be exported (the CLI's exit 4)."""
