"""Acceptance: a Yubei district story told through the real `srdi` script (渝北府办发〔2024〕34号)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.acceptance import (
    LEDGER_KEYS,
    STATUSES,
    Srdi,
    ceilings_total,
    fixed_total,
    lanes,
    one_document,
    rules,
    uscc,
)

Y1, Y2, Y3, Y4, Y5, Y7 = (uscc(n) for n in (1, 2, 3, 4, 5, 7))
LISTING = [
    ("otc-listed", "2024-01-10", "YB-7a", 600000),
    ("neeq-filed", "2024-03-01", "YB-7b", 1000000),
    ("neeq-listed", "2024-06-01", "YB-7c", 1000000),
    ("neeq-select", "2025-01-02", "YB-7d", 1000000),  # 2,000,000 capped: 新三板 total 3,000,000
    ("ipo-tutoring", "2025-03-01", "YB-7e", 2000000),
    ("ipo-accepted", "2025-06-01", "YB-7f", 3000000),
    ("ipo-listed", "2025-12-01", "YB-7g", 5000000),
]


AS_A_PROCESS = {"otc-listed", "neeq-select", "ipo-listed"}  # the others through `cli.main` in-process


class Story:
    """Every step's `--json` output, kept for the tests to read."""

    def __init__(self, srdi: Srdi) -> None:
        self.srdi = srdi
        self.out: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        return self.out[key]

    def entry(self, entitlement_id: str) -> dict[str, Any]:
        """An entry of the ledger as the story left it."""
        [found] = [e for e in self.out["ledger"]["entries"] if e["id"] == entitlement_id]
        return dict(found)

    def entries(self, uscc: str) -> list[dict[str, Any]]:
        return [e for e in self.out["ledger"]["entries"] if e["enterprise"] == uscc]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    """Record the whole story once on one SQLite file; each test reads what it needs."""
    srdi = Srdi(f"sqlite:///{tmp_path_factory.mktemp('yubei') / 'srdi.db'}")
    s = Story(srdi)
    o = s.out
    # Y7's certification is on record before the policy is switched on: activation finds it.
    srdi.setup(
        "enterprise", "add", Y7, "--name", "重庆渝北庚科技有限公司", "--district", "yubei", "--size", "medium"
    )
    srdi.setup("record", Y7, "innovative-sme.certified", "--on", "2022-02-01")
    o["y7_srdi"] = srdi.setup("record", Y7, "srdi-municipal.certified", "--on", "2022-09-01", "--json")
    o["activate"] = srdi.json("policy", "activate", "yubei-2024")
    lanes(srdi, o, _y1, _y2, _y3, _y4, _y5)
    o["ledger"] = srdi.ledger()  # the ledger as the story left it (before any test pays)
    return s


def _y1(srdi: Srdi, o: dict[str, Any]) -> None:
    o["add1"] = srdi.add(
        Y1, "重庆渝北甲科技有限公司", "渝北", "--size", "small", "--department", "区经济信息委"
    )
    srdi.setup("record", Y1, "创新型中小企业.认定", "--on", "2022-03-01")
    o["srdi"] = srdi.record(Y1, "市级专精特新.certified", "2023-03-01", "--ref", "渝经信发〔2023〕12号")
    for action, on, _rule, _amount in LISTING:
        o[action] = srdi.record(Y1, f"listing.{action}", on, here=action not in AS_A_PROCESS)
    # A review passed before the growth figures are in: pending-data, then decided by the report.
    o["review"] = srdi.record(Y1, "srdi-municipal.review-passed", "2026-02-01")
    fin = ("report", Y1, "financials", "--json", "--year")
    o["fin2023"] = srdi.setup(*fin, "2023", "--revenue", "10,000,000", "--on", "2024-03-01")
    o["fin2024"] = srdi.setup(*fin, "2024", "--revenue", "12000000", "--on", "2025-03-01")
    o["fin2025"] = srdi.report(
        Y1, "financials", "--year", "2025", "--revenue", "14000000.00", "--on", "2026-03-02"
    )


def _y2(srdi: Srdi, o: dict[str, Any]) -> None:
    """Listed without any SRDI title, then certified, then the certification retracted."""
    srdi.setup(
        "enterprise", "add", Y2, "--name", "重庆渝北乙科技有限公司", "--district", "渝北区", "--size", "micro"
    )
    o["y2_otc"] = srdi.record(Y2, "listing.otc-listed", "2024-01-10")
    srdi.setup("record", Y2, "innovative-sme.certified", "--on", "2023-06-01")
    o["y2_srdi"] = srdi.record(Y2, "srdi-municipal.certified", "2024-02-01", here=True)
    o["y2_retract"] = srdi.json("retract", o["y2_srdi"]["event_id"], "--reason", "认定文件张冠李戴，录错企业")


