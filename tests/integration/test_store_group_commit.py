"""Group commit: appends queued behind a leader are written in one transaction, each with its own outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from events.envelope import AppendResult, NewEvent
from events.integrity import verify
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore
from events.store import ConcurrencyConflict, DuplicateEventId


def milestone(event_id: str | None = None) -> NewEvent:
    event = MilestoneRecorded(uscc="U1", track="srdi-municipal", action="certified")
    if event_id is None:
        return NewEvent(event, date(2023, 3, 1), actor="tester")
    return NewEvent(event, date(2023, 3, 1), actor="tester", event_id=event_id)


class HeldLeader:
    """Holds the first group's leader until `release`, so the appends after it queue as one group."""

    def __init__(self, store: SqlEventStore) -> None:
        self.store = store
        self.groups: list[int] = []
        self.leading = threading.Event()
        self.go = threading.Event()
        run = store._group._run_group

        def held(tickets: list[Any]) -> None:
            self.groups.append(len(tickets))
            if len(self.groups) == 1:
                self.leading.set()
                self.go.wait()
            run(tickets)

        store._group._run_group = held

    def queued(self) -> int:
        with self.store._group._mutex:
            return len(self.store._group._queue)


@pytest.fixture
def held(engine: Engine) -> Iterator[HeldLeader]:
    yield HeldLeader(SqlEventStore(engine))


def run_all(calls: dict[str, Callable[[], AppendResult]], held: HeldLeader) -> dict[str, Any]:
    """The first call leads and is held; the others queue behind it; then all are let go."""
    outcomes: dict[str, Any] = {}

    def call(name: str) -> None:
        try:
            outcomes[name] = calls[name]()
        except Exception as error:
            outcomes[name] = error

    names = list(calls)
    first = threading.Thread(target=call, args=(names[0],))
    first.start()
    assert held.leading.wait(30)
    others = []
    for name in names[1:]:  # queued one by one, so the group's order is known
        thread = threading.Thread(target=call, args=(name,))
        thread.start()
        others.append(thread)
        while held.queued() < len(others):
            threading.Event().wait(0.001)
    held.go.set()
    for thread in [first, *others]:
        thread.join(60)
    return outcomes


def test_queued_appends_commit_together_each_with_its_own_positions_or_conflict(held: HeldLeader) -> None:
    """One group of three: two are numbered after one another, the one at a stale version conflicts."""
    store = held.store
    out = run_all(
        {
            "first": lambda: store.append("a", [milestone()], 0),
            "b": lambda: store.append("b", [milestone(), milestone()], 0),
            "stale": lambda: store.append("a", [milestone()], 0),  # "a" is at 1 by then
            "c": lambda: store.append("c", [milestone()], 0),
        },
        held,
    )
    assert held.groups == [1, 3]
    assert (out["first"].first_position, out["first"].last_position) == (1, 1)
    assert (out["b"].first_position, out["b"].last_position, out["b"].stream_versions) == (2, 3, {"b": 2})
    assert isinstance(out["stale"], ConcurrencyConflict) and out["stale"].actual == 1
    assert (out["c"].first_position, out["c"].last_position) == (4, 4)
    assert [e.position for e in store.read_all()] == [1, 2, 3, 4]
    assert [e.stream_version for e in store.read_stream("a")] == [1]
    assert verify(store.engine).ok


def test_a_duplicate_event_id_in_a_group_fails_only_its_own_append(held: HeldLeader) -> None:
    """The group is rolled back and each append runs alone: the others are written, in order."""
    store = held.store
    taken = "00000000-0000-4000-8000-000000000001"
    out = run_all(
        {
            "first": lambda: store.append("a", [milestone(taken)], 0),
            "b": lambda: store.append("b", [milestone()], 0),
            "duplicate": lambda: store.append("d", [milestone(), milestone(taken)], 0),
            "c": lambda: store.append("c", [milestone()], 0),
        },
        held,
    )
    assert held.groups == [1, 3]
    assert isinstance(out["duplicate"], DuplicateEventId) and out["duplicate"].event_id == taken
    assert (out["b"].first_position, out["c"].first_position) == (2, 3)
    assert store.read_stream("d") == []
    assert [e.stream_id for e in store.read_all()] == ["a", "b", "c"]
    assert verify(store.engine).ok


def test_an_idempotency_key_seen_earlier_in_the_same_group_is_replayed(held: HeldLeader) -> None:
    """Two appends with one key in one group: the second gets the first's result and writes nothing."""
    store = held.store
    out = run_all(
        {
            "first": lambda: store.append("a", [milestone()], 0),
            "keyed": lambda: store.append("k", [milestone()], 0, idempotency_key="k-1"),
            "again": lambda: store.append("k", [milestone()], 0, idempotency_key="k-1"),
        },
        held,
    )
    assert held.groups == [1, 2]
    assert out["again"].replayed and out["again"].event_ids == out["keyed"].event_ids
    assert store.stream_version("k") == 1 and store.last_position() == 2
