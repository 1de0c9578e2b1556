"""The event table refuses UPDATE, DELETE and TRUNCATE on PostgreSQL; SQLite cannot promise it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.envelope import NewEvent
from events.integrity import verify
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore


def _three(engine: Engine) -> None:
    store = SqlEventStore(engine)
    for i in range(3):
        event = MilestoneRecorded(uscc=f"U{i}", track="hnte", action="certified")
        store.append(f"s{i}", [NewEvent(event, date(2024, 1, 1), actor="t")], 0)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET actor = 'mallory' WHERE position = 2", "DELETE FROM events WHERE position = 3",
     "DELETE FROM events", "TRUNCATE events"],
)  # fmt: skip
def test_postgresql_refuses_every_change_to_a_stored_event(engine: Engine, statement: str) -> None:
    """On PostgreSQL each statement fails with insufficient_privilege and the log stays intact."""
    if engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite cannot enforce append-only (docs/trust.md): whoever writes the file can drop a trigger"
        )
    _three(engine)
    with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert getattr(raised.value.orig, "sqlstate", None) == "42501"
    assert "append-only" in str(raised.value)
    result = verify(engine)
    assert result.ok and result.events == 3


def test_inserts_still_append(engine: Engine) -> None:
    """The triggers leave appending alone: three events in, three verified, on both backends."""
    _three(engine)
    assert verify(engine).events == 3
