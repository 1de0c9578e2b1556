"""Malformed input of every kind: exit 2, one clear line on stderr, nothing on stdout, the database unchanged.

The catalogue runs ``cli.main()`` in-process with a real argv (the `srdi` script, `cli.run`, wraps
exactly that) against one prepared database per back-end (`tests/reliability/desk.py`); a sample also runs
through the installed script. "Unchanged" is a logical dump of every table (support.logical_dump).
SQL-looking text that is valid (a name, a reference, a reason) is accepted and stored verbatim:
those cases are checked separately, with the tables still there afterwards.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from events.integrity import verify
from projections.feed import catch_up
from tests.backends import fresh_database
from tests.reliability.desk import build_desk, policy_with
from tests.reliability.support import Outcome, logical_dump, open_engine, run_cli, srdi, uscc

LONG = "长" * 10_000
SQL = "'; DROP TABLE events; --"
FUTURE = "2999-01-01"


@dataclass(frozen=True)
class Case:
    """One malformed command: its arguments (``{A}``… are ids of the desk) and a word the line names."""

    id: str
    args: tuple[str, ...]
    names: str
    bug: str | None = None

    def param(self) -> object:
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


def case(id: str, *args: str, names: str, bug: str | None = None) -> Case:
    return Case(id, args, names, bug)


CASES = [
    # ── USCCs ──
    case("uscc-too-short", "enterprise", "add", "91500000MA5U0000", "--name", "甲", "--district", "yubei",
         names="characters"),
    case("uscc-too-long", "enterprise", "add", "91500000MA5U0000AUX", "--name", "甲", "--district", "yubei",
         names="characters"),
    case("uscc-letter-O", "enterprise", "add", "91500000MA5O0000AU", "--name", "甲", "--district", "yubei",
         names="invalid character"),
    case("uscc-check-digit", "enterprise", "add", "91500000MA5U0000AX", "--name", "甲", "--district", "yubei",
         names="check"),
    case("uscc-empty", "status", "", names="USCC"),
    case("uscc-chinese", "status", "统一社会信用代码统一社会信用代码统一社会", names="USCC"),
    case("uscc-sql", "history", "' OR '1'='1", names="USCC"),
    case("uscc-10k", "status", "9" * 10_000, names="USCC"),
    case("uscc-unregistered-record", "record", "{U}", "hnte.applied", "--on", "2024-01-01",
         names="registered"),
    case("uscc-unregistered-status", "status", "{U}", names="registered"),
    case("uscc-already-registered", "enterprise", "add", "{A}", "--name", "甲", "--district", "yubei",
         names="already registered"),
    case("ledger-enterprise-bad-uscc", "ledger", "--enterprise", "91500000MA5U0000AX", names="USCC"),
    # ── districts, tracks, actions, options ──
    case("district-unknown", "enterprise", "add", "{U}", "--name", "甲", "--district", "chengdu",
         names="chengdu"),
    case("district-chinese-misspelled", "enterprise", "add", "{U}", "--name", "甲", "--district", "渝比",
         names="渝比"),
    case("district-sql", "enterprise", "add", "{U}", "--name", "甲", "--district", SQL, names="DROP"),
    case("track-unknown", "record", "{A}", "srdi-national.certified", "--on", "2024-01-01",
         names="srdi-national"),
    case("track-chinese-misspelled", "record", "{A}", "市级专精特心.认定", "--on", "2024-01-01",
         names="专精特心"),
    case("action-unknown", "record", "{A}", "hnte.approved", "--on", "2024-01-01", names="approved"),
    case("action-chinese-misspelled", "record", "{A}", "高新技术企业.认证了", "--on", "2024-01-01",
         names="认证了"),
    case("milestone-without-action", "record", "{A}", "hnte", "--on", "2024-01-01", names="hnte"),
    case("action-scheduler-only", "record", "{A}", "srdi-municipal.expired", "--on", "2026-03-01",
         names="expired"),
    case("transition-not-allowed", "record", "{A}", "hnte.review-passed", "--on", "2024-01-01",
         names="review-passed"),
    case("prerequisite-missing", "record", "{E}", "little-giant.certified", "--on", "2024-01-01",
         names="little-giant"),
    case("override-without-reason", "record", "{E}", "little-giant.certified", "--on", "2024-01-01",
         "--override-prerequisite", names="--reason"),
    case("reason-without-override", "record", "{E}", "hnte.applied", "--on", "2024-01-01", "--reason", "x",
         names="--override-prerequisite"),
    case("size-unknown", "enterprise", "add", "{U}", "--name", "甲", "--district", "yubei", "--size", "huge",
         names="--size"),
    case("lang-unknown", "status", "{A}", "--lang", "fr", names="fr"),
    case("machines-format-unknown", "machines", "--format", "png", names="png"),
    case("command-unknown", "frobnicate", names="frobnicate"),
    case("option-unknown", "status", "{A}", "--colour", names="--colour"),
    # ── dates ──
    case("date-future", "record", "{A}", "hnte.applied", "--on", FUTURE, names=FUTURE),
    case("date-feb-30", "record", "{A}", "hnte.applied", "--on", "2024-02-30", names="2024-02-30"),
    case("date-short-year", "record", "{A}", "hnte.applied", "--on", "24-1-1", names="24-1-1"),
    case("date-slashes", "record", "{A}", "hnte.applied", "--on", "2024/01/01", names="2024/01/01"),
    case("date-empty", "record", "{A}", "hnte.applied", "--on", "", names="--on"),
    case("date-before-latest-milestone", "record", "{A}", "srdi-municipal.review-passed", "--on",
         "2023-01-01", names="before"),
    case("registration-date-future", "enterprise", "add", "{U}", "--name", "甲", "--district", "yubei",
         "--on", FUTURE, names=FUTURE),
    case("report-date-future", "report", "{A}", "financials", "--year", "2024", "--revenue", "1", "--on",
         FUTURE, names=FUTURE),
    case("status-as-of-malformed", "status", "{A}", "--as-of", "yesterday", names="--as-of"),
    case("ledger-as-of-malformed", "ledger", "--as-of", "2024-13-01", names="--as-of"),
    case("replay-as-of-malformed", "replay", "--as-of", "2024-1-1", names="--as-of"),
    case("replay-batch-zero", "replay", "--batch", "0", names="--batch"),
    case("export-as-of-malformed", "audit", "export", "{dir}/out.jsonl", "--as-of", "1/1/2024",
         names="--as-of"),
    case("reminders-within-negative", "reminders", "--within", "-1", names="--within"),
    case("reminders-today-malformed", "reminders", "--today", "2024-02-30", names="--today"),
    # ── amounts ──
    case("amount-negative", "report", "{A}", "financials", "--year", "2024", "--revenue", "-1",
         names="--revenue"),
    case("amount-nan", "report", "{A}", "financials", "--year", "2024", "--revenue", "NaN",
         names="--revenue"),
    case("amount-inf", "report", "{A}", "financials", "--year", "2024", "--revenue", "inf",
         names="--revenue"),
    case("amount-1e309", "report", "{A}", "financials", "--year", "2024", "--revenue", "1e309",
         names="--revenue"),
    case("amount-three-decimals", "report", "{A}", "financials", "--year", "2024", "--revenue", "1.001",
         names="--revenue"),
    case("amount-words", "report", "{A}", "financials", "--year", "2024", "--revenue", "一百万",
         names="--revenue"),
    case("amount-sql", "report", "{A}", "financials", "--year", "2024", "--revenue", SQL, names="--revenue"),
    case("rd-expense-negative", "report", "{A}", "financials", "--year", "2024", "--revenue", "1",
         "--rd-expense", "-5", names="--rd-expense"),
    case("rd-subsidy-zero", "report", "{A}", "rd-subsidy", "--year", "2024", "--amount", "0",
         names="--amount"),
    case("talent-contribution-decimals", "report", "{A}", "talent", "--person", "P1", "--year", "2024",
         "--contribution", "10.555", names="--contribution"),
    # ── years ──
    case("year-0", "report", "{A}", "financials", "--year", "0", "--revenue", "1", names="--year"),
    case("year-3000", "report", "{A}", "financials", "--year", "3000", "--revenue", "1", names="--year"),
    case("year-abc", "report", "{A}", "financials", "--year", "abc", "--revenue", "1", names="--year"),
    case("year-not-begun", "report", "{A}", "financials", "--year", "2025", "--revenue", "1", "--on",
         "2024-06-01", names="--year"),
    case("ledger-year-abc", "ledger", "--year", "abc", names="--year"),
    # ── leases ──
    case("lease-area-0", "report", "{A}", "lease", "--year", "2024", "--area", "0", "--rent", "30",
         "--months", "12", "--owner", "state", names="--area"),
    case("lease-area-huge", "report", "{A}", "lease", "--year", "2024", "--area", "2000000", "--rent", "30",
         "--months", "12", "--owner", "state", names="--area"),
    case("lease-months-13", "report", "{A}", "lease", "--year", "2024", "--area", "100", "--rent", "30",
         "--months", "13", "--owner", "state", names="--months"),
    case("lease-months-0", "report", "{A}", "lease", "--year", "2024", "--area", "100", "--rent", "30",
         "--months", "0", "--owner", "state", names="--months"),
    case("lease-owner-other", "report", "{A}", "lease", "--year", "2024", "--area", "100", "--rent", "30",
         "--months", "12", "--owner", "other", names="--owner"),
    case("lease-rent-negative", "report", "{A}", "lease", "--year", "2024", "--area", "100", "--rent", "-3",
         "--months", "12", "--owner", "state", names="--rent"),
    # ── very long text where a limit applies ──
    case("name-10k", "enterprise", "add", "{U}", "--name", LONG, "--district", "yubei", names="--name"),
    case("name-blank", "enterprise", "add", "{U}", "--name", "   ", "--district", "yubei", names="--name"),
    case("ref-10k", "record", "{A}", "hnte.applied", "--on", "2024-01-01", "--ref", LONG, names="--ref"),
    case("person-10k", "report", "{A}", "talent", "--person", LONG, "--year", "2024", "--contribution", "1",
         names="--person"),
    case("patent-number-10k", "report", "{A}", "patent", "--number", LONG, names="--number"),
    case("retract-reason-10k", "retract", "{retracted_event}", "--reason", LONG, names="--reason"),
    case("pay-ref-10k", "entitlement", "pay", "{fixed}", "--amount", "1", "--ref", LONG, "--on",
         "2024-05-01", names="--ref"),
    case("entitlement-id-10k", "entitlement", "approve", "x" * 10_000, "--amount", "1",
         names="ENTITLEMENT_ID"),
    # ── repeats and retractions ──
    case("patent-twice", "report", "{A}", "patent", "--number", "ZL2024-1", names="ZL2024-1"),
    case("demonstration-twice", "report", "{A}", "demonstration", "--year", "2024", "--on", "2024-12-02",
         names="2024"),
    case("retract-unknown", "retract", "00000000-0000-0000-0000-000000000000", "--reason", "x",
         names="00000000-0000-0000-0000-000000000000"),
    case("retract-twice", "retract", "{retracted_event}", "--reason", "again", names="already retracted"),
    case("retract-a-retraction", "retract", "{retraction_event}", "--reason", "x", names="retraction"),
    case("retract-registration", "retract", "{registration_event}", "--reason", "x", names="registers"),
    case("retract-entitlement-event", "retract", "{entitlement_event}", "--reason", "x",
         names="EntitlementCreated"),
    case("retract-reason-blank", "retract", "{retracted_event}", "--reason", " ", names="--reason"),
    # ── decisions and payouts ──
    case("approve-above-ceiling", "entitlement", "approve", "{ceiling}", "--amount", "200000.01",
         names="ceiling"),
    case("approve-twice", "entitlement", "approve", "{approved}", "--amount", "1", names="already approved"),
    case("approve-fixed", "entitlement", "approve", "{fixed}", "--amount", "1", names="awaiting approval"),
    case("approve-reversed", "entitlement", "approve", "{reversed}", "--amount", "1", names="reversed"),
    case("approve-unknown", "entitlement", "approve", "no-such-entitlement", "--amount", "1",
         names="no-such-entitlement"),
    case("approve-amount-zero", "entitlement", "approve", "{ceiling}", "--amount", "0", names="--amount"),
    case("pay-above-approved", "entitlement", "pay", "{approved}", "--amount", "150000.01", "--ref", "R",
         "--on", "2024-01-01", names="left to pay"),
    case("pay-above-owed", "entitlement", "pay", "{fixed}", "--amount", "100000.01", "--ref", "R", "--on",
         "2024-05-01", names="left to pay"),
    case("pay-reversed", "entitlement", "pay", "{reversed}", "--amount", "1", "--ref", "R", "--on",
         "2025-06-01", names="reversed"),
    case("pay-before-approval", "entitlement", "pay", "{ceiling}", "--amount", "1", "--ref", "R", "--on",
         "2024-01-01", names="approve"),
    case("pay-date-future", "entitlement", "pay", "{fixed}", "--amount", "1", "--ref", "R", "--on", FUTURE,
         names=FUTURE),
    case("explain-unknown", "explain", "no-such-entitlement", names="no-such-entitlement"),
    case("explain-id-10k", "explain", "x" * 10_000, names="x" * 50),
    case("ledger-enterprise-10k", "ledger", "--enterprise", "9" * 10_000, names="USCC"),
    case("enterprise-add-uscc-10k", "enterprise", "add", "A" * 10_000, "--name", "甲", "--district", "yubei",
         names="10,000 characters"),
    case("district-10k", "enterprise", "add", "{U}", "--name", "甲", "--district", "渝" * 10_000,
         names="district"),
    # ── policies ──
    case("policy-activate-unknown", "policy", "activate", "yubei-2099", names="yubei-2099"),
    case("policy-show-unknown", "policy", "show", "nonesuch", names="nonesuch"),
    case("policy-activate-date-malformed", "policy", "activate", "yubei-2024", "--on", "2024-02-30",
         names="--on"),
    case("policy-file-broken-toml", "policy", "activate", "yubei-2024", "--file",
         "{dir}/policy-broken.toml", names="TOML"),
    case("policy-file-unknown-field", "policy", "activate", "yubei-2024", "--file",
         "{dir}/policy-unknown-field.toml", names="frobnicate"),
    case("policy-file-bad-decimal", "policy", "activate", "yubei-2024", "--file",
         "{dir}/policy-bad-decimal.toml", names="decimal"),
    case("policy-file-negative-amount", "policy", "activate", "yubei-2024", "--file",
         "{dir}/policy-negative.toml", names="amount"),
    case("policy-file-other-key", "policy", "activate", "yubei-2024", "--file",
         "{dir}/policy-other-key.toml", names="yubei-2099"),
    case("policy-file-not-utf8", "policy", "activate", "yubei-2024", "--file",
         "{dir}/policy-not-utf8.toml", names="UTF-8"),
    case("policy-file-empty", "policy", "activate", "yubei-2024", "--file", "{dir}/policy-empty.toml",
         names="policy-empty.toml"),
    case("policy-file-missing", "policy", "activate", "yubei-2024", "--file", "{dir}/nonesuch.toml",
         names="nonesuch.toml"),
    case("simulate-not-utf8", "simulate", "--policy", "{dir}/policy-not-utf8.toml", names="UTF-8"),
    case("simulate-broken-toml", "simulate", "--policy", "{dir}/policy-broken.toml", names="TOML"),
    # ── import files ──
    case("csv-bad-uscc-line-3", "import", "{dir}/bad-uscc-line3.csv", names="line 3"),
    case("csv-unknown-district-line-2", "import", "{dir}/bad-district-line2.csv", names="line 2"),
    case("csv-feb-30-line-4", "import", "{dir}/bad-date-line4.csv", names="line 4"),
    case("csv-compact-date-line-3", "import", "{dir}/compact-date-line3.csv", names="YYYY-MM-DD"),
    case("csv-future-date-line-3", "import", "{dir}/future-date.csv", names="line 3"),
    case("csv-unknown-action-line-3", "import", "{dir}/bad-milestone.csv", names="line 3"),
    case("csv-milestone-without-date", "import", "{dir}/milestone-without-date.csv", names="line 3"),
    case("csv-too-many-values", "import", "{dir}/too-many-values.csv", names="line 2"),
    case("csv-unknown-column", "import", "{dir}/unknown-column.csv", names="colour"),
    case("csv-no-header", "import", "{dir}/no-header.csv", names="header"),
    case("csv-empty", "import", "{dir}/empty.csv", names="empty"),
    case("csv-blank-lines-only", "import", "{dir}/blank-lines-only.csv", names="empty"),
    case("csv-not-utf8", "import", "{dir}/not-utf8.csv", names="UTF-8"),
    case("csv-sql-district", "import", "{dir}/sql-district.csv", names="line 2"),
    case("csv-milestone-of-unregistered", "import", "{dir}/unregistered-milestone.csv", names="line 2"),
    case("csv-missing-file", "import", "{dir}/nonesuch.csv", names="nonesuch.csv"),
    # ── reading ──
    case("targets-district-unknown", "targets", "chengdu", names="chengdu"),
    case("ledger-district-unknown", "ledger", "--district", "渝比", names="渝比"),
    case("ledger-two-outputs", "ledger", "--json", "--csv", "{dir}/x.csv", names="at most one"),
    case("calendar-within-negative", "calendar", "--within", "-5", names="--within"),
]  # fmt: skip

SAMPLE_THROUGH_THE_SCRIPT = (
    "uscc-check-digit",
    "csv-bad-uscc-line-3",
    "pay-above-owed",
    "reminders-within-negative",
)


@dataclass(frozen=True)
class Desk:
    url: str
    engine: Engine
    ids: dict[str, str]

    def args(self, template: Sequence[str | bytes]) -> list[str | bytes]:
        return [a.format(**self.ids) if isinstance(a, str) and "{" in a else a for a in template]


@pytest.fixture(scope="module")
def desk(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The prepared database (all projections caught up) and the ids the catalogue refers to."""
    ids = build_desk(module_db_url, tmp_path_factory.mktemp("bad-files"))
    engine = open_engine(module_db_url)
    catch_up(engine)
    yield Desk(module_db_url, engine, ids)
    engine.dispose()


