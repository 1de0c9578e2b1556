"""`srdi simulate --policy FILE`: what a draft policy would owe over the whole history. Writes nothing.

The draft is validated like any policy file (refused with the field and the reason), then
evaluated in memory over every enterprise of its districts, as an activation would, but from a
clean slate: every trigger the draft reaches, with no existing entitlement. It is compared, per
district and rule, with what the active policy really owes: the non-reversed entitlements of the
active policy with the same key (or, for a new key, of the active policies of the same districts)
as the ledger holds them. Only the log is read (no projection is caught up, no event appended),
so the database is left byte for byte as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.enterprise import Enterprise
from domain.policy.decisions import CreateEntitlement
from domain.policy.engine import evaluate_history
from domain.policy.facts import build_facts, policy_of
from domain.policy.model import Policy, load_policy
from domain.policy.reactor import ActivePolicy, policy_digest
from events.schemas import enterprise_stream
from events.store import EventStore
from service_layer.activation import read_active

ZERO = Decimal(0)


@dataclass
class Sums:
    """Entitlements of one district and rule: how many, fixed amounts, ceilings, still open."""

    count: int = 0
    fixed: Decimal = ZERO
    ceilings: Decimal = ZERO
    pending: int = 0
    unstated: int = 0

    def add(self, amount: Decimal | None, ceiling: bool, status: str) -> None:
        self.count += 1
        if status == "pending-data":
            self.pending += 1
        elif amount is None:
            self.unstated += 1
        elif ceiling:
            self.ceilings += amount
        else:
            self.fixed += amount

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "fixed": self.fixed,
            "ceilings": self.ceilings,
            "pending": self.pending,
            "unstated": self.unstated,
        }


@dataclass
class Row:
    draft: Sums = field(default_factory=Sums)
    active: Sums = field(default_factory=Sums)


@dataclass
class Simulation:
    """The comparison `simulate` prints."""

    draft: Policy
    against: list[ActivePolicy]
    enterprises: int
    rows: dict[tuple[str, str], Row]

    def to_json(self) -> dict[str, Any]:
        total = Row()
        rows = []
        for (district, rule), row in sorted(self.rows.items()):
            for mine, all_ in ((row.draft, total.draft), (row.active, total.active)):
                _merge(all_, mine)
            rows.append({"district": district, "rule": rule, **_compare(row)})
        return {
            "draft": {
                "key": self.draft.key,
                "digest": policy_digest(self.draft),
                "districts": self.draft.districts,
            },
            "against": [
                {"key": a.policy.key, "digest": a.digest, "activated_on": a.activated_on}
                for a in self.against
            ],
            "enterprises": self.enterprises,
            "rows": rows,
            "totals": _compare(total),
        }


def _merge(into: Sums, other: Sums) -> None:
    into.count += other.count
    into.fixed += other.fixed
    into.ceilings += other.ceilings
    into.pending += other.pending
    into.unstated += other.unstated


def _compare(row: Row) -> dict[str, Any]:
    difference = {
        "count": row.draft.count - row.active.count,
        "fixed": row.draft.fixed - row.active.fixed,
        "ceilings": row.draft.ceilings - row.active.ceilings,
    }
    return {"draft": row.draft.to_json(), "active": row.active.to_json(), "difference": difference}


def registered(store: EventStore) -> list[str]:
    """Every registered enterprise, read-only (an index query on SQL, a scan in memory)."""
    engine = getattr(store, "engine", None)
    if engine is None:
        return sorted(str(e.data["uscc"]) for e in store.read_all(event_types=("EnterpriseRegistered",)))
    import sqlalchemy as sa

    from events.tables import events_table as t

    query = sa.select(t.c.stream_id).where(t.c.event_type == "EnterpriseRegistered").distinct()
    with engine.connect() as conn:
        return sorted(str(s).removeprefix(enterprise_stream("")) for (s,) in conn.execute(query))


def simulate(store: EventStore, draft: Policy, usccs: Iterable[str] | None = None) -> Simulation:
    """Compare the draft with the active policy (see the module docstring); nothing is written."""
    active = read_active(store)[0]
    against = [a for a in active.values() if a.policy.key == draft.key]
    if not against:
        against = [a for a in active.values() if set(a.policy.districts) & set(draft.districts)]
    keys = {a.policy.key for a in against}
    districts = set(draft.districts) | {d for a in against for d in a.policy.districts}
    rows: dict[tuple[str, str], Row] = {}
    seen = 0
    for uscc in usccs if usccs is not None else registered(store):
        enterprise = Enterprise.load(store.read_stream(enterprise_stream(uscc)))
        district = enterprise.district or ""
        if not enterprise.registered or district not in districts:
            continue
        seen += 1
        if district in draft.districts:
            for d in evaluate_history(draft, build_facts(enterprise), []):
                if isinstance(d, CreateEntitlement):
                    rows.setdefault((district, d.rule), Row()).draft.add(d.amount, d.ceiling, d.status)
        for record in enterprise.entitlements.values():
            if policy_of(record) in keys and record.status not in ("reversed", "not-eligible"):
                row = rows.setdefault((district, str(record.rule)), Row())
                row.active.add(record.amount, bool(record.created.get("ceiling")), str(record.status))
    return Simulation(draft, against, seen, rows)


def simulate_file(store: EventStore, path: Path) -> Simulation:
    """Validate the draft file (refused with field and reason) and simulate it."""
    from service_layer.files import read_input

    return simulate(store, load_policy(path, read_input(path, "policy file")))
