"""The lifecycle commands end to end, on SQLite and PostgreSQL: typer's runner and the real `srdi` script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cli
from domain.uscc import make_uscc
from service_layer import logs

SRDI = str(Path(sys.executable).parent / "srdi")
U1 = make_uscc("91500112MA5UE2E01")
U2 = make_uscc("91500000MA5UE2E02")
RUNNER = CliRunner()


@pytest.fixture(autouse=True)
def _logs_back_to_stderr() -> Iterator[None]:
    """The CLI points structlog at the runner's captured stderr, closed after each invoke: point it back."""
    yield
    logs.configure("console", "warning")


def invoke(db_url: str, *args: str) -> Any:
    return RUNNER.invoke(cli.app, ["--db", db_url, *args], catch_exceptions=False)


def ok(db_url: str, *args: str) -> str:
    result = invoke(db_url, *args)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def ok_json(db_url: str, *args: str) -> Any:
    return json.loads(ok(db_url, *args, "--json"))


def event_count(db_url: str) -> int:
    """Events in the log (0 when no SQLite file exists yet: verify would refuse it, creating nothing)."""
    from events.db import sqlite_file

    missing = sqlite_file(db_url)
    if missing is not None and not missing.exists():
        return 0
    verified = ok_json(db_url, "audit", "verify")
    assert verified["ok"] is True
    return int(verified["events"])


def srdi(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SRDI, "--db", db_url, *args], capture_output=True, text=True, timeout=120)


def assert_rejected(db_url: str, *args: str, match: str, real: bool = False) -> None:
    """Exit 2, one line on stderr, no traceback, nothing written (``real``: through the `srdi` script)."""
    before = event_count(db_url)
    if real:
        done = srdi(db_url, *args)
        code, stderr = done.returncode, done.stderr
    else:
        result = RUNNER.invoke(cli.app, ["--db", db_url, *args])
        code, stderr = result.exit_code, str(result.stderr)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert match in lines[0] and "Traceback" not in stderr
    assert event_count(db_url) == before


def test_add_record_status_and_history(db_url: str) -> None:
    """Chinese names work; status --json has the contract's exact shape; history links retractions."""
    added = ok_json(
        db_url,
        "enterprise",
        "add",
        U1,
        "--name",
        "重庆甲科技有限公司",
        "--district",
        "渝北",
        "--size",
        "small",
    )
    assert added["entitlements"] == []
    ok(db_url, "record", U1, "创新型.认定", "--on", "2022-03-01")
    recorded = ok_json(
        db_url, "record", U1, "市级专精特新.certified", "--on", "2023-03-01", "--ref", "渝经信〔2023〕1号"
    )
    assert set(recorded) == {"event_id", "entitlements"}
    ok(db_url, "record", U1, "listing.otc-listed", "--on", "2024-05-01")
    assert ok_json(db_url, "status", U1, "--as-of", "2024-12-31") == {
        "uscc": U1,
        "name": "重庆甲科技有限公司",
        "district": "yubei",
        "titles": {
            "innovative-sme": {
                "state": "certified",
                "certified_on": "2022-03-01",
                "valid_until": "2025-02-28",
            },
            "srdi-municipal": {
                "state": "certified",
                "certified_on": "2023-03-01",
                "valid_until": "2026-02-28",
            },
        },
        "listing": {"stage": "otc-listed", "since": "2024-05-01"},
    }
    past = ok_json(db_url, "status", U1, "--as-of", "2022-12-31")
    assert list(past["titles"]) == ["innovative-sme"] and past["listing"] == {"stage": None, "since": None}
    assert "已认定" in ok(db_url, "status", U1, "--lang", "zh", "--as-of", "2024-12-31")
    retraction = ok_json(db_url, "retract", recorded["event_id"], "--reason", "录错了")["event_id"]
    assert "srdi-municipal" not in ok_json(db_url, "status", U1)["titles"]
    history = ok_json(db_url, "history", U1)
    entries = {e["event_id"]: e for e in history["events"]}
    assert {"event_id", "type", "occurred_on", "recorded_at", "actor", "data"} <= set(entries[retraction])
    assert entries[recorded["event_id"]]["retracted_by"]["event_id"] == retraction
    assert entries[retraction]["retracts"] == recorded["event_id"]
    assert entries[recorded["event_id"]]["data"]["ref"] == "渝经信〔2023〕1号"
    assert "录错了" in ok(db_url, "history", U1)


def test_reports_print_event_ids(db_url: str) -> None:
    """Each report kind is accepted with exact amounts and prints the appended event id."""
    ok(db_url, "enterprise", "add", U2, "--name", "乙", "--district", "liangjiang")
    reports = [
        ["financials", "--year", "2024", "--revenue", "12000000.50", "--rd-expense", "800000"],
        ["lease", "--year", "2024", "--area", "1200", "--rent", "25", "--months", "12", "--owner", "state"],
        ["talent", "--person", "T01", "--year", "2024", "--contribution", "150000"],
        ["rd-subsidy", "--year", "2024", "--amount", "300000"],
        ["patent", "--number", "ZL202410000001.1", "--on", "2024-08-01"],
        ["demonstration", "--year", "2024"],
    ]
    for args in reports:
        assert ok_json(db_url, "report", U2, *args)["event_id"]
    data = [e["data"] for e in ok_json(db_url, "history", U2)["events"]]
    assert data[1]["revenue"] == "12000000.50"
    assert event_count(db_url) == 7


