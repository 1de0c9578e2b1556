"""Acceptance: Rongchang, Liangjiang, Jiangjin and Qianjiang rules through the real `srdi` script."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.acceptance import Srdi, assert_rejection, ceilings_total, fixed_total, lanes, rules, uscc

R1, R2, R3 = uscc(11, "500153"), uscc(12, "500153"), uscc(13, "500153")
L1, J1, J2 = uscc(21, "500000"), uscc(31, "500116"), uscc(32, "500116")
Q1, Q2, Q3 = uscc(41, "500114"), uscc(42, "500114"), uscc(43, "500114")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Srdi, dict[str, Any]]:
    """Every district's policy active, then each enterprise's history (side by side)."""
    srdi = Srdi(f"sqlite:///{tmp_path_factory.mktemp('districts') / 'srdi.db'}")
    for key in ("rongchang-2022", "liangjiang-2022", "jiangjin-2022", "qianjiang-2023"):
        srdi.setup("policy", "activate", key)
    out: dict[str, Any] = {}
    lanes(srdi, out, _rongchang, _rongchang_first_time, _liangjiang, _jiangjin, _qianjiang)
    out["ledger"] = srdi.ledger()
    return srdi, out


def _rongchang(srdi: Srdi, o: dict[str, Any]) -> None:
    srdi.setup("enterprise", "add", R1, "--name", "重庆荣昌甲科技有限公司", "--district", "荣昌")
    srdi.setup("record", R1, "innovative-sme.certified", "--on", "2022-08-01")
    o["rc27b"] = srdi.record(R1, "市级专精特新.认定", "2022-09-01")
    srdi.setup("record", R1, "hnte.certified", "--on", "2022-10-01")
    o["rc27a"] = srdi.record(R1, "小巨人.certified", "2023-07-01")
    fin = ("financials", "--year")
    o["rc29b_2023"] = srdi.report(
        R1, *fin, "2023", "--revenue", "50000000", "--rd-expense", "4000000", "--on", "2024-03-01"
    )
    o["rc29b_2022"] = srdi.report(
        R1,
        *fin,
        "2022",
        "--revenue",
        "40000000",
        "--rd-expense",
        "3,000,000",
        "--on",
        "2024-03-05",
        here=True,
    )
    o["rc29_big"] = srdi.report(
        R1, *fin, "2024", "--revenue", "60000000", "--rd-expense", "12000000", "--on", "2025-02-01", here=True
    )
    o["rc29a"] = srdi.report(R1, "rd-subsidy", "--year", "2024", "--amount", "800000", "--on", "2025-03-01")
    o["rc29a_small"] = srdi.report(
        R1, "rd-subsidy", "--year", "2023", "--amount", "300000", "--on", "2025-03-02", here=True
    )
    o["rc30"] = srdi.record(R1, "listing.otc-listed", "2024-05-01")


def _rongchang_first_time(srdi: Srdi, o: dict[str, Any]) -> None:
    """首次: a title held before (even before the plan) is never 'first' again."""
    srdi.setup("enterprise", "add", R2, "--name", "重庆荣昌乙科技有限公司", "--district", "rongchang")
    srdi.setup("record", R2, "innovative-sme.certified", "--on", "2021-01-01")
    o["r2_2021"] = srdi.setup("record", R2, "srdi-municipal.certified", "--on", "2021-02-01", "--json")
    srdi.setup("record", R2, "srdi-municipal.revoked", "--on", "2022-07-15")
    srdi.setup("record", R2, "innovative-sme.review-passed", "--on", "2022-12-20")
    o["r2_again"] = srdi.record(R2, "srdi-municipal.certified", "2023-03-01")
    srdi.setup("enterprise", "add", R3, "--name", "重庆荣昌丙科技有限公司", "--district", "荣昌区")
    srdi.setup("record", R3, "innovative-sme.certified", "--on", "2022-07-01")
    o["r3_first"] = srdi.record(R3, "srdi-municipal.certified", "2022-09-01", here=True)
    srdi.setup("record", R3, "srdi-municipal.revoked", "--on", "2023-01-01")
    o["r3_second"] = srdi.record(R3, "srdi-municipal.certified", "2023-06-01", here=True)


def _talent(srdi: Srdi, person: str, year: int, contribution: int, on: str, here: bool = False) -> Any:
    """`srdi report L1 talent` (through the script, or in this process with ``here``)."""
    figures = ("--year", str(year), "--contribution", str(contribution), "--on", on)
    return srdi.report(L1, "talent", "--person", person, *figures, here=here)


def _liangjiang(srdi: Srdi, o: dict[str, Any]) -> None:
    srdi.setup("enterprise", "add", L1, "--name", "重庆两江甲科技有限公司", "--district", "两江新区")
    srdi.setup("record", L1, "innovative-sme.certified", "--on", "2022-01-05")
    o["lj_before_title"] = _talent(srdi, "P0", 2022, 5000, "2022-06-01", here=True)
    srdi.setup("record", L1, "srdi-municipal.certified", "--on", "2023-01-05")
    for n in range(1, 9):
        o[f"talent{n}"] = srdi.setup(
            "report", L1, "talent", "--person", f"P{n}", "--year", "2024", "--contribution", "10000",
            "--on", "2025-01-10", "--json",
        )  # fmt: skip
    o["talent9"] = _talent(srdi, "P9", 2024, 10000, "2025-01-10")
    o["talent1_2023"] = _talent(srdi, "P1", 2023, 8000, "2024-01-10", here=True)
    srdi.setup("record", L1, "srdi-municipal.review-passed", "--on", "2025-12-20")
    o["talent1_2025"] = _talent(srdi, "P1", 2025, 12000, "2026-01-10", here=True)
    o["talent1_2026"] = _talent(srdi, "P1", 2026, 12000, "2026-06-10")
    o["invention"] = srdi.report(L1, "patent", "--number", "ZL202310000001.1", "--on", "2024-02-01")
    o["utility"] = srdi.report(
        L1, "patent", "--number", "ZL202320000002.5", "--kind", "utility", "--on", "2024-02-01", here=True
    )


def _jiangjin(srdi: Srdi, o: dict[str, Any]) -> None:
    srdi.setup("enterprise", "add", J1, "--name", "重庆江津甲科技有限公司", "--district", "江津")
    srdi.setup("record", J1, "innovative-sme.certified", "--on", "2022-08-01")
    o["jj27"] = srdi.report(J1, "demonstration", "--year", "2023", "--on", "2023-06-01")
    o["jj29"] = srdi.report(
        J1,
        "financials",
        "--year",
        "2023",
        "--revenue",
        "1000000",
        "--rd-expense",
        "100000",
        "--on",
        "2024-01-10",
        here=True,
    )
    o["jj29_none"] = srdi.report(
        J1, "financials", "--year", "2022", "--revenue", "900000", "--on", "2024-01-11", here=True
    )
    o["jj30"] = srdi.record(J1, "listing.otc-listed", "2024-05-01")
    srdi.setup("enterprise", "add", J2, "--name", "重庆江津乙科技有限公司", "--district", "jiangjin")
    o["j2_demo"] = srdi.report(J2, "demonstration", "--year", "2023", "--on", "2023-06-01")
    o["j2_otc"] = srdi.record(J2, "listing.otc-listed", "2024-05-01", here=True)


def _qianjiang(srdi: Srdi, o: dict[str, Any]) -> None:
    srdi.setup(
        "enterprise",
        "add",
        Q1,
        "--name",
        "重庆黔江甲科技有限公司",
        "--district",
        "黔江",
        "--department",
        "区科技局",
    )
    srdi.setup("record", Q1, "科技型中小企业.入库", "--on", "2025-04-01")
    srdi.setup(
        "enterprise", "add", Q2, "--name", "重庆黔江乙科技有限公司", "--district", "qianjiang",
        "--department", "正阳工业园区管委会",
    )  # fmt: skip
    srdi.setup("record", Q2, "高新技术企业.certified", "--on", "2025-06-01")
    srdi.setup("enterprise", "add", Q3, "--name", "重庆黔江丙科技有限公司", "--district", "黔江区")
    srdi.setup("record", Q3, "tech-sme.certified", "--on", "2024-05-01")


def _one(result: dict[str, Any], rule: str) -> dict[str, Any]:
    return rules(result)[rule]


def _entry(out: dict[str, Any], entitlement_id: str) -> dict[str, Any]:
    [found] = [e for e in out["ledger"]["entries"] if e["id"] == entitlement_id]
    return dict(found)


def test_rc27_ceilings_await_approval(world: tuple[Srdi, dict[str, Any]]) -> None:
    """RC-27b up to 200,000 and RC-27a up to 1,000,000: ceilings awaiting approval, summed in totals."""
    _srdi, out = world
    for key, rule, ceiling in (("rc27b", "RC-27b", 200000), ("rc27a", "RC-27a", 1000000)):
        printed = _one(out[key], rule)
        assert (printed["amount"], printed["status"]) == (ceiling, "awaiting-approval")
        entry = _entry(out, printed["id"])
        assert (entry["ceiling"], entry["article"], entry["policy"], entry["kind"]) == (
            True,
            "27",
            "rongchang-2022",
            "award",
        )
        assert entry["approved_amount"] is None and entry["trigger_event"] == out[key]["event_id"]
    totals = out["ledger"]["totals"]
    assert totals["ceilings"] == ceilings_total(out["ledger"]["entries"])
    assert totals["fixed"] == fixed_total(out["ledger"]["entries"])


def test_rc27_is_for_the_first_certification_only(world: tuple[Srdi, dict[str, Any]]) -> None:
    """首次: a title held in 2021 or one certified again after a revocation owes no second RC-27b."""
    _srdi, out = world
    assert out["r2_2021"]["entitlements"] == []  # before the plan was in force
    assert out["r2_again"]["entitlements"] == []  # not the first ever
    assert set(rules(out["r3_first"])) == {"RC-27b"}
    assert out["r3_second"]["entitlements"] == []


def test_approve_and_pay_a_ceiling(world: tuple[Srdi, dict[str, Any]]) -> None:
    """Above the ceiling, paying unapproved or above the approval: exit 2; then approve and pay in parts."""
    srdi, out = world
    key = _one(out["rc27b"], "RC-27b")["id"]
    srdi.rejected("entitlement", "approve", key, "--amount", "200000.01", match="ceiling")
    srdi.rejected(
        "entitlement",
        "pay",
        key,
        "--amount",
        "1",
        "--ref",
        "荣财〔2023〕1号",
        "--on",
        "2023-01-15",
        here=True,
    )
    approved = srdi.acting("approver").json("entitlement", "approve", key, "--amount", "150,000")
    assert (approved["status"], approved["approved_amount"]) == ("approved", 150000)
    srdi.rejected("entitlement", "approve", key, "--amount", "100000", here=True)  # approved once
    pay = ("entitlement", "pay", key, "--ref", "荣财〔2023〕1号", "--on", "2023-01-15", "--amount")
    srdi.rejected(*pay, "150000.01", match="150,000")
    srdi.ok(*pay, "100000")
    assert srdi.here(*pay, "100000").code == 0  # the same voucher again: the first payment, nothing new
    assert srdi.here(*pay, "50000").code == 3  # one voucher, one payment: another amount is a conflict
    srdi.rejected(
        "entitlement", "pay", key, "--ref", "荣财〔2023〕4号", "--on", "2023-01-15", "--amount", "50000.01"
    )
    paid = srdi.json(
        "entitlement", "pay", key, "--amount", "50000", "--ref", "荣财〔2023〕5号", "--on", "2023-02-15"
    )
    assert (paid["status"], paid["approved_amount"], paid["paid_amount"]) == ("paid", 150000, 150000)
    ledger = srdi.ledger("--enterprise", R1, here=True)
    entry = next(e for e in ledger["entries"] if e["id"] == key)
    assert (entry["status"], entry["approved_amount"], entry["paid_amount"]) == ("paid", 150000, 150000)
    assert ledger["totals"]["approved"] >= 150000 and ledger["totals"]["paid"] >= 150000
    assert ledger["totals"]["ceilings"] == ceilings_total(ledger["entries"])


def test_retracted_ceiling_is_reversed_and_refused(world: tuple[Srdi, dict[str, Any]]) -> None:
    """Retracting the 小巨人 certification reverses RC-27a; approving or paying it is exit 2."""
    srdi, out = world
    key = _one(out["rc27a"], "RC-27a")["id"]
    retraction = srdi.json("retract", out["rc27a"]["event_id"], "--reason", "公示名单看错")
    assert {(r["id"], r["status"]) for r in retraction["entitlements"]} == {(key, "reversed")}
    srdi.rejected("entitlement", "approve", key, "--amount", "1000000", match="reversed", here=True)
    srdi.rejected(
        "entitlement", "pay", key, "--amount", "1", "--ref", "X", "--on", "2024-01-01", match="reversed"
    )
    srdi.rejected("retract", out["rc27a"]["event_id"], "--reason", "again", here=True)


def test_rc29_rd_rules_with_reported_figures(world: tuple[Srdi, dict[str, Any]]) -> None:
    """RC-29b: 3% of stock + 10% of increment once last year's R&D is in; RC-29a: 100% of the subsidy."""
    _srdi, out = world
    pending = _one(out["rc29b_2023"], "RC-29b")
    assert (pending["status"], pending["amount"]) == ("pending-data", None)
    decided = {r["id"]: r for r in out["rc29b_2022"]["entitlements"]}[pending["id"]]
    assert (decided["status"], decided["amount"]) == ("awaiting-approval", 190000)  # 3%×3M + 10%×1M
    assert _entry(out, pending["id"])["ceiling"] is True
    assert "RC-29b" not in rules(out["rc29_big"])  # 12,000,000 of R&D: RC-29a's side
    matching = _one(out["rc29a"], "RC-29a")
    assert (matching["amount"], matching["status"]) == (800000, "awaiting-approval")
    assert out["rc29a_small"]["entitlements"] == []  # R&D 2023 was 4,000,000 < 10,000,000


