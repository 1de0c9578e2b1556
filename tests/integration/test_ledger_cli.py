"""`srdi ledger`, exports, `explain`, `entitlement`, `policy` and `simulate` through typer's runner."""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from events.db import make_engine
from events.migrate import ensure_schema
from events.sql_store import SqlEventStore
from tests.backends import as_person
from tests.bootstrap import Office, bootstrap
from tests.cli import as_json, invoke, ok
from tests.integration.ledger_history import RC, history_steps

ENTRY_KEYS = {
    "id", "enterprise", "district", "policy", "rule", "article", "kind", "trigger_event", "accrued_on",
    "amount", "ceiling", "approved_amount", "paid_amount", "status", "note",
}  # fmt: skip


def rejected(db_url: str, *args: str, match: str) -> None:
    """Exit 2, one line on stderr naming the problem, and nothing appended to the log."""
    before = as_json(db_url, "audit", "verify")["events"]
    result = invoke(db_url, *args)
    lines = str(result.stderr).strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and match in lines[0], lines
    assert as_json(db_url, "audit", "verify")["events"] == before


def test_ledger_json_shape_and_exact_totals(db_url: str, history: Office) -> None:
    """`ledger --json`: CLI.md keys on every entry, amounts in yuan as numbers, totals exact."""
    doc = as_json(db_url, "ledger")
    assert set(doc) == {"entries", "totals"}
    assert all(set(e) >= ENTRY_KEYS for e in doc["entries"])
    first = doc["entries"][0]
    assert (first["rule"], first["enterprise"], first["district"], first["article"]) == (
        "RC-27b",
        RC,
        "rongchang",
        "27",
    )
    assert (first["amount"], first["ceiling"], first["approved_amount"], first["paid_amount"]) == (
        200000,
        True,
        150000,
        100000,
    )
    assert doc["totals"] == {
        "fixed": 150000,
        "ceilings": 0,
        "approved": 150000,
        "paid": 200000,
        "recovery_due": 0,
    }
    yubei = as_json(db_url, "ledger", "--district", "渝北", "--year", "2026")
    assert [(e["rule"], e["status"], e["amount"]) for e in yubei["entries"]] == [("YB-5c", "accrued", 50000)]
    old = as_json(db_url, "ledger", "--as-of", "2024-01-31", "--enterprise", RC)
    assert [(e["rule"], e["status"]) for e in old["entries"]] == [
        ("RC-27b", "approved"),
        ("RC-30", "awaiting-approval"),
    ]
    assert old["totals"] == {"fixed": 0, "ceilings": 0, "approved": 150000, "paid": 0, "recovery_due": 0}


