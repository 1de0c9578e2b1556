"""Rebuild == incremental, and every as-of path == a rebuild from the events it admits (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from domain.policy.targets import Target
from events.db import make_engine
from events.migrate import ensure_schema
from events.schemas import enterprise_stream
from events.sql_store import SqlEventStore
from projections import feed, registry
from projections.feed import catch_up, checkpoints, rebuild, snapshot
from projections.fold import FoldBuffer
from projections.framework import Cutoff
from projections.status import read_status_rows
from projections.targets import actual
from tests.integration.projections_support import (
    Append,
    append,
    dump,
    dump_engine,
    histories,
    milestone,
    registered,
    status_or_none,
    uscc,
    wipe,
    write,
)

HYPOTHESIS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = list(registry.PROJECTIONS)


def _targets() -> list[Target]:
    """One synthetic target per countable measure, basis, year and department."""
    out = []
    for measure in ("tech-sme", "srdi-municipal", "new-listings", "listed-srdi"):
        for year in (2022, 2024, 2027):
            for basis in ("total", "new-in-year", "new-in-period", "new-each-year"):
                for department in (None, "区科技局"):
                    out.append(
                        Target(
                            measure=measure,
                            label_zh=measure,
                            year=year,
                            from_year=2021 if basis in ("new-in-period", "new-each-year") else None,
                            value=1,
                            basis=basis,
                            department=department,
                            article="t",
                            source_zh="t",
                        )
                    )
    return out


TARGETS = _targets()


@HYPOTHESIS
@given(history=histories(), batch=st.integers(1, 6), subsets=st.data())
def test_rebuild_equals_incremental_on_random_histories(
    engine: Engine, history: list[Append], batch: int, subsets: st.DataObject
) -> None:
    """Catching up after every append (random batch sizes and projection subsets) == one rebuild."""
    wipe(engine)
    store = SqlEventStore(engine)
    for item in history:
        write(store, [item])
        names = subsets.draw(st.lists(st.sampled_from(NAMES), min_size=1, unique=True))
        catch_up(engine, names, batch=batch)
    catch_up(engine, batch=batch)
    incremental = dump_engine(engine)
    assert set(checkpoints(engine).values()) == {store.last_position()}
    result = rebuild(engine, batch=subsets.draw(st.integers(1, 50)))
    assert dump_engine(engine) == incremental
    assert result.events == store.last_position()
    rows = {name: sum(len(incremental[t.name]) for t in p.tables) for name, p in registry.PROJECTIONS.items()}
    assert result.projections == rows


@HYPOTHESIS
@given(history=histories(), day=st.dates(date(2020, 6, 1), date(2029, 1, 1)))
def test_as_of_fast_paths_equal_a_rebuild_up_to_that_day(
    engine: Engine, history: list[Append], day: date
) -> None:
    """status (stream fold) and targets (history-aware rows) as of a day == a snapshot up to that day."""
    wipe(engine)
    write(SqlEventStore(engine), history)
    catch_up(engine)
    usccs = {item.uscc for item in history}
    with snapshot(engine, ["status", "targets"], Cutoff(as_of=day), batch=7) as snap:
        for code in usccs:
            assert status_or_none(engine, code, as_of=day) == read_status_rows(snap.conn, code)
        for district in ("qianjiang", "yubei"):
            rebuilt = [actual(snap.conn, district, t, day) for t in TARGETS]
            with engine.connect() as live:
                assert [actual(live, district, t, day) for t in TARGETS] == rebuilt


@HYPOTHESIS
@given(history=histories(max_steps=12))
def test_recorded_before_shows_what_the_log_knew_then(engine: Engine, history: list[Append]) -> None:
    """A snapshot recorded-before the end of append i == the incremental views right after append i."""
    wipe(engine)
    store = SqlEventStore(engine)
    seen: list[tuple[datetime, dict[str, list[tuple[object, ...]]]]] = []
    for item in history:
        write(store, [item])
        catch_up(engine)
        last = store.get_event(item.events[-1].event_id)
        assert last is not None
        seen.append((last.recorded_at + timedelta(microseconds=1), dump_engine(engine)))
    for moment, expected in seen:
        with snapshot(engine, None, Cutoff(recorded_before=moment)) as snap:
            assert dump(snap.conn) == expected
    with snapshot(engine, None, Cutoff(recorded_before=datetime(2000, 1, 1, tzinfo=UTC))) as snap:
        assert snap.events == 0 and set(snap.rows.values()) == {0}


def _view_indexes(engine: Engine) -> dict[str, set[str]]:
    """The non-unique indexes each view table has in the database."""
    inspector = sa.inspect(engine)
    return {
        t.name: {i["name"] for i in inspector.get_indexes(t.name) if not i["unique"] and i["name"]}
        for p in registry.select()
        for t in p.tables
    }


EXPECTED_INDEXES = {
    t.name: {str(i.name) for i in t.indexes if not i.unique} for p in registry.select() for t in p.tables
}


@settings(HYPOTHESIS, max_examples=5)
@given(history=histories())
def test_a_rebuild_ends_with_every_view_index_in_place(engine: Engine, history: list[Append]) -> None:
    """A rebuild drops the views' secondary indexes while it fills them and creates them at its end,
    the same indexes the schema has; the rows are those of a catch-up on the indexed tables."""
    wipe(engine)
    store = SqlEventStore(engine)
    for item in history:
        write(store, [item])
    catch_up(engine)
    incremental = dump_engine(engine)
    assert _view_indexes(engine) == EXPECTED_INDEXES
    rebuild(engine, batch=3)
    assert _view_indexes(engine) == EXPECTED_INDEXES
    assert dump_engine(engine) == incremental


@settings(HYPOTHESIS, max_examples=3)
@given(history=histories())
def test_a_rebuild_that_fails_part_way_leaves_the_views_as_they_were(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, history: list[Append]
) -> None:
    """A rebuild builds the views aside and replaces the live ones in one transaction at its end:
    one that dies part-way leaves the live rows, checkpoints and indexes untouched."""
    wipe(engine)
    store = SqlEventStore(engine)
    write(store, history)
    catch_up(engine)
    before, at = dump_engine(engine), checkpoints(engine)
    real = FoldBuffer.write

    def failing(self: FoldBuffer, conn: Any, projections: Any) -> None:
        real(self, conn, projections)
        raise RuntimeError("disk full")

    monkeypatch.setattr(FoldBuffer, "write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        rebuild(engine)
    assert dump_engine(engine) == before and checkpoints(engine) == at
    assert _view_indexes(engine) == EXPECTED_INDEXES
    monkeypatch.undo()
    rebuild(engine)  # nothing of the failed one is left in the way
    assert dump_engine(engine) == before


def _two_enterprises_interleaved(store: SqlEventStore) -> list[str]:
    codes = [uscc(31), uscc(32)]
    for code in codes:
        append(store, code, registered(code, date(2022, 12, 1)))
    for i, (track, action) in enumerate([("hnte", "certified"), ("srdi-municipal", "applied")]):
        for code in codes:
            append(store, code, milestone(code, track, action, date(2023, 1, 1 + i)))
    return codes


def test_a_milestone_outside_its_enterprise_stream_makes_the_rebuild_fold_in_log_order(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handlers put an enterprise's events in its stream, but the log is not trusted to: an
    event naming one enterprise in another stream is folded where the log puts it, as a catch-up
    folds it, not dropped by a stream-by-stream read."""
    wipe(engine)
    store = SqlEventStore(engine)
    first, second = _two_enterprises_interleaved(store)
    store.append(
        enterprise_stream(second), [milestone(first, "srdi-municipal", "certified", date(2023, 3, 1))], None
    )
    catch_up(engine)
    incremental = dump_engine(engine)
    assert status_or_none(engine, first) is not None
    monkeypatch.setattr(feed, "WRITE_CHUNK", 1)  # the first enterprise is written before the stray
    result = rebuild(engine, batch=2)
    assert dump_engine(engine) == incremental
    assert result.events == store.last_position()


