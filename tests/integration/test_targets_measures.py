"""Targets of pools, designations, patents and a sector's share, counted from events on both backends."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from domain.policy.model import load_builtin
from events.db import make_engine
from projections.targets import actual
from tests.bootstrap import uscc
from tests.cli import ok


def _rows(url: str, district: str, *args: str) -> dict[str, dict[str, Any]]:
    document = json.loads(ok(url, "targets", district, "--json", *args))
    assert set(document) >= {"district", "year", "rows"}
    return {r["measure"]: r for r in document["rows"]}


def _add(url: str, code: str, name: str, district: str, *more: str) -> None:
    """`srdi enterprise add CODE --name NAME --district DISTRICT MORE…` (it must succeed)."""
    ok(url, "enterprise", "add", code, "--name", name, "--district", district, *more)


@pytest.fixture
def url(db_url: str) -> str:
    """Liangjiang seed intake over two years, Rongchang designations and patents, Yubei's sector."""
    for n in range(1, 4):
        _add(db_url, uscc(n), f"两江{n}", "两江", "--on", "2022-01-01")
    ok(db_url, "record", uscc(1), "cultivation-pool.admitted", "--on", "2023-03-01")
    ok(db_url, "record", uscc(2), "培育库.入库", "--on", "2023-05-01")
    ok(db_url, "record", uscc(2), "培育库.出库", "--on", "2024-02-01")
    ok(db_url, "record", uscc(2), "cultivation-pool.admitted", "--on", "2024-06-01")  # intake again
    ok(db_url, "record", uscc(3), "cultivation-pool.admitted", "--on", "2024-07-01")
    ok(db_url, "record", uscc(1), "digital-workshop.certified", "--on", "2023-09-01")
    rc = uscc(10)
    _add(db_url, rc, "荣昌1", "rongchang", "--on", "2021-01-01")
    ok(db_url, "record", rc, "数字化车间.认定", "--on", "2021-06-01")  # before the plan's period
    ok(db_url, "record", rc, "smart-factory.certified", "--on", "2023-06-01")
    ok(db_url, "record", rc, "green-factory.certified", "--on", "2024-06-01")
    for number, kind, on in (
        ("ZL1", "invention", "2023-01-05"),
        ("ZL2", "utility", "2023-02-05"),
        ("ZL3", "invention", "2024-03-05"),
        ("ZL0", "invention", "2021-03-05"),
    ):
        ok(db_url, "report", rc, "patent", "--number", number, "--kind", kind, "--on", on)
    for n, industry in (
        (20, "auto-electronics"),
        (21, "汽车电子"),
        (22, "auto-electronics"),
        (23, "equipment"),
    ):
        _add(db_url, uscc(n), f"渝北{n}", "渝北", "--industry", industry, "--on", "2022-01-01")
    for n in (20, 23):
        ok(
            db_url,
            "record",
            uscc(n),
            "srdi-municipal.certified",
            "--on",
            "2024-03-01",
            "--override-prerequisite",
            "--reason",
            "legacy",
        )
    return db_url


def test_seed_intake_counts_each_year_and_its_weakest_year(url: str) -> None:
    """培育库 intake per year (a re-admission counts again); the each-year row is the weakest year."""
    rows = _rows(url, "liangjiang", "--as-of", "2024-12-31")
    assert rows["seed-enterprises"]["actual"] == 0  # 2022 had no intake at all
    assert rows["seed-enterprises"]["responsible_units"] == ["产业促进局"]
    seed = next(t for t in load_builtin("liangjiang-2022").targets if t.measure == "seed-enterprises")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            in_year = {
                y: actual(
                    conn, "liangjiang", seed.model_copy(update={"year": y, "from_year": y}), date(2026, 1, 1)
                )
                for y in (2023, 2024)
            }
    finally:
        engine.dispose()
    assert in_year == {2023: 2, 2024: 2}
    assert rows["digital-workshop"]["actual"] == 1 and rows["digital-workshop"]["reason"] is None


