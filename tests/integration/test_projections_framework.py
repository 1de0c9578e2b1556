"""The projection framework: checkpoints move with their rows, catch-up is idempotent and gap-safe."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.sql_store import SqlEventStore
from events.tracking import rewind_position
from projections import feed, registry
from projections.feed import _batches, catch_up, checkpoints, private_view, rebuild, snapshot
from projections.fold import EnterpriseFold
from projections.framework import Cutoff, checkpoints_table, date_param, insert_rows
from projections.status import StatusProjection, enterprises_table
from projections.targets import TargetsProjection
from tests.integration.projections_support import (
    append,
    dump,
    dump_engine,
    milestone,
    registered,
    uscc,
)


def _three_enterprises(store: SqlEventStore) -> list[str]:
    """Positions 1–5: A (registration + 4 milestones); 6–10: B likewise; 11–12: C."""
    codes = [uscc(1), uscc(2), uscc(3)]
    for code, n in zip(codes, (4, 4, 1), strict=True):
        steps = [("hnte", "certified"), ("srdi-municipal", "applied"), ("srdi-municipal", "certified")]
        steps += [("listing", "otc-listed")]
        events = [milestone(code, t, a, date(2023, 1, 1 + i)) for i, (t, a) in enumerate(steps[:n])]
        append(store, code, registered(code, date(2022, 12, 1)), *events)
    return codes


def _status_usccs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(enterprises_table.c.uscc)).scalars())


def test_a_failure_mid_batch_rolls_back_rows_and_checkpoint_together(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after a batch's rows are written leaves neither those rows nor a moved checkpoint."""
    codes = _three_enterprises(SqlEventStore(engine))
    real = StatusProjection.write
    calls: list[int] = []

    def crash_on_second_batch(
        self: StatusProjection, conn: Connection, folds: Sequence[EnterpriseFold], stale: Sequence[str]
    ) -> None:
        real(self, conn, folds, stale)  # the rows are written inside the transaction …
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")  # … and then it dies

    monkeypatch.setattr(StatusProjection, "write", crash_on_second_batch)
    monkeypatch.setattr(feed, "HELD_FOLDS", 1)  # the views are written after every batch
    with pytest.raises(RuntimeError):
        catch_up(engine, ["status"], batch=5)
    assert checkpoints(engine)["status"] == 5
    assert _status_usccs(engine) == [codes[0]]
    monkeypatch.undo()
    catch_up(engine, ["status"], batch=5)
    assert _status_usccs(engine) == sorted(codes)
    caught_up = dump_engine(engine, ["status"])
    rebuild(engine, names=["status"])
    assert dump_engine(engine, ["status"]) == caught_up


def test_a_failing_checkpoint_write_rolls_back_the_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written but the checkpoint update fails: the batch's rows are not kept either."""
    _three_enterprises(SqlEventStore(engine))

    def broken(conn: Connection, name: str, position: int, *, exists: bool | None = None) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(feed, "_set_checkpoint", broken)
    with pytest.raises(RuntimeError):
        catch_up(engine, ["status"], batch=100)
    assert _status_usccs(engine) == []
    assert "status" not in checkpoints(engine)


def test_catch_up_is_idempotent(engine: Engine) -> None:
    """A second catch-up with nothing new writes nothing and changes nothing."""
    _three_enterprises(SqlEventStore(engine))
    first = catch_up(engine, batch=4)
    assert first.events_read == 12 and first.applied["status"] == 12
    before = dump_engine(engine)
    again = catch_up(engine)
    assert again.events_read == 0 and again.position == 12
    assert dump_engine(engine) == before
    assert set(checkpoints(engine).values()) == {12}


def test_projections_keep_their_own_checkpoints(engine: Engine) -> None:
    """Catching up one projection leaves the others where they were, but for the enterprise views,
    which move together (the targets view is folded from the folds the status view keeps)."""
    store = SqlEventStore(engine)
    _three_enterprises(store)
    catch_up(engine, ["ledger"])
    assert checkpoints(engine) == {"ledger": 12}
    catch_up(engine, ["targets"])
    assert checkpoints(engine) == {"ledger": 12, "status": 12, "targets": 12}
    catch_up(engine)
    assert set(checkpoints(engine).values()) == {12}


def test_projections_at_different_checkpoints_are_fed_apart_and_end_equal(engine: Engine) -> None:
    """The enterprise views behind the others: each group gets only its own unseen events."""
    store = SqlEventStore(engine)
    _three_enterprises(store)
    catch_up(engine, ["facilities"])
    catch_up(engine, ["targets"], until_position=7)
    result = catch_up(engine, batch=4)
    assert result.applied == {"status": 5, "targets": 5, "ledger": 0, "facilities": 0}
    caught_up = dump_engine(engine)
    rebuild(engine)
    assert dump_engine(engine) == caught_up