def test_events_appended_and_views_caught_up_during_a_rebuild_are_in_the_views_after_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the rebuild's read of the log and its publication, a clerk appends and a reader
    catches the live views up past it: the rebuild publishes the views as of its end, then
    catches up, so nothing is lost or applied twice."""
    wipe(engine)
    store = SqlEventStore(engine)
    first, second = _two_enterprises_interleaved(store)
    real = feed._publish

    def meanwhile(*args: Any) -> None:
        append(store, first, milestone(first, "srdi-municipal", "certified", date(2023, 4, 1)))
        append(store, second, milestone(second, "hnte", "revoked", date(2023, 5, 1)))
        catch_up(engine)
        real(*args)

    monkeypatch.setattr(feed, "_publish", meanwhile)
    result = rebuild(engine, batch=2)
    rebuilt = dump_engine(engine)
    assert result.events == store.last_position() == 8
    assert set(checkpoints(engine).values()) == {8}
    monkeypatch.undo()
    wipe_views_only = rebuild(engine)
    assert wipe_views_only.events == 8 and dump_engine(engine) == rebuilt


def _built(engine: Engine) -> tuple[SqlEventStore, str, str]:
    """Two enterprises' interleaved histories on an emptied database, their views caught up."""
    wipe(engine)
    store = SqlEventStore(engine)
    first, second = _two_enterprises_interleaved(store)
    catch_up(engine)
    return store, first, second


