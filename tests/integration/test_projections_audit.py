"""Audit: verify finds any tampered stored byte; the export verifies with the README's own snippet."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from events.envelope import NewEvent
from events.integrity import verify
from events.schemas import FinancialsReported
from events.sql_store import SqlEventStore
from events.tables import events_table as T
from projections.export import export
from tests.backends import bypass_append_only
from tests.integration.projections_support import append, milestone, registered, uscc

README = Path(__file__).resolve().parents[2] / "README.md"
HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def readme_snippet() -> str:
    """The python block of the README section 'Verifying an audit export independently'."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Verifying an audit export independently", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README section has no python block"
    return found.group(1)


def snippet_accepts(bundle: Path) -> bool:
    """Run the README snippet in-process on ``bundle``: True when it finishes without complaint."""
    argv = sys.argv
    sys.argv = ["verify.py", str(bundle)]
    try:
        exec(compile(readme_snippet(), "verify.py", "exec"), {"__name__": "__main__"})
    except (SystemExit, Exception):
        return False
    finally:
        sys.argv = argv
    return True


def _history(engine: Engine) -> SqlEventStore:
    store = SqlEventStore(engine)
    a, b = uscc(1), uscc(2)
    append(store, a, registered(a, date(2022, 1, 1), "yubei", "区经济信息委"))
    append(store, b, registered(b, date(2022, 1, 2), "qianjiang"))
    first = append(store, a, milestone(a, "srdi-municipal", "certified", date(2023, 3, 1)))
    caused = NewEvent(
        FinancialsReported(uscc=a, year=2023, revenue=Decimal("12345678.90")),
        date(2024, 3, 31),
        actor="张三",
        causation_id=first[0],
        correlation_id=first[0],
    )
    append(store, a, caused, milestone(a, "listing", "otc-listed", date(2024, 6, 1)))
    append(store, b, milestone(b, "hnte", "certified", date(2024, 7, 1)))
    return store


# ── verify: any stored byte ─────────────────────────────────────────────────────────────────

TEXT_COLUMNS = (
    "event_id",
    "stream_id",
    "event_type",
    "actor",
    "payload",
    "hash",
    "causation_id",
    "correlation_id",
)


def _other_char(c: str) -> str:
    for candidate in ("1", "0", "a", "b", "x", "y"):
        if candidate != c:
            return candidate
    raise AssertionError  # pragma: no cover


def _mutation(column: str, value: Any, index: int) -> Any:
    """A different stored value for ``column``: one character, one unit, one day, one microsecond."""
    if column in TEXT_COLUMNS:
        if value is None:
            return "00000000-0000-0000-0000-000000000000"
        i = index % len(value)
        return value[:i] + _other_char(value[i]) + value[i + 1 :]
    if column == "position":
        return value + 10_000
    if column in ("stream_version", "schema_version"):
        return value + 1_000
    if column == "occurred_on":
        return value + timedelta(days=1)
    return value + timedelta(microseconds=1)  # recorded_at


COLUMNS = (*TEXT_COLUMNS, "position", "stream_version", "schema_version", "occurred_on", "recorded_at")


@HYPOTHESIS
@given(data=st.data())
def test_verify_detects_any_tampered_column_of_any_row(engine: Engine, data: st.DataObject) -> None:
    """Changing one character/value of any stored column of any row breaks verify (at that row)."""
    if SqlEventStore(engine).last_position() == 0:
        _history(engine)
    total = SqlEventStore(engine).last_position()
    position = data.draw(st.integers(1, total), label="position")
    column = data.draw(st.sampled_from(COLUMNS), label="column")
    with engine.connect() as conn:
        original = conn.execute(sa.select(T.c[column]).where(T.c.position == position)).scalar()
    tampered = _mutation(column, original, data.draw(st.integers(0, 10_000), label="index"))
    key = tampered if column == "position" else position
    with engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.update(T).where(T.c.position == position).values({column: tampered}))
    try:
        result = verify(engine)
        assert not result.ok
        if column != "position":
            assert result.first_bad_position == position
    finally:
        with engine.begin() as conn:
            bypass_append_only(conn)
            conn.execute(sa.update(T).where(T.c.position == key).values({column: original}))
    assert verify(engine).ok


