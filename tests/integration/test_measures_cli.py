"""The documents' measures without a stated amount: retrofits, designations, incubation, projects,
standards and specialists, recorded through the CLI on both backends, with their entitlements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.uscc import make_uscc
from tests.cli import as_json, invoke, ok

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
RC, JJ, YB, YB2 = (make_uscc(f"91500000MA{n:07d}") for n in (1, 2, 3, 4))


def _retrofit(url: str, who: str, year: int, kind: str, investment: str, on: str) -> Any:
    """`srdi report WHO retrofit --json`."""
    terms = ("--year", str(year), "--kind", kind, "--investment", investment, "--on", on)
    return as_json(url, "report", who, "retrofit", *terms)


def _rules(url: str, uscc: str) -> list[tuple[str, str]]:
    entries = as_json(url, "ledger", "--enterprise", uscc)["entries"]
    return sorted((e["rule"], e["status"]) for e in entries)


@pytest.fixture
def url(db_url: str) -> str:
    """Three districts' policies in force; an SRDI enterprise in each, and one without a title."""
    for key in ("rongchang-2022", "jiangjin-2022", "yubei-2024"):
        ok(db_url, "policy", "activate", key, "--on", "2022-01-01")
    for code, district in ((RC, "rongchang"), (JJ, "jiangjin"), (YB, "yubei"), (YB2, "yubei")):
        ok(db_url, "enterprise", "add", code, "--name", f"企业{code[-3:]}", "--district", district,
            "--on", "2021-01-01")  # fmt: skip
    ok(db_url, "record", RC, "hnte.certified", "--on", "2022-03-01")
    ok(db_url, "record", JJ, "innovative-sme.certified", "--on", "2022-03-01")
    ok(db_url, "record", YB, "innovative-sme.certified", "--on", "2022-03-01")
    ok(db_url, "record", YB, "srdi-municipal.certified", "--on", "2023-03-01")
    return db_url


def _quote_in_seed(url: str, entitlement: str) -> dict[str, Any]:
    """The entitlement's explanation; its quote is checked against the seed documents where this
    checkout has them beside it (a user's clone does not: then only that a quote is there)."""
    doc: dict[str, Any] = as_json(url, "explain", entitlement)
    assert doc["source_zh"], "the article is quoted"
    if SEEDS.exists():
        seeds = "".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
        assert doc["source_zh"] in seeds, "quoted byte for byte from the seed"
    return doc


def test_retrofit_and_designation_create_rc28_entitlements_quoted_in_explain(url: str) -> None:
    """RC-28: a retrofit and a 数字化车间 each owe support of an unstated amount; explain quotes art 28."""
    first = _retrofit(url, RC, 2023, "smart", "1,200,000", "2023-08-01")
    (entitlement,) = first["entitlements"]
    assert (entitlement["rule"], entitlement["amount"], entitlement["status"]) == (
        "RC-28",
        None,
        "awaiting-approval",
    )
    again = _retrofit(url, RC, 2023, "smart", "1300000", "2023-09-01")
    assert again["entitlements"] == []  # the same year and kind: a correction, not a second project
    designated = as_json(url, "record", RC, "数字化车间.认定", "--on", "2023-10-01")
    assert [e["rule"] for e in designated["entitlements"]] == ["RC-28"]
    doc = _quote_in_seed(url, entitlement["id"])
    assert doc["rule"] == "RC-28" and doc["article"] == "28"
    assert doc["source_zh"].startswith("对“专精特新”企业实施智能化、绿色化改造")
    assert doc["responsible_units"] == ["区经济信息委", "区财政局"]


def test_incubation_is_rc29i_and_leaves_rc29a_the_rd_matching(url: str) -> None:
    """Rongchang art 29's first sentence is RC-29i; RC-29a stays the R&D matching rule."""
    out = as_json(url, "report", RC, "incubation", "--on", "2023-01-10")
    (entitlement,) = out["entitlements"]
    assert entitlement["rule"] == "RC-29i"
    doc = _quote_in_seed(url, entitlement["id"])
    assert doc["source_zh"].startswith("对重庆市高新技术产业研究院孵化的创新型企业")
    assert invoke(url, "report", RC, "incubation", "--on", "2023-02-10").exit_code == 2  # once
    shown = json.loads(ok(url, "policy", "show", "rongchang-2022", "--json"))
    rules = {r["id"]: r for r in shown["rules"]}
    assert rules["RC-29a"]["quote"].startswith("对申报研发费用达到 1000 万元及以上的企业")
    assert rules["RC-29i"]["kind"] == "award" and rules["RC-29a"]["kind"] == "matching"


