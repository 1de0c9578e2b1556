"""The installed `srdi` script (`cli.run`): its quick exit loses no output, no write and no exit code.

`cli.run` pauses the garbage collector while modules load and ends the process without the
interpreter's teardown (`cli_commands.startup`). These run the real script as a process: what it
prints arrives whole through a pipe, what it wrote is in the database file itself (SQLite's WAL
folded back in: the engine is closed before the exit), and its exit codes are the documented ones.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from domain.uscc import make_uscc

SRDI = Path(sys.executable).with_name("srdi")
U1 = make_uscc("91500112MA5UCR001")


def srdi(db: Path, *args: str, log_level: str | None = None) -> subprocess.CompletedProcess[str]:
    assert SRDI.exists(), f"{SRDI} missing: install with pip install -e '.[test]'"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_")}
    env["SRDI_DATABASE_URL"] = f"sqlite:///{db}"
    if log_level is not None:
        env["SRDI_LOG_LEVEL"], env["SRDI_LOG_FORMAT"] = log_level, "json"
    return subprocess.run([str(SRDI), *args], env=env, capture_output=True, text=True, timeout=300)


def test_writes_are_in_the_database_file_itself_when_the_script_returns(tmp_path: Path) -> None:
    """No -wal file is left: a copy of srdi.db alone (what an office backs up) holds every event."""
    db = tmp_path / "srdi.db"
    added = srdi(db, "enterprise", "add", U1, "--name", "重庆脚本科技有限公司", "--district", "yubei")
    assert added.returncode == 0, added.stderr
    recorded = srdi(db, "record", U1, "innovative-sme.certified", "--on", "2024-03-01")
    assert recorded.returncode == 0, recorded.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["srdi.db"]
    copy = tmp_path / "copy" / "srdi.db"
    copy.parent.mkdir()
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:
        types = [r[0] for r in conn.execute("SELECT event_type FROM events ORDER BY position")]
    assert types == ["EnterpriseRegistered", "MilestoneRecorded"]
    verified = srdi(copy, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["events"] == 2


def test_output_larger_than_a_pipe_buffer_arrives_whole(tmp_path: Path) -> None:
    db = tmp_path / "srdi.db"
    demo = srdi(db, "demo", "--enterprises", "200", "--json")
    assert demo.returncode == 0, demo.stderr
    ledger = srdi(db, "ledger", "--json")
    assert ledger.returncode == 0, ledger.stderr
    assert len(ledger.stdout.encode()) > 65536  # more than a Linux pipe holds at once
    document = json.loads(ledger.stdout)
    assert len(document["entries"]) > 100


def test_exit_codes_and_error_lines_are_the_documented_ones(tmp_path: Path) -> None:
    """2 for bad input or an unknown command, 5 (nothing created) for verify of a missing file, 0 for help."""
    db = tmp_path / "srdi.db"
    bad = srdi(db, "status", "91500000MA5U00000X")
    assert (bad.returncode, bad.stdout, len(bad.stderr.splitlines())) == (2, "", 1)
    assert bad.stderr.startswith("error: ")
    unknown = srdi(db, "no-such-command")
    assert unknown.returncode == 2
    missing = srdi(db, "audit", "verify")
    assert (missing.returncode, len(missing.stderr.splitlines())) == (5, 1) and not db.exists()
    assert srdi(db, "--help").returncode == 0


def test_log_lines_logged_late_still_get_the_configured_format(tmp_path: Path) -> None:
    """structlog loads on the first line logged (`events.lazy_logging`); that line is JSON as configured."""
    db = tmp_path / "srdi.db"
    add = ("enterprise", "add", U1, "--name", "重庆脚本科技有限公司", "--district", "yubei")
    added = srdi(db, *add, log_level="debug")
    assert added.returncode == 0, added.stderr
    lines = [json.loads(line) for line in added.stderr.splitlines() if line.startswith("{")]
    appended = [line for line in lines if line["event"] == "appended"]
    assert [(a["stream"], a["event_type"]) for a in appended] == [
        (f"enterprise-{U1}", "EnterpriseRegistered")
    ]
