"""The per-track fold: periods, valid_until and validity on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import reference
from domain.errors import IllegalTransition
from domain.titles import ListingState, TitleFold, TitleState

TITLE_TRACKS = [t for t, spec in reference.tracks().items() if spec.kind == "qualification"]


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


TITLE_ACTIONS = reference.actions_for("qualification")
# Mostly the title's own actions, so histories go deep; any other action, or none known, too.
ANY_ACTION = st.one_of(
    st.sampled_from(TITLE_ACTIONS), st.sampled_from([*reference.actions(), "no-such-action"])
)


@settings(max_examples=300)
@given(
    track=st.sampled_from(TITLE_TRACKS),
    start=st.dates(date(2015, 1, 1), date(2030, 12, 31)),
    # days after the step before: mostly forward (past a validity too), sometimes back in time
    steps=st.lists(st.tuples(ANY_ACTION, st.integers(-200, 1500)), max_size=25),
)
def test_a_title_fold_takes_every_step_as_advance_does(
    track: str, start: date, steps: list[tuple[str, int]]
) -> None:
    """`TitleFold` (a projection's fold) and `TitleState.advance` (the aggregate's) agree on any
    history, in or out of date order, legal or not: the same title after every step (lapses
    implied by the date included), the same refusals with the same words, and a refused step
    changes nothing."""
    title, fold = TitleState(track), TitleFold(track)
    on = start
    for action, days in steps:
        on += timedelta(days=days)
        try:
            title = title.advance(action, on, system=True)
        except IllegalTransition as refused:
            with pytest.raises(IllegalTransition) as also:
                fold.advance(action, on)
            assert str(also.value) == str(refused)
        else:
            fold.advance(action, on)
        assert fold.result() == title


def test_a_title_fold_certified_again_after_an_unrecorded_lapse() -> None:
    """The lapse is implied the day after valid_until, then the new certification opens a period."""
    fold = TitleFold("srdi-municipal")
    fold.advance("certified", date(2020, 3, 1))
    fold.advance("certified", date(2024, 5, 1))
    expected = TitleState("srdi-municipal").advance("certified", date(2020, 3, 1))
    assert fold.result() == expected.advance("certified", date(2024, 5, 1))
    assert [(p.start, p.ended_on) for p in fold.result().periods] == [
        (date(2020, 3, 1), date(2023, 3, 1)),
        (date(2024, 5, 1), None),
    ]
