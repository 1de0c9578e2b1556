"""Reference data: district/track/action parsing, labels and validity periods from tracks.toml."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from domain import reference
from domain.errors import InvalidInput
from domain.labels import label
from domain.reference import (
    TracksFile,
    parse_action,
    parse_district,
    parse_track,
    parse_track_action,
    valid_until,
)

DISTRICTS = {
    "rongchang": ("荣昌", "荣昌区"),
    "liangjiang": ("两江", "两江新区"),
    "jiangjin": ("江津", "江津区"),
    "yubei": ("渝北", "渝北区"),
    "qianjiang": ("黔江", "黔江区"),
}


@pytest.mark.parametrize("key", list(DISTRICTS))
def test_district_key_short_and_full_names_parse(key: str) -> None:
    """A district is named by its key (any case, padded) or its short or full Chinese name."""
    short, full = DISTRICTS[key]
    for text in (key, key.upper(), f"  {key} ", short, full, f" {full}\t"):
        assert parse_district(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [("重庆市渝北区", "yubei"), ("重庆两江新区", "liangjiang"), ("重庆市 黔江区", "qianjiang")],
)
def test_district_names_may_lead_with_the_city(text: str, key: str) -> None:
    """重庆市渝北区 as written on a letterhead names the district 渝北."""
    assert parse_district(text) == key


def test_unknown_district_names_input_and_lists_keys() -> None:
    """An unknown district is refused in one line naming it and every valid key."""
    with pytest.raises(InvalidInput) as info:
        parse_district("巴南区")
    message = str(info.value)
    assert "'巴南区'" in message and "\n" not in message
    assert all(key in message for key in DISTRICTS)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tech-sme", "tech-sme"),
        ("科技型中小企业", "tech-sme"),
        ("科技型企业", "tech-sme"),
        ("创新型中小企业", "innovative-sme"),
        ("HNTE", "hnte"),
        ("高新技术企业", "hnte"),
        ("高新", "hnte"),
        ("市级专精特新", "srdi-municipal"),
        ("专精特新", "srdi-municipal"),
        ('市级"专精特新"中小企业', "srdi-municipal"),
        ("市级“专精特新”中小企业", "srdi-municipal"),
        ("小巨人", "little-giant"),
        ("国家级小巨人", "little-giant"),
        ('国家级专精特新"小巨人"企业', "little-giant"),
        ("单项冠军", "champion"),
        ("制造业单项冠军", "champion"),
        ("制造业单项冠军企业", "champion"),
        ("上市", "listing"),
        ("挂牌上市", "listing"),
        ("srdi_municipal", "srdi-municipal"),
    ],
)
def test_track_aliases_parse(text: str, key: str) -> None:
    """Track keys and their Chinese names, with or without quotes, resolve to the key."""
    assert parse_track(text) == key


def test_unknown_track_lists_the_valid_keys() -> None:
    """An unknown track is refused naming it and listing every track key."""
    with pytest.raises(InvalidInput, match=r"unknown track 'giant'; use one of: tech-sme, .*listing"):
        parse_track("giant")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("市级专精特新.certified", ("srdi-municipal", "certified")),
        ("srdi-municipal.认定", ("srdi-municipal", "certified")),
        ("小巨人.复核通过", ("little-giant", "review-passed")),
        ("高新技术企业.复核未通过", ("hnte", "review-failed")),
        ("hnte.撤销", ("hnte", "revoked")),
        ("innovative-sme.申报", ("innovative-sme", "applied")),
        ("listing.区域股权市场挂牌", ("listing", "otc-listed")),
        ("上市.北交所", ("listing", "neeq-select")),
        ("listing.撤回", ("listing", "ipo-withdrawn")),
        ("挂牌上市.首发上市", ("listing", "ipo-listed")),
        (" Listing.IPO-Tutoring ", ("listing", "ipo-tutoring")),
        ("champion．certified", ("champion", "certified")),  # full-width dot
    ],
)
def test_track_action_parses_english_and_chinese(text: str, expected: tuple[str, str]) -> None:
    """TRACK.ACTION accepts either part in English or Chinese."""
    assert parse_track_action(text) == expected


def test_action_of_the_wrong_kind_is_refused_with_valid_actions() -> None:
    """A listing action on a title track (and vice versa) is refused listing what is valid."""
    with pytest.raises(InvalidInput, match="hnte has no action 'otc-listed'") as info:
        parse_track_action("hnte.otc-listed")
    assert "use one of: applied, certified, review-passed, review-failed, revoked" in str(info.value)
    with pytest.raises(InvalidInput, match=r"listing has no action 'certified'.*otc-listed"):
        parse_track_action("listing.认定")


@pytest.mark.parametrize("text", ["hnte", "hnte.", ".certified", ""])
def test_missing_dot_or_part_explains_the_format(text: str) -> None:
    """Input without both parts is refused with an example of TRACK.ACTION."""
    with pytest.raises(InvalidInput, match=r"expected TRACK\.ACTION such as"):
        parse_track_action(text)


def test_unknown_action_and_track_are_named() -> None:
    """An unknown action or track in TRACK.ACTION is named in the message."""
    with pytest.raises(InvalidInput, match="unknown action 'granted' for hnte; use one of"):
        parse_track_action("hnte.granted")
    with pytest.raises(InvalidInput, match="unknown track 'foo'"):
        parse_track_action("foo.certified")


def test_expired_parses_but_is_system_only() -> None:
    """`expired` is a known action for both kinds, flagged for the scheduler only."""
    assert parse_action("到期失效", "hnte") == "expired"
    assert parse_action("expired", "listing") == "expired"
    assert reference.is_system_only("expired")
    assert not reference.is_system_only("certified")
    assert "expired" not in reference.actions_for("listing", include_system=False)


def test_labels_in_both_languages() -> None:
    """English labels are the keys; Chinese labels come from the data, by namespace and kind."""
    assert label("srdi-municipal", "en") == "srdi-municipal"
    assert label("srdi-municipal", "zh") == "市级专精特新"
    assert label("little-giant", "zh", full=True) == '国家级专精特新"小巨人"企业'
    assert label("yubei", "zh") == "渝北"
    assert label("liangjiang", "zh", full=True) == "两江新区"
    assert label("certified", "zh") == "认定"
    assert label("certified", "zh", namespace="state") == "已认定"
    assert label("none", "zh", namespace="state", kind="listing") == "未挂牌"
    assert label("tutoring-lapsed", "zh") == "辅导验收失效"
    assert label("no-such-key", "zh") == "no-such-key"


def test_unknown_language_is_refused() -> None:
    """Only en and zh exist; anything else is a user error, not a silent fallback."""
    with pytest.raises(InvalidInput, match="unknown language 'fr'; use en or zh"):
        label("hnte", "fr")


@pytest.mark.parametrize(
    ("start", "track", "end"),
    [
        (date(2023, 3, 1), "srdi-municipal", date(2026, 2, 28)),
        (date(2024, 2, 29), "little-giant", date(2027, 2, 28)),
        (date(2024, 2, 29), "tech-sme", date(2025, 2, 28)),
        (date(2023, 1, 1), "hnte", date(2025, 12, 31)),
        (date(2023, 7, 15), "科技型中小企业", date(2024, 7, 14)),
        (date(2023, 3, 1), "champion", date(2026, 2, 28)),
    ],
)
def test_valid_until_is_the_day_before_the_anniversary(start: date, track: str, end: date) -> None:
    """A title is valid through start + N years − 1 day; 29 Feb rolls to 1 Mar first."""
    assert valid_until(start, track) == end


def test_validity_periods_come_from_the_data_file() -> None:
    """tech-sme is yearly, every other qualification 3 years; listing, pools and designations none."""
    periods = {key: spec.validity_years for key, spec in reference.tracks().items()}
    assert periods == {
        "tech-sme": 1,
        "innovative-sme": 3,
        "hnte": 3,
        "srdi-municipal": 3,
        "little-giant": 3,
        "champion": 3,
        "listing": None,
        "cultivation-pool": None,
        "listing-reserve": None,
        "hnte-pool": None,
        "digital-workshop": None,
        "smart-factory": None,
        "green-factory": None,
        "benchmark": None,
    }
    with pytest.raises(InvalidInput, match="listing has no validity period"):
        valid_until(date(2024, 1, 1), "listing")


def _raw() -> dict[str, Any]:
    text = resources.files("domain").joinpath("data", "tracks.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_data_file_rejects_an_alias_naming_two_tracks() -> None:
    """An alias shared by two tracks would make parsing guess, so loading fails."""
    raw = _raw()
    raw["tracks"]["hnte"]["aliases"].append("小巨人")
    with pytest.raises(ValidationError, match="names both"):
        TracksFile.model_validate(raw)


def test_data_file_requires_a_period_for_titles() -> None:
    """A qualification track without validity_years is a data error caught on load."""
    raw = _raw()
    del raw["tracks"]["hnte"]["validity_years"]
    with pytest.raises(ValidationError, match="needs validity_years"):
        TracksFile.model_validate(raw)


def test_data_file_refuses_a_machine_state_without_a_label() -> None:
    """A transition into a state the kind does not label is a data error caught on load."""
    raw = _raw()
    raw["machines"]["pool"]["transitions"][1]["to"] = "gone"
    with pytest.raises(ValidationError, match=r"machines.pool: states \['gone'\] have no label"):
        TracksFile.model_validate(raw)


def test_data_file_refuses_a_machine_missing_an_action_of_its_kind() -> None:
    """Each machine fires exactly the actions whose `kinds` name it: one dropped is refused."""
    raw = _raw()
    raw["machines"]["designation"]["transitions"].pop()
    with pytest.raises(ValidationError, match=r"machines\.designation: actions"):
        TracksFile.model_validate(raw)
