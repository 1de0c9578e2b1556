"""Hostile text, files and databases: text stays text, exports are safe, failures are one line.

What the bad-input catalogue (test_bad_input.py) cannot say with "exit 2 and nothing written":
text that is accepted must print as typed; dates far outside the calendar must read without
crashing; an export must keep an existing file, replace it whole or not at all; a database that is
busy, read-only or gone must say so in one line (exit 3 or 5) without its password; ``--db`` may
follow the command; a demo killed part-way is finished by a rerun.
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, redirect_stderr, redirect_stdout
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.backends import fresh_database
from tests.bootstrap import bootstrap
from tests.reliability.support import (
    SRDI,
    Outcome,
    event_count,
    file_bytes,
    logical_dump,
    open_engine,
    run_cli,
    srdi_env,
    uscc,
)

MARKUP = ("Tools [/] Co", "Acme [old name] Ltd", "[link=http://evil.example]点我[/link]", "[bold red]红[/]")
BIDI = "重庆\u202eevil\u202c科技"


def ok(url: str, *args: str) -> Any:
    done = run_cli(url, *args, "--json")
    assert done.code == 0, (args, done.err)
    return done.json()


def one_line(done: Outcome, code: int, *words: str) -> str:
    """Exit ``code``, one line on stderr holding every word, no traceback, nothing on stdout."""
    lines = [line for line in done.err.splitlines() if line.strip()]
    assert done.code == code, done.err[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.err[-2000:]
    assert "Traceback" not in done.err and done.out.strip() == ""
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def office(module_db_url: str) -> Iterator[dict[str, str]]:
    """Enterprises whose names look like markup or hold a bidi override, one certified (an entitlement)."""
    desk = bootstrap(url=module_db_url)
    desk.activate_all()
    ids: dict[str, str] = {}
    for n, name in enumerate((*MARKUP, BIDI)):
        ids[name] = uscc("HXT", n)
        desk.register(ids[name], "yubei", None, name=name, department=name, on=date(2020, 1, 1))
    first = ids[MARKUP[0]]
    desk.record(first, "innovative-sme.certified", "2021-05-01", ref=MARKUP[2])
    desk.record(first, "srdi-municipal.certified", "2023-03-01", ref=BIDI)
    desk.services.close()
    yield ids


# ── text stays text ──────────────────────────────────────────────────────────────────────────


def test_names_that_look_like_markup_print_as_typed(module_db_url: str, office: dict[str, str]) -> None:
    """status, history, calendar and targets tables show bracketed names whole and never fail."""
    for name in MARKUP:
        who = office[name]
        for command in (("status", who), ("history", who)):
            done = run_cli(module_db_url, *command)
            assert done.code == 0, done.err
            assert name in done.out.replace("\n", "") or name in done.out, (command, done.out[:2000])
    calendar = run_cli(module_db_url, "calendar", "--today", "2024-01-01")
    assert calendar.code == 0, calendar.err
    assert MARKUP[0] in ok(module_db_url, "calendar", "--today", "2024-01-01")["entries"][0]["name"]
    assert run_cli(module_db_url, "targets", "yubei").code == 0
    assert run_cli(module_db_url, "ledger", "--enterprise", office[MARKUP[0]]).code == 0


def test_a_bidi_override_is_shown_escaped(module_db_url: str, office: dict[str, str]) -> None:
    """U+202E is stored as typed (JSON) but a table shows it as the escape ``\\u202e``."""
    who = office[BIDI]
    assert ok(module_db_url, "status", who)["name"] == BIDI
    done = run_cli(module_db_url, "status", who)
    assert done.code == 0 and "\u202e" not in done.out and "\\u202e" in done.out, done.out
    history = run_cli(module_db_url, "history", office[MARKUP[0]])
    assert history.code == 0 and "\u202e" not in history.out


def test_escaped_text_is_the_one_place_user_text_is_printed() -> None:
    """`visible` escapes controls and bidi marks and keeps ordinary text (CJK, brackets) unchanged."""
    from cli_commands.output import visible

    assert visible("重庆 [old] Ltd") == "重庆 [old] Ltd"
    assert visible("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible("x\u202ey\u2066z") == "x\\u202ey\\u2066z"
    assert visible("nul\x00") == "nul\\x00"


# ── read options take any date ───────────────────────────────────────────────────────────────

EXTREME_READS = [
    ("status", "{who}", "--as-of", "9999-12-31"),
    ("status", "{who}", "--as-of", "0001-01-01"),
    ("ledger", "--as-of", "9999-12-31"),
    ("ledger", "--as-of", "0001-01-01"),
    ("ledger", "--recorded-before", "0001-01-01"),
    ("ledger", "--recorded-before", "9999-12-31"),
    ("ledger", "--recorded-before", "9999-12-31T23:59:59-12:00"),
    ("targets", "yubei", "--as-of", "9999-12-31"),
    ("targets", "yubei", "--recorded-before", "0001-01-01"),
    ("reminders", "--today", "9999-12-31"),
    ("reminders", "--today", "0001-01-01"),
    ("reminders", "--today", "9999-12-31", "--within", "3650000"),
    ("calendar", "--today", "9999-12-31", "--within", "100000"),
    ("replay", "--as-of", "9999-12-31"),
    ("replay", "--as-of", "0001-01-01"),
]


@pytest.mark.parametrize("args", EXTREME_READS, ids=[" ".join(a[-2:]) + f"-{a[0]}" for a in EXTREME_READS])
def test_read_options_take_any_valid_date(
    args: tuple[str, ...], module_db_url: str, office: dict[str, str]
) -> None:
    """A read at the calendar's ends answers (exit 0, one JSON document) instead of overflowing."""
    argv = [a.format(who=office[MARKUP[0]]) for a in args]
    done = run_cli(module_db_url, *argv, "--json")
    assert done.code == 0, done.err
    done.json()