def _y3(srdi: Srdi, o: dict[str, Any]) -> None:
    """A title from 2019 that lapsed by its validity (no expiry recorded yet) before listing."""
    srdi.setup("enterprise", "add", Y3, "--name", "重庆渝北丙科技有限公司", "--district", "yubei")
    srdi.setup("record", Y3, "innovative-sme.certified", "--on", "2019-03-01")
    srdi.setup("record", Y3, "srdi-municipal.certified", "--on", "2019-04-01")
    o["y3_otc"] = srdi.record(Y3, "listing.otc-listed", "2023-01-10")


def _y4(srdi: Srdi, o: dict[str, Any]) -> None:
    """Certified before 2022: the first review is YB-5e; a later one with growth data is YB-5c."""
    srdi.setup(
        "enterprise", "add", Y4, "--name", "重庆渝北丁科技有限公司", "--district", "yubei", "--size", "medium"
    )
    srdi.setup("record", Y4, "innovative-sme.certified", "--on", "2019-03-01")
    o["y4_srdi"] = srdi.setup("record", Y4, "srdi-municipal.certified", "--on", "2019-04-01", "--json")
    o["y4_review1"] = srdi.record(Y4, "srdi-municipal.review-passed", "2022-03-20")
    for year, revenue in (("2022", "10000000"), ("2023", "12000000"), ("2024", "12500000")):
        srdi.setup(
            "report", Y4, "financials", "--year", year, "--revenue", revenue, "--on", f"{int(year) + 1}-02-01"
        )
    o["y4_review2"] = srdi.record(Y4, "srdi-municipal.review-passed", "2025-03-01", here=True)


def _y5(srdi: Srdi, o: dict[str, Any]) -> None:
    """Rent subsidy (YB-3) and a review that turns out not eligible once the figures arrive."""
    srdi.setup(
        "enterprise", "add", Y5, "--name", "重庆渝北戊科技有限公司", "--district", "yubei", "--size", "medium"
    )
    srdi.setup("record", Y5, "innovative-sme.certified", "--on", "2022-01-10")
    srdi.setup("record", Y5, "srdi-municipal.certified", "--on", "2022-06-01")
    srdi.setup("report", Y5, "financials", "--year", "2023", "--revenue", "10000000", "--on", "2024-02-01")
    srdi.setup("report", Y5, "financials", "--year", "2024", "--revenue", "13000000", "--on", "2025-02-01")
    lease = ("--year", "2025", "--months", "12", "--owner", "state")
    o["lease1"] = srdi.report(
        Y5, "lease", *lease, "--area", "5000", "--rent", "25", "--on", "2025-03-01", here=True
    )
    o["lease2"] = srdi.report(Y5, "lease", *lease, "--area", "10000", "--rent", "30", "--on", "2025-04-01")
    o["lease3"] = srdi.report(
        Y5, "lease", *lease, "--area", "100", "--rent", "30", "--on", "2025-05-01", here=True
    )
    o["lease_cheap"] = srdi.report(
        Y5, "lease", *lease, "--area", "800", "--rent", "20", "--on", "2025-05-02", here=True
    )
    o["y5_review"] = srdi.record(Y5, "srdi-municipal.review-passed", "2025-05-10", here=True)
    o["y5_fin2022"] = srdi.report(
        Y5, "financials", "--year", "2022", "--revenue", "12000000", "--on", "2025-06-01"
    )


def _entitlement(result: dict[str, Any], rule: str) -> dict[str, Any]:
    return rules(result)[rule]


def test_activation_evaluates_history_already_recorded(story: Story) -> None:
    """`policy activate yubei-2024` creates YB-5a for a certification recorded before it, on its date."""
    assert story["activate"]["activated"] is True
    created = [e for e in story["activate"]["entitlements"] if e["enterprise"] == Y7]
    assert [(e["rule"], e["amount"]) for e in created] == [("YB-5a", 100000)]
    [entry] = story.entries(Y7)
    assert entry["trigger_event"] == story["y7_srdi"]["event_id"]
    assert (entry["accrued_on"], entry["status"]) == ("2022-09-01", "accrued")
    again = story.srdi.json("policy", "activate", "yubei-2024", here=True)
    assert again["activated"] is False and again["entitlements"] == []


