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
from events.sql_store import SqlEventStore
from projections import feed, registry
from projections.feed import catch_up, checkpoints, rebuild, snapshot
from projections.framework import Cutoff
from projections.status import read_status_rows
from projections.targets import actual
from tests.integration.projections_support import (
    Append,
    dump,
    dump_engine,
    histories,
    status_or_none,
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
def test_a_rebuild_that_fails_part_way_still_ends_with_the_indexes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, history: list[Append]
) -> None:
    """A rebuild interrupted by an error creates the views' indexes again before the error goes on."""
    wipe(engine)
    write(SqlEventStore(engine), history)
    real = feed.catch_up

    def failing(*args: Any, **kwargs: Any) -> Any:
        assert _view_indexes(engine) == {name: set() for name in EXPECTED_INDEXES}  # dropped meanwhile
        real(*args, **{**kwargs, "until_position": 1})
        raise RuntimeError("disk full")

    monkeypatch.setattr(feed, "catch_up", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        rebuild(engine)
    assert _view_indexes(engine) == EXPECTED_INDEXES
    monkeypatch.undo()
    rebuild(engine)  # and the next rebuild completes the views
    assert set(checkpoints(engine).values()) == {SqlEventStore(engine).last_position()}
