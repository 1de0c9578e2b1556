"""The streamed import: the file in chunks inside one transaction, all of it or none of it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from domain.errors import InvalidInput
from events.integrity import verify
from events.sql_store import SqlEventStore
from service_layer.importer import import_csv
from service_layer.policies import LiveReactor
from tests.reliability.support import import_csv_text

DAY = date(2025, 6, 1)


def test_chunks_decide_on_what_earlier_chunks_wrote_and_commit_together(engine: Engine) -> None:
    """Chunks of 2 lines: milestones find their enterprise registered in an earlier chunk; chain intact."""
    store = SqlEventStore(engine)
    data = import_csv_text("CHK", 5).encode()
    report = import_csv(
        store, io.BytesIO(data), today=DAY, actor="clerk", reactor=LiveReactor(store), chunk=2
    )
    assert (report.lines, report.registered, report.milestones, report.skipped) == (15, 5, 10, 0)
    assert report.events == store.last_position() >= 15
    assert verify(engine).ok
    again = import_csv(store, data, today=DAY, actor="clerk", reactor=LiveReactor(store), chunk=2)
    assert (again.events, again.skipped, store.last_position()) == (0, 15, report.events)


def test_a_bad_line_after_several_chunks_leaves_nothing_written(engine: Engine) -> None:
    """A refused last line rolls back every chunk already appended in the transaction."""
    store = SqlEventStore(engine)
    text = import_csv_text("BAD", 4) + "91500000MA5U0000X1,,,no-such.track,2024-01-01,\n"
    with pytest.raises(InvalidInput, match=r"^line 14: "):
        import_csv(store, text.encode(), today=DAY, actor="clerk", reactor=LiveReactor(store), chunk=3)
    assert store.last_position() == 0
    report = import_csv(store, import_csv_text("BAD", 4).encode(), today=DAY, actor="clerk", chunk=3)
    assert report.registered == 4 and store.last_position() == report.events