# ── export ──────────────────────────────────────────────────────────────────────────────────


def test_the_readme_snippet_verifies_an_export_as_a_plain_python_script(
    engine: Engine, tmp_path: Path
) -> None:
    """The README's lines, run by python3 as a file, accept a fresh export and name its count."""
    _history(engine)
    bundle = tmp_path / "bundle.jsonl"
    result = export(engine, bundle)
    script = tmp_path / "verify.py"
    script.write_text(readme_snippet(), encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", str(script), str(bundle)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {result.events} events") and result.events == 6
    assert result.last_hash in done.stdout and verify(engine).ok


@pytest.fixture
def bundle(engine: Engine, tmp_path: Path) -> bytes:
    _history(engine)
    path = tmp_path / "bundle.jsonl"
    export(engine, path)
    return path.read_bytes()


@HYPOTHESIS
@given(data=st.data())
def test_any_changed_byte_of_an_exported_event_is_detected(
    bundle: bytes, tmp_path: Path, data: st.DataObject
) -> None:
    """Flip any byte after the header line to any other value: the README snippet refuses the file."""
    start = bundle.index(b"\n") + 1
    offset = data.draw(st.integers(start, len(bundle) - 1), label="offset")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != bundle[offset]), label="byte")
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(bundle[:offset] + bytes([value]) + bundle[offset + 1 :])
    assert not snippet_accepts(path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda lines: lines[:-1],  # the last event dropped
        lambda lines: [lines[0], *lines[2:]],  # the first event dropped
        lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],  # two events swapped
        lambda lines: [lines[0].replace(b'"events":6', b'"events":5'), *lines[1:]],  # header count
        lambda lines: [lines[0], lines[1].replace(b"\n", b"\r"), *lines[2:]],  # CR for LF
    ],
    ids=["truncated", "first-dropped", "swapped", "header-count", "carriage-return"],
)
def test_dropped_swapped_or_miscounted_events_are_detected(
    bundle: bytes, tmp_path: Path, edit: Callable[[list[bytes]], list[bytes]]
) -> None:
    """Whole-line edits (drop, swap, a header that lies about the count) fail the snippet too."""
    path = tmp_path / "edited.jsonl"
    path.write_bytes(b"".join(edit(bundle.splitlines(keepends=True))))
    assert not snippet_accepts(path)
    assert snippet_accepts(_write(tmp_path / "intact.jsonl", bundle))


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_export_as_of_is_the_prefix_recorded_by_that_day(engine: Engine, tmp_path: Path) -> None:
    """--as-of yesterday (nothing recorded yet) exports an empty chain; today exports everything."""
    _history(engine)
    today = date.today() + timedelta(days=1)  # safely after now in any time zone
    empty = export(engine, tmp_path / "old.jsonl", as_of=today - timedelta(days=3))
    full = export(engine, tmp_path / "new.jsonl", as_of=today)
    assert (empty.events, full.events) == (0, 6)
    assert snippet_accepts(tmp_path / "old.jsonl") and snippet_accepts(tmp_path / "new.jsonl")


def test_cli_export_refuses_a_tampered_log_with_exit_4(db_url: str, tmp_path: Path) -> None:
    """srdi audit export on a broken chain writes nothing and exits 4; on an intact one exits 0."""
    from events.db import make_engine
    from events.migrate import ensure_schema

    engine = make_engine(db_url)
    ensure_schema(engine)
    _history(engine)
    path = tmp_path / "out.jsonl"
    ok = CliRunner().invoke(app, ["--db", db_url, "audit", "export", str(path), "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"events": 6' in ok.stdout and snippet_accepts(path)
    with engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.update(T).where(T.c.position == 3).values(actor="mallory"))
    path.unlink()
    bad = CliRunner().invoke(app, ["--db", db_url, "audit", "export", str(path)])
    assert bad.exit_code == 4 and "position 3" in bad.stderr
    assert not path.exists()
    engine.dispose()
