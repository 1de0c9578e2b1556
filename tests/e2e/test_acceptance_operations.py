"""Acceptance: reminders, the scheduler, replay, audit verify and export, machines and demo via `srdi`."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.backends import bypass_append_only
from tests.e2e.acceptance import Srdi, one_document, uscc

A, B, C = uscc(51), uscc(52), uscc(53)
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Srdi:
    """A Yubei enterprise due for review on 2026-02-28, one in IPO tutoring, one fresh."""
    srdi = Srdi(f"sqlite:///{tmp_path_factory.mktemp('ops') / 'srdi.db'}")
    srdi.setup("policy", "activate", "yubei-2024")
    for code, name in (
        (A, "重庆渝北甲精密有限公司"),
        (B, "重庆渝北乙精密有限公司"),
        (C, "重庆渝北丙精密有限公司"),
    ):
        srdi.setup("enterprise", "add", code, "--name", name, "--district", "渝北", "--size", "small")
    srdi.setup("record", A, "innovative-sme.certified", "--on", "2023-02-01")
    srdi.setup("record", A, "srdi-municipal.certified", "--on", "2023-03-01")
    srdi.setup("record", B, "listing.ipo-tutoring", "--on", "2025-03-10")
    return srdi


def _copy(srdi: Srdi, target: Path) -> None:
    """A consistent copy of the SQLite database (its WAL included), to tamper with."""
    with sqlite3.connect(srdi.db.removeprefix("sqlite:///")) as source, sqlite3.connect(target) as copy:
        source.backup(copy)


def test_reminders_shape_and_days_left(office: Srdi) -> None:
    """reminders --today 2026-01-30 --within 30 --json: the contract's rows; days_left 29 to 2026-02-28."""
    rows = office.json("reminders", "--today", "2026-01-30", "--within", "30")
    assert rows == [
        {
            "uscc": A,
            "track": "innovative-sme",
            "valid_until": "2026-01-31",
            "days_left": 1,
            "kind": "review-due",
        },
        {
            "uscc": A,
            "track": "srdi-municipal",
            "valid_until": "2026-02-28",
            "days_left": 29,
            "kind": "review-due",
        },
    ]
    tutoring = office.json("reminders", "--today", "2026-02-20", "--within", "30")
    assert {
        "uscc": B,
        "track": "listing",
        "valid_until": "2026-03-09",
        "days_left": 17,
        "kind": "tutoring-lapses",
    } in tutoring
    assert office.json("reminders", "--today", "2025-06-01", "--within", "30") == []
    assert office.json("reminders", "--today", "2025-06-01", "--within", "300")[0]["days_left"] == 244


def test_scheduler_records_the_expiry_the_day_after_valid_until(office: Srdi) -> None:
    """scheduler run --once: nothing lapses on valid_until; `expired` is recorded the day after, once."""
    office.ok("scheduler", "run", "--once", "--today", "2026-02-28")
    title = office.json("status", A, "--as-of", "2026-02-28")["titles"]["srdi-municipal"]
    assert title["state"] == "certified"
    lapsed = office.json("status", A)["titles"]["srdi-municipal"]  # today, after valid_until: expired
    assert (lapsed["state"], lapsed["expiry_recorded"]) == ("expired", False)
    office.ok("scheduler", "run", "--once", "--today", "2026-03-01")
    after = office.json("status", A)["titles"]
    assert after["srdi-municipal"] == {
        "state": "expired",
        "certified_on": "2023-03-01",
        "valid_until": "2026-02-28",
        "expiry_recorded": True,
    }
    assert after["innovative-sme"]["state"] == "expired"
    office.ok("scheduler", "run", "--once", "--today", "2026-03-02")
    expiries = [
        e
        for e in office.json("history", A)["events"]
        if e["type"] == "MilestoneRecorded" and e["data"]["action"] == "expired"
    ]
    assert sorted((e["data"]["track"], e["occurred_on"]) for e in expiries) == [
        ("innovative-sme", "2026-02-01"),
        ("srdi-municipal", "2026-03-01"),
    ]
    assert (
        office.json("status", A, "--as-of", "2026-02-28")["titles"]["srdi-municipal"]["state"] == "certified"
    )
    assert office.json("reminders", "--today", "2026-03-02", "--within", "30") == [
        {
            "uscc": B,
            "track": "listing",
            "valid_until": "2026-03-09",
            "days_left": 7,
            "kind": "tutoring-lapses",
        }
    ]


def test_replay_shape(office: Srdi) -> None:
    """replay --json: {"events": N, "seconds": S, "projections": {NAME: ROWS}}; N is the log's length."""
    doc = office.json("replay")
    assert set(doc) >= {"events", "seconds", "projections"}
    assert doc["events"] == office.events() and isinstance(doc["seconds"], int | float)
    assert doc["projections"] and all(isinstance(v, int) for v in doc["projections"].values())
    assert {"status", "ledger"} <= set(doc["projections"])
    past = office.json("replay", "--as-of", "2023-02-15")
    assert past["events"] <= doc["events"]


