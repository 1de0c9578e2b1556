"""The event store contract: every back-end (in-memory, SQLite, PostgreSQL) must pass it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from events.envelope import NewEvent, StreamAppend
from events.integrity import verify
from events.memory import InMemoryEventStore
from events.schemas import FinancialsReported, MilestoneRecorded
from events.sql_store import SqlEventStore
from events.store import ConcurrencyConflict, DuplicateEventId, EventStore
from events.tracking import (
    TrackingConflict,
    record_position,
    rewind_position,
    tracked_position,
    tracked_positions,
)
from events.wakeup import LogWaiter
from tests.backends import bypass_append_only, fresh_engine

STORES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    with fresh_engine(request.param, tmp_path) as engine:
        yield SqlEventStore(engine)


def milestone(uscc: str = "U1", action: str = "certified", **kw: Any) -> NewEvent:
    return NewEvent(
        MilestoneRecorded(uscc=uscc, track="srdi-municipal", action=action),
        occurred_on=date(2023, 3, 1),
        actor="tester",
        **kw,
    )


def count(store: EventStore) -> int:
    return sum(1 for _ in store.read_all())


class TestAppendAndRead:
    def test_append_numbers_streams_and_positions(self, store: EventStore) -> None:
        """Appends number events per stream from 1 and globally without gaps."""
        first = store.append("s-a", [milestone(), milestone(action="review-passed")], 0)
        second = store.append("s-b", [milestone("U2")], 0)
        assert (first.first_position, first.last_position) == (1, 2)
        assert second.first_position == 3
        assert first.stream_versions == {"s-a": 2}
        read = store.read_stream("s-a")
        assert [e.stream_version for e in read] == [1, 2]
        assert [e.data["action"] for e in read] == ["certified", "review-passed"]
        assert read[0].actor == "tester" and read[0].occurred_on == date(2023, 3, 1)
        assert [e.position for e in store.read_all()] == [1, 2, 3]

    def test_read_stream_from_version(self, store: EventStore) -> None:
        """read_stream skips the versions the caller already has."""
        store.append("s", [milestone(), milestone(), milestone()], 0)
        assert [e.stream_version for e in store.read_stream("s", from_version=2)] == [3]
        assert store.stream_version("s") == 3
        assert store.stream_version("nothing") == 0

    def test_read_all_in_small_batches_after_and_until(self, store: EventStore) -> None:
        """read_all pages through the log in order and honours after/until positions."""
        for i in range(7):
            store.append(f"s{i}", [milestone()], 0)
        assert [e.position for e in store.read_all(2, batch=2)] == [3, 4, 5, 6, 7]
        assert [e.position for e in store.read_all(0, batch=3, until_position=4)] == [1, 2, 3, 4]
        assert store.last_position() == 7

    def test_read_stream_bounds_order_and_limit(self, store: EventStore) -> None:
        """read_stream honours from/to versions, descending order and a limit, together."""
        store.append("s", [milestone(action=f"a{i}") for i in range(1, 8)], 0)
        store.append("other", [milestone()], 0)

        def versions(**kw: Any) -> list[int]:
            return [e.stream_version for e in store.read_stream("s", **kw)]

        assert versions(from_version=2, to_version=5) == [3, 4, 5]
        assert versions(to_version=2) == [1, 2]
        assert versions(descending=True) == [7, 6, 5, 4, 3, 2, 1]
        assert versions(descending=True, limit=1) == [7]
        assert versions(from_version=1, to_version=6, descending=True, limit=2) == [6, 5]
        assert versions(limit=3) == [1, 2, 3]
        assert versions(limit=0) == [] and versions(from_version=7) == [] and versions(to_version=0) == []
        last = store.read_stream("s", descending=True, limit=1)[0]
        assert last.data["action"] == "a7" and last.position == 7
        assert store.read_stream("nothing", descending=True, limit=1) == []
        with pytest.raises(ValueError):
            store.read_stream("s", limit=-1)

    def test_read_all_filters_by_event_type(self, store: EventStore) -> None:
        """read_all with event_types gives only those types, in order, within the position bounds."""
        for i in range(4):
            store.append(f"s{i}", [milestone(), NewEvent(FinancialsReported(uscc="U", year=2020 + i,
                         revenue=Decimal("1.00")), date(2024, 1, 1))], 0)  # fmt: skip
        money = [e.position for e in store.read_all(event_types=["FinancialsReported"], batch=1)]
        assert money == [2, 4, 6, 8]
        window = store.read_all(3, until_position=6, event_types={"FinancialsReported"})
        assert [e.position for e in window] == [4, 6]
        both = {"FinancialsReported", "MilestoneRecorded"}
        assert [e.position for e in store.read_all(event_types=both, batch=3)] == list(range(1, 9))
        assert list(store.read_all(event_types=[])) == []
        assert list(store.read_all(event_types=["NoSuchType"])) == []

    def test_typed_model_round_trip_keeps_exact_money(self, store: EventStore) -> None:
        """A Decimal amount comes back exactly, and the typed model validates."""
        from decimal import Decimal

        event = FinancialsReported(uscc="U", year=2024, revenue=Decimal("12345678.91"))
        store.append("s", [NewEvent(event, date(2025, 1, 5))], 0)
        back = next(iter(store.read_all())).to_model()
        assert isinstance(back, FinancialsReported)
        assert back.revenue == Decimal("12345678.91")

    def test_get_event_by_id(self, store: EventStore) -> None:
        """An event can be fetched by its id; an unknown id gives None."""
        new = milestone()
        store.append("s", [new], 0)
        found = store.get_event(new.event_id)
        assert found is not None and found.stream_id == "s"
        assert store.get_event("00000000-0000-0000-0000-000000000000") is None


class TestGuards:
    def test_stale_expected_version_conflicts_and_writes_nothing(self, store: EventStore) -> None:
        """A stale expected version raises ConcurrencyConflict and appends nothing."""
        store.append("s", [milestone()], 0)
        with pytest.raises(ConcurrencyConflict) as caught:
            store.append("s", [milestone()], 0)
        assert caught.value.actual == 1
        assert count(store) == 1

    def test_batch_across_streams_is_all_or_nothing(self, store: EventStore) -> None:
        """If one stream of a batch conflicts, no stream of the batch is written."""
        store.append("b", [milestone()], 0)
        batch = [
            StreamAppend("a", (milestone(),), 0),
            StreamAppend("b", (milestone(),), 0),  # stale: b is at 1
        ]
        with pytest.raises(ConcurrencyConflict):
            store.append_batch(batch)
        assert store.stream_version("a") == 0
        assert count(store) == 1

    def test_failure_mid_batch_leaves_nothing(self, store: EventStore) -> None:
        """A duplicate event id late in a large batch aborts the whole batch."""
        existing = milestone()
        store.append("x", [existing], 0)
        events = [milestone() for _ in range(500)] + [milestone(event_id=existing.event_id)]
        with pytest.raises(DuplicateEventId):
            store.append("big", events, 0)
        assert count(store) == 1
        assert store.stream_version("big") == 0

    def test_same_event_id_is_never_stored_twice(self, store: EventStore) -> None:
        """Appending an event id already stored is refused, even to another stream."""
        new = milestone()
        store.append("s", [new], 0)
        with pytest.raises(DuplicateEventId):
            store.append("t", [new], None)
        assert count(store) == 1

    def test_idempotency_key_returns_original_result(self, store: EventStore) -> None:
        """A repeated idempotency key returns the first result and writes nothing."""
        first = store.append("s", [milestone()], 0, idempotency_key="import-1:line-3")
        again = store.append("s", [milestone()], 0, idempotency_key="import-1:line-3")
        assert again.replayed and not first.replayed
        assert again.event_ids == first.event_ids
        assert again.first_position == first.first_position
        assert count(store) == 1

    def test_expected_version_none_appends_anywhere(self, store: EventStore) -> None:
        """expected_version=None skips the check but still numbers the stream correctly."""
        store.append("s", [milestone()], 0)
        result = store.append("s", [milestone()], None)
        assert result.stream_versions == {"s": 2}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlEventStore]:
    with fresh_engine(request.param, tmp_path) as engine:
        yield SqlEventStore(engine)


class TestCheckedAppend:
    """``SqlEventStore.append_batch_checked``: the check sees what came first; a refusal writes nothing."""

    def test_the_check_gets_the_first_position_and_a_refusal_rolls_back(
        self, sql_store: SqlEventStore
    ) -> None:
        sql_store.append("a", [milestone()], 0)
        seen: list[int] = []
        receipt = sql_store.append_batch_checked([StreamAppend("b", (milestone(),), 0)], seen.append)
        assert seen == [receipt.first_position] == [2]

        def refuse(_first: int) -> None:
            raise RuntimeError("an enterprise was registered meanwhile")

        with pytest.raises(RuntimeError, match="meanwhile"):
            sql_store.append_batch_checked([StreamAppend("c", (milestone(),), 0)], refuse)
        assert (sql_store.last_position(), sql_store.stream_version("c")) == (2, 0)

    def test_a_stored_event_id_is_a_duplicate_not_a_driver_error(self, sql_store: SqlEventStore) -> None:
        stored = milestone()
        sql_store.append("a", [stored], 0)
        with pytest.raises(DuplicateEventId):
            sql_store.append_batch_checked([StreamAppend("b", (stored,), 0)], lambda _first: None)
        assert sql_store.last_position() == 1


class TestHashChain:
    def test_untouched_log_verifies(self, sql_store: SqlEventStore) -> None:
        """A log written only through the store verifies, counting every event."""
        for i in range(5):
            sql_store.append(f"s{i}", [milestone(), milestone()], 0)
        result = verify(sql_store.engine)
        assert result.ok and result.events == 10

    @pytest.mark.parametrize(
        "column, value",
        [
            (
                "payload",
                '{"action":"revoked","from_state":null,"override_reason":null,"ref":null,'
                '"to_state":null,"track":"srdi-municipal","uscc":"U1"}',
            ),
            (
                "payload",
                '{"action": "certified", "from_state": null, "override_reason": null, '
                '"ref": null, "to_state": null, "track": "srdi-municipal", "uscc": "U1"}',
            ),
            ("actor", "someone-else"),
            ("occurred_on", date(2023, 3, 2)),
            ("hash", "f" * 64),
            ("stream_id", "s-other"),
        ],
    )
    def test_tampering_is_found_at_its_position(
        self, sql_store: SqlEventStore, column: str, value: object
    ) -> None:
        """Changing any stored column of event 3 makes verify fail at position 3."""
        for i in range(5):
            sql_store.append(f"s{i}", [milestone()], 0)
        with sql_store.engine.begin() as conn:
            bypass_append_only(conn)
            conn.execute(sa.text(f"UPDATE events SET {column} = :v WHERE position = 3"), {"v": value})
        result = verify(sql_store.engine)
        assert not result.ok
        assert result.first_bad_position == 3
        assert result.reason

    def test_deleted_event_is_found(self, sql_store: SqlEventStore) -> None:
        """Deleting an event breaks the chain at the position after the gap."""
        for i in range(4):
            sql_store.append(f"s{i}", [milestone()], 0)
        with sql_store.engine.begin() as conn:
            bypass_append_only(conn)
            conn.execute(sa.text("DELETE FROM events WHERE position = 2"))
        result = verify(sql_store.engine)
        assert (result.ok, result.first_bad_position) == (False, 3)


class TestUpcasting:
    def test_v1_registration_is_read_as_v2_and_never_rewritten(self, sql_store: SqlEventStore) -> None:
        """A stored v1 EnterpriseRegistered reads as v2 (size key, department) and stays v1."""
        from events.schemas import EnterpriseRegistered

        new = NewEvent(
            EnterpriseRegistered(uscc="U", name="甲", district="yubei", size="small"),
            date(2023, 1, 1),
        )
        sql_store.append("enterprise-U", [new], 0)
        v1_payload = '{"district":"yubei","name":"甲","size":"小型","uscc":"U"}'
        with sql_store.engine.begin() as conn:
            bypass_append_only(conn)
            conn.execute(sa.text("UPDATE events SET schema_version = 1, payload = :p"), {"p": v1_payload})
        event = sql_store.read_stream("enterprise-U")[0]
        model = event.to_model()
        assert isinstance(model, EnterpriseRegistered)
        assert model.size == "small" and model.department is None
        assert event.schema_version == 1
        with sql_store.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT payload FROM events")).scalar()
        assert stored == v1_payload


class TestFoldReads:
    """What a rebuild's folds read: streams whole and in order, the wanted types only, up to a
    position, each event's parts as ``read_all`` decodes them (upcast), and nothing else of a row."""

    def test_streams_come_whole_in_order_with_the_parts_read_all_gives(
        self, sql_store: SqlEventStore
    ) -> None:
        from events.schemas import EnterpriseRegistered

        registration = NewEvent(
            EnterpriseRegistered(uscc="U", name="重庆甲", district="yubei"), date(2023, 1, 1)
        )
        sql_store.append("enterprise-U", [registration], 0)
        for n in range(3):  # the two streams interleaved in the log, with a type no fold wants
            sql_store.append(
                "enterprise-A", [milestone("A", "certified" if n == 0 else "review-passed")], None
            )
            sql_store.append(
                "enterprise-B",
                [
                    milestone("B"),
                    NewEvent(FinancialsReported(uscc="B", year=2023, revenue=Decimal(1)), date(2024, 5, 1)),
                ],
                None,
            )
        sql_store.append("enterprise-A", [milestone("A", "revoked")], None)  # past the end read
        end = sql_store.last_position() - 1
        with sql_store.engine.begin() as conn:  # the registration stored as its version 1
            bypass_append_only(conn)
            conn.execute(
                sa.text(
                    "UPDATE events SET schema_version = 1, payload = :p WHERE stream_id = 'enterprise-U'"
                ),
                {"p": '{"district":"yubei","name":"重庆甲","size":"小型","uscc":"U"}'},
            )
        wanted = ["EnterpriseRegistered", "MilestoneRecorded"]
        rows = [row for batch in sql_store.read_by_stream(wanted, end, batch=2) for row in batch]
        expected = sorted(
            (e for e in sql_store.read_all() if e.event_type in wanted and e.position <= end),
            key=lambda e: (e.stream_id, e.stream_version),
        )
        assert [(r[2], r[3]) for r in rows] == [(e.stream_id, e.stream_version) for e in expected]
        assert [r[0] for r in rows] == [e.position for e in expected]
        parts, new_batch = sql_store.parts_decoder()
        new_batch()
        assert [parts(r) for r in rows] == [
            (e.event_type, e.event_id, e.occurred_on, e.data) for e in expected
        ]
        assert parts(rows[-1])[3]["size"] == "small"  # upcast, as read_all reads it
        assert {len(r) for r in rows} == {8}  # only what a fold reads: no envelope, no hash

    def test_the_stream_read_tests_each_type_in_the_index_before_fetching_the_event(
        self, sql_store: SqlEventStore
    ) -> None:
        """On SQLite the stream key's index carries the type: an event of a type no fold wants (a
        yearly report, two fifths of the demo log) is passed over in the index, not read from its
        page. PostgreSQL, which would test the type only on the fetched row anyway, has no such
        index."""
        engine = sql_store.engine
        indexes = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("events")}
        if engine.dialect.name != "sqlite":
            assert "ix_events_stream_type" not in indexes
            return
        assert indexes["ix_events_stream_type"] == ["stream_id", "stream_version", "event_type"]
        statement = sql_store._sql.by_stream(2)
        with engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", ("A", "B", 10, "", 0, 5))
            )
        assert "USING INDEX ix_events_stream_type" in plan and "TEMP B-TREE" not in plan