def test_certification_accrues_yb5a_with_every_ledger_field(story: Story) -> None:
    """srdi-municipal certified 2023-03-01: YB-5a 100,000 accrued, article 5, triggered by that event."""
    printed = story["srdi"]
    assert set(printed) >= {"event_id", "entitlements"}
    yb5a = _entitlement(printed, "YB-5a")
    assert (yb5a["amount"], yb5a["status"]) == (100000, "accrued")
    entry = story.entry(yb5a["id"])
    assert set(entry) >= LEDGER_KEYS
    assert entry | {"note": None} == entry | {
        "id": yb5a["id"],
        "enterprise": Y1,
        "district": "yubei",
        "policy": "yubei-2024",
        "rule": "YB-5a",
        "article": "5",
        "kind": "award",
        "trigger_event": printed["event_id"],
        "accrued_on": "2023-03-01",
        "amount": 100000,
        "ceiling": False,
        "approved_amount": None,
        "paid_amount": 0,
        "status": "accrued",
        "note": None,
    }


def test_status_shows_the_title_and_its_validity(story: Story) -> None:
    """status --json: the contract's keys; srdi-municipal valid until 2026-02-28 as of 2025-12-31."""
    doc = story.srdi.json("status", Y1, "--as-of", "2025-12-31")
    assert set(doc) == {"uscc", "name", "district", "titles", "listing"}
    assert (doc["uscc"], doc["name"], doc["district"]) == (Y1, "重庆渝北甲科技有限公司", "yubei")
    assert doc["titles"]["srdi-municipal"] == {
        "state": "certified",
        "certified_on": "2023-03-01",
        "valid_until": "2026-02-28",
    }
    assert set(doc["titles"]) == {"innovative-sme", "srdi-municipal"}  # tracks never recorded are absent
    assert doc["listing"] == {"stage": "ipo-listed", "since": "2025-12-01"}
    never = story.srdi.json("status", Y5, here=True)
    assert never["listing"] == {"stage": None, "since": None}


def test_small_srdi_enterprise_gets_yb8_tax_relief_without_amount(story: Story) -> None:
    """YB-8: a small SRDI enterprise in 2022–2024 gets a tax-relief entitlement with amount null."""
    yb8 = _entitlement(story["srdi"], "YB-8")
    entry = story.entry(yb8["id"])
    assert (entry["kind"], entry["amount"], entry["ceiling"]) == ("tax-relief", None, False)
    assert entry["status"] == "awaiting-approval" and entry["article"] == "8"
    assert "YB-8" not in {e["rule"] for e in story.entries(Y4)}  # medium-sized


def test_listing_stages_yb7_amounts_and_the_neeq_cap(story: Story) -> None:
    """Each stage accrues its YB-7 amount; 精选层 is capped so the 新三板 stages total 3,000,000."""
    for action, on, rule, amount in LISTING:
        row = _entitlement(story[action], rule)
        assert (row["amount"], row["status"]) == (amount, "accrued"), action
        entry = story.entry(row["id"])
        assert (entry["accrued_on"], entry["trigger_event"]) == (on, story[action]["event_id"])
    capped = story.entry(_entitlement(story["neeq-select"], "YB-7d")["id"])
    assert "cap" in capped["note"] and "3,000,000" in capped["note"]
    neeq = [e for e in story.entries(Y1) if e["rule"] in ("YB-7b", "YB-7c", "YB-7d")]
    assert sum(e["amount"] for e in neeq) == 3000000


def test_yb7_needs_a_valid_srdi_title_on_the_listing_date(story: Story) -> None:
    """No YB-7a without an SRDI title (Y2) or with one that lapsed by its validity (Y3)."""
    assert story["y2_otc"]["entitlements"] == []
    assert story["y3_otc"]["entitlements"] == []
    for code in (Y2, Y3):
        assert "YB-7a" not in {e["rule"] for e in story.entries(code)}


def test_review_without_growth_data_is_pending_then_decided_by_the_report(story: Story) -> None:
    """review-passed → YB-5c pending-data; the 2025 revenue report resolves it to 50,000 accrued."""
    pending = _entitlement(story["review"], "YB-5c")
    assert (pending["status"], pending["amount"]) == ("pending-data", None)
    assert story["fin2023"]["entitlements"] == [] and story["fin2024"]["entitlements"] == []
    resolved = _entitlement(story["fin2025"], "YB-5c")
    assert (resolved["id"], resolved["status"], resolved["amount"]) == (pending["id"], "accrued", 50000)
    entry = story.entry(pending["id"])
    assert (entry["status"], entry["amount"], entry["trigger_event"]) == (
        "accrued",
        50000,
        story["review"]["event_id"],
    )
    before = story.srdi.entries("--enterprise", Y1, "--as-of", "2026-03-01", here=True)
    assert {e["rule"]: e["status"] for e in before}["YB-5c"] == "pending-data"


