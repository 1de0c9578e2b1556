"""The report page (`srdi dashboard`): every figure equals what the CLI prints for the same date.

The page is written by the real script and read back from its data- attributes; the oracle is the
CLI's own JSON (`ledger`, `targets`, `calendar`, `status`, `audit verify`) on the same database, on
SQLite and PostgreSQL. What the page is (self-contained, no script, escaped names) is pinned here too;
what a browser makes of it is pinned in tests/e2e/test_dashboard_browser.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.reference import DISTRICTS
from domain.uscc import make_uscc
from events.db import make_engine
from tests.dashboard_support import PageFigures, money, read_page
from tests.e2e.acceptance import Srdi

MONEY = ("fixed", "ceilings", "approved", "paid")


def _with_decisions(srdi: Srdi) -> None:
    """A demo history, then an approval and payments, so every money column has something in it."""
    srdi.setup("demo", "--enterprises", "60", "--json")
    entries = srdi.json("ledger", here=True)["entries"]
    ceiling = next(e for e in entries if e["status"] == "awaiting-approval" and e["amount"])
    approved = (money(ceiling["amount"]) / 2).quantize(Decimal("0.01"))
    _by(
        srdi,
        "审批人",
        "entitlement",
        "approve",
        ceiling["id"],
        "--amount",
        str(approved),
        "--on",
        "2026-11-02",
    )
    _by(
        srdi,
        "出纳",
        "entitlement",
        "pay",
        ceiling["id"],
        "--amount",
        "1000.55",
        "--ref",
        "拨-1",
        "--on",
        "2026-11-03",
    )
    # a paid entry whose fact is then retracted: the money paid is to be recovered
    for n, owed in enumerate(e for e in entries if e["status"] == "accrued" and e["amount"]):
        pay = ("entitlement", "pay", owed["id"], "--amount", str(owed["amount"]), "--ref", f"拨-{n + 2}")
        _by(srdi, "出纳", *pay, "--on", "2026-11-04")
        if srdi.here("retract", owed["trigger_event"], "--reason", "录入错误").code == 0:
            break
    assert money(srdi.json("ledger", here=True)["totals"]["recovery_due"]) > 0


def _by(srdi: Srdi, actor: str, *args: str) -> None:
    """A decision recorded by ``actor`` (approver and payer are two people: four eyes)."""
    done = srdi.acting(actor).here(*args)
    assert done.code == 0, str(done)


def _page(srdi: Srdi, path: Path, *extra: str) -> PageFigures:
    done = srdi.run("dashboard", str(path), "--force", *extra)
    assert done.code == 0, str(done)
    assert done.stderr == "", str(done)
    return read_page(path.read_text(encoding="utf-8"))


def _recover(entries: list[dict[str, Any]]) -> Decimal:
    """What the ledger says is to be recovered: its recovery amounts, or the payments on reversed entries."""
    total = Decimal(0)
    for e in entries:
        if "recovery_amount" in e:
            total += money(e["recovery_amount"] or 0)
        elif e["status"] == "reversed":
            total += money(e["paid_amount"])
    return total


def _check_money(page: PageFigures, scope: str, ledger: dict[str, Any]) -> None:
    shown = page.money[scope]
    assert {k: shown[k] for k in MONEY} == {k: money(ledger["totals"][k]) for k in MONEY}
    assert shown["recover"] == _recover(ledger["entries"])
    if "recovery_due" in ledger["totals"]:
        assert shown["recover"] == money(ledger["totals"]["recovery_due"])
    if scope != "all":  # the rule-and-year lines add up to the district's totals, to the fen
        lines = page.money_lines.get(scope, [])
        for key in MONEY:
            assert sum((Decimal(line[key]) for line in lines), Decimal(0)) == shown[key]
        statuses = Counter(e["status"] for e in ledger["entries"])
        assert page.statuses.get(scope, {}) == dict(statuses)


def _check_targets(page: PageFigures, district: str, doc: dict[str, Any]) -> None:
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (row["policy"], row["measure"], row["department"] or "", row["year"], row["target"])

    expected = sorted((key(r), r["actual"], r["met"]) for r in doc["rows"])
    shown = sorted((key(r), r["actual"], r["met"]) for r in page.targets.get(district, []))
    assert shown == expected


def _rows(db_url: str, sql: str) -> list[Any]:
    """The rows a query of the log returns (read directly: the page must agree with the log)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)))
    finally:
        engine.dispose()


