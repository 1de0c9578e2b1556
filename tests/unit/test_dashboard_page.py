"""Rendering the report page from given figures: what is drawn, escaped and cut short, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from projections.calendar import CalendarEntry
from projections.ledger_view import LedgerEntry
from projections.targets import TargetRow
from service_layer.dashboard import Dashboard, DistrictReport, money
from service_layer.dashboard_page import DUE_SHOWN, article_label, axis, nice_top, render
from tests.dashboard_support import read_page

DAY = date(2026, 6, 30)
HOSTILE = '<b onmouseover="x()">区科技局</b>'


def _entry(n: int, amount: str, decided: str, paid: str = "0") -> LedgerEntry:
    """A ledger line; a reversed one with money paid reads recovery-due, the payment to recover."""
    recovery = Decimal(paid) if decided == "reversed" else Decimal(0)
    status = "recovery-due" if recovery else decided
    return LedgerEntry(
        f"id-{n}",
        "91500112MA5UCR0013",
        "qianjiang",
        "qianjiang-2023",
        "QJ-1",
        "3",
        "award",
        "ev",
        date(2025, 3, 1),
        Decimal(amount),
        False,
        None,
        Decimal(paid),
        status,
        "",
        ("区科技局",),
        (),
        recovery_amount=recovery,
        decided=decided,
    )


def _dashboard(due: int) -> Dashboard:
    entries = [_entry(1, "1234567.89", "accrued"), _entry(2, "100", "reversed", paid="100")]
    targets = [
        TargetRow(
            "qianjiang-2023",
            "tech-sme",
            "科技型企业",
            HOSTILE,
            2025,
            "new-in-year",
            "at-least",
            5,
            6,
            "附件1",
        ),
        TargetRow(
            "qianjiang-2023", "hnte", "高新技术企业", None, 2025, "total", "more-than", 80, 80, "一（二）"
        ),
    ]
    rows = [
        CalendarEntry(f"U{n:05d}", f"<i>企业{n}</i>", "qianjiang", "hnte", "review-due", DAY, DAY, n % 91)
        for n in range(due)
    ]
    report = DistrictReport(
        "qianjiang",
        due,
        targets,
        {2025: {"hnte": 3}, 2026: {"hnte": 4}},
        {2025: date(2025, 12, 31), 2026: DAY},
        rows,
        {"none": due, "ipo-listed": 0},
        money(entries, {}),
    )
    return Dashboard(
        "qianjiang",
        DAY,
        DAY,
        42,
        "ab" * 32,
        {},
        [report],
        money(entries, {}),
        ("hnte",),
        ("none", "ipo-listed"),
    )


def test_the_due_list_is_cut_at_its_limit_and_says_how_many_more() -> None:
    """Past DUE_SHOWN rows the list stops and a line names the rest; the count covers them all."""
    page = read_page(render(_dashboard(DUE_SHOWN + 7), "zh"))
    assert len(page.due["qianjiang"]) == DUE_SHOWN
    assert page.due_count["qianjiang"] == DUE_SHOWN + 7
    assert any("另有 7 项未列出" in text for text in page.text)
    short = read_page(render(_dashboard(3), "en"))
    assert len(short.due["qianjiang"]) == 3 and not any("more not listed" in t for t in short.text)


def test_money_is_exact_with_separators_and_departments_are_text() -> None:
    """Yuan with thousands separators and fen; a department name with markup is shown, not obeyed."""
    html = render(_dashboard(1), "zh")
    page = read_page(html)
    assert page.money["qianjiang"] == {
        "fixed": Decimal("1234567.89"),
        "ceilings": Decimal(0),
        "approved": Decimal(0),
        "paid": Decimal(100),
        "recover": Decimal(100),
    }
    assert "1,234,567.89" in page.text
    assert HOSTILE in page.text and "onmouseover" not in page.attributes
    grid = [t for t in page.targets["qianjiang"] if t["department"]]
    assert grid == [
        {
            "policy": "qianjiang-2023",
            "measure": "tech-sme",
            "department": HOSTILE,
            "year": 2025,
            "target": 5,
            "actual": 6,
            "met": True,
        }
    ]
    plain = [t for t in page.targets["qianjiang"] if not t["department"]]
    assert plain[0]["met"] is False  # 80 is not more than 80


def test_english_labels_and_the_drawn_position() -> None:
    """`--lang en` names titles in English; the page names the day, position and hash it was read at."""
    html = render(_dashboard(1), "en")
    page = read_page(html)
    assert "High-tech enterprises" in page.text and "Enterprises holding each title (year end)" in page.text
    assert (page.head["as-of"], page.head["position"], page.head["last-hash"]) == (
        "2026-06-30",
        "42",
        "ab" * 32,
    )
    assert html.startswith("<!DOCTYPE html>") and 'lang="en"' in html


@pytest.mark.parametrize(
    "value, top", [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (180, 200), (2_445_287, 2_500_000)]
)
def test_axis_ends_are_round_numbers_at_or_above_the_peak(value: float, top: int) -> None:
    """Chart axes end on 1, 2, 2.5 or 5 × 10^k, never below the largest bar."""
    assert nice_top(value) == top


@pytest.mark.parametrize("value", [1, 3, 7, 30, 50, 180, 2500])
def test_count_axes_have_whole_number_ticks(value: int) -> None:
    """Enterprise counts are whole: no 12.5 on an axis of enterprises."""
    labels = [label for _, label in axis(value).ticks]
    assert all("." not in label for label in labels) and labels[0] == "0"


def test_articles_read_as_the_documents_number_them() -> None:
    """第5条 for an article, 一、 for a section, 附件1 and 一（二） as written, 序言 for the preamble."""
    assert [article_label(a, "zh") for a in ("5", "一", "附件1", "一（二）", "preamble")] == [
        "第5条",
        "一、",
        "附件1",
        "一（二）",
        "序言",
    ]