@pytest.mark.parametrize("behind", ["status", "targets"])
def test_enterprise_views_standing_apart_are_built_again_together(engine: Engine, behind: str) -> None:
    """A checkpoint of one enterprise view moved back by hand: the two cannot be folded together, so
    a catch-up empties both and builds them from the log's start, and a private view (a session
    that may not write them) folds them afresh; both give what a rebuild gives."""
    store = SqlEventStore(engine)
    codes = _three_enterprises(store)
    catch_up(engine)
    append(store, codes[2], milestone(codes[2], "tech-sme", "certified", date(2024, 5, 1)))
    rebuild(engine)
    rebuilt = dump_engine(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE tracking SET position = 3 WHERE name = :n"), {"n": behind})
    with private_view(engine, ["targets"]) as conn:
        privately = dump(conn, ["status", "targets"])
    assert privately == {name: rows for name, rows in rebuilt.items() if name in privately}
    assert checkpoints(engine)[behind] == 3  # the private view wrote nothing
    result = catch_up(engine, ["targets"])
    assert result.applied["status"] == result.applied["targets"] == store.last_position()
    assert dump_engine(engine) == rebuilt
    assert set(checkpoints(engine).values()) == {store.last_position()}


def test_a_reset_elsewhere_mid_catch_up_makes_it_read_again_instead_of_skipping(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild in another process resets a checkpoint between two batches of a catch-up.

    The catch-up must not apply its next batch on top of the emptied table (events 1-5 would be
    lost); it reads again from the reset checkpoint, and the view ends equal to a fresh rebuild.
    """
    codes = _three_enterprises(SqlEventStore(engine))
    real = feed._write_folds
    resets: list[int] = []

    def reset_after_first_batch(*args: Any) -> None:
        real(*args)
        if not resets:
            resets.append(1)
            with feed._write(engine) as conn:
                for view in (StatusProjection(), TargetsProjection()):
                    view.reset(conn)
                    rewind_position(conn, view.name, 0)  # what a rebuild does

    monkeypatch.setattr(feed, "_write_folds", reset_after_first_batch)
    monkeypatch.setattr(feed, "HELD_FOLDS", 1)  # the views are written after every batch
    result = catch_up(engine, ["status"], batch=5)
    assert resets and result.events_read == 12
    assert _status_usccs(engine) == sorted(codes)
    assert checkpoints(engine)["status"] == 12
    monkeypatch.undo()
    caught_up = dump_engine(engine, ["status"])
    rebuild(engine, names=["status"])
    assert dump_engine(engine, ["status"]) == caught_up


def test_concurrent_writers_and_catch_ups_never_skip_or_double_an_event(engine: Engine) -> None:
    """6 writers append while 2 threads catch up in small batches: the result equals a rebuild."""
    store = SqlEventStore(engine)
    errors: list[BaseException] = []
    done = threading.Event()

    def write(worker: int) -> None:
        try:
            for i in range(12):
                code = uscc(100 * worker + i)
                append(
                    store,
                    code,
                    registered(code, date(2022, 1, 1)),
                    milestone(code, "tech-sme", "certified", date(2023, 1, 1 + i)),
                )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def follow() -> None:
        try:
            while not done.is_set():
                catch_up(engine, batch=7)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    followers = [threading.Thread(target=follow) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in followers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in followers:
        thread.join()
    assert not errors
    catch_up(engine)
    assert set(checkpoints(engine).values()) == {store.last_position()} == {6 * 12 * 2}
    assert len(_status_usccs(engine)) == 6 * 12
    live = dump_engine(engine)
    rebuild(engine)
    assert dump_engine(engine) == live


class _Store:
    """A store whose position 3 commits late: the first reads show 1, 2, 4."""

    def __init__(self) -> None:
        self.reads = 0

    def read_rows(self, after: int, *, batch: int, until_position: int | None = None) -> Iterator[list[Any]]:
        self.reads += 1
        visible = [1, 2, 4] if self.reads <= 2 else [1, 2, 3, 4]
        yield [(p,) for p in visible if p > after]


def test_a_hole_is_waited_for_so_a_late_commit_is_not_skipped() -> None:
    """Catch-up reads up to a hole, waits, and resumes at the late event once it is visible."""
    store = _Store()
    got = [row[0] for rows in _batches(store, 0, 4, 10) for row in rows]  # type: ignore[arg-type]
    assert got == [1, 2, 3, 4]
    assert store.reads == 3


def test_migrated_tables_match_the_projection_modules(engine: Engine) -> None:
    """Every registered projection's tables (and the checkpoints) exist with the columns the code uses."""
    inspector = sa.inspect(engine)
    for table in [checkpoints_table, *(t for p in registry.select() for t in p.tables)]:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


def test_unknown_projection_names_are_refused() -> None:
    """Asking for a projection that does not exist is an error naming the known ones."""
    with pytest.raises(KeyError, match="status"):
        registry.select(["nope"])


def test_insert_rows_writes_what_sqlalchemy_would_and_refuses_other_column_types(engine: Engine) -> None:
    """The bulk row path stores dates and texts exactly as ``sa.insert`` does, on both backends."""
    scratch = sa.MetaData()
    fast = sa.Table("t_fast_rows", scratch, sa.Column("k", sa.String(10), primary_key=True),
                    sa.Column("n", sa.Integer), sa.Column("d", sa.Date))  # fmt: skip
    slow = sa.Table("t_slow_rows", scratch, sa.Column("k", sa.String(10), primary_key=True),
                    sa.Column("n", sa.Integer), sa.Column("d", sa.Date))  # fmt: skip
    money = sa.Table("t_money_rows", scratch, sa.Column("k", sa.String(10), primary_key=True),
                     sa.Column("amount", sa.Numeric(14, 2)))  # fmt: skip
    scratch.create_all(engine)
    try:
        values = [("a", 1, date(2024, 2, 29)), ("b", None, None), ("中", -7, date(1999, 12, 31))]
        with engine.begin() as conn:
            insert_rows(conn, fast, [(v[0], v[1], date_param(conn)(v[2])) for v in values])
            conn.execute(sa.insert(slow), [dict(zip(("k", "n", "d"), v, strict=True)) for v in values])
        with engine.connect() as conn:
            for table in (fast, slow):
                raw = conn.execute(
                    sa.text(f"SELECT k, n, CAST(d AS VARCHAR(10)) FROM {table.name} ORDER BY k")
                )
                typed = conn.execute(sa.select(table).order_by(table.c.k))
                assert (list(raw), list(typed)) == (
                    [("a", 1, "2024-02-29"), ("b", None, None), ("中", -7, "1999-12-31")],
                    sorted(values, key=lambda v: v[0]),
                ), table.name
        with engine.begin() as conn, pytest.raises(TypeError, match="amount"):
            insert_rows(conn, money, [("a", 1)])
    finally:
        scratch.drop_all(engine)


def _interleaved(store: SqlEventStore) -> list[str]:
    """Three enterprises recorded in turn, as a district's log holds them: 3 registrations, then
    one milestone of each in turn, three times (positions 1-12)."""
    codes = [uscc(1), uscc(2), uscc(3)]
    for code in codes:
        append(store, code, registered(code, date(2022, 12, 1)))
    steps = [("hnte", "certified"), ("srdi-municipal", "applied"), ("srdi-municipal", "certified")]
    for i, (track, action) in enumerate(steps):
        for code in codes:
            append(store, code, milestone(code, track, action, date(2023, 1, 1 + i)))
    return codes


@pytest.mark.parametrize("held, writes", [(20_000, 3), (3, 9), (0, 12)])
def test_an_enterprise_spread_over_the_log_is_written_once_per_write_of_the_views(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, held: int, writes: int
) -> None:
    """Read in windows of 2 positions, the interleaved log touches each enterprise in 4 windows; the
    catch-up holds the folds and writes each enterprise's rows once (room for all three), three
    times (room for three: a write every second window), or, holding none, once per window it is
    touched in (12 writes of an enterprise); the rows are the same whatever it holds."""
    codes = _interleaved(SqlEventStore(engine))
    real = StatusProjection.write
    written: list[str] = []

    def counting(
        self: StatusProjection, conn: Connection, folds: Sequence[EnterpriseFold], stale: Sequence[str]
    ) -> None:
        written.extend(f.uscc for f in folds)
        real(self, conn, folds, stale)

    monkeypatch.setattr(StatusProjection, "write", counting)
    monkeypatch.setattr(feed, "HELD_FOLDS", held)
    result = catch_up(engine, batch=2)
    assert result.events_read == 12 and set(checkpoints(engine).values()) == {12}
    assert sorted(set(written)) == sorted(codes)
    assert len(written) == writes
    caught_up = dump_engine(engine)
    monkeypatch.setattr(feed, "HELD_FOLDS", 0)  # the views written after every window
    rebuild(engine, batch=2)
    assert dump_engine(engine) == caught_up


def test_a_snapshot_gives_the_same_rows_whatever_it_holds_between_writes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An as-recorded snapshot of the interleaved log, in windows of 2, holding the folds of none,
    one or all of its enterprises between writes: always the live views' rows."""
    _interleaved(SqlEventStore(engine))
    catch_up(engine)
    live = dump_engine(engine)
    for held in (0, 1, 20_000):
        monkeypatch.setattr(feed, "HELD_FOLDS", held)
        with snapshot(engine, None, Cutoff(), batch=2) as snap:
            assert dump(snap.conn) == live, held