def test_audit_export_as_of_the_last_day_exports_everything(
    module_db_url: str, office: dict[str, str], tmp_path: Path
) -> None:
    """``audit export --as-of 9999-12-31`` holds every event (no overflow computing the day's end)."""
    done = run_cli(module_db_url, "audit", "export", str(tmp_path / "all.jsonl"), "--as-of", "9999-12-31",
                   "--json")  # fmt: skip
    engine = open_engine(module_db_url)
    try:
        assert done.json()["events"] == event_count(engine)
    finally:
        engine.dispose()


# ── exports ──────────────────────────────────────────────────────────────────────────────────


def test_an_export_keeps_an_existing_file_unless_forced(
    module_db_url: str, office: dict[str, str], tmp_path: Path
) -> None:
    """A second export to the same path is exit 2 naming --force, the file untouched; --force replaces it
    whole; no temporary file is left behind."""
    for option, name in (("--csv", "l.csv"), ("--xlsx", "l.xlsx")):
        target = tmp_path / name
        target.write_bytes(b"old")
        one_line(run_cli(module_db_url, "ledger", option, str(target)), 2, "--force")
        assert target.read_bytes() == b"old"
        done = run_cli(module_db_url, "ledger", option, str(target), "--force")
        assert done.code == 0, done.err
        assert target.read_bytes() != b"old" and target.stat().st_size > 100
    bundle = tmp_path / "audit.jsonl"
    assert run_cli(module_db_url, "audit", "export", str(bundle)).code == 0
    first = bundle.read_bytes()
    one_line(run_cli(module_db_url, "audit", "export", str(bundle)), 2, "--force")
    assert bundle.read_bytes() == first
    assert run_cli(module_db_url, "audit", "export", str(bundle), "--force").code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "l.csv", "l.xlsx"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_full_disk_during_an_export_is_exit_5_and_keeps_the_old_file(
    failing: str, module_db_url: str, office: dict[str, str], tmp_path: Path
) -> None:
    """ENOSPC while writing or renaming: exit 5, one line, the old file as it was, no temporary file."""
    target = tmp_path / "ledger.csv"
    target.write_bytes(b"old")

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with mock.patch.object(os, failing, full):
        done = run_cli(module_db_url, "ledger", "--csv", str(target), "--force")
    one_line(done, 5, "disk is full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.csv"]


