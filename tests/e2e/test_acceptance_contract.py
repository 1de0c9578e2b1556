"""Acceptance: the command line of docs/cli.md itself — names, --json purity, exit codes, edge inputs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

import cli
from tests.e2e.acceptance import ENV, SRDI, Srdi, assert_rejection, future, one_document, rules, uscc

U, V, W = uscc(61), uscc(62), uscc(63)
POLICY_FILE = Path(__file__).resolve().parents[2] / "domain" / "policies" / "yubei-2024.toml"

# CLI.md, command by command: the arguments and options it names (each must exist, spelled so).
CONTRACT: dict[tuple[str, ...], set[str]] = {
    ("enterprise", "add"): {"USCC", "--name", "--district", "--department", "--size"},
    ("record",): {"USCC", "TRACK.ACTION", "--on", "--ref", "--override-prerequisite", "--reason"},
    ("report",): {"USCC"},
    ("report", "financials"): {"--year", "--revenue", "--rd-expense"},
    ("report", "lease"): {"--year", "--area", "--rent", "--months", "--owner"},
    ("report", "talent"): {"--person", "--year", "--contribution"},
    ("report", "rd-subsidy"): {"--year", "--amount"},
    ("retract",): {"EVENT_ID", "--reason"},
    ("import",): {"FILE"},
    ("status",): {"USCC", "--as-of", "--json"},
    ("history",): {"USCC", "--json"},
    ("ledger",): {"--enterprise", "--district", "--year", "--as-of", "--json", "--csv", "--xlsx"},
    ("explain",): {"ENTITLEMENT_ID", "--json"},
    ("targets",): {"DISTRICT", "--year", "--json"},
    ("reminders",): {"--within", "--today", "--json"},
    ("entitlement", "approve"): {"ENTITLEMENT_ID", "--amount"},
    ("entitlement", "pay"): {"ENTITLEMENT_ID", "--amount", "--ref", "--on"},
    ("policy", "list"): set(),
    ("policy", "show"): {"KEY"},
    ("policy", "activate"): {"KEY", "--on"},
    ("simulate",): {"--policy", "--json"},
    ("replay",): {"--as-of", "--json"},
    ("audit", "verify"): {"--json"},
    ("audit", "export"): {"PATH", "--as-of"},
    ("scheduler", "run"): {"--once", "--today"},
    ("machines",): {"--format"},
    ("demo",): {"--enterprises", "--seed"},
    ("db", "upgrade"): set(),
}


def _names(command: Any) -> set[str]:
    """Arguments by metavar (FILE.csv as FILE), options by every spelling."""
    names: set[str] = set()
    for param in command.params:
        if param.param_type_name == "argument":
            names.add((param.metavar or param.name or "").upper().removesuffix(".CSV"))
        else:
            names.update(param.opts)
    return names


def test_every_command_and_option_of_the_contract_exists() -> None:
    """Each command path and every option CLI.md names exists with exactly that spelling."""
    root: Any = typer.main.get_command(cli.app)
    assert "--db" in _names(root)
    missing = []
    for path, expected in CONTRACT.items():
        command = root
        for part in path:
            assert part in getattr(command, "commands", {}), path
            command = command.commands[part]
        absent = expected - _names(command)
        if absent:
            missing.append((path, sorted(absent)))
    assert missing == []
    for reader in ("status", "history", "ledger", "targets", "reminders", "machines"):
        assert "--lang" in _names(root.commands[reader]), reader


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Srdi, dict[str, Any]]:
    """Two Yubei enterprises with a title, a listing, a report and an entitlement of each kind."""
    srdi = Srdi(f"sqlite:///{tmp_path_factory.mktemp('contract') / 'srdi.db'}")
    srdi.setup("policy", "activate", "yubei-2024")
    srdi.setup("policy", "activate", "rongchang-2022")
    srdi.setup(
        "enterprise", "add", U, "--name", "重庆渝北契约有限公司", "--district", "yubei", "--size", "small"
    )
    srdi.setup("record", U, "innovative-sme.certified", "--on", "2022-03-01")
    out: dict[str, Any] = {
        "srdi": srdi.setup("record", U, "srdi-municipal.certified", "--on", "2023-03-01", "--json")
    }
    srdi.setup("enterprise", "add", V, "--name", "重庆荣昌契约有限公司", "--district", "rongchang")
    srdi.setup("record", V, "innovative-sme.certified", "--on", "2022-08-01")
    out["rc27b"] = srdi.setup("record", V, "srdi-municipal.certified", "--on", "2022-09-01", "--json")
    return srdi, out


def test_every_read_command_prints_one_json_document(desk: tuple[Srdi, dict[str, Any]]) -> None:
    """--json: exit 0, exactly one JSON document on stdout, nothing on stderr, for every read command."""
    srdi, out = desk
    entitlement = rules(out["srdi"])["YB-5a"]["id"]
    reads = [
        ("status", U, "--as-of", "2023-01-01"),
        ("history", U),
        ("ledger", "--district", "渝北", "--year", "2023", "--as-of", "2024-01-01", "--enterprise", U),
        ("explain", entitlement),
        ("targets", "渝北", "--year", "2025"),
        ("reminders", "--within", "10", "--today", "2026-02-20"),
        ("policy", "list"),
        ("policy", "show", "yubei-2024"),
        ("simulate", "--policy", str(POLICY_FILE)),
        ("replay", "--as-of", "2023-06-01"),
        ("audit", "verify"),
        ("machines",),
    ]
    for done in srdi.many([(*args, "--json") for args in reads]):
        assert done.code == 0, str(done)
        assert done.stderr == "", str(done)
        one_document(done.stdout)
    status = srdi.json("status", U, here=True)
    assert set(status) == {"uscc", "name", "district", "titles", "listing"}
    explained = srdi.json("explain", entitlement, here=True)
    assert explained["rule"] == "YB-5a" and explained["article"] == "5"


def test_tables_and_chinese_labels(desk: tuple[Srdi, dict[str, Any]]) -> None:
    """Without --json a readable table; --lang zh prints Chinese labels."""
    srdi, _out = desk
    calls = [
        ("status", U, "--lang", "zh"),
        ("history", U, "--lang", "zh"),
        ("ledger", "--lang", "zh"),
        ("targets", "yubei", "--year", "2025", "--lang", "zh"),
        ("reminders", "--today", "2026-02-01", "--lang", "zh"),
        ("machines", "--lang", "zh"),
        ("status", U),
        ("ledger",),
    ]
    zh_status, *others = [srdi.run(*calls[0]), *(srdi.here(*args) for args in calls[1:])]
    zh_history, zh_ledger, zh_targets, zh_reminders, zh_machines, en_status, en_ledger = others
    for done in (
        zh_status,
        zh_history,
        zh_ledger,
        zh_targets,
        zh_reminders,
        zh_machines,
        en_status,
        en_ledger,
    ):
        assert done.code == 0 and done.stdout.strip(), str(done)
    # certified 2023-03-01, valid until 2026-02-28: expired today, the scheduler has not recorded it
    assert "市级专精特新" in zh_status.stdout and "(未登记)" in zh_status.stdout
    assert "里程碑" in zh_history.stdout
    assert "台账" in zh_ledger.stdout and "待核定" in zh_ledger.stdout
    assert "市级" in zh_targets.stdout
    assert "复核到期" in zh_reminders.stdout
    assert "srdi-municipal" in en_status.stdout and "YB-5a" in en_ledger.stdout


def test_chinese_names_are_accepted_for_tracks_actions_and_districts(tmp_path: Path) -> None:
    """小巨人, 高新技术企业, 市级专精特新.认定, 渝北区, 两江新区 are accepted where keys are."""
    srdi = Srdi(f"sqlite:///{tmp_path / 'zh.db'}")
    srdi.setup("enterprise", "add", W, "--name", "重庆渝北中文有限公司", "--district", "渝北区")
    srdi.setup("record", W, "创新型中小企业.认定", "--on", "2022-01-10")
    calls = [
        ("record", W, "高新技术企业.认定", "--on", "2022-02-01", "--json"),
        ("record", W, "市级专精特新.认定", "--on", "2022-03-01", "--json"),
    ]
    for done in (srdi.run(*calls[0]), srdi.here(*calls[1])):
        assert done.code == 0, str(done)
    assert srdi.here("record", W, "小巨人.认定", "--on", "2023-07-01").code == 0
    assert srdi.here("record", W, "挂牌上市.区域股权市场挂牌", "--on", "2023-09-01").code == 0
    status = srdi.json("status", W, here=True)
    assert set(status["titles"]) == {"innovative-sme", "hnte", "srdi-municipal", "little-giant"}
    assert status["listing"]["stage"] == "otc-listed" and status["district"] == "yubei"
    code = uscc(64, "500000")
    added = srdi.add(code, "重庆两江中文有限公司", "两江新区", "--size", "小型", here=True)
    assert added["entitlements"] == []
    assert srdi.json("status", code, here=True)["district"] == "liangjiang"
    assert srdi.json("targets", "两江", "--year", "2025", here=True)["district"] == "liangjiang"


def test_rejected_input_exits_2_with_one_line_and_writes_nothing(desk: tuple[Srdi, dict[str, Any]]) -> None:
    """Bad USCC, district, track, dates (format, future, out of order), amounts, moves, ceilings: exit 2."""
    srdi, out = desk
    rc27b = rules(out["rc27b"])["RC-27b"]["id"]
    bad_check = U[:-1] + ("1" if U[-1] != "1" else "2")

    def lease(months: str = "12", owner: str = "state") -> tuple[str, ...]:
        return ("report", U, "lease", "--year", "2024", "--rent", "25", "--months", months, "--owner", owner)

    cases: list[tuple[tuple[str, ...], str]] = [
        (("enterprise", "add", bad_check, "--name", "x", "--district", "yubei"), "check"),
        (("enterprise", "add", "91500000MA5U", "--name", "x", "--district", "yubei"), "18"),
        (("enterprise", "add", uscc(65), "--name", "x", "--district", "成都"), "district"),
        (("enterprise", "add", uscc(65), "--name", "x", "--district", "yubei", "--size", "huge"), "--size"),
        (("enterprise", "add", U, "--name", "x", "--district", "yubei"), "already"),
        (("record", U, "srdi-municipal.certified", "--on", future()), "after today"),
        (("record", U, "srdi-municipal.certified", "--on", "2023/03/01"), "YYYY-MM-DD"),
        (("record", U, "srdi-municipal.certified", "--on", "20230301"), "YYYY-MM-DD"),
        (("record", U, "srdi-municipal.certified", "--on", "2023-02-30"), "YYYY-MM-DD"),
        (("record", U, "srdi-municipal.review-passed", "--on", "2023-02-01"), "before"),
        (("record", U, "srdi-municipal.certified", "--on", "2024-01-01"), "srdi-municipal"),
        (("record", U, "srdi-municipal.expired", "--on", "2024-01-01"), "scheduler"),
        (("record", U, "srdi-municipal.otc-listed", "--on", "2024-01-01"), "otc-listed"),
        (("record", U, "nothing.certified", "--on", "2024-01-01"), "track"),
        (("record", U, "listing.neeq-listed", "--on", "2024-01-01"), "neeq-listed"),
        (("record", U, "little-giant.certified", "--on", "2021-01-01"), ""),
        (("record", uscc(66), "hnte.certified", "--on", "2024-01-01"), "enterprise add"),
        (("report", U, "financials", "--year", "2024", "--revenue", "1e5"), "--revenue"),
        (("report", U, "financials", "--year", "2024", "--revenue", "1,2"), "--revenue"),
        (("report", U, "financials", "--year", "2024", "--revenue", "-1"), "negative"),
        (("report", U, "financials", "--year", "2024", "--revenue", "10.001"), "fen"),
        (("report", U, "financials", "--year", "2024", "--revenue", "100", "--on", future()), "after today"),
        (("report", U, "financials", "--year", str(int(future()[:4]) + 1), "--revenue", "100"), "--year"),
        ((*lease(), "--area", "0"), "--area"),
        ((*lease("13", "state"), "--area", "10"), "--months"),
        ((*lease("12", "x"), "--area", "10"), "--owner"),
        (("retract", "no-such-event", "--reason", "x"), "no event"),
        (("retract", out["rc27b"]["event_id"], "--reason", "  "), "--reason"),
        (("status", uscc(66)), "enterprise"),
        (("status", U, "--as-of", "yesterday"), "YYYY-MM-DD"),
        (("ledger", "--district", "atlantis"), "district"),
        (("targets", "atlantis"), "district"),
        (("entitlement", "approve", rc27b, "--amount", "200000.01"), "ceiling"),
        (("entitlement", "approve", rc27b, "--amount", "0"), "--amount"),
        (("entitlement", "approve", rc27b, "--amount", "1e5"), "--amount"),
        (("entitlement", "pay", rc27b, "--amount", "10", "--ref", "R", "--on", "2023-01-01"), "approve"),
        (("entitlement", "approve", "no-such-entitlement", "--amount", "5"), "no entitlement"),
        (("policy", "activate", "atlantis-2030"), "policy"),
        (("policy", "activate", "yubei-2024", "--on", future()), "after today"),
        (("machines", "--format", "dot"), "--format"),
        (("status", U, "--lang", "fr"), "language"),
        (("frobnicate",), "frobnicate"),
        (("status",), "USCC"),
    ]
    through_the_script = {0, 5, 6, 9, 17, 32, 41, 42}  # one of each kind of refusal, as a process
    before = srdi.events()
    results = srdi.many([args for n, (args, _m) in enumerate(cases) if n in through_the_script])
    results.reverse()
    for n, (args, match) in enumerate(cases):
        done = results.pop() if n in through_the_script else srdi.here(*args)
        assert_rejection(done, match)
    assert srdi.events() == before


def test_edge_inputs_that_are_accepted(tmp_path: Path) -> None:
    """Lower-case or spaced USCCs, 1,000-style amounts and the district's full name mean the same thing."""
    srdi = Srdi(f"sqlite:///{tmp_path / 'edge.db'}")
    code = uscc(67)
    spaced = f" {code[:8]} {code[8:].lower()} "
    added = srdi.add(spaced, "重庆渝北边界有限公司", "重庆市渝北区")
    assert srdi.json("status", code.lower())["uscc"] == code
    assert srdi.json("history", spaced, here=True)["events"][0]["event_id"] == added["event_id"]
    report = (
        "report",
        code,
        "financials",
        "--year",
        "2023",
        "--revenue",
        "1,000",
        "--rd-expense",
        "1,234,567.80",
    )
    assert srdi.here(*report).code == 0
    [event] = [
        e for e in srdi.json("history", code, here=True)["events"] if e["type"] == "FinancialsReported"
    ]
    assert (event["data"]["revenue"], event["data"]["rd_expense"]) in {
        ("1000", "1234567.80"),
        ("1000", "1234567.8"),
    }
    again = srdi.here("enterprise", "add", code.lower(), "--name", "again", "--district", "yubei")
    assert_rejection(again, "already")