def assert_refused(done: Outcome, c: Case) -> None:
    """Exit 2, exactly one non-empty line on stderr naming the problem, no traceback, no stdout."""
    lines = [line for line in done.err.splitlines() if line.strip()]
    assert done.code == 2, f"{c.id}: exit {done.code}: {done.err[-2000:]}"
    assert "Traceback" not in done.err, done.err
    assert len(lines) == 1, f"{c.id}: {len(lines)} lines on stderr: {done.err[:2000]}"
    assert lines[0].startswith("error: "), lines[0][:500]
    assert c.names in lines[0], f"{c.id}: {c.names!r} not in {lines[0][:500]!r}"
    assert len(lines[0]) < 1500, f"{c.id}: the line is {len(lines[0])} characters long"
    assert done.out.strip() == "", f"{c.id}: stdout {done.out[:500]!r}"


def test_the_catalogue_is_large_and_named_uniquely() -> None:
    """At least 50 distinct malformed inputs, each with its own readable id."""
    ids = [c.id for c in CASES]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)
    assert set(SAMPLE_THROUGH_THE_SCRIPT) <= set(ids)


@pytest.mark.parametrize("c", [c.param() for c in CASES])
def test_malformed_input_is_refused_and_writes_nothing(c: Case, desk: Desk) -> None:
    """The command exits 2 with one clear line and the database is logically byte-for-byte unchanged."""
    before = logical_dump(desk.engine)
    done = run_cli(desk.url, *(str(a) for a in desk.args(c.args)))
    assert_refused(done, c)
    assert logical_dump(desk.engine) == before, f"{c.id} changed the database"


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE_THROUGH_THE_SCRIPT)
def test_the_installed_script_refuses_the_same_way(name: str, desk: Desk) -> None:
    """A sample of the catalogue through the real `srdi` script: same exit code, same one line."""
    c = next(c for c in CASES if c.id == name)
    before = logical_dump(desk.engine)
    assert_refused(srdi(desk.url, *desk.args(c.args)), c)
    assert logical_dump(desk.engine) == before


