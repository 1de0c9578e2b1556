"""Gap-free global order under concurrent writers: a tailing reader never skips a late commit."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy.engine import Engine

from events.envelope import NewEvent
from events.integrity import verify
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore

WRITERS = 8
APPENDS_EACH = 40


def _event(uscc: str) -> NewEvent:
    return NewEvent(MilestoneRecorded(uscc=uscc, track="hnte", action="certified"), date(2024, 1, 2))


def test_tailing_reader_sees_every_event_in_order_while_8_writers_append(engine: Engine) -> None:
    """8 writer threads append while a reader tails read_all: it sees 1..N with no jump."""
    store = SqlEventStore(engine)
    done = threading.Event()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(APPENDS_EACH):
                # two events per append, alternating one- and two-stream batches
                store.append(f"w{worker}-{i}", [_event("U"), _event("U")], 0)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    seen: list[int] = []

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            for event in store.read_all(last, batch=17):
                seen.append(event.position)
                last = event.position
            if finished:
                return

    reader = threading.Thread(target=tail)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert not errors
    total = WRITERS * APPENDS_EACH * 2
    assert seen == list(range(1, total + 1))
    assert verify(engine).ok
