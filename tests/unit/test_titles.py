"""The per-track fold: periods, valid_until and validity on a given day."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import IllegalTransition
from domain.titles import ListingState, TitleState


def certified(track: str = "srdi-municipal", on: date = date(2023, 3, 1)) -> TitleState:
    return TitleState(track).advance("certified", on, system=False)


def test_certification_sets_three_year_validity() -> None:
    """A certification on 2023-03-01 is valid until 2026-02-28 inclusive, not after."""
    title = certified()
    assert title.as_json() == {
        "state": "certified",
        "certified_on": "2023-03-01",
        "valid_until": "2026-02-28",
    }
    assert title.holds_valid(date(2026, 2, 28))
    assert not title.holds_valid(date(2026, 3, 1))
    assert not title.holds_valid(date(2023, 2, 28))


def test_tech_sme_is_valid_one_year() -> None:
    """tech-sme is evaluated yearly: valid for one year less a day."""
    assert certified("tech-sme", date(2024, 5, 10)).valid_until == date(2025, 5, 9)


def test_review_passed_starts_a_new_period_and_keeps_certified_on() -> None:
    """A passed review opens a new period from the review date; certified_on is unchanged."""
    title = certified().advance("review-passed", date(2026, 1, 15))
    assert title.certified_on == date(2023, 3, 1)
    assert title.valid_until == date(2029, 1, 14)
    assert title.holds_valid(date(2027, 6, 1))
    assert [p.start for p in title.periods] == [date(2023, 3, 1), date(2026, 1, 15)]


def test_revocation_ends_validity_on_its_date() -> None:
    """A revoked title is valid the day before the revocation and not on it."""
    title = certified().advance("revoked", date(2024, 6, 1))
    assert title.state == "revoked"
    assert title.holds_valid(date(2024, 5, 31))
    assert not title.holds_valid(date(2024, 6, 1))


def test_failed_review_revokes() -> None:
    """review-failed moves the title to revoked and ends its period."""
    title = certified().advance("review-failed", date(2026, 2, 1))
    assert title.state == "revoked"
    assert not title.holds_valid(date(2026, 2, 1))


def test_staff_cannot_record_expiry_but_the_system_can() -> None:
    """expired is refused for staff and accepted for the scheduler."""
    with pytest.raises(IllegalTransition):
        certified().advance("expired", date(2026, 3, 1), system=False)
    assert certified().advance("expired", date(2026, 3, 1)).state == "expired"


def test_listing_keeps_first_dates_and_stage() -> None:
    """The listing fold remembers each stage's first date and shows the current stage."""
    listing = (
        ListingState()
        .advance("ipo-tutoring", date(2024, 1, 5))
        .advance("ipo-accepted", date(2024, 6, 1))
        .advance("ipo-withdrawn", date(2024, 9, 1))
    )
    assert listing.as_json() == {"stage": "ipo-tutoring", "since": "2024-09-01"}
    assert listing.first("ipo-accepted") == date(2024, 6, 1)
    assert ListingState().as_json() == {"stage": None, "since": None}
