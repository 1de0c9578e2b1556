"""Reading the ledger: filters, the entries as docs/cli.md shows them, folded to a date, and the totals.

Totals (docs/cli.md): `fixed` sums the amount of non-reversed entries with no ceiling (no amount: 0);
`ceilings` the ceilings still awaiting approval; `approved` the approved amounts of non-reversed
entries; `paid` every payment made, a reversed entry's included (the money left the treasury and
the reversal says it is to be recovered); `recovery_due` sums what corrections left paid beyond
what is owed (`recovery_amount` of the `recovery-due` entries).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.ledger import ZERO, Entry, ledger_table


@dataclass(frozen=True)
class LedgerFilter:
    """`srdi ledger` options: which entries, and the business date to fold them to."""

    enterprise: str | None = None
    district: str | None = None
    year: int | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """One line of `ledger --json` (docs/cli.md), plus the responsible units and the payments made."""

    id: str
    enterprise: str
    district: str
    policy: str
    rule: str
    article: str
    kind: str
    trigger_event: str
    accrued_on: date
    amount: Decimal | None
    ceiling: bool
    approved_amount: Decimal | None
    paid_amount: Decimal
    status: str
    note: str
    responsible_units: tuple[str, ...]
    payments: tuple[tuple[date, Decimal, str], ...]
    recovery_amount: Decimal = ZERO
    adjusted_from: Decimal | None = None
    decided: str = "accrued"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "enterprise": self.enterprise,
            "district": self.district,
            "policy": self.policy,
            "rule": self.rule,
            "article": self.article,
            "kind": self.kind,
            "trigger_event": self.trigger_event,
            "accrued_on": self.accrued_on,
            "amount": self.amount,
            "ceiling": self.ceiling,
            "approved_amount": self.approved_amount,
            "paid_amount": self.paid_amount,
            "status": self.status,
            "recovery_amount": self.recovery_amount,
            "adjusted_from": self.adjusted_from,
            "note": self.note,
            "responsible_units": list(self.responsible_units),
            "payments": [{"on": on, "amount": amount, "ref": ref} for on, amount, ref in self.payments],
        }


def read_ledger(conn: Connection, filters: LedgerFilter) -> list[LedgerEntry]:
    """The entries the filters select, folded to `as_of` (now, if None), oldest accrual first."""
    t = ledger_table.c
    query = sa.select(ledger_table).order_by(t.accrued_on, t.uscc, t.rule, t.id)
    if filters.enterprise is not None:
        query = query.where(t.uscc == filters.enterprise)
    if filters.district is not None:
        query = query.where(t.district == filters.district)
    if filters.year is not None:
        query = query.where(t.year == filters.year)
    if filters.as_of is not None:
        query = query.where(t.accrued_on <= filters.as_of)
    return [view_of(Entry.of_row(row), filters.as_of) for row in conn.execute(query)]


def find_entry(conn: Connection, entitlement_id: str) -> LedgerEntry | None:
    """One entry by id (as it stands now)."""
    row = conn.execute(sa.select(ledger_table).where(ledger_table.c.id == entitlement_id)).first()
    return None if row is None else view_of(Entry.of_row(row), None)


def view_of(entry: Entry, as_of: date | None) -> LedgerEntry:
    s = entry.state(as_of)
    payments = tuple(
        (date.fromisoformat(p["on"]), Decimal(str(p["amount"])), str(p.get("ref") or ""))
        for p in entry.steps
        if p["type"] == "paid" and (as_of is None or date.fromisoformat(p["on"]) <= as_of)
    )
    return LedgerEntry(
        entry.id,
        entry.uscc,
        entry.district,
        entry.policy,
        entry.rule,
        entry.article,
        entry.kind,
        entry.trigger_event,
        entry.accrued_on,
        s.amount,
        entry.ceiling,
        s.approved,
        s.paid,
        s.status,
        s.note,
        tuple(entry.responsible_units),
        payments,
        s.recovery,
        s.adjusted_from,
        "reversed" if s.decided == "not-eligible" else s.decided,
    )


def totals(entries: Iterable[LedgerEntry]) -> dict[str, Decimal]:
    """The contract's totals (fixed, ceilings awaiting approval, approved, paid) and `recovery_due`."""
    fixed = ceilings = approved = paid = recovery = ZERO
    for e in entries:
        paid += e.paid_amount
        recovery += e.recovery_amount
        if e.decided == "reversed":
            continue
        if not e.ceiling:
            fixed += e.amount or ZERO
        elif e.status == "awaiting-approval":
            ceilings += e.amount or ZERO
        approved += e.approved_amount or ZERO
    return {
        "fixed": fixed,
        "ceilings": ceilings,
        "approved": approved,
        "paid": paid,
        "recovery_due": recovery,
    }


def to_recover(entry: LedgerEntry) -> Decimal:
    """What is to be recovered from the enterprise on this entry: paid beyond what a correction
    left owed (`recovery_amount`; a reversed entry's payments included)."""
    return entry.recovery_amount
