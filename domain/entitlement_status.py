"""Where an entitlement stands: its status, what it owes, and what is to be recovered.

One pure function for the aggregate (which refuses payments by it), the ledger projection and
`explain`, so they can never disagree. It reads the engine's decision (``decided``: what the facts
owe, as the policy engine last decided it) and the money decided by people (approved, paid):

- ``reversed`` / ``not-eligible``: nothing is owed; an approval or a payment already made makes it
  ``recovery-due`` (the payment is the amount to recover);
- ``pending-data``: waiting for figures (an approval or payment made before a correction re-opened
  it is kept and judged when the figures arrive);
- ``accrued`` (a fixed amount A): owed A; ``awaiting-approval`` (a ceiling C, or no amount): owed
  what was approved, and an approval above a ceiling that a correction lowered is an excess;
- more approved than the decision now allows, or more paid than is owed: ``recovery-due`` with
  ``recovery_amount`` = paid − owed (0 when only the approval is in excess: re-approve within the
  new ceiling, or record nothing further); otherwise ``paid`` (all of it), ``partly-paid``,
  ``approved``, or the decision itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
CLOSED = ("reversed", "not-eligible")


@dataclass(frozen=True)
class Standing:
    """An entitlement's status, what it owes now (None: not decided yet), and what to recover."""

    status: str
    owed: Decimal | None
    recovery_amount: Decimal

    @property
    def recovery_due(self) -> bool:
        return self.status == "recovery-due"


def standing(
    decided: str | None,
    amount: Decimal | None,
    ceiling: bool,
    approved: Decimal | None,
    paid: Decimal,
) -> Standing:
    """The status of an entitlement (see the module docstring)."""
    decided = decided or "accrued"
    if decided in CLOSED:
        if paid > 0 or approved is not None:
            return Standing("recovery-due", ZERO, paid)
        return Standing("reversed", ZERO, ZERO)
    if decided == "pending-data":
        return Standing("pending-data", None, ZERO)
    excess = False
    owed: Decimal | None
    if decided == "accrued" and amount is not None:
        owed = amount
        excess = approved is not None and approved > amount
    elif approved is not None:
        bound = amount if ceiling and amount is not None else None
        excess = bound is not None and approved > bound
        owed = approved if bound is None else min(approved, bound)
    else:
        owed = None
    recovery = max(ZERO, paid - owed) if owed is not None else ZERO
    if excess or recovery > 0:
        return Standing("recovery-due", owed, recovery)
    if paid > 0:
        limit = approved if approved is not None else owed
        done = limit is None or paid >= limit
        return Standing("paid" if done else "partly-paid", owed, ZERO)
    if approved is not None:
        return Standing("approved", owed, ZERO)
    return Standing(decided, owed, ZERO)