# What Python makes of argv bytes that are not UTF-8 (surrogateescape): the script sees exactly these.
NOT_UTF8 = {"name": b"\xff\xfe\xe5\x85\xac\xe5\x8f\xb8", "ref": b"\xc3\x28", "person": b"P\xff"}
BAD = {k: os.fsdecode(v) for k, v in NOT_UTF8.items()}


@dataclass(frozen=True)
class NonUtf8:
    """A command with a text argument that is not UTF-8, and what its one line must name."""

    args: tuple[str, ...]
    names: str
    bug: str | None = None


NON_UTF8_ARGUMENTS: dict[str, NonUtf8] = {
    "name": NonUtf8(("enterprise", "add", "{U}", "--name", BAD["name"], "--district", "yubei"), "--name"),
    "department": NonUtf8(("enterprise", "add", "{U}", "--name", "甲", "--district", "yubei",
                           "--department", BAD["ref"]), "--department"),
    "district": NonUtf8(("enterprise", "add", "{U}", "--name", "甲", "--district", BAD["person"]),
                        "district"),
    "uscc": NonUtf8(("status", BAD["person"]), "USCC"),
    "ref": NonUtf8(("record", "{A}", "hnte.applied", "--on", "2024-01-01", "--ref", BAD["ref"]), "--ref"),
    "milestone": NonUtf8(("record", "{A}", BAD["person"] + ".applied", "--on", "2024-01-01"), "track"),
    "override-reason": NonUtf8(("record", "{E}", "little-giant.certified", "--on", "2024-01-01",
                                "--override-prerequisite", "--reason", BAD["ref"]), "--reason"),
    "person": NonUtf8(("report", "{A}", "talent", "--person", BAD["person"], "--year", "2024",
                       "--contribution", "1"), "--person"),
    "revenue": NonUtf8(("report", "{A}", "financials", "--year", "2024", "--revenue", BAD["person"]),
                       "--revenue"),
    "patent-number": NonUtf8(("report", "{A}", "patent", "--number", BAD["name"]), "--number"),
    "retract-reason": NonUtf8(("retract", "{retracted_event}", "--reason", BAD["ref"]), "--reason"),
    "pay-ref": NonUtf8(("entitlement", "pay", "{fixed}", "--amount", "1", "--ref", BAD["ref"], "--on",
                        "2024-05-01"), "--ref"),
    "approve-id": NonUtf8(("entitlement", "approve", BAD["person"], "--amount", "1"), "ENTITLEMENT_ID"),
    "explain-id": NonUtf8(("explain", BAD["person"]), "ENTITLEMENT_ID"),
}  # fmt: skip