def test_rc30_listing_stage_amount_to_be_set(world: tuple[Srdi, dict[str, Any]]) -> None:
    """RC-30: a listing stage of an SRDI holder creates an entitlement with amount null, awaiting approval."""
    srdi, out = world
    rc30 = _one(out["rc30"], "RC-30")
    entry = _entry(out, rc30["id"])
    assert (entry["amount"], entry["ceiling"], entry["status"]) == (None, False, "awaiting-approval")
    assert entry["article"] == "30"
    approved = srdi.json("entitlement", "approve", rc30["id"], "--amount", "300000", here=True)
    assert (approved["status"], approved["approved_amount"]) == ("approved", 300000)


def test_liangjiang_talents(world: tuple[Srdi, dict[str, Any]]) -> None:
    """LJ-21: 100% of each named talent's contribution, 8 talents at most, 3 years per person."""
    _srdi, out = world
    assert out["lj_before_title"]["entitlements"] == []  # no SRDI title yet
    for n in range(1, 9):
        row = _one(out[f"talent{n}"], "LJ-21")
        assert (row["amount"], row["status"]) == (10000, "accrued")
    assert out["talent9"]["entitlements"] == []
    assert _one(out["talent1_2023"], "LJ-21")["amount"] == 8000
    assert _one(out["talent1_2025"], "LJ-21")["amount"] == 12000
    assert out["talent1_2026"]["entitlements"] == []  # 2023, 2024, 2025: the 3 years are over
    entry = _entry(out, _one(out["talent1"], "LJ-21")["id"])
    assert (entry["policy"], entry["article"], entry["district"]) == ("liangjiang-2022", "21", "liangjiang")