def test_jiangjin_28_and_yubei_6_follow_their_own_scope(url: str) -> None:
    """JJ-28 reaches an innovative-sme holder; YB-6 only a 市级专精特新 or 小巨人 holder."""
    jj = _retrofit(url, JJ, 2024, "green", "500000", "2024-05-01")
    assert [e["rule"] for e in jj["entitlements"]] == ["JJ-28"]
    _quote_in_seed(url, jj["entitlements"][0]["id"])
    yb = _retrofit(url, YB, 2024, "digital", "800000", "2024-05-01")
    assert [e["rule"] for e in yb["entitlements"]] == ["YB-6"]
    _quote_in_seed(url, yb["entitlements"][0]["id"])
    none = _retrofit(url, YB2, 2024, "smart", "1", "2024-05-01")
    assert none["entitlements"] == []


def test_yubei_projects_patents_and_standards(url: str) -> None:
    """YB-9 for a major project (any enterprise), YB-18 for an SRDI holder's invention patent and standard."""
    project = as_json(
        url,
        "report",
        YB2,
        "innovation-project",
        "--project",
        "智能座舱揭榜挂帅",
        "--field",
        "高端装备",
        "--on",
        "2025-03-01",
    )
    assert [e["rule"] for e in project["entitlements"]] == ["YB-9"]
    _quote_in_seed(url, project["entitlements"][0]["id"])
    patent = as_json(url, "report", YB, "patent", "--number", "ZL2025100001.1", "--on", "2025-04-01")
    standard = as_json(
        url,
        "report",
        YB,
        "standard",
        "--name",
        "GB/T 1-2025",
        "--level",
        "国家",
        "--role",
        "主导",
        "--on",
        "2025-05-01",
    )
    assert "YB-18" in [e["rule"] for e in patent["entitlements"]]
    assert [e["rule"] for e in standard["entitlements"]] == ["YB-18"]
    doc = _quote_in_seed(url, standard["entitlements"][0]["id"])
    assert doc["source_zh"] == "对“专精特新”企业发明专利和参与标准化工作按政策给予扶持。"
    assert (
        as_json(
            url, "report", YB2, "standard", "--name", "T/CQ 2-2025", "--level", "group", "--on", "2025-05-01"
        )["entitlements"]
        == []
    )
    records = as_json(url, "measures", YB)["records"]
    assert [(r["kind"], r["subject"], r["detail"]) for r in records] == [("standard", "national", "lead")]


def test_retracting_a_retrofit_reverses_its_entitlement(url: str) -> None:
    """A retrofit recorded in error and retracted: its RC-28 entitlement is reversed."""
    out = _retrofit(url, RC, 2024, "green", "10", "2024-02-01")
    ok(url, "retract", out["event_id"], "--reason", "another enterprise's project")
    assert _rules(url, RC) == [("RC-28", "reversed")]


def test_specialist_register_keeps_who_serves_whom(url: str) -> None:
    """一企一策一人: the later assignment replaces the earlier; the same one again is refused."""
    ok(url, "report", RC, "specialist", "--person", "张三", "--unit", "区经济信息委", "--on", "2023-01-01")
    assert (
        invoke(url, "report", RC, "specialist", "--person", "张三", "--unit", "区经济信息委").exit_code == 2
    )
    ok(url, "report", RC, "specialist", "--person", "李四", "--on", "2024-01-01")
    now = as_json(url, "measures", RC)["specialist"]
    assert (now["person"], now["unit"], now["since"]) == ("李四", None, "2024-01-01")
    then = as_json(url, "measures", RC, "--as-of", "2023-06-01")["specialist"]
    assert then["person"] == "张三"
    assert _rules(url, RC) == []


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("retrofit", "--year", "2024", "--kind", "blue", "--investment", "1"), "--kind"),
        (("retrofit", "--year", "2024", "--kind", "smart", "--investment", "-5"), "--investment"),
        (("standard", "--name", "X", "--level", "galactic"), "--level"),
        (("innovation-project", "--project", "X", "--field", "spaceships"), "--field"),
        (("specialist", "--person", " "), "--person"),
    ],
)
def test_bad_measures_are_refused_with_one_line_and_nothing_written(
    url: str, args: tuple[str, ...], word: str
) -> None:
    """Unknown kinds, negative money, empty names: exit 2, one line naming the option, nothing written."""
    before = len(as_json(url, "history", RC)["events"])
    result = invoke(url, "report", RC, *args)
    assert result.exit_code == 2 and word in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(as_json(url, "history", RC)["events"]) == before
