"""The policy data files: they load, carry every catalogue rule and target, and bad files fail."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import InvalidInput
from domain.policy.model import builtin_keys, load_builtin, load_policy, parse_policy

SEEDS = Path(__file__).resolve().parents[3].parent / "shared" / "seeds"
POLICIES = Path(__file__).resolve().parents[3] / "domain" / "policies"
HERE = Path(__file__).resolve().parent

CATALOGUE: dict[str, dict[str, Decimal | None]] = {
    "yubei-2024": {
        "YB-3": None,
        "YB-5a": Decimal(100000),
        "YB-5b": Decimal(500000),
        "YB-5c": Decimal(50000),
        "YB-5d": Decimal(250000),
        "YB-5e": None,
        "YB-7a": Decimal(600000),
        "YB-7b": Decimal(1000000),
        "YB-7c": Decimal(1000000),
        "YB-7d": Decimal(2000000),
        "YB-7e": Decimal(2000000),
        "YB-7f": Decimal(3000000),
        "YB-7g": Decimal(5000000),
        "YB-8": None,
        "YB-6": None,
        "YB-9": None,
        "YB-18": None,
    },
    "rongchang-2022": {
        "RC-27a": Decimal(1000000),
        "RC-27b": Decimal(200000),
        "RC-29a": None,
        "RC-29b": None,
        "RC-30": None,
        "RC-28": None,
        "RC-29i": None,
    },
    "liangjiang-2022": {"LJ-13": None, "LJ-21": None},
    "jiangjin-2022": {"JJ-27": None, "JJ-29": None, "JJ-30": None, "JJ-28": None},
    "qianjiang-2023": {},
}
SEED_FILES = {
    "rongchang-2022": "000_164d8133f61fc561.txt",
    "liangjiang-2022": "001_48dc3228e1f211d2.txt",
    "jiangjin-2022": "002_bec70e187217273a.txt",
    "yubei-2024": "003_6e962540134e98f2.txt",
    "qianjiang-2023": "004_74e31622d1a91516.txt",
}


def test_all_five_documents_load() -> None:
    """The five shipped policy files load and are the ones the catalogue lists."""
    assert builtin_keys() == tuple(sorted(CATALOGUE))
    for key in CATALOGUE:
        assert load_builtin(key).key == key


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_catalogue_rule_is_there_with_its_amount(key: str) -> None:
    """Each document has exactly the catalogue's rule ids, fixed amounts exact in Decimal."""
    policy = load_builtin(key)
    assert [r.id for r in policy.rules] == list(CATALOGUE[key])
    for rule_id, amount in CATALOGUE[key].items():
        assert policy.rule(rule_id).amount == amount


def test_yubei_metadata_and_reach() -> None:
    """Yubei 2024 is 渝北府办发〔2024〕34号 and reaches back to 2022-01-01, open-ended."""
    policy = load_builtin("yubei-2024")
    assert policy.document_number == "渝北府办发〔2024〕34号"
    assert str(policy.issued_on) == "2024-12-12"
    assert str(policy.reach_from) == "2022-01-01"
    assert policy.in_force_until is None
    assert policy.districts == ("yubei",)
    assert policy.repeals == ("渝北府办发〔2022〕38号",)
    assert {n.key for n in policy.notes} >= {"bse-is-neeq-select", "yb7-inconsistent"}


def test_yubei_rule_details() -> None:
    """YB-5e pays by track, YB-7b/c/d share the 3,000,000 cap, YB-3 uses the rent formula."""
    policy = load_builtin("yubei-2024")
    assert policy.rule("YB-5e").amount_by_track == {
        "srdi-municipal": Decimal(100000),
        "little-giant": Decimal(500000),
    }
    assert policy.rules_in_cap("yb7-neeq") == ("YB-7b", "YB-7c", "YB-7d")
    assert policy.cap("yb7-neeq").total == Decimal(3000000)
    assert policy.rule("YB-5a").responsible_units == ("区财政局", "区经济信息委")
    assert policy.rule("YB-8").kind == "tax-relief"
    rent = policy.rule("YB-3").formula
    assert rent is not None and rent.name == "rent_area_months"
    assert policy.reading("growth-averaging") == "arithmetic"