def _non_utf8_param(field: str) -> object:
    bug = NON_UTF8_ARGUMENTS[field].bug
    return pytest.param(field, id=field, marks=[pytest.mark.xfail(strict=True, reason=bug)] if bug else [])


@pytest.mark.parametrize("field", [_non_utf8_param(f) for f in NON_UTF8_ARGUMENTS])
def test_non_utf8_bytes_in_a_text_argument_are_refused(field: str, desk: Desk) -> None:
    """Text options given bytes that are not UTF-8 are refused with exit 2 and one line; nothing written.

    The line shows the bytes as escapes (never the lone surrogates, which cannot be printed as UTF-8).
    """
    assert sys.getfilesystemencoding() == "utf-8"
    given = NON_UTF8_ARGUMENTS[field]
    before = logical_dump(desk.engine)
    done = run_cli(desk.url, *(str(a) for a in desk.args(given.args)))
    assert logical_dump(desk.engine) == before
    assert_refused(done, Case(f"non-utf8-{field}", (), given.names))
    done.err.encode("utf-8")  # printable: no lone surrogate in the message


def test_non_utf8_bytes_through_the_script_are_refused(desk: Desk) -> None:
    """The raw bytes through the real `srdi` script: exit 2, one line, nothing written."""
    args = ("report", desk.ids["A"], "talent", "--person", NOT_UTF8["person"], "--year", "2024",
            "--contribution", "1")  # fmt: skip
    before = logical_dump(desk.engine)
    done = srdi(desk.url, *args)
    assert logical_dump(desk.engine) == before
    assert_refused(done, Case("non-utf8-person-script", (), "--person"))
    assert "not valid UTF-8" in done.err and "P\\xff" in done.err


