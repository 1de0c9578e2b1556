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


@pytest.mark.parametrize(
    "actor, causation, stream, payload",
    [
        ("tester", None, "enterprise-U1", '{"a":1}'),
        ('区县"经信委"\n', "c-1", "s\u2028x", '{"name":"重庆"}'),
    ],
)
def test_parts_prepared_before_the_lock_join_into_the_canonical_text(
    actor: str, causation: str | None, stream: str, payload: str
) -> None:
    """canonical_parts + assemble give byte for byte canonical_text (what verify recomputes)."""
    from events import canonical

    fields = dict(
        event_id="e-1", stream_id=stream, event_type="MilestoneRecorded", schema_version=2,
        occurred_on="2024-03-01", actor=actor, causation_id=causation, correlation_id=None, payload=payload,
    )  # fmt: skip
    head, middle = canonical.canonical_parts(**fields)  # type: ignore[arg-type]
    recorded = "2025-01-02T03:04:05.000006Z"
    joined = canonical.assemble(head, 12345, canonical.recorded_part(recorded), middle, 7)
    expected = canonical.canonical_text(
        position=12345,
        stream_version=7,
        recorded_at=recorded,
        **fields,  # type: ignore[arg-type]
    )
    assert joined == expected
