"""What staff type, parsed exactly or refused in one readable line (`domain.inputs`, `domain.errors`)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import RegisterEnterprise, ReportFinancials, ReportTalent, Retract
from domain.errors import MAX_MESSAGE, InvalidInput, escaped, is_utf8, one_line, shown
from domain.inputs import money, text, utf8
from domain.uscc import make_uscc

A = make_uscc("91500000MA5U00001")
NOT_UTF8 = os.fsdecode(b"P\xff")  # what Python makes of argv bytes that are not UTF-8


# ── money ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("written", ["-0", "-0.00", "-0.0", "+0", "-.0", "-0_0", "－０", " -0 "])
def test_negative_zero_is_zero_without_a_sign(written: str) -> None:
    """``-0`` and ``-0.00`` are parsed as zero and carry no sign into the log."""
    amount = money(written, "revenue")
    assert amount == 0 and not amount.is_signed() and not str(amount).startswith("-")


def test_negative_zero_from_a_decimal_is_zero_too() -> None:
    assert str(money(Decimal("-0.00"), "revenue")) == "0.00"
    assert not money(Decimal("-0"), "rd_expense").is_signed()


def test_a_report_of_minus_zero_stores_zero() -> None:
    """The command carries 0, so the event data says "0" rather than "-0"."""
    report = ReportFinancials(uscc=A, year=2024, revenue="-0", rd_expense="-0.00")
    assert report.revenue is not None and str(report.revenue) == "0"
    assert str(report.rd_expense) == "0.00"
    assert '"-0' not in report.model_dump_json()


def test_minus_zero_is_still_not_a_positive_amount() -> None:
    with pytest.raises(InvalidInput, match="must be more than 0"):
        money("-0", "amount", positive=True)


def test_a_negative_amount_is_still_refused() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        money("-0.01", "revenue")


def test_a_long_amount_is_quoted_cut_short() -> None:
    """A 10,000-character non-amount is named by its option, not echoed whole."""
    with pytest.raises(InvalidInput) as caught:
        money("9" * 5_000 + "x" * 5_000, "revenue")
    line = str(caught.value)
    assert line.startswith("--revenue '9999") and "(10,000 characters)" in line and len(line) < 400


# ── text and UTF-8 ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("raw", [b"\xff\xfe\xe5\x85\xac", b"\xc3\x28", b"P\xff", b"\x80"])
def test_text_refuses_bytes_that_are_not_utf8_naming_the_option(raw: bytes) -> None:
    """Lone surrogates (argv decoded with surrogateescape) are refused, shown as the bytes typed."""
    value = os.fsdecode(raw)
    with pytest.raises(InvalidInput) as caught:
        text(value, "person")
    line = str(caught.value)
    assert line.startswith("--person ") and "not valid UTF-8" in line
    assert is_utf8(line), "the message itself must be printable as UTF-8"
    assert "\\x" in line and "\\udc" not in line


@pytest.mark.parametrize("field", ["name", "department", "ref", "reason", "number", "event_id"])
def test_every_text_option_names_itself(field: str) -> None:
    with pytest.raises(InvalidInput, match="not valid UTF-8") as caught:
        text(NOT_UTF8, field)
    assert is_utf8(str(caught.value))


def test_utf8_passes_valid_text_unchanged() -> None:
    assert utf8("重庆甲科技有限公司 ✓", "name") == "重庆甲科技有限公司 ✓"


def test_commands_refuse_text_that_is_not_utf8() -> None:
    """Name, department, person and retraction reason all go through `text`."""
    with pytest.raises(InvalidInput, match="--name"):
        RegisterEnterprise(uscc=A, name=NOT_UTF8, district="yubei")
    with pytest.raises(InvalidInput, match="--department"):
        RegisterEnterprise(uscc=A, name="甲", district="yubei", department=NOT_UTF8)
    with pytest.raises(InvalidInput, match="--person"):
        ReportTalent(uscc=A, year=2024, person=NOT_UTF8, contribution="1")
    with pytest.raises(InvalidInput, match="--reason"):
        Retract(event_id="00000000-0000-0000-0000-000000000000", reason=NOT_UTF8)


def test_a_uscc_that_is_not_utf8_is_refused_printably() -> None:
    from domain.uscc import validate_uscc

    with pytest.raises(InvalidInput) as caught:
        validate_uscc(os.fsdecode(b"91500000MA5U0000\xff1"))
    line = str(caught.value)
    assert "invalid character '\\xff'" in line and is_utf8(line)


# ── messages: shown, escaped, one_line ───────────────────────────────────────────────────────


def test_shown_quotes_short_values_whole() -> None:
    assert shown("chengdu") == "'chengdu'"
    assert shown("abc", quote=False) == "abc"


def test_shown_cuts_long_values_and_says_how_long() -> None:
    cut = shown("x" * 10_000)
    assert cut == repr("x" * 60) + "… (10,000 characters)"
    assert shown("y" * 10_000, quote=False) == "y" * 60 + "… (10,000 characters)"


def test_shown_writes_bytes_that_were_not_utf8_as_escapes() -> None:
    assert shown(NOT_UTF8) == "'P\\xff'"
    assert shown(NOT_UTF8, quote=False) == "P\\xff"
    assert shown("\ud800") == "'\\ud800'"  # not from argv: still printable


def test_escaped_leaves_utf8_alone() -> None:
    assert escaped("渝北 ok") == "渝北 ok"
    assert escaped(os.fsdecode(b"\xc3\x28")) == "\\xc3("


@given(st.text())
def test_every_message_is_one_printable_bounded_line(message: str) -> None:
    line = one_line(message)
    assert "\n" not in line and is_utf8(line)
    assert len(line) <= MAX_MESSAGE + 40


def test_a_huge_message_keeps_its_start_and_its_advice() -> None:
    """The safety net: a site that quoted 10,000 characters still gives one readable line."""
    error = InvalidInput("unknown district " + "渝" * 10_000 + "; use one of: yubei, rongchang")
    assert len(str(error)) < 1100
    assert str(error).startswith("unknown district 渝") and str(error).endswith(
        "use one of: yubei, rongchang"
    )
    assert "characters cut" in str(error)


def test_an_error_message_with_a_lone_surrogate_is_escaped() -> None:
    error = InvalidInput(f"unknown district {NOT_UTF8}; use yubei")
    assert str(error) == "unknown district P\\xff; use yubei"
