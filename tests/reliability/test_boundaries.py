"""Values at and beyond every limit: what is accepted is stored, replayed and read on both back-ends.

Hypothesis draws an enterprise's name, department, a milestone's reference, a talent's person and
contribution, an R&D subsidy and the business dates from the edges of what the validation boundary
(`domain.inputs`) allows — lengths 200/201 and 64/65, control characters, bidi marks, markup-looking
brackets, ``ß`` that normalises longer, amounts of one fen, 10^12 yuan and one fen more, inner
spaces, dates 1989-12-31 / 1990-01-01 / today / tomorrow — and runs each through the CLI. The
oracle below is written independently of the code it checks: a value is accepted exactly when it
is valid, and then every read (status, history, ledger, calendar, targets, as JSON and as a table)
answers and a full replay rebuilds every view. A refusal is exit 2 with nothing written.
"""

from __future__ import annotations

import itertools
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bootstrap import bootstrap
from tests.reliability.support import logical_dump, open_engine, run_cli, uscc

TODAY = date.today()  # the CLI's clock is Asia/Shanghai: dates within a day of it are left out below
NOT_TEXT = {"Cc", "Cs", "Zl", "Zp"}
EDGE_TEXT = ["", " ", "a", "ß" * 200, "ß" * 201, "名" * 200, "名" * 201, "x" * 64, "x" * 65,
             "Tools [/] Co", "Acme [old name] Ltd", "[link=http://e.example]x[/link]", "重庆\u202e科技",
             "a\x00b", "a\x1bb", "a\nb", "a\tb", "a\u2028b", "a\x85b", "'; DROP TABLE events; --",
             "  spaced   out  ", "\u3000全角空格\u3000", "emoji 🚀 ok", "=1+1", "@SUM(A1)"]  # fmt: skip
EDGE_AMOUNTS = ["0.01", "1", "999999999999.99", "1000000000000", "1000000000000.01", "1" + "0" * 27,
                "8 0", " 80 ", "1,000,000.5", "0.001", "-1", "NaN", "1e5", "１２３"]  # fmt: skip
EDGE_DATES = [date(1989, 12, 31), date(1990, 1, 1), date(2000, 2, 29), TODAY - timedelta(days=2),
              TODAY + timedelta(days=2)]  # fmt: skip

texts = st.one_of(
    st.sampled_from(EDGE_TEXT),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=70),
    st.builds(lambda c, n: c * n, st.sampled_from(["名", "ß", "a", "[", "\u202e"]), st.integers(195, 205)),
)
amounts = st.one_of(st.sampled_from(EDGE_AMOUNTS), st.decimals(0, 10**12 + 1, places=2).map(str))
dates = st.sampled_from(EDGE_DATES)


def valid_text(value: str, limit: int) -> bool:
    """One printable line, not blank, at most ``limit`` characters once spaces are collapsed."""
    if any(unicodedata.category(c) in NOT_TEXT for c in value):
        return False
    collapsed = " ".join(value.split())
    return 0 < len(collapsed) <= limit


def valid_amount(text: str, positive: bool) -> bool:
    """Plain decimal yuan (surrounding spaces allowed), at most 2 places, within [0 or 0.01, 10^12]."""
    written = unicodedata.normalize("NFKC", text).strip()
    if not written or any(c.isspace() for c in written) or not all(c.isdigit() or c in ".," for c in written):
        return False
    try:
        amount = Decimal(written.replace(",", ""))
    except InvalidOperation:
        return False
    exponent = amount.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 99
    return places <= 2 and (amount > 0 if positive else amount >= 0) and amount <= 10**12


def valid_date(day: date) -> bool:
    return date(1990, 1, 1) <= day <= TODAY


def collapsed(text: str) -> str:
    return " ".join(text.split())


