"""Shared set-up for the projection tests: events built directly, random legal histories, dumps.

Histories are built as events (not through the handlers) so the projection tests depend only on
the event schemas and the track machines: every milestone is a transition ``domain.machines``
allows from the simulated state, with dates increasing per track; retractions pick any earlier
milestone, which exercises the fold's re-fold (and its skip rule) harder than the handlers would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st
from sqlalchemy.engine import Connection, Engine

from domain import machines, reference
from domain.errors import InvalidInput
from domain.uscc import make_uscc
from events.envelope import NewEvent
from events.schemas import (
    EnterpriseRegistered,
    EventRetracted,
    FinancialsReported,
    MilestoneRecorded,
    enterprise_stream,
)
from events.sql_store import SqlEventStore
from events.tables import events_table, idempotency_table
from projections import registry
from projections.framework import checkpoints_table
from service_layer.bootstrap import services_on
from service_layer.reads import StatusView, enterprise_status
from tests.backends import bypass_append_only

TRACKS = tuple(reference.tracks())


DISTRICTS = ("qianjiang", "yubei")
DEPARTMENTS = ("区科技局", "区经济信息委", None)
START = date(2021, 1, 1)


def uscc(n: int) -> str:
    return make_uscc(f"91500000MA{n:07d}")


def registered(code: str, on: date, district: str = "qianjiang", department: str | None = None) -> NewEvent:
    event = EnterpriseRegistered(uscc=code, name=f"企业{code[-4:]}", district=district, department=department)
    return NewEvent(event, on, actor="test")


def milestone(code: str, track: str, action: str, on: date) -> NewEvent:
    return NewEvent(MilestoneRecorded(uscc=code, track=track, action=action), on, actor="test")


def retraction(code: str, event_id: str, on: date) -> NewEvent:
    event = EventRetracted(
        uscc=code, retracted_event_id=event_id, retracted_type="MilestoneRecorded", reason="t"
    )
    return NewEvent(event, on, actor="test")


def append(store: SqlEventStore, code: str, *events: NewEvent) -> list[str]:
    store.append(enterprise_stream(code), list(events), None)
    return [e.event_id for e in events]


@dataclass
class Append:
    """One append: a stream and its events."""

    uscc: str
    events: list[NewEvent]


@st.composite
def histories(draw: st.DrawFn, max_steps: int = 30) -> list[Append]:
    """A random history of 1–4 enterprises as a list of appends, every milestone legal when made."""
    codes = [uscc(900 + i) for i in range(draw(st.integers(1, 4)))]
    states: dict[tuple[str, str], tuple[str, date]] = {}
    made: dict[str, list[str]] = {c: [] for c in codes}
    pending: list[Append] = []
    for code in codes:
        on = START + timedelta(days=draw(st.integers(0, 1500)))
        event = registered(code, on, draw(st.sampled_from(DISTRICTS)), draw(st.sampled_from(DEPARTMENTS)))
        pending.append(Append(code, [event]))
    for _ in range(draw(st.integers(0, max_steps))):
        code = draw(st.sampled_from(codes))
        kind = draw(st.sampled_from(("milestone", "milestone", "milestone", "retract", "report")))
        if kind == "retract" and made[code]:
            target = draw(st.sampled_from(made[code]))
            new = retraction(code, target, START + timedelta(days=draw(st.integers(0, 2200))))
        elif kind == "report":
            year = draw(st.integers(2021, 2026))
            report = FinancialsReported(uscc=code, year=year, revenue=Decimal(1000))
            new = NewEvent(report, date(year + 1, 3, 31), actor="test")
        else:
            track = draw(st.sampled_from(TRACKS))
            state, last = states.get((code, track), ("none", START))
            allowed = machines.allowed_actions(reference.track_kind(track), state, system=True)
            if not allowed:
                continue
            action = draw(st.sampled_from(allowed))
            on = last + timedelta(days=draw(st.integers(0, 500)))
            states[(code, track)] = (machines.check_track(track, state, action, system=True), on)
            new = milestone(code, track, action, on)
            made[code].append(new.event_id)
        if pending and pending[-1].uscc == code and draw(st.booleans()):
            pending[-1].events.append(new)
        else:
            pending.append(Append(code, [new]))
    return pending


def write(store: SqlEventStore, appends: Iterable[Append]) -> None:
    for item in appends:
        store.append(enterprise_stream(item.uscc), item.events, None)


def dump(conn: Connection, names: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projections' tables, sorted: equal dumps mean equal views."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for p in registry.select(names):
        for table in p.tables:
            out[table.name] = sorted((tuple(r) for r in conn.execute(sa.select(table))), key=repr)
    return out


def dump_engine(engine: Engine, names: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return dump(conn, names)


def wipe(engine: Engine) -> None:
    """Empty the log, the projections and their checkpoints (between hypothesis examples)."""
    with engine.begin() as conn:
        bypass_append_only(conn)
        for p in registry.select():
            p.reset(conn)
        conn.execute(sa.delete(checkpoints_table))
        conn.execute(sa.delete(idempotency_table))
        conn.execute(sa.delete(events_table))


def status_or_none(engine: Engine, uscc: str, **cutoff: Any) -> StatusView | None:
    """What `srdi status` shows (the read façade), None for an enterprise not registered."""
    try:
        return enterprise_status(services_on(engine), uscc, **cutoff)
    except InvalidInput:
        return None