def test_liangjiang_invention_patent(world: tuple[Srdi, dict[str, Any]]) -> None:
    """LJ-13: an invention patent owes a subsidy of unstated amount; a utility model does not."""
    srdi, out = world
    lj13 = _one(out["invention"], "LJ-13")
    assert (lj13["amount"], lj13["status"]) == (None, "awaiting-approval")
    assert out["utility"]["entitlements"] == []
    srdi.rejected("report", L1, "patent", "--number", "ZL202310000001.1", "--on", "2024-03-01", here=True)


def test_jiangjin_rules(world: tuple[Srdi, dict[str, Any]]) -> None:
    """JJ-27 demonstration, JJ-29 R&D, JJ-30 listing: amount null for holders; nothing without a title."""
    srdi, out = world
    for key, rule in (("jj27", "JJ-27"), ("jj29", "JJ-29"), ("jj30", "JJ-30")):
        row = _one(out[key], rule)
        assert (row["amount"], row["status"]) == (None, "awaiting-approval"), rule
        assert _entry(out, row["id"])["article"] == rule[3:]
    assert out["jj29_none"]["entitlements"] == []
    assert out["j2_demo"]["entitlements"] == [] and out["j2_otc"]["entitlements"] == []
    srdi.rejected("report", J1, "demonstration", "--year", "2023", "--on", "2023-07-01", here=True)
    entries = srdi.entries("--district", "江津", here=True)
    assert sorted(e["rule"] for e in entries) == ["JJ-27", "JJ-29", "JJ-30"]


