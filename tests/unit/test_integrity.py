"""`events.integrity.verify`: `events` counts the whole log, whether or not the chain holds."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.envelope import NewEvent
from events.integrity import verify
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore
from tests.backends import bypass_append_only


def _log(engine: Engine, n: int) -> SqlEventStore:
    store = SqlEventStore(engine)
    for i in range(n):
        event = MilestoneRecorded(uscc=f"U{i}", track="srdi-municipal", action="certified")
        store.append(f"s{i}", [NewEvent(event, occurred_on=date(2023, 3, 1), actor="tester")], 0)
    return store


def test_an_intact_log_counts_every_event(engine: Engine) -> None:
    """ok with every event counted, and the last position and stored hash to note or anchor."""
    store = _log(engine, 6)
    result = verify(engine)
    assert result.ok and result.events == 6
    tail = next(iter(store.read_all(5)))
    assert result.to_json() == {"ok": True, "events": 6, "last_position": 6, "last_hash": tail.hash}


@pytest.mark.parametrize("bad", [1, 3, 6])
def test_a_tampered_log_still_reports_its_length(engine: Engine, bad: int) -> None:
    """`events` is the number of events in the log (docs/cli.md); `checked` how far the walk got."""
    _log(engine, 6)
    with engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.text("UPDATE events SET actor = 'someone-else' WHERE position = :p"), {"p": bad})
    result = verify(engine)
    assert (result.ok, result.events, result.first_bad_position, result.checked) == (False, 6, bad, bad)
    doc = result.to_json()
    assert doc["events"] == 6 and doc["first_bad_position"] == bad and doc["checked"] == bad
    assert {"ok", "events", "first_bad_position", "reason"} <= set(doc) and doc["reason"]


def test_a_deleted_event_counts_what_is_left(engine: Engine) -> None:
    """With position 2 deleted, 5 events remain; the walk fails at the 2nd row read (position 3)."""
    _log(engine, 6)
    with engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.text("DELETE FROM events WHERE position = 2"))
    result = verify(engine)
    assert (result.ok, result.events, result.first_bad_position, result.checked) == (False, 5, 3, 2)
