"""The projections' enterprise fold: the same titles, skips and JSON text as the plain fold gives."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import reference
from domain.details import DetailsChange, DetailsHistory
from domain.errors import IllegalTransition
from domain.memberships import MembershipState
from domain.titles import ListingState, TitleState
from projections import fold as fold_module
from projections.fold import Counted, EnterpriseFold, Folded, StepInForce, fold_milestones
from projections.framework import _ISO_KEPT, _iso

TRACKS = [*reference.tracks(), "no-such-track"]


class Recorder:
    """Stands for the module's logger: keeps each warning's event and fields."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def step_by_step(milestones: list[StepInForce], log: Recorder) -> Folded:
    """The fold as written first: each step through the frozen states' `advance`, one at a time."""
    titles: dict[str, TitleState] = {}
    memberships: dict[str, MembershipState] = {}
    listing = ListingState()
    for m in milestones:
        try:
            kind = reference.track_kind(m.track)
            if kind == "listing":
                listing = listing.advance(m.action, m.on, system=True)
            elif kind in reference.MEMBERSHIP_KINDS:
                member = memberships.get(m.track) or MembershipState(m.track)
                memberships[m.track] = member.advance(m.action, m.on, system=True)
            else:
                title = titles.get(m.track, TitleState(m.track))
                titles[m.track] = title.advance(m.action, m.on, system=True)
        except (IllegalTransition, KeyError) as error:
            log.warning("milestone skipped in fold", event_id=m.event_id, reason=str(error))
    return Folded(titles, listing, memberships)


@st.composite
def histories(draw: st.DrawFn) -> list[StepInForce]:
    """Milestones of a few tracks (an unknown one too), mostly their own actions, dates mostly forward."""
    tracks = draw(st.lists(st.sampled_from(TRACKS), min_size=1, max_size=4, unique=True))
    on = draw(st.dates(date(2015, 1, 1), date(2030, 12, 31)))
    steps: list[StepInForce] = []
    for n in range(draw(st.integers(0, 30))):
        track = draw(st.sampled_from(tracks))
        own = reference.actions_for(reference.track_kind(track)) if track in reference.tracks() else ()
        action = draw(st.sampled_from([*own, *own, *reference.actions()]))
        on += timedelta(days=draw(st.integers(-100, 1500)))
        steps.append(StepInForce(f"e{n}", track, action, on))
    return steps


@settings(max_examples=200)
@given(milestones=histories())
def test_the_fold_is_the_step_by_step_fold(milestones: list[StepInForce]) -> None:
    """Same titles (in the same order), listing and memberships, and the same skipped steps logged
    with the same reasons, whatever the history."""
    expected_log, log = Recorder(), Recorder()
    expected = step_by_step(milestones, expected_log)
    original = fold_module.log
    fold_module.log = log  # type: ignore[assignment]
    try:
        folded = fold_milestones(milestones)
    finally:
        fold_module.log = original
    assert folded == expected
    assert list(folded.titles) == list(expected.titles)
    assert log.lines == expected_log.lines


AWKWARD = '\x00\x01\x1f"\\/\b\f\n\r\t\x7f\x80\u2028\u2029重庆 \U0001f600'


def plain_json(fold: EnterpriseFold) -> str:
    """The fold's text as json.dumps writes it (what every stored fold was written with)."""
    doc = {
        "name": fold.name,
        "district": fold.district,
        "department": fold.department,
        "size": fold.size,
        "m": [(m.event_id, m.track, m.action, m.on.isoformat()) for m in fold.milestones],
        "d": [(c.event_id, c.on.isoformat(), c.fields) for c in fold.details.changes],
        "c": [(c.event_id, c.subject, c.on.isoformat()) for c in fold.counted],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def a_fold(text: str) -> EnterpriseFold:
    day = date(2021, 2, 3)
    return EnterpriseFold(
        "91500000MA5U000000",
        name=text,
        district=None,
        department=text[::-1],
        size="small",
        milestones=[StepInForce(text, "hnte", "certified", date(1, 1, 1)), StepInForce("e", "t", "a", day)],
        details=DetailsHistory((DetailsChange(text, day, (("name", text), ("industry", "x")), 0),)),
        counted=[Counted("f", text, date(9999, 12, 31))],
    )


@pytest.mark.parametrize("text", ["", "plain", AWKWARD, "lone \ud800 surrogate"])
def test_the_fold_text_is_what_json_dumps_writes(text: str) -> None:
    """Control characters, quotes, non-ASCII kept as it is, extreme dates; a lone surrogate, which
    orjson refuses, through json."""
    fold = a_fold(text)
    assert fold.dumps() == plain_json(fold)
    assert EnterpriseFold.loads(fold.uscc, fold.dumps()).dumps() == fold.dumps()


@given(text=st.text())
def test_any_text_is_written_as_json_dumps_writes_it(text: str) -> None:
    fold = a_fold(text)
    assert fold.dumps() == plain_json(fold)


def test_the_rows_dates_are_iso_text_however_many_are_met() -> None:
    """SQLite rows carry dates as ISO text (None stays None), also once the kept texts start again."""
    assert _iso(None) is None
    first = date(2000, 1, 1)
    for n in range(_ISO_KEPT + 10):
        day = first + timedelta(days=n)
        assert _iso(day) == day.isoformat()
    assert _iso(first) == "2000-01-01"
    assert _iso(None) is None
