"""Hypothesis drives random command sequences through the handlers and finds no illegal state."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import machines, reference
from domain.commands import RecordMilestone, ReportFinancials, Retract
from domain.enterprise import Enterprise
from domain.errors import DomainError
from service_layer.unit_of_work import CommandResult
from tests.bootstrap import TODAY, bootstrap, snapshot, uscc

A = uscc(1)
B = uscc(2, "500112")

TRACKS = list(reference.tracks())
ACTIONS = {kind: reference.actions_for(kind) for kind in ("qualification", "listing", "pool", "designation")}
DAYS = st.integers(min_value=0, max_value=(TODAY - date(2018, 1, 1)).days + 40).map(
    lambda n: date(2018, 1, 1) + timedelta(days=n)
)


@st.composite
def milestones(draw: st.DrawFn) -> tuple[str, str, str, date, bool]:
    uscc = draw(st.sampled_from([A, B]))
    track = draw(st.sampled_from(TRACKS))
    action = draw(st.sampled_from(ACTIONS[reference.track_kind(track)]))
    return uscc, track, action, draw(DAYS), draw(st.booleans())


def _restored(ent: Enterprise, track: str) -> str:
    """The track's milestones replayed through the machine, a lapse implied where time says so.

    A new `applied`/`certified` after the title's validity starts from `expired`, recorded or not.
    """
    state, until = "none", None
    for m in (m for m in ent.milestones if m.track == track):
        if (
            m.action in ("applied", "certified")
            and state == "certified"
            and until is not None
            and until < m.on
        ):
            state = "expired"
        state = machines.restore("qualification", [m.action], start=state)
        if m.action in ("certified", "review-passed"):
            until = reference.valid_until(m.on, track)
    return state


def check_enterprise(ent: Enterprise) -> None:
    """Every invariant a folded enterprise must satisfy."""
    qualification = set(reference.state_keys("qualification"))
    for track, title in ent.titles.items():
        assert title.state in qualification
        dates = [m.on for m in ent.milestones if m.track == track]
        assert dates == sorted(dates), "a track's milestones are in date order"
        assert title.since == dates[-1]
        assert _restored(ent, track) == title.state
        if title.periods:
            last = title.periods[-1]
            assert title.valid_until == reference.valid_until(last.start, track) == last.valid_until
            assert [p.start for p in title.periods] == sorted(p.start for p in title.periods)
        else:
            assert title.valid_until is None and title.certified_on is None
        if title.state == "certified":
            assert title.valid_until is not None and title.certified_on is not None
    for track, member in ent.memberships.items():
        actions = [m.action for m in ent.milestones if m.track == track]
        assert machines.restore(reference.track_kind(track), actions) == member.state
        assert member.holds(TODAY) == (member.state in ("admitted", "certified"))
    assert ent.listing.stage in set(reference.state_keys("listing"))
    listing = [m.action for m in ent.milestones if m.track == "listing"]
    assert machines.restore("listing", listing) == ent.listing.stage
    assert all(m.on <= TODAY for m in ent.milestones), "nothing is dated in the future"
    assert not ent.retracted & {e.event_id for e in ent.effective}


class Lifecycle(RuleBasedStateMachine):
    """Two enterprises; random milestones, reports and retractions, some legal, most not."""

    def __init__(self) -> None:
        super().__init__()
        self.desk = bootstrap()
        self.desk.register(A)
        self.desk.register(B, "liangjiang")
        self.ids: list[str] = [e.event_id for e in self.desk.store.read_all()]
        self.last: CommandResult | None = None
        self.refused = 0

    def _try(self, run: object) -> None:
        before = snapshot(self.desk.store)
        try:
            self.last = run()  # type: ignore[operator]
        except DomainError as error:
            assert "\n" not in str(error)
            assert snapshot(self.desk.store) == before, "a rejected command wrote something"
            self.refused += 1
            self.last = None
            return
        after = snapshot(self.desk.store)
        assert after[: len(before)] == before, "nothing stored is ever changed"
        assert len(after) == len(before) + 1, "one command, one event (no reactor here)"
        self.ids.append(after[-1][0])

    @rule(m=milestones())
    def record(self, m: tuple[str, str, str, date, bool]) -> None:
        uscc, track, action, on, system = m
        command = RecordMilestone(uscc=uscc, track=track, action=action, on=on)
        self._try(lambda: self.desk.run(command, system=system))

    @rule(uscc=st.sampled_from([A, B]), year=st.integers(2015, 2027), revenue=st.integers(0, 10**9))
    def report(self, uscc: str, year: int, revenue: int) -> None:
        self._try(lambda: self.desk.run(ReportFinancials(uscc=uscc, year=year, revenue=revenue)))

    @precondition(lambda self: bool(self.ids))
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from([*self.ids, "unknown-id"]))
        self._try(lambda: self.desk.run(Retract(event_id=target, reason="property test")))

    @invariant()
    def no_illegal_state(self) -> None:
        for who in (A, B):
            stream = self.desk.stream(who)
            ent = Enterprise.load(stream)
            check_enterprise(ent)
            assert Enterprise.load(stream) == ent, "folding again gives the same state"
        if self.last is not None:
            assert self.last.enterprise == self.desk.load(self.last.enterprise.uscc), "evolve == fold"

    @invariant()
    def as_of_views_are_legal(self) -> None:
        stream = self.desk.stream(A)
        for day in (date(2020, 1, 1), date(2023, 6, 30), TODAY):
            view = Enterprise.load(stream, as_of=day)
            assert all(m.on <= day for m in view.milestones)
            check_enterprise(view)


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@settings(max_examples=80, deadline=None)
@given(steps=st.lists(milestones(), min_size=1, max_size=25))
def test_random_sequences_only_accept_what_the_machines_allow(
    steps: list[tuple[str, str, str, date, bool]],
) -> None:
    """An accepted milestone is one the machine allows from the state before, dated in track order."""
    desk = bootstrap()
    desk.register(A)
    desk.register(B)
    for who, track, action, on, system in steps:
        before = desk.load(who)
        title = before.titles.get(track)
        held = before.memberships.get(track) or title
        restarts = action in ("applied", "certified")  # after a lapse, taken from expired (time is state)
        if track == "listing":
            title_state = before.listing.stage
        elif title is not None and restarts:
            title_state = title.state_on(on)
        else:
            title_state = getattr(held, "state", "none")
        try:
            desk.run(RecordMilestone(uscc=who, track=track, action=action, on=on), system=system)
        except DomainError:
            continue
        kind = reference.track_kind(track)
        assert action in machines.allowed_actions(kind, title_state, system=system)
        latest = before.latest_milestone(track)
        assert latest is None or latest.on <= on
        assert on <= TODAY
        if action == "expired":
            assert system


def test_the_state_machine_explores_accepted_paths() -> None:
    """Sanity: legal sequences exist in the search space (the properties are not vacuous)."""
    desk = bootstrap()
    desk.register(A)
    for action, day in zip(["applied", "certified", "review-passed"], itertools.count(1), strict=False):
        desk.record(A, f"hnte.{action}", f"2022-0{day}-01")
    check_enterprise(desk.load(A))