def test_spreadsheet_cells_that_start_like_formulas_stay_text(
    module_db_url: str, office: dict[str, str], tmp_path: Path
) -> None:
    """CSV: text starting with = + - @ tab or CR gets a leading apostrophe; XLSX: such text is a string
    cell, never a formula; money stays numeric in both."""
    from openpyxl import load_workbook

    from cli_commands.ledger_export import write_csv, write_xlsx
    from projections.feed import view
    from projections.ledger_view import LedgerFilter, read_ledger, totals

    engine = open_engine(module_db_url)
    try:
        with view(engine, ["ledger"]) as conn:
            entries = read_ledger(conn, LedgerFilter(office[MARKUP[0]]))
    finally:
        engine.dispose()
    assert entries, "the certified enterprise has an entitlement"
    hostile = ('=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
    entries = [dataclasses.replace(entries[0], note=h, responsible_units=(h,)) for h in hostile]
    write_csv(tmp_path / "l.csv", entries, totals(entries), "en")
    with (tmp_path / "l.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    for row, value in zip(rows[1:], hostile, strict=False):
        assert row.count("'" + value) == 2, (value, row)  # the note and the responsible units
        assert row[rows[0].index("amount (yuan)")] == "100000"  # money stays a plain number
    write_xlsx(tmp_path / "l.xlsx", entries, totals(entries), "en")
    sheet = load_workbook(tmp_path / "l.xlsx").active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c for c in cells if c.data_type == "f"], "a text cell became a formula"
    assert any(c.value == hostile[0] for c in cells)
    amounts = [c.value for c in sheet[2] if isinstance(c.value, int | float | Decimal)]
    assert amounts, "money cells are numbers"


def test_stdout_on_a_full_disk_is_exit_5(module_db_url: str, office: dict[str, str]) -> None:
    """``srdi ledger --json > /dev/full``: exit 5, one line naming the full disk, no traceback."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = subprocess.run([SRDI, "--db", module_db_url, "ledger", "--json"], stdout=full,
                              stderr=subprocess.PIPE, env=srdi_env(), timeout=120)  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode == 5, err
    assert err.count("\n") == 1 and "disk is full" in err and "Traceback" not in err


# ── the database ─────────────────────────────────────────────────────────────────────────────


def run_argv(*argv: str, env: dict[str, str] | None = None) -> Outcome:
    """``cli.main()`` with exactly ``argv`` (no ``--db`` put in front)."""
    import cli

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with (
        mock.patch.object(sys, "argv", ["srdi", *argv]),
        mock.patch.dict(os.environ, env or {}),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            cli.main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    return Outcome(code, out.getvalue(), err.getvalue())


def test_db_is_accepted_after_the_command(backend: str, tmp_path: Path) -> None:
    """``srdi demo --db URL``, ``srdi status USCC --db URL`` and ``srdi audit verify --db=URL`` use URL."""
    with fresh_database(backend, tmp_path) as url:
        demo = run_argv("demo", "--enterprises", "3", "--seed", "4", "--db", url, "--json")
        assert demo.code == 0, demo.err
        verify = run_argv("audit", "verify", f"--db={url}", "--json")
        assert verify.code == 0, verify.err
        assert verify.json()["events"] == demo.json()["events"] + 5  # and the five activations
        who = uscc("DBA", 1)
        added = run_argv("enterprise", "add", who, "--name", "甲", "--district", "yubei", "--db", url)
        assert added.code == 0, added.err
        assert run_argv("status", who, "--db", url, "--json").json()["name"] == "甲"
        ref = run_argv("record", who, "hnte.applied", "--on", "2024-01-01", "--ref", "--db", "--db", url)
        assert ref.code == 0, ref.err  # "--db" right after --ref is the reference itself
        history = run_argv("history", who, "--db", url, "--json").json()["events"]
        assert [e["data"].get("ref") for e in history if e["type"] == "MilestoneRecorded"] == ["--db"]


def test_a_busy_sqlite_database_is_exit_3_after_the_timeout(tmp_path: Path) -> None:
    """Another writer holds the lock: after SRDI_BUSY_TIMEOUT_SECONDS the command exits 3, one line
    saying busy, try again; nothing written."""
    with fresh_database("sqlite", tmp_path) as url:
        who = uscc("BXY", 1)
        ok(url, "enterprise", "add", who, "--name", "甲", "--district", "yubei")
        path = url.removeprefix("sqlite:///")
        engine = open_engine(url)
        before = logical_dump(engine)
        engine.dispose()
        with closing(sqlite3.connect(path, isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            with mock.patch.dict(os.environ, {"SRDI_BUSY_TIMEOUT_SECONDS": "0.3"}):
                done = run_cli(url, "record", who, "hnte.applied", "--on", "2024-01-01")
            holder.execute("ROLLBACK")
        one_line(done, 3, "busy", "try again", "nothing written")
        engine = open_engine(url)
        assert logical_dump(engine) == before
        engine.dispose()


def test_a_read_only_database_is_exit_5(backend: str, tmp_path: Path) -> None:
    """A database opened read-only (SQLite ``mode=ro``; PostgreSQL read-only transactions): a write
    is exit 5, one line saying read-only; nothing written."""
    with fresh_database(backend, tmp_path) as url:
        who = uscc("RDN", 1)
        ok(url, "enterprise", "add", who, "--name", "甲", "--district", "yubei")
        engine = open_engine(url)
        before, raw = logical_dump(engine), file_bytes(url)
        engine.dispose()
        if backend == "sqlite":
            read_only = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
        else:
            read_only = url + "%20-cdefault_transaction_read_only%3Don"
        done = run_cli(read_only, "record", who, "hnte.applied", "--on", "2024-01-01")
        one_line(done, 5, "read-only")
        engine = open_engine(url)
        assert logical_dump(engine) == before and file_bytes(url) == raw
        engine.dispose()


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    """Nothing listens: exit 5, one line naming host and database, the password replaced by ***."""
    done = run_argv("ledger", "--db", "postgresql://clerk:Pa55word@127.0.0.1:9/srdi")
    line = one_line(done, 5, "127.0.0.1", "***")
    assert "Pa55word" not in line and "SELECT" not in line


def test_an_actor_that_is_not_one_printable_line_is_refused(
    module_db_url: str, office: dict[str, str]
) -> None:
    """SRDI_ACTOR with a newline, an escape or over 200 characters: exit 2 naming it, nothing written."""
    engine = open_engine(module_db_url)
    try:
        before = logical_dump(engine)
        for actor in ("clerk\nroot", "clerk\x1b[2J", "c" * 201):
            with mock.patch.dict(os.environ, {"SRDI_ACTOR": actor}):
                done = run_cli(module_db_url, "report", office[BIDI], "financials", "--year", "2024",
                               "--revenue", "1")  # fmt: skip
            one_line(done, 2, "SRDI_ACTOR")
        assert logical_dump(engine) == before
    finally:
        engine.dispose()


def mkdir(path: Path) -> Path:
    path.mkdir()
    return path


# ── an interrupted demo ──────────────────────────────────────────────────────────────────────


def test_an_interrupted_demo_is_finished_by_a_rerun(backend: str, tmp_path: Path) -> None:
    """A demo killed after its first chunk, run again with the same seed, writes exactly what was
    missing: the same events as an uninterrupted run; a third run is refused (exit 2)."""
    from service_layer import demo

    with fresh_database(backend, mkdir(tmp_path / "whole")) as whole_url:
        whole = ok(whole_url, "demo", "--enterprises", "7", "--seed", "9")
        with fresh_database(backend, mkdir(tmp_path / "cut")) as url:
            real = demo.generate
            calls: list[int] = []

            def killed_after_one_chunk(store: Any, *args: Any, **kwargs: Any) -> Any:
                original = store.append_batch

                def append_batch(*a: Any, **k: Any) -> Any:
                    calls.append(1)
                    if len(calls) > 1:
                        raise KeyboardInterrupt
                    return original(*a, **k)

                store.append_batch = append_batch
                try:
                    return real(store, *args, **{**kwargs, "chunk": 3})
                finally:
                    del store.append_batch

            with mock.patch.object(demo, "generate", killed_after_one_chunk):
                cut = run_cli(url, "demo", "--enterprises", "7", "--seed", "9")
            assert cut.code == 1 and len(calls) == 2
            resumed = ok(url, "demo", "--enterprises", "7", "--seed", "9")
            assert resumed["enterprises_already_there"] == 3
            assert resumed["events_by_type"] == whole["events_by_type"]
            engines = [open_engine(u) for u in (whole_url, url)]
            try:
                assert event_count(engines[0]) == event_count(engines[1])
            finally:
                for engine in engines:
                    engine.dispose()
            one_line(run_cli(url, "demo", "--enterprises", "7", "--seed", "9"), 2, "already")


# ── money printed exactly ────────────────────────────────────────────────────────────────────


def test_json_money_is_printed_exactly() -> None:
    """Amounts up to the bound go out as exact JSON numbers, never through a float."""
    from cli_commands.common import exact_json

    text = exact_json({"a": Decimal("999999999999.99"), "b": Decimal("100000"), "c": Decimal("0.50"),
                       "d": [Decimal("1E+3")], "e": "999999999999.99"})  # fmt: skip
    assert text == '{"a": 999999999999.99, "b": 100000, "c": 0.50, "d": [1000], "e": "999999999999.99"}'