def test_designations_count_first_certifications_in_the_period_as_of_a_date(url: str) -> None:
    """数字化车间 first certified before 2022 is not new; 智能工厂/绿色工厂 count on their dates."""
    rows = _rows(url, "rongchang", "--as-of", "2023-12-31")
    assert rows["digital-workshop"]["actual"] == 0
    assert rows["smart-factory"]["actual"] == 1
    assert rows["green-factory"]["actual"] == 0
    rows = _rows(url, "rongchang")
    assert rows["green-factory"]["actual"] == 1


def test_high_value_patents_are_invention_patents_granted_in_the_period(url: str) -> None:
    """Rongchang art 20 counts invention patents granted from 2022: not utility models, not 2021's."""
    assert _rows(url, "rongchang", "--as-of", "2023-12-31")["high-value-patents"]["actual"] == 1
    assert _rows(url, "rongchang")["high-value-patents"]["actual"] == 2


def test_patent_retracted_is_no_longer_counted(url: str) -> None:
    """A retracted patent leaves the count (the correction applies to every date)."""
    history = json.loads(ok(url, "history", uscc(10), "--json"))
    patent = next(
        e for e in history["events"] if e["type"] == "PatentGranted" and e["data"]["number"] == "ZL3"
    )
    ok(url, "retract", patent["event_id"], "--reason", "wrong enterprise")
    assert _rows(url, "rongchang")["high-value-patents"]["actual"] == 1


def test_auto_electronics_share_counts_srdi_holders_of_the_sector(url: str) -> None:
    """Yubei art 4: of 3 auto-electronics firms 1 holds 市级专精特新 in 2025 → 33%; none before 2024."""
    row = _rows(url, "yubei")["auto-electronics-srdi-share"]
    assert (row["actual"], row["share"]) == (33, {"holding": 1, "of": 3})
    assert row["met"] is False
    early = _rows(url, "yubei", "--as-of", "2024-01-01")["auto-electronics-srdi-share"]
    assert early["share"] == {"holding": 0, "of": 3}


def test_an_unknown_industry_is_refused(db_url: str) -> None:
    """--industry must be a known industry: exit 2, one line, nothing registered."""
    result = CliRunner().invoke(
        app,
        [
            "--db",
            db_url,
            "enterprise",
            "add",
            uscc(1),
            "--name",
            "甲",
            "--district",
            "yubei",
            "--industry",
            "spaceships",
        ],
    )
    assert result.exit_code == 2 and "--industry" in result.stderr and "auto-electronics" in result.stderr
    assert CliRunner().invoke(app, ["--db", db_url, "status", uscc(1), "--json"]).exit_code != 0


def test_measures_shows_pools_designations_and_industry_as_of_a_date(url: str) -> None:
    """`srdi measures --json`: a pool left and re-entered, designations, industry; --as-of earlier."""
    now = json.loads(ok(url, "measures", uscc(2), "--json"))
    assert now["pools"]["cultivation-pool"] == {
        "state": "admitted",
        "since": "2024-06-01",
        "first_on": "2023-05-01",
        "valid_until": None,
    }
    then = json.loads(ok(url, "measures", uscc(2), "--json", "--as-of", "2024-03-01"))
    assert then["pools"]["cultivation-pool"]["state"] == "left"
    yubei = json.loads(ok(url, "measures", uscc(21), "--json"))
    assert (yubei["industry"], yubei["designations"]) == ("auto-electronics", {})
    status = json.loads(ok(url, "status", uscc(2), "--json"))
    assert set(status) == {"uscc", "name", "district", "titles", "listing"}


def test_the_demo_produces_measures_the_targets_count(db_url: str) -> None:
    """`srdi demo`: designations, pools, patents and facilities appear, so targets show counted rows."""
    summary = json.loads(ok(db_url, "demo", "--enterprises", "200", "--json"))
    by_type = summary["events_by_type"]
    assert by_type["FacilityEstablished"] > 0 and by_type["RetrofitReported"] > 0
    liangjiang = _rows(db_url, "liangjiang")
    assert liangjiang["digital-workshop"]["actual"] > 0
    assert liangjiang["srdi-parks"]["actual"] > 0 and liangjiang["internship-bases"]["actual"] > 0
    assert _rows(db_url, "rongchang")["high-value-patents"]["actual"] > 0