class TestTracking:
    """``events.tracking``: a follower's position commits with its rows and never goes back."""

    def test_position_moves_with_the_followers_rows_and_rolls_back_with_them(
        self, sql_store: SqlEventStore
    ) -> None:
        """A tracked position and a follower's row commit together, and roll back together."""
        engine = sql_store.engine
        scratch = sa.Table(f"follower_rows_{uuid.uuid4().hex[:8]}", sa.MetaData(), sa.Column("n", sa.Integer))
        scratch.create(engine)
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(scratch).values(n=1))
                record_position(conn, "mailer", 5)
            assert tracked_position(engine, "mailer") == 5
            with pytest.raises(RuntimeError), engine.begin() as conn:
                conn.execute(sa.insert(scratch).values(n=2))
                record_position(conn, "mailer", 9)
                raise RuntimeError("crash before commit")
            assert tracked_position(engine, "mailer") == 5
            with engine.connect() as conn:
                assert conn.execute(sa.select(scratch.c.n)).scalars().all() == [1]
        finally:
            scratch.drop(engine)

    def test_a_lower_or_equal_position_is_refused(self, sql_store: SqlEventStore) -> None:
        """Recording a position at or below the stored one raises TrackingConflict and changes nothing."""
        engine = sql_store.engine
        with engine.begin() as conn:
            record_position(conn, "mailer", 7)
        for stale in (7, 3):
            with pytest.raises(TrackingConflict) as caught, engine.begin() as conn:
                record_position(conn, "mailer", stale)
            assert (caught.value.stored, caught.value.position) == (7, stale)
        assert tracked_position(engine, "mailer") == 7
        with engine.begin() as conn:
            record_position(conn, "mailer", 8)
            rewind_position(conn, "other", 4)
            rewind_position(conn, "other", 0)
        assert tracked_positions(engine) == {"mailer": 8, "other": 0}
        assert tracked_position(engine, "never") == 0

    def test_two_workers_of_one_follower_cannot_both_record(self, sql_store: SqlEventStore) -> None:
        """Of two concurrent transactions recording the same follower past the same point, one is refused."""
        engine = sql_store.engine
        with engine.begin() as conn:
            record_position(conn, "worker", 1)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def work() -> None:
            barrier.wait()
            try:
                with engine.connect() as conn:
                    conn = conn.execution_options(srdi_write=True)
                    with conn.begin():
                        record_position(conn, "worker", 10)
                outcomes.append("recorded")
            except TrackingConflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["recorded", "refused"]
        assert tracked_position(engine, "worker") == 10


class TestWakeup:
    def test_waiter_wakes_on_an_append_and_times_out_without_one(self, sql_store: SqlEventStore) -> None:
        """LogWaiter returns the new last position after an append, and the old one at its timeout."""
        sql_store.append("a", [milestone()], 0)
        with LogWaiter(sql_store.engine, poll_seconds=0.02) as waiter:
            assert waiter.listening == (sql_store.engine.dialect.name == "postgresql")
            assert waiter.wait(1, timeout=0.05) == 1
            timer = threading.Timer(0.1, lambda: sql_store.append("b", [milestone()], 0))
            timer.start()
            try:
                assert waiter.wait(1, timeout=30) == 2
            finally:
                timer.join()
            assert waiter.wait(0, timeout=0) == 2