def test_a_rebuild_over_views_gone_wrong_writes_only_the_difference_and_mends_them(engine: Engine) -> None:
    """A row edited (a value changed, a value made NULL, a NULL given a value), a row added, a row
    deleted in the live views: the rebuild's comparison of the live rows with the ones it built
    deletes and inserts exactly those, and the views are right."""
    store, first, second = _built(engine)
    right = dump_engine(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE status_titles SET state = 'revoked' WHERE uscc = :u"), {"u": first})
        conn.execute(sa.text("DELETE FROM status_enterprises WHERE uscc = :u"), {"u": second})
        conn.execute(sa.text("UPDATE status_enterprises SET name = NULL WHERE uscc = :u"), {"u": first})
        listed = "UPDATE status_enterprises SET listing_stage = 'ipo-listed' WHERE uscc = :u"
        conn.execute(sa.text(listed), {"u": first})
        conn.execute(
            sa.text(
                "INSERT INTO targets_firsts (uscc, subject, first_on, district, department_key) "
                "VALUES (:u, 'forged', '2020-01-01', 'qianjiang', NULL)"
            ),
            {"u": second},
        )
    assert dump_engine(engine) != right
    untouched = _physical_rows(engine, second)  # its titles, with NULL dates: equal, so kept
    assert len(untouched) == 2
    rebuild(engine)
    assert dump_engine(engine) == right
    assert set(checkpoints(engine).values()) == {store.last_position()}
    assert _physical_rows(engine, second) == untouched


def test_a_rebuild_puts_back_rows_missing_from_views_otherwise_right(engine: Engine) -> None:
    """Rows only deleted from the live views (nothing there to delete in turn): the rebuild's
    comparison still inserts them, in every table that lost some, and leaves the others alone."""
    store, first, second = _built(engine)
    right = dump_engine(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM status_titles WHERE uscc = :u"), {"u": first})
        conn.execute(sa.text("DELETE FROM targets_periods WHERE uscc = :u"), {"u": second})
    assert dump_engine(engine) != right
    untouched = _physical_rows(engine, second)
    rebuild(engine)
    assert dump_engine(engine) == right
    assert set(checkpoints(engine).values()) == {store.last_position()}
    assert _physical_rows(engine, second) == untouched


def _physical_rows(engine: Engine, code: str) -> list[Any]:
    """Where ``status_titles`` rows of ``code`` lie (rowid / ctid): a rewritten row moves."""
    where = "rowid" if engine.dialect.name == "sqlite" else "ctid::text"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"SELECT {where} FROM status_titles WHERE uscc = :u ORDER BY track"), {"u": code}
        )
        return [r[0] for r in rows]


def test_a_rebuild_reports_its_progress_pass_by_pass_and_ends_at_the_log_end(engine: Engine) -> None:
    """The stream-by-stream pass reports events folded of events to fold, the log-order pass
    positions of the log's end; each only moves forward, and the last report is the end."""
    wipe(engine)
    store = SqlEventStore(engine)
    _two_enterprises_interleaved(store)
    seen: list[tuple[int, int]] = []
    rebuild(engine, batch=2, progress=lambda done, total: seen.append((done, total)))
    end = store.last_position()
    assert seen[-1] == (end, end)
    passes: list[list[tuple[int, int]]] = [[]]
    for done, total in seen:
        assert 0 <= done <= total
        if passes[-1] and (done < passes[-1][-1][0] or total != passes[-1][-1][1]):
            passes.append([])
        passes[-1].append((done, total))
    assert len(passes) <= 2, seen  # the stream-by-stream pass, then the log-order one
    assert len(passes[-1]) > 1  # the log-order pass reported each window


def test_a_rebuild_of_an_in_memory_database_keeps_it() -> None:
    """A rebuild's private session is closed at the end to discard its copies at once, except
    where the database is that session's own (in-memory SQLite): there they are dropped."""
    engine = make_engine("sqlite://")
    ensure_schema(engine)
    store = SqlEventStore(engine)
    code = uscc(41)
    append(store, code, registered(code, date(2022, 12, 1)))
    append(store, code, milestone(code, "hnte", "certified", date(2023, 1, 1)))
    for _ in range(2):
        result = rebuild(engine)
        assert result.events == 2 and result.projections["status"] == 2
    assert store.last_position() == 2
    assert status_or_none(engine, code) is not None


def test_a_rebuild_fills_an_empty_view_whose_columns_stand_in_another_order(engine: Engine) -> None:
    """An emptied view whose table a migration laid out with its columns in another order than the
    model's: the rebuild copies its rows column by column, by name, and the view is right."""
    store = SqlEventStore(engine)
    _two_enterprises_interleaved(store)
    catch_up(engine)
    right = dump_engine(engine)
    model = registry.PROJECTIONS["status"].tables[1]
    reversed_ = sa.Table(
        model.name,
        sa.MetaData(),
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in reversed(list(model.columns))
        ),
    )
    with engine.begin() as conn:
        for view_ in registry.select(["status", "targets"]):
            view_.reset(conn)
        model.drop(conn)
        reversed_.create(conn)
        for index in model.indexes:
            sa.Index(index.name, *(reversed_.c[c.name] for c in index.columns)).create(conn)
        laid_out = [c["name"] for c in sa.inspect(conn).get_columns(model.name)]
    assert laid_out == [c.name for c in reversed(list(model.columns))]
    rebuild(engine)
    assert dump_engine(engine) == right