def test_rejections_exit_2_write_nothing(db_url: str) -> None:
    """Bad USCC, district, dates, moves or money: exit 2, one stderr line, nothing written."""
    ok(db_url, "enterprise", "add", U1, "--name", "甲", "--district", "yubei")
    ok(db_url, "record", U1, "hnte.certified", "--on", "2024-01-01")
    bad = U1[:-1] + ("0" if U1[-1] != "0" else "1")
    assert_rejected(
        db_url, "enterprise", "add", bad, "--name", "x", "--district", "yubei", match="check digit", real=True
    )
    assert_rejected(
        db_url, "enterprise", "add", U2, "--name", "x", "--district", "成都", match="unknown district"
    )
    assert_rejected(
        db_url, "enterprise", "add", U1, "--name", "x", "--district", "yubei", match="already registered"
    )
    assert_rejected(db_url, "record", U2, "hnte.certified", "--on", "2024-01-01", match="srdi enterprise add")
    assert_rejected(db_url, "record", U1, "hnte.applied", "--on", "2023-01-01", match="retract")
    assert_rejected(
        db_url, "record", U1, "hnte.certified", "--on", "2999-01-01", match="after today", real=True
    )
    assert_rejected(db_url, "record", U1, "hnte.expired", "--on", "2025-01-01", match="scheduler")
    assert_rejected(db_url, "record", U1, "小巨人.认定", "--on", "2024-02-01", match="srdi-municipal")
    assert_rejected(db_url, "record", U1, "hnte.certified", "--on", "2024-13-01", match="YYYY-MM-DD")
    assert_rejected(db_url, "report", U1, "financials", "--year", "2024", "--revenue", "-5", match="negative")
    lease = ["--year", "2024", "--area", "0", "--rent", "5", "--months", "12", "--owner", "state"]
    assert_rejected(db_url, "report", U1, "lease", *lease, match="--area")
    assert_rejected(db_url, "retract", "no-such-event", "--reason", "x", match="no event")
    assert_rejected(db_url, "status", U2, match="no enterprise")


def test_import_whole_or_nothing_and_twice(db_url: str, tmp_path: Path) -> None:
    """A bad line rejects the whole file naming the line; a good file imports once, then writes nothing."""
    header = "uscc,name,district,department,size,milestone,on,ref\n"
    good = (
        f"{U1},重庆甲科技有限公司,渝北,,small,,,\n"
        f"{U1},,,,,创新型.认定,2022-03-01,渝经信〔2022〕1号\n"
        f"{U2},重庆乙科技有限公司,liangjiang,,,innovative-sme.certified,2021-05-01,\n"
        f"{U2},,,,,市级专精特新.certified,2023-05-01,\n"
    )
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(header + good + f"{U1},,,,,小巨人.认定,2024-01-01,\n", encoding="utf-8")
    assert_rejected(db_url, "import", str(bad_file), match="line 6:", real=True)
    good_file = tmp_path / "good.csv"
    good_file.write_text(header + good, encoding="utf-8")
    first = ok_json(db_url, "import", str(good_file))
    assert (first["registered"], first["milestones"], first["events"]) == (2, 3, 5)
    assert event_count(db_url) == 5
    second = ok_json(db_url, "import", str(good_file))
    assert second["events"] == 0 and event_count(db_url) == 5
    assert second["already_imported"] is True and not first["already_imported"]
    assert (
        ok_json(db_url, "status", U2, "--as-of", "2025-01-01")["titles"]["srdi-municipal"]["state"]
        == "certified"
    )
    (tmp_path / "latin1.csv").write_bytes(header.encode() + "名".encode("gb18030") + b"\n")
    assert_rejected(db_url, "import", str(tmp_path / "latin1.csv"), match="not UTF-8")
    (tmp_path / "empty.csv").write_bytes(b"")
    assert_rejected(db_url, "import", str(tmp_path / "empty.csv"), match="empty")
    (tmp_path / "headless.csv").write_text(f"{U1},甲,yubei\n", encoding="utf-8")
    assert_rejected(db_url, "import", str(tmp_path / "headless.csv"), match="missing header")


def test_demo_200_then_audit_verifies(db_url: str) -> None:
    """The demo activates the five policies, writes well over a thousand events for 200
    enterprises, prints ledger totals per district, and the hash chain verifies."""
    done = srdi(db_url, "demo", "--enterprises", "200", "--seed", "11", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["events"] > 1000 and summary["enterprises"] == 200
    assert set(summary["valid_titles_by_district"]) == {
        "yubei",
        "liangjiang",
        "jiangjin",
        "rongchang",
        "qianjiang",
    }
    activations = 5  # one PolicyActivated per built-in policy, before the history
    assert event_count(db_url) == summary["events"] + activations
    totals = summary["ledger_totals"]
    assert set(totals) <= set(summary["valid_titles_by_district"])
    assert sum(row["entries"] for row in totals.values()) == summary["events_by_type"]["EntitlementCreated"]
    again = srdi(db_url, "demo", "--enterprises", "200", "--seed", "11")
    assert again.returncode == 2 and event_count(db_url) == summary["events"] + activations


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_is_deterministic_for_a_seed(db_url: str, tmp_path: Path) -> None:
    """The same seed gives the same history (same event ids are not required, same facts are)."""
    other = f"sqlite:///{tmp_path / 'other.db'}"
    first = ok_json(db_url, "demo", "--enterprises", "30", "--seed", "5")
    second = ok_json(other, "demo", "--enterprises", "30", "--seed", "5")
    for key in ("events", "events_by_type", "valid_titles_by_district", "listings_by_stage"):
        assert first[key] == second[key]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_machines_are_drawn(db_url: str) -> None:
    """`srdi machines --format mermaid` draws all four machines; the table shows the scheduler-only action."""
    assert ok(db_url, "machines", "--format", "mermaid").count("stateDiagram-v2") == 4
    rows = ok_json(db_url, "machines")
    assert any(r["action"] == "expired" and r["system_only"] for r in rows)
    assert "到期失效" in ok(db_url, "machines", "--lang", "zh")
