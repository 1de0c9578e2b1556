"""Malformed input of every kind: exit 2, one clear line on stderr, nothing on stdout, the database unchanged.

The catalogue runs ``cli.main()`` in-process with a real argv (the `srdi` script, `cli.run`, wraps
exactly that) against one database per back-end, prepared through the bootstrap's office
(`prepare`); a sample also runs through the installed script. "Unchanged" is a logical dump of
every table (support.logical_dump).
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
from tests.bootstrap import Office, bootstrap
from tests.reliability.bad_files import policy_with, write_bad_files
from tests.reliability.support import Outcome, file_bytes, logical_dump, open_engine, run_cli, srdi, uscc

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
    code: int = 2

    def param(self) -> object:
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


def case(id: str, *args: str, names: str, bug: str | None = None, code: int = 2) -> Case:
    return Case(id, args, names, bug, code)


def add(name: str, *more: str, id: str, names: str) -> Case:
    """``enterprise add {U} --name NAME --district yubei MORE…``."""
    return case(id, "enterprise", "add", "{U}", "--name", name, "--district", "yubei", *more, names=names)


def rec(*more: str, id: str, names: str, on: str = "2024-01-01") -> Case:
    """``record {A} hnte.applied --on ON MORE…``."""
    return case(id, "record", "{A}", "hnte.applied", "--on", on, *more, names=names)


def revenue(amount: str, id: str) -> Case:
    return case(id, "report", "{A}", "financials", "--year", "2024", "--revenue", amount, names="--revenue")


def pay(*more: str, id: str, names: str, amount: str = "1", on: str = "2024-05-01", ref: str = "R") -> Case:
    return case(id, "entitlement", "pay", "{fixed}", "--amount", amount, "--ref", ref, "--on", on, *more,
                names=names)  # fmt: skip


def lease(
    id: str, names: str, area: str = "100", rent: str = "30", months: str = "12", owner: str = "state"
) -> Case:
    """``report {A} lease --year 2024`` of ``area`` m² at ``rent`` for ``months`` months from ``owner``."""
    terms = ("--area", area, "--rent", rent, "--months", months, "--owner", owner)
    return case(id, "report", "{A}", "lease", "--year", "2024", *terms, names=names)


def policy(file: str, id: str, names: str) -> Case:
    return case(id, "policy", "activate", "yubei-2024", "--file", "{dir}/" + file, names=names)


TOO_BIG = "1000000000000.01"  # one fen above domain.inputs.MAX_AMOUNT
HOSTILE = [
    # ── control characters where a field allows one line ──
    add("重庆\x00科技", id="name-nul", names="control character"),
    add("重庆\x1b[31m红\x1b[0m", id="name-escape-sequence", names="control character"),
    add("Acme\nLtd", id="name-newline", names="control character"),
    add("Acme\rLtd", id="name-carriage-return", names="control character"),
    add("Acme\tLtd", id="name-tab", names="control character"),
    add("Acme\x07Ltd", id="name-bell", names="control character"),
    add("Acme\x7fLtd", id="name-delete", names="control character"),
    add("Acme\x85Ltd", id="name-c1-next-line", names="control character"),
    add("Acme\u2028Ltd", id="name-line-separator", names="control character"),
    add("Acme\u2029Ltd", id="name-paragraph-separator", names="control character"),
    add("甲", "--department", "科技局\x00", id="department-nul", names="--department"),
    add("甲", "--department", "科技局\n二科", id="department-newline", names="--department"),
    rec("--ref", "渝\x00001", id="ref-nul", names="--ref"),
    rec("--ref", "\x1b]8;;http://evil\x1b\\link", id="ref-osc8-hyperlink", names="--ref"),
    case("person-nul", "report", "{A}", "talent", "--person", "张\x00三", "--year", "2024", "--contribution",
         "1",
         names="--person"),
    case("patent-number-escape", "report", "{A}", "patent", "--number", "ZL\x1b[2J", names="--number"),
    case("retract-reason-nul", "retract", "{retracted_event}", "--reason", "录入\x00错误", names="--reason"),
    case("override-reason-newline", "record", "{E}", "little-giant.certified", "--on", "2024-01-01",
         "--override-prerequisite", "--reason", "a\nb", names="--reason"),
    pay(id="pay-ref-nul", ref="R\x00", names="--ref"),
    pay(id="pay-ref-newline", ref="R\n2", names="--ref"),
    case("update-name-nul", "enterprise", "update", "{A}", "--on", "2024-01-01", "--name", "甲\x00",
         names="control character"),
    case("update-department-escape", "enterprise", "update", "{A}", "--on", "2024-01-01", "--department",
         "\x1b[2J", names="control character"),
    case("update-on-1989", "enterprise", "update", "{A}", "--on", "1989-12-31", "--name", "乙", names="1990"),
    # ── lengths: one over each stated limit ──
    add("名" * 201, id="name-201", names="200 characters"),
    add("甲", "--department", "ß" * 201, id="department-201-eszett", names="200 characters"),
    rec("--ref", "R" * 201, id="ref-201", names="200 characters"),
    case("person-65", "report", "{A}", "talent", "--person", "P" * 65, "--year", "2024", "--contribution",
         "1",
         names="64 characters"),
    case("patent-number-65", "report", "{A}", "patent", "--number", "Z" * 65, names="64 characters"),
    case("retract-reason-501", "retract", "{retracted_event}", "--reason", "理" * 501,
         names="500 characters"),
    pay(id="pay-ref-201", ref="R" * 201, names="200 characters"),
    # ── amounts ──
    revenue("8 0", "amount-inner-space"),
    revenue("1 000 000", "amount-spaced-thousands"),
    revenue("1,000 000", "amount-comma-and-space"),
    revenue("8\u00a00", "amount-inner-nbsp"),
    revenue(TOO_BIG, "amount-above-the-bound"),
    revenue("1" + "0" * 27, "amount-10-to-27"),
    revenue("99999999999999999999.99", "amount-20-digits"),
    revenue("0x10", "amount-hex"),
    revenue("1e12", "amount-exponent"),
    revenue("--5", "amount-double-sign"),
    revenue("5-", "amount-trailing-sign"),
    revenue("1.2.3", "amount-two-points"),
    revenue("", "amount-empty"),
    revenue("¥100", "amount-currency-sign"),
    revenue("100元", "amount-unit"),
    case("approve-10-to-27", "entitlement", "approve", "{ceiling}", "--amount", "1" + "0" * 27,
         names="--amount"),
    case("approve-inner-space", "entitlement", "approve", "{ceiling}", "--amount", "1 0", names="--amount"),
    pay(id="pay-above-the-bound", amount=TOO_BIG, names="--amount"),
    pay(id="pay-8-fen-above-a-huge-approval", amount="1" + "0" * 26 + ".08", names="--amount"),
    case("rd-subsidy-above-the-bound", "report", "{A}", "rd-subsidy", "--year", "2024", "--amount", TOO_BIG,
         names="--amount"),
    lease(id="lease-rent-above-the-bound", names="--rent", rent=TOO_BIG),
    case("talent-above-the-bound", "report", "{A}", "talent", "--person", "P9", "--year", "2024",
         "--contribution", TOO_BIG, names="--contribution"),
    # ── business dates before 1990 ──
    rec(id="record-1900", on="1900-01-01", names="1990-01-01"),
    rec(id="record-1989-12-31", on="1989-12-31", names="1989-12-31"),
    rec(id="record-year-1", on="0001-01-01", names="1990-01-01"),
    rec(id="record-9999", on="9999-12-31", names="after today"),
    rec(id="record-year-0", on="0000-01-01", names="--on"),
    rec(id="record-year-10000", on="10000-01-01", names="--on"),
    rec(id="record-date-with-time", on="2024-01-01T00:00", names="--on"),
    add("甲", "--on", "1989-12-31", id="registration-1989", names="1990-01-01"),
    case("report-1900", "report", "{A}", "patent", "--number", "ZL-OLD", "--on", "1900-06-01", names="1990"),
    pay(id="pay-1989", on="1989-12-31", names="1990-01-01"),
    case("approve-1900", "entitlement", "approve", "{ceiling}", "--amount", "1", "--on", "1900-01-01",
         names="1990-01-01"),
    # ── files to read ──
    case("import-dev-zero", "import", "/dev/zero", names="device"),
    case("import-dev-null", "import", "/dev/null", names="device"),
    case("import-directory", "import", "{dir}", names="directory"),
    case("import-fifo", "import", "{dir}/a-fifo", names="FIFO"),
    case("import-link-to-dev-zero", "import", "{dir}/link-to-zero.csv", names="device"),
    case("import-over-the-size-limit", "import", "{dir}/huge.csv", names="MiB"),
    case("policy-file-dev-zero", "policy", "activate", "yubei-2024", "--file", "/dev/zero", names="device"),
    case("simulate-fifo", "simulate", "--policy", "{dir}/a-fifo", names="FIFO"),
    # ── policy files: keys within their columns, no control characters, amounts bounded ──
    policy("policy-article-21.toml", "policy-file-article-21", "article"),
    policy("policy-article-newline.toml", "policy-file-article-newline", "article"),
    policy("policy-summary-nul.toml", "policy-file-summary-nul", "control character"),
    policy("policy-title-escape.toml", "policy-file-title-escape", "control character"),
    policy("policy-amount-above-the-bound.toml", "policy-file-amount-above-the-bound", "amount"),
    policy("policy-rule-id-long.toml", "policy-file-rule-id-long", "id"),
    policy("policy-district-long.toml", "policy-file-district-long", "districts"),
    # ── files to write ──
    case("ledger-csv-exists", "ledger", "--csv", "{dir}/existing.csv", names="--force"),
    case("ledger-xlsx-exists", "ledger", "--xlsx", "{dir}/existing.csv", names="--force"),
    case("audit-export-exists", "audit", "export", "{dir}/existing.csv", names="--force"),
    case("ledger-csv-symlink", "ledger", "--csv", "{dir}/link-to-existing.csv", "--force",
         names="symbolic link"),
    case("audit-export-symlink", "audit", "export", "{dir}/link-to-existing.csv", "--force",
         names="symbolic link"),
    case("audit-export-dangling-symlink", "audit", "export", "{dir}/dangling-link", names="symbolic link"),
    case("ledger-csv-device", "ledger", "--csv", "/dev/null", "--force", names="device"),
    case("ledger-xlsx-dev-full", "ledger", "--xlsx", "/dev/full", "--force", names="device"),
    case("audit-export-device", "audit", "export", "/dev/null", "--force", names="device"),
    case("audit-export-fifo", "audit", "export", "{dir}/a-fifo", "--force", names="FIFO"),
    case("ledger-csv-directory", "ledger", "--csv", "{dir}", "--force", names="directory"),
    case("audit-export-directory", "audit", "export", "{dir}", names="directory"),
    case("ledger-csv-missing-folder", "ledger", "--csv", "{dir}/no/such/folder/x.csv",
         names="does not exist"),
    case("audit-export-missing-folder", "audit", "export", "{dir}/nowhere/x.jsonl", names="does not exist"),
    case("ledger-csv-empty-path", "ledger", "--csv", "", names="directory"),  # typer makes "" the path "."
    case("audit-export-empty-path", "audit", "export", "", names="empty"),
    # ── control characters in keys and ids ──
    add("甲", "--size", "small\x00", id="size-nul", names="--size"),
    case("district-nul", "enterprise", "add", "{U}", "--name", "甲", "--district", "yubei\x00",
         names="district"),
    case("uscc-nul", "status", "91500DKTMA0000001\x00", names="USCC"),
    case("ledger-enterprise-escape", "ledger", "--enterprise", "\x1b[2J", names="USCC"),
    case("explain-id-nul", "explain", "abc\x00def", names="abc"),
    # ── read options that are not dates at all ──
    case("status-as-of-month-99", "status", "{A}", "--as-of", "9999-99-99", names="--as-of"),
    case("ledger-recorded-before-words", "ledger", "--recorded-before", "yesterday",
         names="--recorded-before"),
    case("calendar-today-zeros", "calendar", "--today", "0000-00-00", names="--today"),
    # ── the database URL ──
    case("db-url-malformed", "--db", "nonsense://", "status", "{A}", names="malformed", code=5),
    case("db-url-malformed-after-the-command", "ledger", "--db", "::::", names="malformed", code=5),
    case("db-postgres-unreachable", "--db", "postgresql://srdi:s3cret@127.0.0.1:1/none", "ledger",
         names="cannot be reached", code=5),
    case("db-sqlite-folder-missing", "--db", "sqlite:////nonexistent-folder/srdi.db", "enterprise", "add",
         "{U}", "--name", "甲", "--district", "yubei", names="cannot be reached", code=5),
    case("db-sqlite-missing-for-a-read", "--db", "sqlite:////nonexistent-folder/srdi.db", "ledger",
         names="no database", code=5),
]  # fmt: skip

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
    rec(id="date-future", names=FUTURE, on=FUTURE),
    rec(id="date-feb-30", names="2024-02-30", on="2024-02-30"),
    rec(id="date-short-year", names="24-1-1", on="24-1-1"),
    rec(id="date-slashes", names="2024/01/01", on="2024/01/01"),
    rec(id="date-empty", names="--on", on=""),
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
    revenue("-1", id="amount-negative"),
    revenue("NaN", id="amount-nan"),
    revenue("inf", id="amount-inf"),
    revenue("1e309", id="amount-1e309"),
    revenue("1.001", id="amount-three-decimals"),
    revenue("一百万", id="amount-words"),
    revenue(SQL, id="amount-sql"),
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
    lease(id="lease-area-0", names="--area", area="0"),
    lease(id="lease-area-huge", names="--area", area="2000000"),
    lease(id="lease-months-13", names="--months", months="13"),
    lease(id="lease-months-0", names="--months", months="0"),
    lease(id="lease-owner-other", names="--owner", owner="other"),
    lease(id="lease-rent-negative", names="--rent", rent="-3"),
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
    policy("policy-broken.toml", id="policy-file-broken-toml", names="TOML"),
    policy("policy-unknown-field.toml", id="policy-file-unknown-field", names="frobnicate"),
    policy("policy-bad-decimal.toml", id="policy-file-bad-decimal", names="decimal"),
    policy("policy-negative.toml", id="policy-file-negative-amount", names="amount"),
    policy("policy-other-key.toml", id="policy-file-other-key", names="yubei-2099"),
    policy("policy-not-utf8.toml", id="policy-file-not-utf8", names="UTF-8"),
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
    *HOSTILE,
]  # fmt: skip

SAMPLE_THROUGH_THE_SCRIPT = (
    "uscc-check-digit",
    "csv-bad-uscc-line-3",
    "pay-above-owed",
    "reminders-within-negative",
)


A = uscc("DKT", 1)  # yubei: YB-5a accrued, YB-7d reversed, demonstration 2024, patent ZL2024-1
B = uscc("DKT", 2)  # rongchang: RC-27b awaiting approval (ceiling 200,000)
C = uscc("DKT", 3)  # rongchang: RC-27b approved at 150,000
E = uscc("DKT", 5)  # yubei: registered, nothing else
UNREGISTERED = uscc("DKT", 9)


def prepare(office: Office) -> dict[str, str]:
    """A small but complete database: every kind of thing a malformed command could be aimed at exists
    (enterprises in two districts, an accrued fixed award, a ceiling awaiting approval, an approved one,
    a reversed one, a retraction, a demonstration year and a patent on record); the ids the
    catalogue's argument templates refer to."""
    office.activate_all()
    office.register(A, "yubei", "medium", name="重庆甲科技有限公司")
    office.register(B, "荣昌", None, name="重庆乙科技有限公司")
    office.register(C, "rongchang", None, name="重庆丙科技有限公司")
    registered = office.register(E, "yubei", None, name="重庆戊科技有限公司")
    for who, srdi_on in ((A, "2023-03-01"), (B, "2022-08-01"), (C, "2022-08-01")):
        office.climb(who, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", srdi_on))
    office.climb(A, ("listing.neeq-filed", "2024-01-05"), ("listing.neeq-listed", "2024-06-05"))
    select = office.record(A, "listing.neeq-select", "2025-03-05")
    retraction = office.retract(select.event_id, reason="录入错误")
    office.demonstration(A, 2024, "2024-12-01")
    office.patent(A, "ZL2024-1", "2024-05-01")
    approved = office.one(C, "RC-27b").entitlement_id
    office.approve(C, approved, "150000", on="2023-01-10")
    created = next(e.event_id for e in office.stream(A) if e.event_type == "EntitlementCreated")
    assert [office.one(*rule).status for rule in ((A, "YB-7d"), (B, "RC-27b"), (A, "YB-5a"))] == [
        "reversed", "awaiting-approval", "accrued"
    ]  # fmt: skip
    return {
        "A": A, "B": B, "C": C, "E": E, "U": UNREGISTERED,
        "fixed": office.one(A, "YB-5a").entitlement_id,
        "reversed": office.one(A, "YB-7d").entitlement_id,
        "ceiling": office.one(B, "RC-27b").entitlement_id,
        "approved": approved,
        "retracted_event": select.event_id,
        "retraction_event": retraction.event_id,
        "registration_event": registered.event_id,
        "entitlement_event": created,
    }  # fmt: skip


@dataclass(frozen=True)
class Desk:
    url: str
    engine: Engine
    ids: dict[str, str]

    def args(self, template: Sequence[str | bytes]) -> list[str | bytes]:
        return [a.format(**self.ids) if isinstance(a, str) and "{" in a else a for a in template]


@pytest.fixture(scope="module")
def desk(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The prepared database (its views caught up), the bad files, the ids the catalogue refers to."""
    folder = tmp_path_factory.mktemp("bad-files")
    write_bad_files(folder)
    engine = open_engine(module_db_url)
    ids = prepare(bootstrap(engine))
    catch_up(engine)
    yield Desk(module_db_url, engine, {**ids, "dir": str(folder)})
    engine.dispose()


def assert_refused(done: Outcome, c: Case) -> None:
    """Exit 2 (or the case's code), one non-empty line on stderr naming the problem, no traceback,
    no stdout, no password."""
    lines = [line for line in done.err.splitlines() if line.strip()]
    assert done.code == c.code, f"{c.id}: exit {done.code}: {done.err[-2000:]}"
    assert "s3cret" not in done.err and "SELECT" not in done.err and "INSERT" not in done.err, done.err
    assert "Traceback" not in done.err, done.err
    assert len(lines) == 1, f"{c.id}: {len(lines)} lines on stderr: {done.err[:2000]}"
    assert lines[0].startswith("error: "), lines[0][:500]
    assert c.names in lines[0], f"{c.id}: {c.names!r} not in {lines[0][:500]!r}"
    assert len(lines[0]) < 1500, f"{c.id}: the line is {len(lines[0])} characters long"
    assert done.out.strip() == "", f"{c.id}: stdout {done.out[:500]!r}"


def test_the_catalogue_is_large_and_named_uniquely() -> None:
    """At least 200 distinct malformed inputs (100 of them hostile), each with its own readable id."""
    ids = [c.id for c in CASES]
    assert len(ids) >= 200 and len(HOSTILE) >= 100 and len(set(ids)) == len(ids)
    assert set(SAMPLE_THROUGH_THE_SCRIPT) <= set(ids)


@pytest.mark.parametrize("c", [c.param() for c in CASES])
def test_malformed_input_is_refused_and_writes_nothing(c: Case, desk: Desk) -> None:
    """The command exits 2 (5 for an unusable database) with one clear line, and the database is
    unchanged: its logical dump, and on SQLite the bytes of its files."""
    before, raw = logical_dump(desk.engine), file_bytes(desk.url)
    done = run_cli(desk.url, *(str(a) for a in desk.args(c.args)))
    assert_refused(done, c)
    assert logical_dump(desk.engine) == before, f"{c.id} changed the database"
    assert file_bytes(desk.url) == raw, f"{c.id} changed the database file's bytes"
    for kept in ("existing.csv",):
        assert (Path(desk.ids["dir"]) / kept).read_text(encoding="utf-8") == "kept\n", (
            f"{c.id} replaced {kept}"
        )


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