_numbers = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=texts, department=texts, ref=texts, person=texts, contribution=amounts, subsidy=amounts, on=dates)
def _accepted_values_are_stored_replayed_and_read(
    url: str, name: str, department: str, ref: str, person: str, contribution: str, subsidy: str, on: date
) -> None:
    who = uscc("BND", next(_numbers))
    add = run_cli(url, "enterprise", "add", who, "--name", name, "--district", "yubei", "--department",
                  department, "--on", "1990-01-01", "--json")  # fmt: skip
    department_ok = not department.strip() or valid_text(department, 200)
    expect(add, valid_text(name, 200) and department_ok, url)
    if add.code != 0:
        return
    steps = [
        (("record", who, "innovative-sme.certified", "--on", on.isoformat(), "--ref", ref),
         (not ref.strip() or valid_text(ref, 200)) and valid_date(on)),
        (("report", who, "talent", "--person", person, "--year", "2024", "--contribution", contribution),
         valid_text(person, 64) and valid_amount(contribution, positive=False)),
        (("report", who, "rd-subsidy", "--year", "2024", "--amount", subsidy),
         valid_amount(subsidy, positive=True)),
    ]  # fmt: skip
    for args, valid in steps:
        expect(run_cli(url, *args, "--json"), valid, url)
    status = run_cli(url, "status", who, "--json")
    assert status.code == 0, status.err
    assert status.json()["name"] == collapsed(name)
    for read in (("status", who), ("history", who), ("ledger", "--enterprise", who), ("targets", "yubei"),
                 ("calendar",), ("reminders",)):  # fmt: skip
        for fmt in ((), ("--json",)):
            done = run_cli(url, *read, *fmt)
            assert done.code == 0, (read, done.err)
            if not fmt:  # a table: nothing that would act on the terminal
                assert "\x1b" not in done.out and "\u202e" not in done.out, (read, done.out[:1000])


def expect(done: Any, valid: bool, url: str) -> None:
    """Accepted (exit 0) exactly when valid; a refusal is exit 2 with one line."""
    if valid:
        assert done.code == 0, done.err
    else:
        assert done.code == 2, (done.code, done.out[:300], done.err[:500])
        assert len([line for line in done.err.splitlines() if line.strip()]) == 1, done.err


def test_values_at_and_beyond_every_limit(module_db_url: str) -> None:
    """Accepted exactly when valid; every accepted value is printable by every read, and a full replay
    rebuilds the views from them on this back-end."""
    office = bootstrap(url=module_db_url)
    office.activate_all()
    office.services.close()
    _accepted_values_are_stored_replayed_and_read(module_db_url)
    replayed = run_cli(module_db_url, "replay", "--json")
    assert replayed.code == 0, replayed.err
    assert replayed.json()["projections"]["status"] > 0
    engine = open_engine(module_db_url)
    try:
        before = logical_dump(engine)
        again = run_cli(module_db_url, "replay", "--json")
        assert again.code == 0, again.err
        assert [r for r in logical_dump(engine) if "checkpoint" not in r] == [
            r for r in before if "checkpoint" not in r
        ], "a second replay rebuilt different views"
    finally:
        engine.dispose()


@pytest.mark.parametrize("amount", ["999999999999.99", "1000000000000"])
def test_the_largest_amount_is_stored_and_printed_exactly(amount: str, module_db_url: str) -> None:
    """An R&D subsidy of the largest amount is accepted and comes back digit for digit."""
    who = uscc("BGG", len(amount))
    assert (
        run_cli(module_db_url, "enterprise", "add", who, "--name", "大", "--district", "rongchang").code == 0
    )
    done = run_cli(module_db_url, "report", who, "rd-subsidy", "--year", "2024", "--amount", amount, "--json")
    assert done.code == 0, done.err
    history = run_cli(module_db_url, "history", who, "--json")
    data = [e["data"] for e in history.json()["events"] if e["type"] == "RdSubsidyReported"]
    assert [d["amount"] for d in data] == [amount]
    assert run_cli(module_db_url, "ledger", "--enterprise", who, "--json").code == 0
