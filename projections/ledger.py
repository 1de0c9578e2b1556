"""The payout ledger: one row per entitlement, with its whole lifecycle, for `srdi ledger`.

Fed by the entitlement events of the enterprise streams (created, resolved, approved, paid,
reversed). Each row keeps the entitlement's identity columns (for filtering by enterprise,
district, year, status) and its lifecycle as a JSON list of dated steps; the status and amounts
in the row are the fold of all steps. `--as-of DATE` folds only the steps dated on or before DATE
(entries accrued after it are left out), so the ledger as of a day needs no snapshot; only
`--recorded-before` (what the log knew at an instant) rebuilds one (`projections.feed.view`).
Reading, filters and totals are in `projections.ledger_view`.

Statuses (`domain.entitlement_status`, the one function the aggregate uses too): accrued,
awaiting-approval, pending-data, approved, partly-paid, paid, reversed, recovery-due. An entitlement
decided `not-eligible` (its figures arrived and said no) shows as `reversed` with the reason in its
note. An `adjusted` step (a correction decided it again) carries the previous amount
(`adjusted_from`). Money is Decimal, stored as exact text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.enterprise import ENTITLEMENT_TYPES
from domain.entitlement_status import standing as entitlement_standing
from events.envelope import RecordedEvent
from events.lazy_logging import get_logger
from events.sql_store import EventParts
from projections.framework import (
    DateParam,
    SubjectProjection,
    chunks,
    date_param,
    delete_where_in,
    insert_rows,
    metadata,
    required,
)

log = get_logger("srdi.projections")
MONEY = sa.String(40)
ZERO = Decimal(0)

ledger_table = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    *required(
        ("uscc", sa.String(32)),
        ("district", sa.String(50)),
        ("policy", sa.String(50)),
        ("rule", sa.String(20)),
        ("article", sa.String(20)),
        ("kind", sa.String(30)),
        ("trigger_event", sa.String(36)),
        ("accrued_on", sa.Date()),
        ("year", sa.Integer()),
        ("ceiling", sa.Boolean()),
        ("status", sa.String(20)),
    ),
    sa.Column("amount", MONEY),
    sa.Column("approved_amount", MONEY),
    *required(
        ("paid_amount", MONEY), ("responsible_units", sa.Text()), ("note", sa.Text()), ("steps", sa.Text())
    ),
    sa.Index("ix_ledger_entries_district_year", "district", "year"),
    sa.Index("ix_ledger_entries_uscc", "uscc"),
)


# One encoder each (json.dumps with options builds a new JSONEncoder per call); the stored text is
# what json.dumps(..., ensure_ascii=False) gives, compact for the steps.
_units = json.JSONEncoder(ensure_ascii=False).encode
_steps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_orjson_dumps = orjson.dumps
_EncodeError = orjson.JSONEncodeError
# Step values orjson writes exactly as ``_steps`` does. Not float: it spells some otherwise (1e-07, NaN).
_FLAT = frozenset({str, int, bool, type(None)})
# Lifecycle step type of each entitlement event type ("EntitlementPaid" -> "paid").
_KINDS = {t: t.removeprefix("Entitlement").lower() for t in ENTITLEMENT_TYPES}


def _steps_text(steps: list[dict[str, Any]]) -> str:
    """``_steps(steps)``, by orjson (a quarter of the cost) when it writes the same text.

    For steps that are dicts of str, int, bool and None they write the same text: a str escaped
    alike (``"``, backslash and control characters only, the same escapes), an int's digits. What
    orjson refuses (an int past 64 bits, a lone surrogate) and anything else (a float, a nested
    value, which a step taken from the log may hold) is left to ``_steps``.
    """
    for step in steps:
        if type(step) is not dict:
            return _steps(steps)
        for value in step.values():
            if type(value) not in _FLAT:
                return _steps(steps)
    try:
        return _orjson_dumps(steps).decode()
    except _EncodeError:
        return _steps(steps)


_units_seen: dict[tuple[str, ...], str] = {}


def _units_text(units: list[str]) -> str:
    """``_units(units)``, remembered: thousands of entitlements share a handful of unit lists."""
    try:
        key = tuple(units)
        text = _units_seen.get(key)
    except TypeError:  # an unhashable unit (a stored row is not trusted to hold strings)
        return _units(units)
    if text is None:
        text = _units(units)
        # Lists of str only: a str equals no other type, where 1 == 1.0 == True would share a text.
        if all(type(u) is str for u in units):
            if len(_units_seen) >= 4096:
                _units_seen.clear()
            _units_seen[key] = text
    return text


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(slots=True)
class Entry:
    """One entitlement as the ledger keeps it: identity and dated lifecycle steps."""

    id: str
    uscc: str
    district: str
    policy: str
    rule: str
    article: str
    kind: str
    trigger_event: str
    accrued_on: date
    ceiling: bool
    responsible_units: list[str]
    steps: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def created(cls, event: RecordedEvent) -> Entry:
        return cls.of_creation(event.event_id, event.occurred_on, event.data)

    @classmethod
    def of_creation(cls, event_id: str, on: date, d: dict[str, Any]) -> Entry:
        """The entry an ``EntitlementCreated`` (given by its parts) opens."""
        entry = cls(
            str(d["entitlement_id"]),
            str(d["uscc"]),
            str(d["district"]),
            str(d["policy"]),
            str(d["rule"]),
            str(d["article"]),
            str(d["kind"]),
            str(d["trigger_event_id"]),
            date.fromisoformat(str(d["accrued_on"])),
            bool(d["ceiling"]),
            list(map(str, d.get("responsible_units", []))),
        )
        entry.take("EntitlementCreated", event_id, on, d)
        return entry

    def apply(self, event: RecordedEvent) -> None:
        """Add the lifecycle step an entitlement event records."""
        self.take(event.event_type, event.event_id, event.occurred_on, event.data)

    def take(self, event_type: str, event_id: str, on: date, d: dict[str, Any]) -> None:
        """`apply` from the parts of an event (``EventParts``)."""
        kind = _KINDS.get(event_type) or event_type.removeprefix("Entitlement").lower()
        step: dict[str, Any] = {"type": kind, "on": on.isoformat(), "event_id": event_id}
        if kind in ("created", "resolved"):
            step.update(status=d["status"], amount=d.get("amount"), note=d.get("note", ""))
            if kind == "created":
                step["ceiling"] = bool(d.get("ceiling"))
        elif kind == "adjusted":
            step.update(
                status=d["status"],
                amount=d.get("amount"),
                previous_amount=d.get("previous_amount"),
                ceiling=bool(d.get("ceiling")),
                note=d.get("note", ""),
                reason=d.get("reason", ""),
            )
            self.trigger_event = str(d.get("trigger_event_id") or self.trigger_event)
            self.accrued_on = date.fromisoformat(str(d.get("accrued_on") or self.accrued_on.isoformat()))
            self.ceiling = bool(d.get("ceiling", self.ceiling))
        elif kind in ("approved", "paid"):
            step.update(amount=d["amount"], ref=d.get("ref"))
        elif kind == "reversed":
            step.update(note=d.get("reason", ""))
        self.steps.append(step)

    def state(self, as_of: date | None = None) -> State:
        """Status and amounts after the steps dated on or before `as_of` (all of them for None).

        Folded in local variables, the ``State`` built once at the end: a rebuild folds every entry.
        """
        decided, amount, ceiling, approved, paid = "accrued", None, self.first_ceiling(), None, ZERO
        adjusted_from: Decimal | None = None
        note = ""
        for step in self.steps:
            kind = step["type"]
            if as_of is not None and kind != "created" and date.fromisoformat(step["on"]) > as_of:
                continue
            if kind == "created" or kind == "resolved":
                decided = step["status"]
                amount = _money(step.get("amount"))
                note = str(step.get("note") or "")
            elif kind == "adjusted":
                decided, ceiling = step["status"], bool(step.get("ceiling"))
                adjusted_from, amount = _money(step.get("previous_amount")), _money(step.get("amount"))
                note = "; ".join(n for n in (str(step.get("note") or ""), str(step.get("reason") or "")) if n)
            elif kind == "approved":
                approved = _money(step["amount"])
            elif kind == "paid":
                paid += _money(step["amount"]) or ZERO
            elif kind == "reversed":
                decided, note = "reversed", f"reversed: {step.get('note', '')}"
        standing = entitlement_standing(decided, amount, ceiling, approved, paid)
        status, recovery = standing.status, standing.recovery_amount
        if status == "partly-paid":
            limit = approved if approved is not None else amount
            note = "; ".join(n for n in (note, f"partly paid: {paid} of {limit} yuan") if n)
        elif status == "recovery-due":
            owed = standing.owed if standing.owed is not None else ZERO
            what = f"recovery due: {recovery} yuan paid beyond the {owed} yuan now owed"
            if recovery == 0:
                what = f"recovery due: {approved} yuan approved beyond the {owed} yuan now owed"
            note = "; ".join(n for n in (note, what) if n)
        return State(decided, status, amount, ceiling, approved, paid, recovery, adjusted_from, note)

    def first_ceiling(self) -> bool:
        """Whether the entitlement was created as a ceiling (an adjustment may change it)."""
        for step in self.steps:
            if step["type"] == "created":
                return bool(step.get("ceiling", self.ceiling))
        return self.ceiling

    def row(self, day: DateParam) -> tuple[Any, ...]:
        """The entry's ``ledger_entries`` row, values in column order (dates through ``day``)."""
        s = self.state()
        return (
            self.id,
            self.uscc,
            self.district,
            self.policy,
            self.rule,
            self.article,
            self.kind,
            self.trigger_event,
            day(self.accrued_on),
            self.accrued_on.year,
            self.ceiling,
            s.status,
            None if s.amount is None else str(s.amount),
            None if s.approved is None else str(s.approved),
            str(s.paid),
            _units_text(self.responsible_units),
            s.note,
            _steps_text(self.steps),
        )

    @classmethod
    def of_row(cls, row: Any) -> Entry:
        accrued = (
            row.accrued_on if isinstance(row.accrued_on, date) else date.fromisoformat(str(row.accrued_on))
        )
        return cls(
            row.id,
            row.uscc,
            row.district,
            row.policy,
            row.rule,
            row.article,
            row.kind,
            row.trigger_event,
            accrued,
            bool(row.ceiling),
            json.loads(row.responsible_units),
            json.loads(row.steps),
        )


@dataclass(slots=True)
class State:
    """An entry folded to a date: the engine's decision, the money decided, the resulting status."""

    decided: str = "accrued"
    status: str = "accrued"
    amount: Decimal | None = None
    ceiling: bool = False
    approved: Decimal | None = None
    paid: Decimal = ZERO
    recovery: Decimal = ZERO
    adjusted_from: Decimal | None = None
    note: str = ""


class LedgerProjection(SubjectProjection):
    name = "ledger"
    handles = ENTITLEMENT_TYPES
    tables = (ledger_table,)
    creation = "EntitlementCreated"
    subject_key = "entitlement_id"

    def row(self, events: Sequence[EventParts], day: DateParam) -> tuple[Any, ...]:
        _kind, event_id, on, data = events[0]
        entry = Entry.of_creation(event_id, on, data)
        for later in events[1:]:
            entry.take(*later)
        return entry.row(day)

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        keys = [str(e.data["entitlement_id"]) for e in events]
        ids = sorted(set(keys))
        entries = load_entries(conn, ids)
        stored = set(entries)
        for event, key in zip(events, keys, strict=True):
            if event.event_type == "EntitlementCreated":
                entries[key] = Entry.created(event)
            elif key in entries:
                entries[key].apply(event)
            else:
                log.warning(
                    "entitlement event without its creation", entitlement_id=key, event_id=event.event_id
                )
        changed = [entries[k] for k in ids if k in entries]
        delete_where_in(conn, ledger_table, "id", [k for k in ids if k in stored])
        day = date_param(conn)
        insert_rows(conn, ledger_table, [e.row(day) for e in changed])


# One statement for every lookup: its IN list is bound at execution (``expanding``), not built
# from the ids as literals on each call (most of a lookup's cost on the rebuild path).
_by_ids = sa.select(ledger_table).where(ledger_table.c.id.in_(sa.bindparam("ids", expanding=True)))


def load_entries(conn: Connection, ids: Sequence[str]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for part in chunks(ids):
        for row in conn.execute(_by_ids, {"ids": list(part)}):
            found[row.id] = Entry.of_row(row)
    return found