def test_audit_verify_export_and_tampering(office: Srdi, tmp_path: Path) -> None:
    """verify ok; the export passes the README's snippet; an edited row fails verify with exit 4."""
    verified = office.json("audit", "verify")
    assert verified["ok"] is True and verified["events"] == verified["last_position"] == office.events()
    bundle = tmp_path / "bundle.jsonl"
    office.ok("audit", "export", str(bundle))
    snippet = README.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    checker = tmp_path / "verify.py"
    checker.write_text(snippet, encoding="utf-8")
    good = subprocess.run([sys.executable, str(checker), str(bundle)], capture_output=True, text=True)
    assert good.returncode == 0 and f"ok: {verified['events']} events" in good.stdout, good.stderr
    lines = bundle.read_text(encoding="utf-8").splitlines(keepends=True)
    forged = tmp_path / "forged.jsonl"
    n = next(i for i, line in enumerate(lines) if i and '"2023-03-01"' in line)
    forged.write_text(
        "".join([*lines[:n], lines[n].replace('"2023-03-01"', '"2022-03-01"'), *lines[n + 1 :]]), "utf-8"
    )
    bad = subprocess.run([sys.executable, str(checker), str(forged)], capture_output=True, text=True)
    assert bad.returncode == 1 and "tampered" in bad.stderr

    copy = tmp_path / "tampered.db"
    _copy(office, copy)
    with sqlite3.connect(copy) as conn:
        position = conn.execute(
            "SELECT position FROM events WHERE event_type = 'MilestoneRecorded' "
            "ORDER BY position LIMIT 1 OFFSET 1"
        ).fetchone()[0]
        conn.execute("UPDATE events SET occurred_on = '2022-03-01' WHERE position = ?", (position,))
    tampered = Srdi(f"sqlite:///{copy}")
    done = tampered.run("audit", "verify", "--json")
    assert done.code == 4, str(done)
    report = one_document(done.stdout)
    assert report["ok"] is False and report["first_bad_position"] == position
    assert {"ok", "events", "first_bad_position", "reason"} <= set(report) and report["reason"]
    assert tampered.run("audit", "verify").code == 4
    refused = tampered.run("audit", "export", str(tmp_path / "never.jsonl"))
    assert refused.code == 4 and not (tmp_path / "never.jsonl").exists()


def test_audit_verify_finds_an_edited_payload(office: Srdi, tmp_path: Path) -> None:
    """Changing a stored amount (the payload text) is found at its position, exit 4."""
    copy = tmp_path / "payload.db"
    _copy(office, copy)
    with sqlite3.connect(copy) as conn:
        position, payload = conn.execute(
            "SELECT position, payload FROM events WHERE event_type = 'EntitlementCreated' "
            "ORDER BY position LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE events SET payload = ? WHERE position = ?",
            (payload.replace("100000", "900000"), position),
        )
    done = Srdi(f"sqlite:///{copy}").run("audit", "verify", "--json")
    assert done.code == 4 and one_document(done.stdout)["first_bad_position"] == position


def test_machines_mermaid(office: Srdi) -> None:
    """machines --format mermaid draws every machine (titles, listing, pools, designations)."""
    text = office.ok("machines", "--format", "mermaid")
    assert text.count("stateDiagram-v2") == 4
    assert "admitted --> left: left" in text
    for needle in (
        "certified --> certified: review-passed",
        "ipo_accepted --> ipo_tutoring: ipo-withdrawn",
    ):
        assert needle in text
    rows = office.json("machines")
    assert {r["action"] for r in rows} >= {
        "certified",
        "review-passed",
        "neeq-select",
        "ipo-listed",
        "expired",
    }


def test_demo_then_verify(tmp_path: Path) -> None:
    """demo on an empty database, then audit verify --json is {"ok": true, "events": N}."""
    srdi = Srdi(f"sqlite:///{tmp_path / 'demo.db'}")
    summary = srdi.ok("demo", "--enterprises", "12", "--seed", "5")
    assert summary.strip()
    verified = srdi.json("audit", "verify")
    assert verified["ok"] is True and verified["events"] == srdi.events() > 12
    ledger: dict[str, Any] = srdi.ledger()
    assert ledger["entries"] and ledger["totals"]["fixed"] >= 0


def test_tampering_is_found_on_both_backends(db_url: str, tmp_path: Path) -> None:
    """On SQLite and PostgreSQL: export verifies; an edited row makes verify exit 4 naming its position."""
    import sqlalchemy as sa

    from events.db import make_engine

    srdi = Srdi(db_url)
    srdi.setup("policy", "activate", "yubei-2024")
    srdi.setup("enterprise", "add", A, "--name", "重庆渝北甲精密有限公司", "--district", "渝北")
    srdi.setup("record", A, "innovative-sme.certified", "--on", "2023-02-01")
    srdi.setup("record", A, "srdi-municipal.certified", "--on", "2023-03-01")
    total = srdi.events()
    verified = srdi.json("audit", "verify")
    assert verified["ok"] is True and verified["events"] == verified["last_position"] == total
    assert srdi.here("audit", "export", str(tmp_path / "bundle.jsonl")).code == 0
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            bypass_append_only(conn)
            position = conn.execute(
                sa.text("SELECT max(position) FROM events WHERE event_type = 'MilestoneRecorded'")
            ).scalar_one()
            conn.execute(
                sa.text("UPDATE events SET actor = 'someone.else' WHERE position = :p"), {"p": position}
            )
    finally:
        engine.dispose()
    done = srdi.run("audit", "verify", "--json")
    assert done.code == 4, str(done)
    report = one_document(done.stdout)
    assert (report["ok"], report["first_bad_position"]) == (False, position)