def test_ceilings_are_flagged() -> None:
    """最高 / 不超过 rules are ceilings; fixed Yubei awards are not."""
    rc = load_builtin("rongchang-2022")
    assert all(rc.rule(r).ceiling for r in ("RC-27a", "RC-27b", "RC-29a", "RC-29b"))
    assert not load_builtin("yubei-2024").rule("YB-5a").ceiling


@pytest.mark.skipif(not SEEDS.exists(), reason="the seed documents are not in this checkout")
@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_source_quotes_are_verbatim(key: str) -> None:
    """Every rule's and target's source_zh is an exact substring of its seed document."""
    policy = load_builtin(key)
    assert policy.seed_file == SEED_FILES[key]
    seed = (SEEDS / SEED_FILES[key]).read_text(encoding="utf-8")
    quotes = [r.source_zh for r in policy.rules]
    quotes += [t.source_zh for t in policy.targets]
    quotes += [t.source_zh for t in policy.target_tables]
    for quote in quotes:
        assert quote in seed, quote


def test_quote_drops_page_breaks() -> None:
    """`Rule.quote` shows the sentence without the seed's page break."""
    rule = load_builtin("yubei-2024").rule("YB-5a")
    assert "\n" in rule.source_zh
    assert "给予奖励，其中市级" in rule.quote


def test_targets_of_yubei() -> None:
    """Yubei's targets: 180 市级, 23 小巨人, 5 listed SRDI, and the auto-electronics share, counted."""
    targets = {t.measure: t for t in load_builtin("yubei-2024").targets}
    assert (targets["srdi-municipal"].value, targets["srdi-municipal"].year) == (180, 2025)
    assert targets["little-giant"].value == 23
    assert targets["listed-srdi"].value == 5
    share = targets["auto-electronics-srdi-share"]
    assert share.countable and share.industry == "auto-electronics"
    assert share.holding == ("srdi-municipal", "little-giant")
    assert targets["benchmark-enterprises"].basis == "new-each-year"


def test_targets_of_the_2022_plans() -> None:
    """Rongchang, Liangjiang and Jiangjin 2025 targets as the catalogue lists them."""
    values = {
        key: {t.measure: t.value for t in load_builtin(key).targets}
        for key in ("rongchang-2022", "liangjiang-2022", "jiangjin-2022")
    }
    assert values["rongchang-2022"] == {
        "tech-sme": 1300,
        "hnte": 300,
        "srdi-municipal": 100,
        "little-giant": 10,
        "new-listings": 1,
        "digital-workshop": 50,
        "smart-factory": 5,
        "green-factory": 15,
        "high-value-patents": 100,
    }
    assert values["liangjiang-2022"]["innovative-sme"] == 3000
    assert values["liangjiang-2022"]["seed-enterprises"] == 100
    assert values["jiangjin-2022"]["innovative-sme"] == 1250
    assert values["jiangjin-2022"]["pre-listing-pool"] == 5
    assert values["liangjiang-2022"]["listing-reserve-srdi"] == 50
    every = [t for key in builtin_keys() for t in load_builtin(key).all_targets()]
    assert all(t.countable for t in every), "every target of the five documents names a countable thing"


def test_qianjiang_targets_and_annexes() -> None:
    """Qianjiang: more-than 80/700 in 2025, annex rows per department, baseline and totals."""
    policy = load_builtin("qianjiang-2023")
    assert policy.rules == ()
    stated = {(t.measure, t.year): t for t in policy.targets}
    assert stated["hnte", 2025].comparison == "more-than"
    assert stated["tech-sme", 2027].value == 1000
    assert stated["champion", 2027].comparison == "at-least"
    tech = next(t for t in policy.target_tables if t.measure == "tech-sme")
    assert (tech.baseline_year, tech.baseline) == (2022, 431)
    assert tech.cumulative == (485, 550, 700, 850, 1000)
    science = next(r for r in tech.rows if r.department == "区科技局")
    assert science.new == (21, 23, 40, 38, 35)
    hnte = next(t for t in policy.target_tables if t.measure == "hnte")
    assert hnte.baseline == 49 and hnte.new_totals == (11, 10, 10, 10, 10)
    rows = [t for t in policy.all_targets() if t.department == "正阳工业园区管委会"]
    assert {(t.measure, t.year, t.value) for t in rows} >= {("tech-sme", 2025, 40), ("hnte", 2023, 2)}
    totals = {(t.measure, t.year): t.value for t in policy.all_targets() if t.department is None}
    assert totals["tech-sme", 2024] == 550 and totals["hnte", 2026] == 90