def test_pre_2022_title_first_review_is_yb5e_then_growth_decides_yb5c(story: Story) -> None:
    """Certified 2019: no YB-5a; first review (2022) YB-5e 100,000; next review with 12.1% growth YB-5c."""
    assert story["y4_srdi"]["entitlements"] == []
    assert {r: (e["amount"], e["status"]) for r, e in rules(story["y4_review1"]).items()} == {
        "YB-5e": (100000, "accrued")
    }
    assert {r: (e["amount"], e["status"]) for r, e in rules(story["y4_review2"]).items()} == {
        "YB-5c": (50000, "accrued")
    }


def test_review_with_low_growth_is_decided_not_eligible(story: Story) -> None:
    """Y5: average growth (30% − 16.7%)/2 = 6.7% ≤ 10%: YB-5c leaves pending-data as reversed."""
    pending = _entitlement(story["y5_review"], "YB-5c")
    assert pending["status"] == "pending-data"
    decided = _entitlement(story["y5_fin2022"], "YB-5c")
    assert (decided["id"], decided["status"]) == (pending["id"], "reversed")
    entry = story.entry(pending["id"])
    assert entry["status"] == "reversed"


def test_yb3_rent_subsidy_formula_yearly_cap_and_restatements(story: Story) -> None:
    """YB-3: 5 元/㎡·月 × area × months, 500,000 a year at most; a lease reported again for the year
    restates the same entitlement (adjusted, then reversed when the rent is 20 元, not above 20)."""
    first = _entitlement(story["lease1"], "YB-3")
    assert (first["amount"], first["status"]) == (300000, "accrued")  # 5 × 5000 × 12
    second = _entitlement(story["lease2"], "YB-3")
    assert (second["id"], second["amount"], second["status"]) == (first["id"], 500000, "accrued")
    third = _entitlement(story["lease3"], "YB-3")
    assert (third["id"], third["amount"]) == (first["id"], 6000)  # 5 × 100 × 12
    cheap = _entitlement(story["lease_cheap"], "YB-3")
    assert (cheap["id"], cheap["status"]) == (first["id"], "reversed")
    entry = story.entry(first["id"])
    assert (entry["status"], entry["adjusted_from"], entry["recovery_amount"]) == ("reversed", 500000, 0)
    assert "not above 20" in entry["note"]
    yearly = [e for e in story.entries(Y5) if e["rule"] == "YB-3"]
    assert len(yearly) == 1


def test_retraction_reverses_and_decisions_on_reversed_are_refused(story: Story) -> None:
    """Retracting Y2's certification reverses its YB-5a; paying or approving it is exit 2."""
    yb5a = _entitlement(story["y2_srdi"], "YB-5a")
    reversed_ = _entitlement(story["y2_retract"], "YB-5a")
    assert (reversed_["id"], reversed_["status"]) == (yb5a["id"], "reversed")
    assert story.entry(yb5a["id"])["status"] == "reversed"
    assert "srdi-municipal" not in story.srdi.json("status", Y2, here=True)["titles"]
    story.srdi.rejected("entitlement", "pay", yb5a["id"], "--amount", "1", "--ref", "X", "--on", "2024-03-01")
    story.srdi.rejected("entitlement", "approve", yb5a["id"], "--amount", "1", match="reversed", here=True)


def test_history_lists_events_and_the_retraction(story: Story) -> None:
    """history --json: event_id, type, occurred_on, recorded_at, actor, data; the retraction linked."""
    doc = story.srdi.json("history", Y2)
    events = doc["events"]
    for e in events:
        assert {"event_id", "type", "occurred_on", "recorded_at", "actor", "data"} <= set(e)
    ids = [e["event_id"] for e in events]
    assert story["y2_srdi"]["event_id"] in ids and story["y2_retract"]["event_id"] in ids
    retraction = events[ids.index(story["y2_retract"]["event_id"])]
    assert retraction["data"]["reason"] == "认定文件张冠李戴，录错企业"
    retracted = events[ids.index(story["y2_srdi"]["event_id"])]
    assert retracted["retracted_by"]["event_id"] == retraction["event_id"]
    milestone = next(e for e in events if e["type"] == "MilestoneRecorded")
    assert milestone["occurred_on"] == "2024-01-10" and milestone["data"]["action"] == "otc-listed"


