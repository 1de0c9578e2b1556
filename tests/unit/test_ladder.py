"""Ladder prerequisites: versioned data, the 2026-04-01 switch, messages and overrides."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import PrerequisiteMissing
from domain.ladder import (
    LadderFile,
    missing_prerequisite,
    require_prerequisite,
    requirements_for,
    version_on,
)

DAY_BEFORE = date(2026, 3, 31)
SWITCH = date(2026, 4, 1)


def holding(*tracks: str) -> Any:
    """A holds_valid callable for an enterprise holding exactly these valid titles."""
    return lambda track, on: track in tracks


def test_version_switches_on_2026_04_01() -> None:
    """2022 rules apply up to 2026-03-31 and 2026 rules from 2026-04-01."""
    assert version_on(date(1990, 1, 1)).key == "2022"  # type: ignore[union-attr]
    assert version_on(DAY_BEFORE).key == "2022"  # type: ignore[union-attr]
    assert version_on(SWITCH).key == "2026"  # type: ignore[union-attr]
    assert version_on(date(1899, 12, 31)) is None


def test_municipal_requirement_before_and_on_the_switch() -> None:
    """srdi-municipal needs innovative-sme before the switch, innovative-sme or tech-sme on it."""
    before = requirements_for("srdi-municipal", "certified", DAY_BEFORE)
    on = requirements_for("srdi-municipal", "applied", SWITCH)
    assert before is not None and before.version == "2022"
    assert before.any_of == ("innovative-sme",)
    assert on is not None and on.version == "2026"
    assert on.any_of == ("innovative-sme", "tech-sme")
    assert on.description == (
        "srdi-municipal applied/certified needs a valid innovative-sme or tech-sme title (ladder rules 2026)"
    )


@pytest.mark.parametrize("on", [DAY_BEFORE, SWITCH])
def test_little_giant_needs_municipal_under_both_versions(on: date) -> None:
    """little-giant requires a valid srdi-municipal title before and after the switch."""
    req = requirements_for("little-giant", "certified", on)
    assert req is not None and req.any_of == ("srdi-municipal",)
    assert missing_prerequisite("little-giant", "certified", on, holding("srdi-municipal")) is None
    assert missing_prerequisite("little-giant", "certified", on, holding("innovative-sme"))


@pytest.mark.parametrize(
    ("track", "action"),
    [
        ("srdi-municipal", "review-passed"),
        ("srdi-municipal", "revoked"),
        ("hnte", "certified"),
        ("innovative-sme", "applied"),
        ("listing", "otc-listed"),
    ],
)
def test_other_actions_have_no_prerequisite(track: str, action: str) -> None:
    """Only applied/certified on the upper rungs are gated; everything else passes."""
    assert requirements_for(track, action, SWITCH) is None
    assert missing_prerequisite(track, action, SWITCH, holding()) is None


def test_missing_message_names_track_date_version_and_fix() -> None:
    """The reason is one line naming what is needed, on which date, under which rules."""
    reason = missing_prerequisite("srdi-municipal", "certified", date(2023, 3, 1), holding())
    assert reason == (
        "srdi-municipal.certified needs a valid innovative-sme title on 2023-03-01 "
        "(ladder rules 2022); record it first or use --override-prerequisite --reason TEXT"
    )


def test_tech_sme_suffices_only_from_the_switch() -> None:
    """A tech-sme holder is refused the day before the switch and accepted on the day."""
    tech = holding("tech-sme")
    assert missing_prerequisite("srdi-municipal", "applied", DAY_BEFORE, tech) is not None
    assert missing_prerequisite("srdi-municipal", "applied", SWITCH, tech) is None
    innovative = holding("innovative-sme")
    assert missing_prerequisite("srdi-municipal", "applied", DAY_BEFORE, innovative) is None
    assert missing_prerequisite("srdi-municipal", "applied", SWITCH, innovative) is None


def test_validity_is_asked_on_the_action_date() -> None:
    """holds_valid is called with the date of the action, so expired titles do not count."""
    calls: list[tuple[str, date]] = []

    def holds_valid(track: str, on: date) -> bool:
        calls.append((track, on))
        return False

    missing_prerequisite("srdi-municipal", "certified", SWITCH, holds_valid)
    assert calls == [("innovative-sme", SWITCH), ("tech-sme", SWITCH)]


def test_override_needs_a_reason() -> None:
    """Without a non-blank reason the prerequisite is enforced; with one it is waived and
    the waived rule is returned for the event to record."""
    with pytest.raises(PrerequisiteMissing, match="needs a valid srdi-municipal title"):
        require_prerequisite("little-giant", "certified", SWITCH, holding())
    with pytest.raises(PrerequisiteMissing):
        require_prerequisite("little-giant", "certified", SWITCH, holding(), override_reason=" ")
    waived = require_prerequisite(
        "little-giant", "certified", SWITCH, holding(), override_reason="MIIT list 2026-05"
    )
    assert waived is not None and "ladder rules 2026" in waived
    assert require_prerequisite("little-giant", "certified", SWITCH, holding("srdi-municipal")) is None


def _raw() -> dict[str, Any]:
    text = resources.files("domain").joinpath("data", "ladder.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_data_file_rejects_versions_out_of_order() -> None:
    """Versions must be listed oldest first with strictly increasing dates."""
    raw = _raw()
    raw["versions"].reverse()
    with pytest.raises(ValidationError, match="strictly increasing"):
        LadderFile.model_validate(raw)


def test_data_file_rejects_unknown_tracks_and_self_requirements() -> None:
    """A typo in a track key, or a title requiring itself, fails on load."""
    raw = _raw()
    raw["versions"][0]["requirements"][0]["any_of"] = ["innovative"]
    with pytest.raises(ValidationError, match="'innovative' is not a qualification track"):
        LadderFile.model_validate(raw)
    raw = _raw()
    raw["versions"][0]["requirements"][0]["any_of"] = ["srdi-municipal"]
    with pytest.raises(ValidationError, match="cannot require itself"):
        LadderFile.model_validate(raw)
