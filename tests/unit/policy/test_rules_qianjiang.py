"""Qianjiang 2023 has no money rules in the catalogue: it must never create an entitlement."""

from __future__ import annotations

from datetime import date

from domain.policy.decisions import PolicyActivated
from domain.policy.engine import evaluate
from domain.policy.model import load_builtin
from tests.unit.policy import builders as given

QJ = load_builtin("qianjiang-2023")


def test_qianjiang_creates_no_entitlement() -> None:
    """Certifications and listings of a Qianjiang enterprise create nothing under its plan."""
    hnte = given.title("hnte", date(2023, 9, 1))
    ipo = given.listing("ipo-listed", date(2024, 9, 1))
    f = given.facts("qianjiang", titles=[hnte], listings=[ipo])
    assert evaluate(QJ, f, given.reached(hnte)) == []
    assert evaluate(QJ, f, PolicyActivated("qianjiang-2023", date(2024, 1, 1), "act")) == []


def test_qianjiang_in_force_2023_to_2027() -> None:
    """The plan runs from 2023-05-15 to the end of 2027."""
    assert QJ.reaches(date(2023, 5, 15)) and QJ.reaches(date(2027, 12, 31))
    assert not QJ.reaches(date(2023, 5, 14)) and not QJ.reaches(date(2028, 1, 1))
