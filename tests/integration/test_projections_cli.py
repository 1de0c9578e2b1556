"""The reading commands through the CLI: replay, calendar (shapes and exit codes, both back-ends)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from events.db import make_engine
from events.migrate import ensure_schema
from events.sql_store import SqlEventStore
from tests.integration.projections_support import append, milestone, registered, uscc


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    engine = make_engine(db_url)
    ensure_schema(engine)
    store = SqlEventStore(engine)
    for n in range(3):
        code = uscc(30 + n)
        append(
            store,
            code,
            registered(code, date(2022, 1, 1), "yubei"),
            milestone(code, "srdi-municipal", "certified", date(2023, 3, 1 + n)),
        )
    engine.dispose()
    yield db_url


def _json(url: str, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_replay_json_has_the_contract_shape(url: str) -> None:
    """replay --json prints {"events", "seconds", "projections": {NAME: ROWS}} and nothing else."""
    document = _json(url, "replay", "--json")
    assert set(document) == {"events", "seconds", "projections"}
    assert document["events"] == 6 and isinstance(document["seconds"], float)
    rows = document["projections"]
    assert {"status", "targets", "ledger"} <= rows.keys() and all(isinstance(n, int) for n in rows.values())
    # 3 enterprises with one title each: status 3 + 3 titles; targets 3 + 3 periods (the first
    # certification is the first period's start, not a row of its own)
    assert (rows["status"], rows["targets"]) == (6, 6)


def test_replay_in_batches_of_one_gives_the_same_views(url: str) -> None:
    """--batch sets the events per transaction; the views do not depend on it."""
    from projections.feed import DEFAULT_BATCH
    from tests.integration.projections_support import dump_engine

    engine = make_engine(url)
    try:
        whole = _json(url, "replay", "--json")
        views = dump_engine(engine)
        one_by_one = _json(url, "replay", "--batch", "1", "--json")
        assert one_by_one["projections"] == whole["projections"]
        assert dump_engine(engine) == views
    finally:
        engine.dispose()
    shown = CliRunner().invoke(app, ["replay", "--help"], env={"COLUMNS": "200"})
    assert f"default {DEFAULT_BATCH}" in shown.stdout


def test_replay_as_of_reports_a_snapshot(url: str) -> None:
    """replay --as-of counts only the events of that day and before (registrations always)."""
    document = _json(url, "replay", "--as-of", "2023-03-02", "--json")
    assert document["as_of"] == "2023-03-02" and document["events"] == 5
    assert document["projections"]["status"] == 5  # 3 enterprises, 2 titles


def test_replay_without_json_prints_a_summary(url: str) -> None:
    """The plain replay output names the events and each projection's rows."""
    result = CliRunner().invoke(app, ["--db", url, "replay"])
    assert result.exit_code == 0, result.output
    assert "replayed 6 events" in result.stdout and "status: 6 rows" in result.stdout


def test_replay_refuses_a_bad_date_with_exit_2(url: str) -> None:
    """A malformed --as-of is rejected with one line and exit 2."""
    result = CliRunner().invoke(app, ["--db", url, "replay", "--as-of", "2023-13-01"])
    assert result.exit_code == 2 and "--as-of" in result.stderr


def test_calendar_json_lists_due_reviews_within_the_window(url: str) -> None:
    """calendar --within N --today D --json lists certified titles due by D + N days."""
    document = _json(url, "calendar", "--today", "2026-01-01", "--within", "58", "--json")
    assert document["today"] == "2026-01-01" and document["within"] == 58
    assert [(e["valid_until"], e["days_left"], e["kind"]) for e in document["entries"]] == [
        ("2026-02-28", 58, "review-due")
    ]
    everything = _json(url, "calendar", "--today", "2026-01-01", "--json")
    assert len(everything["entries"]) == 3


def test_calendar_table_in_chinese(url: str) -> None:
    """Without --json the calendar is a table; --lang zh labels tracks in Chinese."""
    result = CliRunner().invoke(
        app, ["--db", url, "calendar", "--lang", "zh", "--today", "2026-01-01"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "市级专精特新" in result.stdout


def test_targets_recorded_before_counts_what_the_log_knew(url: str) -> None:
    """--recorded-before an instant before every append counts nothing; a bad instant is exit 2."""
    document = _json(url, "targets", "yubei", "--year", "2025", "--recorded-before", "2000-01-01", "--json")
    assert {r["measure"]: r["actual"] for r in document["rows"]}["srdi-municipal"] == 0
    now = _json(url, "targets", "yubei", "--year", "2025", "--json")
    assert {r["measure"]: r["actual"] for r in now["rows"]}["srdi-municipal"] == 3
    bad = CliRunner().invoke(app, ["--db", url, "targets", "yubei", "--recorded-before", "soon"])
    assert bad.exit_code == 2 and "--recorded-before" in bad.stderr