def test_entitlement_approve_pay_and_refusals(
    db_url: str, history: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RC-30 approved then paid; over-payment, a reversed entry, an unknown id: exit 2, nothing written."""
    unstated = history.entitlement("otc", "RC-30")
    monkeypatch.setenv("SRDI_ACTOR", "approver")
    approved = as_json(
        as_person(db_url, "approver"),
        "entitlement",
        "approve",
        unstated,
        "--amount",
        "80000",
        "--on",
        "2026-05-01",
    )
    monkeypatch.setenv("SRDI_ACTOR", "treasury")
    assert (approved["status"], approved["approved_amount"]) == ("approved", 80000)
    paid = as_json(
        as_person(db_url, "treasury"), "entitlement", "pay", unstated, "--amount", "80000", "--ref", "荣财2",
        "--on", "2026-06-01",
    )  # fmt: skip
    assert (paid["status"], paid["paid_amount"]) == ("paid", 80000)
    ceiling = history.entitlement("rc27b", "RC-27b")
    rejected(
        db_url,
        "entitlement",
        "pay",
        ceiling,
        "--amount",
        "50000.01",
        "--ref",
        "x",
        "--on",
        "2026-06-01",
        match="above what is left",
    )
    reversed_ = history.entitlement("filed", "YB-7b")
    rejected(
        db_url,
        "entitlement",
        "pay",
        reversed_,
        "--amount",
        "1",
        "--ref",
        "x",
        "--on",
        "2026-06-01",
        match="is reversed",
    )
    rejected(db_url, "entitlement", "approve", "nope", "--amount", "1", match="no entitlement nope")
    totals = as_json(db_url, "ledger")["totals"]
    assert totals == {"fixed": 150000, "ceilings": 0, "approved": 230000, "paid": 280000, "recovery_due": 0}


def test_ceiling_approval_above_the_ceiling_is_refused(db_url: str) -> None:
    """A fresh RC-27b ceiling (200,000) approved at 200,001 is refused with exit 2."""
    ok(db_url, "policy", "activate", "rongchang-2022", "--on", "2022-06-30")
    ok(db_url, "enterprise", "add", RC, "--name", "荣昌乙", "--district", "荣昌", "--on", "2021-01-01")
    ok(db_url, "record", RC, "innovative-sme.certified", "--on", "2021-05-01")
    created = as_json(db_url, "record", RC, "srdi-municipal.certified", "--on", "2022-08-01")["entitlements"]
    assert [(e["rule"], e["amount"], e["status"]) for e in created] == [
        ("RC-27b", 200000, "awaiting-approval")
    ]
    rejected(
        db_url, "entitlement", "approve", created[0]["id"], "--amount", "200001", match="above the ceiling"
    )
    assert as_json(db_url, "ledger")["totals"] == {
        "fixed": 0,
        "ceilings": 200000,
        "approved": 0,
        "paid": 0,
        "recovery_due": 0,
    }


def test_csv_and_xlsx_exports_open_with_chinese_headers_and_totals(
    db_url: str, history: Office, tmp_path: Path
) -> None:
    """--csv/--xlsx with --lang zh: Chinese headers, amounts in 元 as numbers, a 合计 row with the totals."""
    ok(db_url, "ledger", "--csv", str(tmp_path / "l.csv"), "--lang", "zh")
    with (tmp_path / "l.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    assert header[:3] == ["编号", "统一社会信用代码", "区县"] and "金额（元）" in header
    assert len(rows) == 1 + 5 + 1
    total = dict(zip(header, rows[-1], strict=True))
    assert (total["编号"], total["金额（元）"], total["核定金额（元）"], total["已拨付（元）"]) == (
        "合计",
        "150000",
        "150000",
        "200000",
    )
    first = dict(zip(header, rows[1], strict=True))
    assert (first["区县"], first["状态"], first["是否上限"]) == ("荣昌", "部分拨付", "是")
    ok(db_url, "ledger", "--xlsx", str(tmp_path / "l.xlsx"), "--lang", "zh")
    sheet = openpyxl.load_workbook(tmp_path / "l.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == header
    xtotal = dict(zip(header, values[-1], strict=True))
    assert (xtotal["编号"], xtotal["金额（元）"], xtotal["已拨付（元）"]) == ("合计", 150000, 200000)
    ok(db_url, "ledger", "--csv", str(tmp_path / "en.csv"))
    assert (tmp_path / "en.csv").read_text(encoding="utf-8-sig").splitlines()[-1].startswith("Total,")


def test_explain_quotes_the_article_and_shows_the_arithmetic(db_url: str, history: Office) -> None:
    """explain YB-5c: the Chinese sentence, the triggering review and report, the growth steps."""
    key = history.entitlement("review", "YB-5c")
    text = ok(db_url, "explain", key)
    assert (
        "以后每次通过复核且近2年生产产值（主营业务收入）平均增长率超过10%的企业，再分别给予5万元、25万元奖励。"
        in text
    )
    assert "growth 2024 over 2023: 10.00%" in text and "average (arithmetic)" in text
    assert "growth-averaging: arithmetic" in text
    doc = as_json(db_url, "explain", key)
    assert [t["event_type"] for t in doc["triggers"]] == ["MilestoneRecorded", "FinancialsReported"]
    assert doc["figures"]["revenue 2025"] == "122" and doc["status"] == "accrued" and doc["amount"] == 50000
    assert doc["quote"] and doc["quote"] in text
    assert [s["event"] for s in doc["history"]] == ["EntitlementCreated", "EntitlementResolved"]


def test_policy_file_that_does_not_validate_is_refused(db_url: str, history: Office, tmp_path: Path) -> None:
    """A broken policy file is refused naming the field and the reason; nothing is activated."""
    text = (Path(__file__).parents[2] / "domain" / "policies" / "yubei-2024.toml").read_text(encoding="utf-8")
    bad = tmp_path / "yubei-2024.toml"
    bad.write_text(text.replace("amount = 100000", 'amount = "lots"', 1), encoding="utf-8")
    reason = "yubei-2024.toml: rules[1].amount: Input should be a valid decimal"
    rejected(db_url, "policy", "activate", "yubei-2024", "--file", str(bad), match=reason)
    rejected(db_url, "simulate", "--policy", str(bad), match=reason)
    listed = {p["key"]: p for p in as_json(db_url, "policy", "list")["policies"]}
    assert listed["yubei-2024"]["active"] and not listed["jiangjin-2022"]["active"]
    assert as_json(db_url, "policy", "show", "yubei-2024")["rules"][1]["id"] == "YB-5a"


def test_simulate_writes_nothing_and_compares_per_rule(
    db_url: str, history: Office, tmp_path: Path, backend: str
) -> None:
    """A draft paying 150,000 for YB-5a shows +50,000 against the active policy; the database is unchanged."""
    text = (Path(__file__).parents[2] / "domain" / "policies" / "yubei-2024.toml").read_text(encoding="utf-8")
    draft = tmp_path / "draft.toml"
    draft.write_text(text.replace("amount = 100000", "amount = 150000", 1), encoding="utf-8")
    store = SqlEventStore(make_engine(db_url))
    before = (store.last_position(), _fingerprint(db_url, backend))
    doc = as_json(db_url, "simulate", "--policy", str(draft))
    assert (store.last_position(), _fingerprint(db_url, backend)) == before
    rows = {(r["district"], r["rule"]): r for r in doc["rows"]}
    assert rows[("yubei", "YB-5a")]["draft"]["fixed"] == 150000
    assert rows[("yubei", "YB-5a")]["active"]["fixed"] == 100000
    assert rows[("yubei", "YB-5a")]["difference"]["fixed"] == 50000
    assert ("yubei", "YB-7b") not in rows  # its milestone was retracted: neither owes it
    assert doc["against"][0]["key"] == "yubei-2024" and doc["enterprises"] == 1
    assert json.dumps(doc, ensure_ascii=False)


def _fingerprint(db_url: str, backend: str) -> object:
    """SQLite: the database file's bytes after a WAL checkpoint; PostgreSQL: every table's rows."""
    engine = make_engine(db_url)
    try:
        if backend == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return Path(db_url.removeprefix("sqlite:///")).read_bytes()
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {n: sorted(map(repr, conn.execute(sa.text(f'SELECT * FROM "{n}"')))) for n in names}
    finally:
        engine.dispose()


def test_recorded_before_shows_what_the_ledger_knew_then(db_url: str) -> None:
    """--recorded-before an instant between the review and the 2025 report: YB-5c still pending-data."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    steps = history_steps(bootstrap(engine))
    for step in steps[:2]:
        step()
    time.sleep(0.01)
    instant = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    for step in steps[2:]:
        step()
    engine.dispose()
    then = {e["rule"]: e for e in as_json(db_url, "ledger", "--recorded-before", instant)["entries"]}
    now = {e["rule"]: e for e in as_json(db_url, "ledger")["entries"]}
    assert set(then) == {"YB-5a", "YB-7b", "YB-5c"}
    assert (then["YB-5c"]["status"], then["YB-5c"]["amount"]) == ("pending-data", None)
    assert (now["YB-5c"]["status"], now["YB-5c"]["amount"]) == ("accrued", 50000)


def test_explain_in_chinese_throughout(db_url: str, history: Office) -> None:
    """explain --lang zh: summary, readings, figures, steps, note and statuses read in Chinese."""
    key = history.entitlement("review", "YB-5c")
    text = ok(db_url, "explain", key, "--lang", "zh")
    assert "2024 年较 2023 年增长 10.00%" in text and "算术平均" in text
    assert "状态 应付" in text and "计算过程" in text and "增长率超过10%" in text
    for english in ("growth", "average", "accrued", "revenue", "yuan", "status"):
        assert english not in text, english
    doc = as_json(db_url, "explain", key, "--lang", "zh")
    assert doc["status"] == "accrued" and doc["status_label"] == "应付"  # the key stays the ledger's
    assert doc["figures"]["2025 年主营业务收入"] == "122"
    assert doc["summary"] == doc["quote"]
    assert any("算术平均" in value for value in doc["readings"].values())


def test_a_capped_rule_quotes_the_sentence_that_sets_the_cap(db_url: str, history: Office) -> None:
    """YB-7 (新三板 stages) quotes 分阶段给予300万元 in both languages; --json lists the cap."""
    key = history.entitlement("filed", "YB-7b")
    doc = as_json(db_url, "explain", key)
    assert doc["caps"] == [
        {
            "id": "yb7-neeq",
            "total": 3000000,
            "label": "YB-7 新三板 stages total at most 3,000,000",
            "quote_zh": "在新三板挂牌的，分阶段给予300万元奖励",
        }
    ]
    assert "上限依据: 「在新三板挂牌的，分阶段给予300万元奖励」" in ok(db_url, "explain", key, "--lang", "zh")
    assert "cap set by: 「在新三板挂牌的，分阶段给予300万元奖励」" in ok(db_url, "explain", key)