def test_qianjiang_targets_with_annex_departments(world: tuple[Srdi, dict[str, Any]]) -> None:
    """targets qianjiang --year 2025: text targets and the annexes' rows per department, with actuals."""
    srdi, _out = world
    doc = srdi.json("targets", "qianjiang", "--year", "2025")
    assert (doc["district"], doc["year"]) == ("qianjiang", 2025)
    rows = {(r["measure"], r["department"]): r for r in doc["rows"]}
    for r in doc["rows"]:
        assert {"measure", "department", "target", "actual"} <= set(r)
    assert (rows[("tech-sme", None)]["target"], rows[("tech-sme", None)]["actual"]) == (700, 1)
    assert (rows[("hnte", None)]["target"], rows[("hnte", None)]["actual"]) == (80, 1)
    assert (rows[("tech-sme", "区科技局")]["target"], rows[("tech-sme", "区科技局")]["actual"]) == (40, 1)
    zhengyang = rows[("hnte", "正阳工业园区管委会")]
    assert (zhengyang["target"], zhengyang["actual"]) == (2, 1)
    assert rows[("tech-sme", "正阳工业园区管委会")]["target"] == 40
    assert rows[("hnte", "区林业局")]["target"] == 0
    departments = {d for m, d in rows if d is not None}
    assert len(departments) == 10 and "区发展改革委" in departments
    assert sum(r["target"] for (m, d), r in rows.items() if m == "tech-sme" and d) == 150
    early = srdi.json("targets", "黔江", "--year", "2025", "--as-of", "2025-03-31", here=True)
    assert {(r["measure"], r["department"]): r["actual"] for r in early["rows"]}[
        ("tech-sme", "区科技局")
    ] == 0
    later = {
        (r["measure"], r["department"]): r
        for r in srdi.json("targets", "黔江区", "--year", "2027", here=True)["rows"]
    }
    assert later[("champion", None)]["target"] == 1 and later[("tech-sme", None)]["target"] == 1000


def test_every_command_output_lists_triggered_entitlements(world: tuple[Srdi, dict[str, Any]]) -> None:
    """The text output of `record` names the event id and each entitlement with its rule."""
    srdi, _out = world
    code = uscc(14, "500153")
    srdi.setup("enterprise", "add", code, "--name", "重庆荣昌丁科技有限公司", "--district", "rongchang")
    srdi.setup("record", code, "innovative-sme.certified", "--on", "2022-08-01")
    text = srdi.ok("record", code, "srdi-municipal.certified", "--on", "2022-09-01")
    history = srdi.json("history", code, here=True)["events"]
    milestone = [e for e in history if e["type"] == "MilestoneRecorded"][-1]
    created = [e for e in history if e["data"].get("rule") == "RC-27b"]
    assert milestone["event_id"] in text and "RC-27b" in text
    assert created and created[0]["data"]["entitlement_id"] in text
    done = srdi.here("record", code, "srdi-municipal.certified", "--on", "2022-09-01")
    assert_rejection(done)