def test_ledger_filters_and_totals(story: Story) -> None:
    """--enterprise/--district/--year/--as-of filter; totals follow the contract's definitions exactly."""
    whole = story["ledger"]
    assert set(whole) == {"entries", "totals"}
    assert set(whole["totals"]) == {"fixed", "ceilings", "approved", "paid", "recovery_due"}
    for entry in whole["entries"]:
        assert set(entry) >= LEDGER_KEYS and entry["status"] in STATUSES
    assert whole["totals"]["fixed"] == fixed_total(whole["entries"])
    assert whole["totals"]["ceilings"] == ceilings_total(whole["entries"]) == 0
    calls = [
        ("--enterprise", Y1),
        ("--district", "渝北"),
        ("--district", "rongchang"),
        ("--year", "2024"),
        ("--enterprise", Y1, "--as-of", "2024-06-01"),
        ("--enterprise", Y1.lower(), "--as-of", "2023-02-28"),
        ("--unit", "区金融服务办", "--enterprise", Y1),
    ]
    mine, district, elsewhere, in_2024, on_day, before, unit = (
        one_document(d.stdout) for d in story.srdi.many([("ledger", *c, "--json") for c in calls])
    )
    assert {e["enterprise"] for e in mine["entries"]} == {Y1}
    assert mine["totals"]["fixed"] == 100000 + 600000 + 3000000 + 10000000 + 50000
    assert {e["district"] for e in district["entries"]} == {"yubei"}
    assert len(district["entries"]) == len(whole["entries"])
    assert elsewhere == {
        "entries": [],
        "totals": {"fixed": 0, "ceilings": 0, "approved": 0, "paid": 0, "recovery_due": 0},
    }
    assert in_2024["entries"] and all(e["accrued_on"].startswith("2024-") for e in in_2024["entries"])
    assert [e["rule"] for e in on_day["entries"]] == ["YB-5a", "YB-8", "YB-7a", "YB-7b", "YB-7c"]
    assert on_day["totals"]["fixed"] == 100000 + 600000 + 1000000 + 1000000
    assert before["entries"] == []
    assert {e["rule"] for e in unit["entries"]} == {f"YB-7{c}" for c in "abcdefg"}  # split by unit
    assert unit["totals"]["fixed"] == 600000 + 3000000 + 10000000


def test_fixed_amounts_are_paid_up_to_what_is_owed(story: Story) -> None:
    """YB-5e accrued 100,000: not approvable; paid in two parts; a yuan more is exit 2."""
    srdi = story.srdi
    key = _entitlement(story["y4_review1"], "YB-5e")["id"]
    srdi.rejected("entitlement", "approve", key, "--amount", "100000", here=True)
    pay = ("entitlement", "pay", key, "--ref", "渝北财〔2023〕1号", "--on", "2023-01-10", "--amount")
    srdi.rejected(*pay, "100000.01", match="left")
    srdi.ok(*pay, "60,000")
    done = srdi.json(
        "entitlement", "pay", key, "--amount", "40000", "--ref", "渝北财〔2023〕2号", "--on", "2023-02-10"
    )
    assert done["paid_amount"] == 100000 and done["status"] == "paid"
    srdi.rejected("entitlement", "pay", key, "--amount", "1", "--ref", "X", "--on", "2023-03-10", here=True)
    entry = srdi.entry(key)
    assert (entry["paid_amount"], entry["status"]) == (100000, "paid")
    assert srdi.ledger("--enterprise", Y4, here=True)["totals"]["paid"] == 100000


def test_as_of_before_on_and_after_a_milestone(story: Story) -> None:
    """status --as-of the day before, the day of and a day after the certification and the listing."""
    srdi = story.srdi
    before, on, after = (
        srdi.json("status", Y1, "--as-of", d) for d in ("2023-02-28", "2023-03-01", "2024-01-10")
    )
    assert "srdi-municipal" not in before["titles"] and "innovative-sme" in before["titles"]
    assert on["titles"]["srdi-municipal"]["state"] == "certified" and on["listing"]["stage"] is None
    assert after["listing"] == {"stage": "otc-listed", "since": "2024-01-10"}
    rows = {r["measure"]: r for r in srdi.json("targets", "渝北", "--year", "2025")["rows"]}
    assert rows["srdi-municipal"]["target"] == 180 and rows["little-giant"]["target"] == 23
    past = {
        r["measure"]: r
        for r in srdi.json("targets", "yubei", "--year", "2025", "--as-of", "2022-08-31", here=True)["rows"]
    }
    assert past["srdi-municipal"]["actual"] == 2  # Y4 (reviewed 2022-03-20), Y5; Y7 from 2022-09-01
    day = {
        r["measure"]: r
        for r in srdi.json("targets", "yubei", "--year", "2025", "--as-of", "2022-09-01", here=True)["rows"]
    }
    assert day["srdi-municipal"]["actual"] == 3
