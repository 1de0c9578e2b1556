"""The report page in a real browser: headless Chromium (Debian's `chromium`) opens the written file.

It logs no console message (the page's Content-Security-Policy turns any attempt to load something
into one), its screenshot is not blank, it prints on A4 pages, and the figures read back from the
browser's DOM equal the CLI's JSON for the same date. Skips with one line when Chromium is absent,
unless CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from domain.reference import DISTRICTS
from tests.dashboard_support import grey_variance, money, read_page
from tests.e2e.acceptance import Srdi

MONEY = ("fixed", "ceilings", "approved", "paid")


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium fonts-noto-cjk)")
    return found


@dataclass(frozen=True)
class Opened:
    stdout: str
    console: list[str]


def _open(page: Path, *mode: str) -> Opened:
    """Run headless Chromium on the file with ``mode`` (--dump-dom, --screenshot=…); its console lines."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                *mode,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return Opened(done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Srdi, Path]]:
    _chromium()
    folder = tmp_path_factory.mktemp("dashboard")
    srdi = Srdi(f"sqlite:///{folder / 'srdi.db'}")
    srdi.setup("demo", "--enterprises", "60", "--json")
    entries = srdi.json("ledger", here=True)["entries"]
    owed = next(e for e in entries if e["status"] == "accrued" and e["amount"])
    paid = srdi.acting("出纳").here(
        "entitlement", "pay", owed["id"], "--amount", "1234.56", "--ref", "拨-9", "--on", "2026-11-04"
    )
    assert paid.code == 0, str(paid)
    yield srdi, folder


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_browser_shows_the_cli_figures_with_no_console_error(demo: tuple[Srdi, Path], lang: str) -> None:
    """DOM read back from Chromium: money to the fen and targets equal `ledger`/`targets --json`."""
    srdi, folder = demo
    path = folder / f"all-{lang}.html"
    assert srdi.run("dashboard", str(path), "--lang", lang, "--as-of", "2026-11-20", "--force").code == 0
    opened = _open(path, "--dump-dom")
    assert opened.console == []
    page = read_page(opened.stdout)
    assert page.head["as-of"] == "2026-11-20" and page.head["lang"] == lang
    flag = ("--as-of", "2026-11-20")
    ledger = srdi.json("ledger", *flag, here=True)
    assert {k: page.money["all"][k] for k in MONEY} == {k: money(ledger["totals"][k]) for k in MONEY}
    for district in DISTRICTS:
        totals = srdi.json("ledger", "--district", district, *flag, here=True)["totals"]
        assert {k: page.money[district][k] for k in MONEY} == {k: money(totals[k]) for k in MONEY}
        rows = srdi.json("targets", district, *flag, here=True)["rows"]
        expected = sorted(
            (r["measure"], r["department"] or "", r["year"], r["target"], r["actual"]) for r in rows
        )
        shown = sorted(
            (r["measure"], r["department"] or "", r["year"], r["target"], r["actual"])
            for r in page.targets.get(district, [])
        )
        assert shown == expected
    assert page.money["all"]["paid"] >= money("1234.56")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_screenshot_is_a_drawn_page(demo: tuple[Srdi, Path], lang: str) -> None:
    """A screenshot of the page is far from blank: many colours, real contrast (text, bars, charts)."""
    srdi, folder = demo
    path = folder / f"yubei-{lang}.html"
    assert srdi.run("dashboard", str(path), "--district", "yubei", "--lang", lang, "--force").code == 0
    shot = folder / f"yubei-{lang}.png"
    opened = _open(path, f"--screenshot={shot}", "--window-size=1000,1400")
    assert opened.console == []
    variance, colours = grey_variance(shot.read_bytes())
    assert variance > 300 and colours > 200, (variance, colours)


def test_the_page_prints_on_a4_with_a_page_per_district(demo: tuple[Srdi, Path]) -> None:
    """Printed to PDF, the page is A4 (595 × 842 pt) and each district starts a page of its own."""
    srdi, folder = demo
    path = folder / "print.html"
    assert srdi.run("dashboard", str(path), "--force").code == 0
    pdf = folder / "print.pdf"
    _open(path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 1 + len(DISTRICTS), pages
    boxes = {(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", data)}
    assert boxes and all(abs(w - 595.3) < 1 and abs(h - 841.9) < 1 for w, h in boxes), boxes


def test_a_page_that_reaches_out_is_caught(tmp_path: Path) -> None:
    """The console check can fail: a page loading an outside image under the same CSP is reported."""
    _chromium()
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'\"></head><body><img src='http://example.invalid/x.png'></body></html>",
        encoding="utf-8",
    )
    assert _open(bad, "--dump-dom").console != []
