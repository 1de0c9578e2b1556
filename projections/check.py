"""Verified views: every projection recomputed from the log in a scratch place, compared with the live one.

The views are derived data that every reader trusts: a payment added to a ledger row by hand shows
in ``srdi ledger`` until a replay, and a checkpoint moved ahead of the log would stop the view from
ever catching up. ``check_views`` (``srdi audit verify --views``) first catches the live views up as
any read does (``feed.view``: privately for a session that may not write them), then rebuilds
every projection into TEMPORARY tables on one connection (``feed.snapshot``: the live tables are
never touched by the rebuild) and walks both sides table by table in primary-key order, naming the
first row that differs. Memory: one row of each side at a time, plus the snapshot's own batch.

The checkpoints are compared with the log's end: after a catch-up every one must be exactly there
(a private catch-up moves none; the copy it reads is at the end by construction).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.sql_store import SqlEventStore
from projections import registry
from projections.feed import CheckpointAhead, checkpoints, may_write_views, snapshot, view


@dataclass(frozen=True, slots=True)
class ViewsCheck:
    """``ok`` when every view equals its recomputation; else the first view and difference found."""

    ok: bool
    views: int
    first_view: str | None = None
    difference: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "views_ok": self.ok,
            "first_differing_view": self.first_view,
            "views_difference": self.difference,
        }


def check_views(engine: Engine) -> ViewsCheck:
    """Catch the live views up, rebuild them all in a scratch place, and compare (see the module)."""
    chosen = registry.select(None)
    names = [p.name for p in chosen]
    try:
        with view(engine, names) as live:
            if may_write_views(engine, names):  # the live tables were caught up: each checkpoint at the end
                end = SqlEventStore(engine).last_position()
                known = checkpoints(engine)
                for p in chosen:
                    at = known.get(p.name, 0)
                    if at != end:
                        return ViewsCheck(
                            False, len(chosen), p.name, f"checkpoint at position {at}, the log ends at {end}"
                        )
            with snapshot(engine, names) as scratch:
                for p in chosen:
                    for table in p.tables:
                        difference = _first_difference(table, live, scratch.conn)
                        if difference is not None:
                            return ViewsCheck(False, len(chosen), p.name, f"table {table.name}: {difference}")
    except CheckpointAhead as ahead:
        return ViewsCheck(False, len(chosen), ahead.view, str(ahead))
    return ViewsCheck(True, len(chosen))


def _first_difference(table: sa.Table, live: Connection, scratch: Connection) -> str | None:
    keys = list(table.primary_key.columns) or list(table.columns)
    names = [c.name for c in table.columns]
    query = sa.select(*table.columns).order_by(*keys)
    stored = _rows(live, query)
    rebuilt = _rows(scratch, query)
    key_at = [names.index(c.name) for c in keys]
    while True:
        a, b = next(stored, None), next(rebuilt, None)
        if a is None and b is None:
            return None
        if a is None:
            assert b is not None
            return f"row {_key(b, key_at, names)} is missing from the stored view"
        if b is None:
            return f"row {_key(a, key_at, names)} is not in the log"
        if a != b:
            if _key_of(a, key_at) != _key_of(b, key_at):
                first = min(a, b, key=lambda r: tuple(str(r[i]) for i in key_at))
                where = "missing from the stored view" if first is b else "not in the log"
                return f"row {_key(first, key_at, names)} is {where}"
            column = next(n for n, x, y in zip(names, a, b, strict=True) if x != y)
            i = names.index(column)
            return f"row {_key(a, key_at, names)}: {column} is {a[i]!r} stored, {b[i]!r} from the log"


def _rows(conn: Connection, query: sa.Select[Any]) -> Iterator[Sequence[Any]]:
    for row in conn.execute(query.execution_options(yield_per=2000)):  # the statement's option only
        yield tuple(row)


def _key_of(row: Sequence[Any], key_at: list[int]) -> tuple[Any, ...]:
    return tuple(row[i] for i in key_at)


def _key(row: Sequence[Any], key_at: list[int], names: list[str]) -> str:
    return ", ".join(f"{names[i]}={row[i]!r}" for i in key_at)