def _registered(db_url: str) -> list[str]:
    rows = _rows(db_url, "SELECT stream_id FROM events WHERE event_type = 'EnterpriseRegistered'")
    return sorted({str(r[0]).removeprefix("enterprise-") for r in rows})


def _tail(db_url: str) -> tuple[int, str]:
    position, last_hash = _rows(db_url, "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")[0]
    return int(position), str(last_hash)


def _statuses(srdi: Srdi, usccs: list[str], day: date) -> list[dict[str, Any]]:
    return [srdi.json("status", u, "--as-of", day.isoformat(), here=True) for u in usccs]


def _check_statuses(page: PageFigures, statuses: list[dict[str, Any]], day: date, year: int) -> None:
    """Titles held, titles due within 90 days and listing stages, counted from `srdi status --as-of`."""
    for district in DISTRICTS:
        mine = [s for s in statuses if s["district"] == district]
        held: Counter[str] = Counter()
        due = []
        for s in mine:
            for track, title in s["titles"].items():
                if title["state"] != "certified" or title["valid_until"] is None:
                    continue
                left = (date.fromisoformat(title["valid_until"]) - day).days
                if left >= 0:
                    held[track] += 1
                if 0 <= left <= 90:
                    due.append((s["uscc"], track, title["valid_until"], left))
        shown = {t: n for (y, t), n in page.titles[district].items() if y == year and n}
        assert shown == dict(held), district
        assert page.title_days[district][year] == day.isoformat()
        if year == max(page.title_days[district]):
            got = sorted(
                (d["uscc"], d["track"], d["valid_until"], d["days_left"]) for d in page.due.get(district, [])
            )
            assert got == sorted(due), district
            assert page.due_count[district] == len(due)
            stages = Counter(s["listing"]["stage"] or "none" for s in mine)
            assert {k: v for k, v in page.listing[district].items() if v} == dict(stages), district
            assert page.enterprises[district] == len(mine)


def test_every_figure_on_the_page_equals_the_cli_for_the_same_date(db_url: str, tmp_path: Path) -> None:
    """Money to the fen, targets, titles over time and due, listing stages, log position and hash."""
    srdi = Srdi(db_url)
    _with_decisions(srdi)
    usccs = _registered(db_url)
    position, last_hash = _tail(db_url)
    verified = srdi.json("audit", "verify", here=True)
    for as_of in (None, "2025-06-30"):
        flag = ("--as-of", as_of) if as_of else ()
        page = _page(srdi, tmp_path / "all.html", *flag)
        assert (int(page.head["position"]), page.head["last-hash"]) == (position, last_hash)
        assert (position, last_hash) == (verified["last_position"], verified["last_hash"])
        day = date.fromisoformat(page.head["as-of"])
        if as_of:
            assert day == date.fromisoformat(as_of)
        _check_money(page, "all", srdi.json("ledger", *flag, here=True))
        for district in DISTRICTS:
            _check_money(page, district, srdi.json("ledger", "--district", district, *flag, here=True))
            _check_targets(page, district, srdi.json("targets", district, *flag, here=True))
        _check_statuses(page, _statuses(srdi, usccs, day), day, day.year)
        end_of_last_year = date(day.year - 1, 12, 31)
        _check_statuses(page, _statuses(srdi, usccs, end_of_last_year), end_of_last_year, day.year - 1)
        if as_of is None:  # the review calendar prints today's deadlines
            for district in DISTRICTS:
                calendar = srdi.json("calendar", "--within", "90", "--district", district, here=True)
                expected = sorted(
                    (e["uscc"], e["track"], e["days_left"])
                    for e in calendar["entries"]
                    if e["track"] != "listing" and e["days_left"] >= 0
                )
                shown = sorted((d["uscc"], d["track"], d["days_left"]) for d in page.due.get(district, []))
                assert shown == expected
    one = _page(srdi, tmp_path / "yubei.html", "--district", "渝北", "--as-of", "2026-11-20")
    _check_money(one, "yubei", srdi.json("ledger", "--district", "yubei", "--as-of", "2026-11-20", here=True))
    assert set(one.money) == {"yubei"} and one.head["district"] == "yubei"