def test_database_url_from_the_environment_and_the_default_file(tmp_path: Path) -> None:
    """SRDI_DATABASE_URL selects the database; without it `srdi.db` is created in the current folder.

    Only by a command that writes: verify of a file that does not exist is exit 5 and creates nothing.
    """
    url = f"sqlite:///{tmp_path / 'env.db'}"
    env = ENV | {"SRDI_DATABASE_URL": url}
    done = subprocess.run([SRDI, "audit", "verify", "--json"], capture_output=True, text=True, env=env)
    assert done.returncode == 5 and "env.db" in done.stderr and not (tmp_path / "env.db").exists()
    wrote = subprocess.run(
        [SRDI, "policy", "activate", "jiangjin-2022"], capture_output=True, text=True, env=env
    )
    assert wrote.returncode == 0, wrote.stderr
    done = subprocess.run([SRDI, "audit", "verify", "--json"], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and one_document(done.stdout)["ok"] is True
    assert (tmp_path / "env.db").exists()
    folder = tmp_path / "office"
    folder.mkdir()
    plain = subprocess.run(
        [SRDI, "policy", "activate", "jiangjin-2022"], capture_output=True, text=True, env=ENV, cwd=folder
    )
    assert plain.returncode == 0, plain.stderr
    assert (folder / "srdi.db").exists() and os.path.getsize(folder / "srdi.db") > 0


def test_key_story_on_both_backends(db_url: str) -> None:
    """On SQLite and PostgreSQL: register, activate, certify, ledger, approve/pay, retract, verify."""
    srdi = Srdi(db_url)
    code, rc = uscc(71), uscc(72, "500153")
    srdi.setup("policy", "activate", "yubei-2024")
    srdi.setup("policy", "activate", "rongchang-2022")
    srdi.add(code, "重庆渝北双库有限公司", "渝北", "--size", "small", here=True)
    srdi.setup("record", code, "innovative-sme.certified", "--on", "2022-03-01")
    certified = srdi.record(code, "srdi-municipal.certified", "2023-03-01")
    yb5a = rules(certified)["YB-5a"]
    assert (yb5a["amount"], yb5a["status"]) == (100000, "accrued")
    assert srdi.json("status", code, here=True)["titles"]["srdi-municipal"]["valid_until"] == "2026-02-28"
    srdi.setup("enterprise", "add", rc, "--name", "重庆荣昌双库有限公司", "--district", "荣昌")
    srdi.setup("record", rc, "innovative-sme.certified", "--on", "2022-08-01")
    ceiling = rules(srdi.record(rc, "srdi-municipal.certified", "2022-09-01", here=True))["RC-27b"]
    srdi.rejected("entitlement", "approve", ceiling["id"], "--amount", "200001", here=True)
    srdi.acting("approver").ok("entitlement", "approve", ceiling["id"], "--amount", "180000")
    srdi.rejected(
        "entitlement", "pay", ceiling["id"], "--amount", "180001", "--ref", "R1", "--on", "2023-02-01"
    )
    assert (
        srdi.here(
            "entitlement", "pay", ceiling["id"], "--amount", "180000", "--ref", "R1", "--on", "2023-02-01"
        ).code
        == 0
    )
    ledger = srdi.ledger(here=True)
    assert ledger["totals"] == {
        "fixed": 100000,
        "ceilings": 0,
        "approved": 180000,
        "paid": 180000,
        "recovery_due": 0,
    }
    retracted = srdi.json("retract", certified["event_id"], "--reason", "录入错误")
    assert {(r["rule"], r["status"]) for r in retracted["entitlements"]} >= {("YB-5a", "reversed")}
    assert srdi.ledger(here=True)["totals"]["fixed"] == 0
    verified = srdi.json("audit", "verify")
    assert verified["ok"] is True and verified["events"] == verified["last_position"] == srdi.events()
