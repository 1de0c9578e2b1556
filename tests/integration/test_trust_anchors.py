"""Signed anchors, the last hash, a missing database and four eyes, through the CLI, on both backends."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import cli
from events.envelope import NewEvent
from events.schemas import EntitlementPaid, enterprise_stream
from events.sql_store import SqlEventStore
from tests.backends import as_person
from tests.bootstrap import Office
from tests.cli import RUNNER, as_json, invoke
from tests.integration.ledger_history import RC
from tests.integration.test_projections_audit import readme_snippet
from tests.integration.trust_support import delete_all, forge_payment, rechain, set_column, truncate_tail


def run(db_url: str, *args: str, actor: str | None = None) -> Any:
    """The CLI in-process; ``actor`` sets SRDI_ACTOR for this call only (None: unset) and, on
    PostgreSQL, logs in as that person: the login is who acts."""
    return invoke(db_url if actor is None else as_person(db_url, actor), *args, env={"SRDI_ACTOR": actor})


def anchored(db_url: str, tmp_path: Path) -> tuple[Path, Path]:
    """A fresh key and one anchor of the log as it stands."""
    key, log = tmp_path / "anchor.key", tmp_path / "anchors.jsonl"
    assert run(db_url, "audit", "keygen", str(key)).exit_code == 0
    done = run(db_url, "audit", "anchor", "--key", str(key), "--log", str(log))
    assert done.exit_code == 0, done.stderr
    return key, log


def verify_anchors(db_url: str, log: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = run(db_url, "audit", "verify", "--anchors", str(log), "--json", *extra)
    return done.exit_code, json.loads(done.stdout)


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path: Path) -> None:
    """keygen: PATH mode 0600 and PATH.pub; a second keygen on the same PATH is exit 2, key unchanged."""
    key = tmp_path / "k"
    done = RUNNER.invoke(cli.app, ["audit", "keygen", str(key)])
    assert done.exit_code == 0, done.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and b"PUBLIC KEY" in (tmp_path / "k.pub").read_bytes()
    before = key.read_bytes()
    again = RUNNER.invoke(cli.app, ["audit", "keygen", str(key)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert key.read_bytes() == before


def test_verify_prints_the_last_position_and_hash(db_url: str, history: Office) -> None:
    """audit verify --json carries last_position and last_hash; the text output prints them too."""
    engine = history.engine
    store = SqlEventStore(engine)
    document = as_json(db_url, "audit", "verify")
    assert document["last_position"] == store.last_position() == document["events"]
    tail = list(store.read_all(store.last_position() - 1))[-1]
    assert document["last_hash"] == tail.hash
    text = run(db_url, "audit", "verify").stdout
    assert f"last position {tail.position}, last hash {tail.hash}" in text


def test_an_anchored_log_verifies_and_counts_what_came_after(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """verify --anchors: ok, anchored_position = the head; one later event is 1 unanchored event."""
    office = history
    _, log = anchored(db_url, tmp_path)
    code, doc = verify_anchors(db_url, log)
    head = office.store.last_position()
    assert code == 0 and (doc["anchored_position"], doc["unanchored_events"]) == (head, 0)
    office.record(RC, "hnte.certified", "2024-06-01")
    code, doc = verify_anchors(db_url, log)
    assert code == 0 and doc["anchored_position"] == head
    assert doc["unanchored_events"] == office.store.last_position() - head > 0


def tampered(
    db_url: str, tmp_path: Path, tamper: Callable[[int], object]
) -> tuple[int, dict[str, Any], Path]:
    """Anchor the log at its head, tamper with it (given the head), verify with the anchors.

    The chain alone still verifies (the attacker rehashed it, or only cut it): only the anchor tells.
    """
    _, log = anchored(db_url, tmp_path)
    tamper(as_json(db_url, "audit", "verify")["last_position"])
    assert as_json(db_url, "audit", "verify")["ok"] is True
    code, doc = verify_anchors(db_url, log)
    return code, doc, log


def test_a_cut_tail_is_exit_4_at_the_first_missing_position(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """Deleting the last three events: the chain still verifies, the anchor does not (exit 4, head-2)."""
    head = history.store.last_position()
    code, doc, log = tampered(db_url, tmp_path, lambda head: truncate_tail(history.engine, head - 3))
    assert code == 4 and doc["ok"] is False and doc["first_bad_position"] == head - 2
    text = run(db_url, "audit", "verify", "--anchors", str(log))
    assert text.exit_code == 4 and f"position {head - 2}" in text.stderr


def test_an_emptied_log_is_exit_4(db_url: str, history: Office, tmp_path: Path) -> None:
    """Every event deleted: verify alone says ok with 0 events; with the anchors it is exit 4 at 1."""
    code, doc, _ = tampered(db_url, tmp_path, lambda _head: delete_all(history.engine))
    assert as_json(db_url, "audit", "verify")["events"] == 0
    assert code == 4 and doc["first_bad_position"] == 1


def test_a_forged_payment_with_the_chain_recomputed_is_exit_4(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """An early event rewritten as an EntitlementPaid and every hash recomputed: exit 4 at the anchor."""
    forged = history.entitlement("rc27b", "RC-27b")
    code, doc, _ = tampered(db_url, tmp_path, lambda _head: forge_payment(history.engine, 5, forged))
    head = history.store.last_position()
    assert code == 4 and doc["first_bad_position"] == head and "recomputed" in doc["reason"]


def test_a_rehashed_chain_under_two_anchors_names_the_range(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """A change after the first anchor, chain rehashed: the first anchor holds, the second fails."""
    office, engine = history, history.engine
    key, log = anchored(db_url, tmp_path)
    first = office.store.last_position()
    office.record(RC, "hnte.certified", "2024-06-01")
    assert run(db_url, "audit", "anchor", "--key", str(key), "--log", str(log)).exit_code == 0
    second = office.store.last_position()
    set_column(engine, first + 1, actor="mallory")
    rechain(engine)
    code, doc = verify_anchors(db_url, log)
    assert code == 4 and doc["first_bad_position"] == second and f"after position {first}" in doc["reason"]
    assert doc["anchored_position"] == first


def test_a_forged_tail_event_is_reported_unanchored_and_anchoring_refuses_a_broken_log(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """A payment appended with a valid hash after the anchor counts as unanchored; a cut log is not signed."""
    office, engine = history, history.engine
    key, log = anchored(db_url, tmp_path)
    paid = EntitlementPaid(entitlement_id=office.entitlement("rc27b", "RC-27b"), amount="1", ref="x")
    SqlEventStore(engine).append(enterprise_stream(RC), [NewEvent(paid, date(2024, 3, 1), "mallory")], None)
    code, doc = verify_anchors(db_url, log)
    assert code == 0 and doc["unanchored_events"] == 1
    truncate_tail(engine, doc["anchored_position"] - 1)
    lines = log.read_text().splitlines()
    done = run(db_url, "audit", "anchor", "--key", str(key), "--log", str(log))
    assert done.exit_code == 4 and "nothing signed" in done.stderr
    assert log.read_text().splitlines() == lines


def test_an_altered_or_foreign_anchor_is_exit_4(db_url: str, history: Office, tmp_path: Path) -> None:
    """An anchor whose position was edited fails its signature; one checked against another key fails."""
    _, log = anchored(db_url, tmp_path)
    line = json.loads(log.read_text())
    other = tmp_path / "other.key"
    assert run(db_url, "audit", "keygen", str(other)).exit_code == 0
    code, _ = verify_anchors(db_url, log, "--public-key", str(tmp_path / "other.key.pub"))
    assert code == 4
    assert verify_anchors(db_url, log, "--public-key", str(tmp_path / "anchor.key.pub"))[0] == 0
    line["position"] -= 1
    log.write_text(json.dumps(line) + "\n")
    done = run(db_url, "audit", "verify", "--anchors", str(log))
    assert done.exit_code == 4 and "signature" in done.stderr


def test_the_export_carries_the_anchor_and_the_readme_script_checks_its_signature(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """export --anchors: header.anchor; the README script verifies it with KEY.pub, refuses another key."""
    key, log = anchored(db_url, tmp_path)
    bundle = tmp_path / "bundle.jsonl"
    assert run(db_url, "audit", "export", str(bundle), "--anchors", str(log)).exit_code == 0
    header = json.loads(bundle.read_text(encoding="utf-8").splitlines()[0])
    assert header["anchor"] == json.loads(log.read_text())
    script = tmp_path / "verify.py"
    script.write_text(readme_snippet(), encoding="utf-8")
    good = subprocess.run(
        [sys.executable, "-I", str(script), str(bundle), f"{key}.pub"], capture_output=True, text=True
    )
    assert good.returncode == 0 and "signature valid" in good.stdout, good.stderr
    other = tmp_path / "other.key"
    assert run(db_url, "audit", "keygen", str(other)).exit_code == 0
    bad = subprocess.run(
        [sys.executable, "-I", str(script), str(bundle), f"{other}.pub"], capture_output=True, text=True
    )
    assert bad.returncode != 0


def test_an_export_of_a_rewritten_log_is_refused(db_url: str, history: Office, tmp_path: Path) -> None:
    """With the anchors, an export of a rehashed log is exit 4 and writes no file."""
    office, engine = history, history.engine
    _, log = anchored(db_url, tmp_path)
    forge_payment(engine, 5, office.entitlement("rc27b", "RC-27b"))
    bundle = tmp_path / "bundle.jsonl"
    done = run(db_url, "audit", "export", str(bundle), "--anchors", str(log))
    assert done.exit_code == 4 and not bundle.exists()


def test_verify_of_a_missing_database_is_exit_5_and_creates_nothing(tmp_path: Path) -> None:
    """A mistyped SQLite path: exit 5 naming it; no file appears (nor for ledger, status, export)."""
    missing = tmp_path / "typo.db"
    url = f"sqlite:///{missing}"
    for args in (("audit", "verify"), ("ledger", "--json"), ("audit", "export", str(tmp_path / "b.jsonl"))):
        done = invoke(url, *args)
        assert done.exit_code == 5, (args, done.stderr)
        assert re.search("no database at .*typo.db", done.stderr) and done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_approver_cannot_pay_exit_6(db_url: str, history: Office) -> None:
    """Four eyes: approved as one actor, a payment by the same actor is exit 6, one line, nothing written."""
    office = history
    key = office.entitlement("otc", "RC-30")
    assert run(db_url, "entitlement", "approve", key, "--amount", "80000", actor="li").exit_code == 0
    before = office.store.last_position()
    pay = ("entitlement", "pay", key, "--amount", "100", "--ref", "R1", "--on", "2026-06-01")
    done = run(db_url, *pay, actor="li")
    assert done.exit_code == 6 and done.stderr.count("\n") == 1 and "approved" in done.stderr
    assert office.store.last_position() == before
    assert run(db_url, *pay, actor="wang").exit_code == 0