def _broken(tmp_path: Path, old: str, new: str, *, count: int = 1) -> Path:
    text = (POLICIES / "yubei-2024.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "yubei-2024.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def test_bad_decimal_is_refused_naming_field_and_reason(tmp_path: Path) -> None:
    """A non-numeric amount is refused as `rules[1].amount: Input should be a valid decimal`."""
    path = _broken(tmp_path, "amount = 100000", 'amount = "lots"')
    with pytest.raises(InvalidInput) as caught:
        load_policy(path)
    assert str(caught.value) == (
        "policy file yubei-2024.toml: rules[1].amount: Input should be a valid decimal"
    )


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    """A misspelt key is refused naming it: extra inputs are not permitted."""
    path = _broken(tmp_path, "amount = 100000", "amout = 100000")
    with pytest.raises(InvalidInput, match=r"rules\[1\]\.amout: Extra inputs are not permitted"):
        load_policy(path)


def test_missing_rule_id_is_refused(tmp_path: Path) -> None:
    """A rule without its catalogue id is refused: `rules[0].id: Field required`."""
    path = _broken(tmp_path, 'id = "YB-3"\n', "")
    with pytest.raises(InvalidInput, match=r"yubei-2024.toml: rules\[0\]\.id: Field required"):
        load_policy(path)


def test_cross_reference_errors_are_refused(tmp_path: Path) -> None:
    """A duplicate rule id or an unknown reading is refused in one line."""
    path = _broken(tmp_path, 'id = "YB-5b"', 'id = "YB-5a"')
    with pytest.raises(InvalidInput, match="duplicate rule id: YB-5a"):
        load_policy(path)
    path = _broken(tmp_path, 'readings = ["growth-averaging"]', 'readings = ["growth-avg"]')
    with pytest.raises(InvalidInput, match="unknown reading 'growth-avg'"):
        load_policy(path)


def test_annex_table_that_does_not_add_up_is_refused() -> None:
    """A mistyped annex cell no longer matches the 合计 row and is refused."""
    text = (POLICIES / "qianjiang-2023.toml").read_text(encoding="utf-8")
    broken = text.replace("new = [21, 23, 40, 38, 35]", "new = [21, 23, 41, 38, 35]")
    with pytest.raises(InvalidInput, match="2025 departments add to 151, not 150"):
        parse_policy(broken, "qianjiang-2023.toml")


def test_toml_syntax_error_and_unknown_key_are_one_line(tmp_path: Path) -> None:
    """Broken TOML and an unknown built-in key are refused with a single line."""
    path = tmp_path / "x.toml"
    path.write_text("key = ", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_policy(path)
    assert "\n" not in str(caught.value) and "not valid TOML" in str(caught.value)
    with pytest.raises(InvalidInput, match="unknown policy 'nowhere-2030'"):
        load_builtin("nowhere-2030")


def test_money_is_never_float() -> None:
    """A TOML float amount is read as an exact Decimal (parse_float=Decimal)."""
    text = (POLICIES / "yubei-2024.toml").read_text(encoding="utf-8")
    policy = parse_policy(text.replace("amount = 100000", "amount = 100000.10", 1), "t.toml")
    assert policy.rule("YB-5a").amount == Decimal("100000.10")


def test_every_rule_id_is_tested() -> None:
    """Each catalogue rule id appears in the rule tests of its document."""
    for key, rules in CATALOGUE.items():
        text = (HERE / f"test_rules_{key.split('-')[0]}.py").read_text(encoding="utf-8")
        ids = set(re.findall(r"[A-Z]{2}-\d+[a-z]?", text))
        assert set(rules) <= ids, set(rules) - ids