def test_an_actor_that_is_not_utf8_is_refused(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """SRDI_ACTOR holding bytes that are not UTF-8: exit 2 naming SRDI_ACTOR, nothing written."""
    monkeypatch.setenv("SRDI_ACTOR", BAD["person"])
    before = logical_dump(desk.engine)
    done = run_cli(desk.url, "report", desk.ids["A"], "financials", "--year", "2024", "--revenue", "1")
    assert logical_dump(desk.engine) == before
    assert_refused(done, Case("non-utf8-actor", (), "SRDI_ACTOR"))


# ── accepted input that is normalised: a negative zero is zero ──────────────────────────────


def test_minus_zero_figures_are_stored_as_zero(backend: str, tmp_path: Path) -> None:
    """``--revenue -0`` and ``--rd-expense -0.00`` are accepted as zero and stored without a sign."""
    with fresh_database(backend, tmp_path) as url:
        who = uscc("NEG", 1)
        added = run_cli(url, "enterprise", "add", who, "--name", "甲", "--district", "yubei", "--on",
                        "2023-01-01")  # fmt: skip
        assert added.code == 0, added.err
        for year, revenue, rd in (("2023", "-0", "-0.00"), ("2024", "-0.0", "0")):
            done = run_cli(url, "report", who, "financials", "--year", year, "--revenue", revenue,
                           "--rd-expense", rd, "--json")  # fmt: skip
            assert done.code == 0, done.err
        events = run_cli(url, "history", who, "--json").json()["events"]
        figures = [e["data"] for e in events if e["type"] == "FinancialsReported"]
        assert [(f["revenue"], f["rd_expense"]) for f in figures] == [("0", "0.00"), ("0.0", "0")]


# ── valid text that looks like SQL is accepted and stored verbatim ──────────────────────────

INJECTIONS = (
    "'; DROP TABLE events; --",
    'Robert"); DELETE FROM ledger_entries; --',
    "1' OR '1'='1",
    "重庆'; TRUNCATE projection_checkpoints; --公司",
)


def test_sql_looking_text_is_stored_verbatim_and_the_tables_survive(backend: str, tmp_path: Path) -> None:
    """Names, references, persons and reasons that look like SQL are data: stored and shown as typed."""
    with fresh_database(backend, tmp_path) as url:
        ok = run_cli(url, "policy", "activate", "yubei-2024", "--on", "2024-12-12", "--json")
        assert ok.code == 0, ok.err
        for n, text in enumerate(INJECTIONS):
            who = uscc("QRY", n)
            added = run_cli(url, "enterprise", "add", who, "--name", text, "--district", "yubei",
                            "--department", text, "--json")  # fmt: skip
            assert added.code == 0, added.err
            milestone = run_cli(
                url, "record", who, "hnte.applied", "--on", "2024-01-01", "--ref", text, "--json"
            )
            assert milestone.code == 0, milestone.err
            talent = run_cli(url, "report", who, "talent", "--person", text[:64], "--year", "2024",
                             "--contribution", "1000", "--json")  # fmt: skip
            assert talent.code == 0, talent.err
            retracted = run_cli(url, "retract", talent.json()["event_id"], "--reason", text, "--json")
            assert retracted.code == 0, retracted.err
            assert run_cli(url, "status", who, "--json").json()["name"] == text
            history = run_cli(url, "history", who, "--json").json()["events"]
            data = {e["type"]: e["data"] for e in history}
            assert data["EnterpriseRegistered"]["department"] == text
            assert data["MilestoneRecorded"]["ref"] == text
            assert data["TalentContributionReported"]["person"] == text[:64]
            assert data["EventRetracted"]["reason"] == text
        engine = open_engine(url)
        try:
            assert verify(engine).ok
            assert verify(engine).events == 1 + 4 * len(INJECTIONS)
            replayed = run_cli(url, "replay", "--json").json()
            assert replayed["events"] == 1 + 4 * len(INJECTIONS)
            assert replayed["projections"]["status"] > 0
        finally:
            engine.dispose()


def test_a_policy_amount_below_the_fen_is_refused(db_url: str, tmp_path: Path) -> None:
    """A policy file with a sub-fen amount exits 2 with one line naming the field; nothing is activated."""
    path = tmp_path / "policy-sub-fen.toml"
    path.write_text(policy_with("amount = 100000\n", "amount = 1.001\n"), encoding="utf-8")
    engine = open_engine(db_url)
    try:
        before = logical_dump(engine)
        done = run_cli(db_url, "policy", "activate", "yubei-2024", "--file", str(path))
        assert logical_dump(engine) == before
        assert_refused(done, Case("policy-file-sub-fen", (), "amount"))
        assert "more than 2 decimal places" in done.err
        simulated = run_cli(db_url, "simulate", "--policy", str(path))
        assert_refused(simulated, Case("simulate-sub-fen", (), "amount"))
        assert logical_dump(engine) == before
    finally:
        engine.dispose()