def test_the_page_loads_nothing_and_escapes_stored_names(tmp_path: Path) -> None:
    """No script, no external URL, a CSP of default-src 'none'; a hostile name is text, not markup."""
    srdi = Srdi(f"sqlite:///{tmp_path / 'srdi.db'}")
    code = make_uscc("91500112MA5UCR001")
    hostile = '<script>alert(1)</script><img src="http://evil.example/x.png">"\'&'
    srdi.setup("enterprise", "add", code, "--name", hostile, "--district", "yubei")
    soon = (date.today() + timedelta(days=-365 * 3 + 40)).isoformat()
    srdi.setup("record", code, "innovative-sme.certified", "--on", soon)
    path = tmp_path / "page.html"
    for lang in ("zh", "en"):
        page = _page(srdi, path, "--lang", lang)
        html = path.read_text(encoding="utf-8")
        assert not {"script", "img", "link", "iframe", "object", "embed"} & set(page.elements)
        assert not {"src", "href", "srcset", "action", "onload", "onerror"} & page.attributes
        assert "url(" not in html and "@import" not in html
        assert "default-src 'none'" in html
        assert hostile in page.text  # shown as the text it is
        assert page.due["yubei"][0]["uscc"] == code


def test_an_existing_file_is_kept_unless_forced_and_bad_input_writes_nothing(tmp_path: Path) -> None:
    """Exit 2 and one line for an existing file, a missing folder, a bad date, district or language."""
    srdi = Srdi(f"sqlite:///{tmp_path / 'srdi.db'}")
    path = tmp_path / "page.html"
    path.write_text("keep me", encoding="utf-8")
    for args in (
        (str(path),),
        (str(tmp_path / "no-such-folder" / "p.html"),),
        (str(tmp_path / "new.html"), "--as-of", "2025-13-01"),
        (str(tmp_path / "new.html"), "--district", "atlantis"),
        (str(tmp_path / "new.html"), "--lang", "fr"),
        (str(tmp_path),),
    ):
        done = srdi.run("dashboard", *args)
        assert done.code == 2, str(done)
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: "), str(done)
    assert path.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".html", ".tmp")) == ["page.html"]
    assert srdi.run("dashboard", str(path), "--force").code == 5  # a report page creates no database
    assert path.read_text(encoding="utf-8") == "keep me" and not (tmp_path / "srdi.db").exists()
    srdi.setup("policy", "activate", "yubei-2024")
    assert srdi.run("dashboard", str(path), "--force").code == 0
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    empty = read_page(path.read_text(encoding="utf-8")).head  # an empty log, named as audit verify names it
    verified = srdi.json("audit", "verify", here=True)
    assert (int(empty["position"]), empty["last-hash"]) == (verified["last_position"], verified["last_hash"])
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_views_standing_at_different_positions_are_never_drawn_together(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the views cannot be brought to one position, no page: Unsettled, and the CLI exits 3."""
    from projections import feed
    from projections.framework import checkpoints_table
    from service_layer.dashboard import Unsettled, assemble

    monkeypatch.setattr(feed, "catch_up", lambda *args, **kwargs: None)  # writers keep them apart
    with engine.begin() as conn:
        for name, position in (("ledger", 2), ("targets", 1), ("status", 2), ("calendar", 2)):
            conn.execute(sa.insert(checkpoints_table).values(name=name, position=position))
    with pytest.raises(Unsettled):
        assemble(engine, district=None, as_of=None, today=date(2026, 1, 1))
    done = Srdi(engine.url.render_as_string(hide_password=False)).here("dashboard", str(tmp_path / "p.html"))
    assert (done.code, len(done.stderr.splitlines())) == (3, 1), str(done)
    assert not (tmp_path / "p.html").exists()
    with engine.begin() as conn:
        conn.execute(sa.update(checkpoints_table).values(position=0))
    page = assemble(engine, district="yubei", as_of=None, today=date(2026, 1, 1))
    assert (page.position, page.money.total.entries) == (0, 0)
