"""None and bool, bound through the adapters an SQLite engine registers, are stored as before."""

from __future__ import annotations

import sqlite3

from events.db import bind_plainly, make_engine


def test_none_is_stored_as_null_and_a_bool_as_the_integer_it_is() -> None:
    bind_plainly()
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b BOOLEAN, c DATE, d TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)", [(None, True, None, None), (0, False, "2024-02-29", "x")]
    )
    rows = conn.execute("SELECT a, typeof(a), b, typeof(b), c, typeof(c), d, typeof(d) FROM t").fetchall()
    assert rows == [
        (None, "null", 1, "integer", None, "null", None, "null"),
        (0, "integer", 0, "integer", "2024-02-29", "text", "x", "text"),
    ]
    assert conn.execute("SELECT ? IS NULL, ? IS NULL, ? = 1", (None, False, True)).fetchone() == (1, 0, 1)


def test_an_sqlite_engine_registers_them() -> None:
    make_engine("sqlite://")
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None
    assert sqlite3.adapters[(bool, sqlite3.PrepareProtocol)](True) == 1
