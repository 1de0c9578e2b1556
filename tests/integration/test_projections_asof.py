"""As of a business date and as recorded: views before, on and after each milestone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from domain.policy.targets import Target
from events.sql_store import SqlEventStore
from projections.calendar import CALENDAR_VIEWS, read_calendar
from projections.feed import catch_up, rebuild, view
from projections.framework import Cutoff
from projections.targets import actual
from tests.integration.projections_support import (
    append,
    dump_engine,
    milestone,
    registered,
    retraction,
    status_or_none,
    uscc,
)

CODE = uscc(7)
# (track, action, date): the enterprise's whole history, registered after the fact (taken over).
MILESTONES = [
    ("srdi-municipal", "certified", date(2023, 3, 1)),
    ("listing", "neeq-filed", date(2023, 9, 1)),
    ("listing", "neeq-listed", date(2024, 5, 1)),
    ("srdi-municipal", "review-passed", date(2026, 2, 1)),
    ("srdi-municipal", "revoked", date(2026, 8, 1)),
]
MUNICIPAL_STOCK = Target(
    measure="srdi-municipal", label_zh="x", year=2030, value=1, article="t", source_zh="t"
)


@pytest.fixture
def history(engine: Engine) -> SqlEventStore:
    store = SqlEventStore(engine)
    events = [milestone(CODE, t, a, on) for t, a, on in MILESTONES]
    append(store, CODE, registered(CODE, date(2025, 1, 1), "yubei"), *events)
    return store


def _expected(day: date) -> dict[str, object]:
    """What the status must say on ``day``, worked out by hand from MILESTONES."""
    titles: dict[str, object] = {}
    if day >= date(2023, 3, 1):
        titles["srdi-municipal"] = {
            "state": "certified",
            "certified_on": "2023-03-01",
            "valid_until": "2026-02-28",
        }
    if day >= date(2026, 2, 1):
        titles["srdi-municipal"] = {
            "state": "certified",
            "certified_on": "2023-03-01",
            "valid_until": "2029-01-31",
        }
    if day >= date(2026, 8, 1):
        titles["srdi-municipal"] = {
            "state": "revoked",
            "certified_on": "2023-03-01",
            "valid_until": "2029-01-31",
        }
    listing: dict[str, object] = {"stage": None, "since": None}
    if day >= date(2023, 9, 1):
        listing = {"stage": "neeq-filed", "since": "2023-09-01"}
    if day >= date(2024, 5, 1):
        listing = {"stage": "neeq-listed", "since": "2024-05-01"}
    return {"titles": titles, "listing": listing}


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["day-before", "on-the-day", "day-after"])
@pytest.mark.parametrize("when", [on for _, _, on in MILESTONES])
def test_status_as_of_before_on_and_after_each_milestone(
    engine: Engine, history: SqlEventStore, when: date, offset: int
) -> None:
    """status --as-of shows exactly the milestones dated on or before the day (registration always)."""
    day = when + timedelta(days=offset)
    view_ = status_or_none(engine, CODE, as_of=day)
    assert view_ is not None and view_.district == "yubei"
    assert {"titles": view_.titles, "listing": view_.listing} == _expected(day)


@pytest.mark.parametrize("day", [date(2023, 2, 28), date(2023, 3, 1), date(2026, 7, 31), date(2026, 8, 1)])
def test_targets_stock_as_of_each_milestone(engine: Engine, history: SqlEventStore, day: date) -> None:
    """The municipal SRDI stock counts the title from its certification to its revocation, not after."""
    catch_up(engine)
    with engine.connect() as conn:
        count = actual(conn, "yubei", MUNICIPAL_STOCK, day)
    assert count == (1 if date(2023, 3, 1) <= day < date(2026, 8, 1) else 0)


def test_a_retraction_applies_to_every_business_date(engine: Engine, history: SqlEventStore) -> None:
    """A milestone retracted later (an error) never happened, even as of a day before the retraction."""
    certified = history.read_stream(f"enterprise-{CODE}")[1]
    append(history, CODE, retraction(CODE, certified.event_id, date(2026, 12, 1)))
    status = status_or_none(engine, CODE, as_of=date(2024, 1, 1))
    assert status is not None and status.titles == {}


def test_recorded_before_shows_what_was_known_then(engine: Engine, history: SqlEventStore) -> None:
    """Before the retraction was recorded the log knew the certification; after it, it did not."""
    before = datetime.now(UTC)
    certified = history.read_stream(f"enterprise-{CODE}")[1]
    append(history, CODE, retraction(CODE, certified.event_id, date(2026, 12, 1)))
    known_then = status_or_none(engine, CODE, as_of=date(2024, 1, 1), recorded_before=before)
    assert known_then is not None and known_then.titles["srdi-municipal"]["state"] == "certified"
    assert status_or_none(engine, CODE, recorded_before=datetime(2000, 1, 1, tzinfo=UTC)) is None
    with view(engine, ["targets"], Cutoff(recorded_before=before)) as conn:
        assert actual(conn, "yubei", MUNICIPAL_STOCK, date(2024, 1, 1)) == 1
    with view(engine, ["targets"]) as conn:
        assert actual(conn, "yubei", MUNICIPAL_STOCK, date(2024, 1, 1)) == 0


def test_replay_as_of_leaves_the_live_views_current(engine: Engine, history: SqlEventStore) -> None:
    """replay --as-of reports a snapshot; the live tables stay at the end of the log."""
    catch_up(engine)
    live = dump_engine(engine)
    result = rebuild(engine, as_of=date(2023, 12, 31))
    assert result.events == 3  # registration + two milestones dated by then
    assert result.projections["status"] == 2  # the enterprise and its one title
    assert dump_engine(engine) == live


def test_calendar_lists_review_and_tutoring_deadlines(engine: Engine) -> None:
    """A certified title is due by valid_until; IPO tutoring lapses 12 months after it began."""
    store = SqlEventStore(engine)
    append(
        store,
        CODE,
        registered(CODE, date(2024, 1, 1), "yubei"),
        milestone(CODE, "hnte", "certified", date(2024, 3, 1)),
        milestone(CODE, "listing", "ipo-tutoring", date(2025, 6, 15)),
        milestone(CODE, "tech-sme", "applied", date(2025, 1, 1)),
    )
    with view(engine, CALENDAR_VIEWS) as conn:
        entries = read_calendar(conn, date(2026, 1, 1))
        soon = read_calendar(conn, date(2026, 1, 1), within=200)
    assert [(e.track, e.kind, e.valid_until, e.days_left) for e in entries] == [
        ("listing", "tutoring-lapses", date(2026, 6, 14), 164),
        ("hnte", "review-due", date(2027, 2, 28), 423),
    ]
    assert [e.track for e in soon] == ["listing"]
