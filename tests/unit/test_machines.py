"""Track state machines: every allowed transition, refusals and their messages, diagrams."""

from __future__ import annotations

import re
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transitions import MachineError

from domain import labels, reference
from domain.errors import IllegalTransition
from domain.machines import (
    TrackModel,
    allowed_actions,
    check,
    check_track,
    compiled,
    definition,
    describe,
    mermaid,
    new_machine,
    new_model,
    require_legal,
    restore,
    step_table,
)
from domain.reference import TrackKind

KINDS: list[TrackKind] = ["qualification", "listing", "pool", "designation"]


def declared(kind: TrackKind) -> set[tuple[str, str, str]]:
    """(source, action, dest) straight from the declared table, independent of the Machine."""
    return {
        (str(src), row["trigger"], str(row["dest"]))
        for row in definition(kind).transitions
        for src in row["source"]
    }


ALLOWED = [(kind, *edge) for kind in KINDS for edge in sorted(declared(kind))]
REFUSED = [
    (kind, str(state), action)
    for kind in KINDS
    for state in definition(kind).states
    for action in reference.actions_for(kind)
    if not any(s == state and a == action for s, a, _ in declared(kind))
]


def transitions(table: str) -> set[tuple[str, str, str]]:
    """(state, action, state after) per line of a table written as the specification reads."""
    return {(a, b, c) for a, b, c in (line.split() for line in table.strip().splitlines())}


EXPECTED_QUALIFICATION = transitions(
    """
    none       applied        applied
    revoked    applied        applied
    expired    applied        applied
    none       certified      certified
    applied    certified      certified
    revoked    certified      certified
    expired    certified      certified
    certified  review-passed  certified
    certified  review-failed  revoked
    certified  revoked        revoked
    applied    revoked        revoked
    certified  expired        expired
"""
)
EXPECTED_LISTING = {
    *transitions(
        """
        none         otc-listed   otc-listed
        none         neeq-filed   neeq-filed
        otc-listed   neeq-filed   neeq-filed
        neeq-filed   neeq-listed  neeq-listed
        neeq-listed  neeq-select  neeq-select
"""
    ),
    *{
        (s, "ipo-tutoring", "ipo-tutoring")
        for s in (
            "none",
            "otc-listed",
            "neeq-filed",
            "neeq-listed",
            "neeq-select",
            "tutoring-lapsed",
        )
    },
    *transitions(
        """
        ipo-tutoring  ipo-accepted   ipo-accepted
        ipo-accepted  ipo-listed     ipo-listed
        ipo-accepted  ipo-withdrawn  ipo-tutoring
        ipo-tutoring  expired        tutoring-lapsed
"""
    ),
}


def test_tables_are_the_specified_machines() -> None:
    """The declared tables are exactly the transitions of the specification, no more, no less."""
    assert declared("qualification") == EXPECTED_QUALIFICATION
    assert declared("listing") == EXPECTED_LISTING


def test_lookup_table_is_derived_from_the_machine() -> None:
    """The fast lookup read back from the built Machine equals the declared table."""
    for kind in KINDS:
        table = compiled(kind).table
        assert {(s, a, d) for (s, a), d in table.items()} == declared(kind)
        assert compiled(kind) is compiled(kind)  # built once per process


@pytest.mark.parametrize(("kind", "source", "action", "dest"), ALLOWED)
def test_every_allowed_transition(kind: TrackKind, source: str, action: str, dest: str) -> None:
    """Each declared transition is accepted and leads to its declared state."""
    assert check(kind, source, action, system=True) == dest


@pytest.mark.parametrize(("kind", "state", "action"), REFUSED)
def test_every_undeclared_transition_is_refused(kind: TrackKind, state: str, action: str) -> None:
    """Any (state, action) not in the table raises IllegalTransition listing what is allowed."""
    with pytest.raises(IllegalTransition) as info:
        check(kind, state, action, track="t", system=True)
    message = str(info.value)
    assert message.startswith(f"cannot record t.{action}: ")
    allowed = allowed_actions(kind, state, system=True)
    expected = ", ".join(allowed) if allowed else f"nothing ({state} is final)"
    assert message.endswith(f"allowed now: {expected}")


def test_refusal_message_for_a_revoked_title() -> None:
    """A review on a revoked title says the title is revoked and what may be recorded instead."""
    with pytest.raises(IllegalTransition) as info:
        check_track("srdi-municipal", "revoked", "review-passed")
    assert str(info.value) == (
        "cannot record srdi-municipal.review-passed: the title is revoked; allowed now: applied, certified"
    )


def test_refusal_message_for_the_final_listing_stage() -> None:
    """Nothing can follow a first listing, and the message says the stage is final."""
    with pytest.raises(IllegalTransition, match=r"allowed now: nothing \(ipo-listed is final\)"):
        check_track("listing", "ipo-listed", "ipo-withdrawn")


@pytest.mark.parametrize(("track", "state"), [("hnte", "certified"), ("listing", "ipo-tutoring")])
def test_expired_is_for_the_scheduler_only(track: str, state: str) -> None:
    """Staff cannot record `expired`; the scheduler (system=True) can."""
    with pytest.raises(IllegalTransition, match="recorded by the scheduler only"):
        check_track(track, state, "expired")
    assert check_track(track, state, "expired", system=True) in {"expired", "tutoring-lapsed"}
    assert "expired" not in allowed_actions(reference.track_kind(track), state)


def test_unknown_action_for_the_kind_is_refused() -> None:
    """A listing action on the qualification machine is an IllegalTransition, not a KeyError."""
    with pytest.raises(IllegalTransition, match="'otc-listed' is not a qualification action"):
        check("qualification", "none", "otc-listed")


def test_unknown_stored_state_is_a_bug_not_user_input() -> None:
    """A state outside the Enum means corrupt data: ValueError, not a user-facing refusal."""
    with pytest.raises(ValueError, match="'granted' is not a qualification state"):
        check("qualification", "granted", "applied")


def test_restore_replays_history_without_callbacks() -> None:
    """Replaying recorded actions (including the scheduler's) gives the final state."""
    history = ["applied", "certified", "review-passed", "expired", "certified", "review-failed"]
    assert restore("qualification", history) == "revoked"
    listing = ["otc-listed", "ipo-tutoring", "ipo-accepted", "ipo-withdrawn", "expired"]
    assert restore("listing", listing) == "tutoring-lapsed"
    assert restore("listing", ["ipo-accepted"], start="ipo-tutoring") == "ipo-accepted"
    with pytest.raises(IllegalTransition):
        restore("qualification", ["review-passed"])


def test_new_machine_restores_state_and_enforces_the_table() -> None:
    """A real Machine built at a recorded state fires declared triggers and refuses others."""
    model = new_model("qualification", "certified")
    assert str(model.state) == "certified"
    with pytest.raises(MachineError):
        model.trigger("applied")
    assert str(model.state) == "certified"
    assert model.trigger("review-failed")
    assert model.state is definition("qualification").states["REVOKED"]
    assert not hasattr(model, "to_applied")  # auto_transitions=False
    machine = new_machine("listing", "ipo-accepted")
    assert cast(TrackModel, machine.model).state is definition("listing").states["IPO_ACCEPTED"]
    assert set(machine.get_triggers("IPO_ACCEPTED")) == {"ipo-listed", "ipo-withdrawn"}


def test_reference_data_and_machines_agree() -> None:
    """Machine triggers are the data file's actions, and every state has a Chinese label."""
    for kind in KINDS:
        assert set(compiled(kind).triggers) == set(reference.actions_for(kind))
        for state in definition(kind).states:
            assert labels.label(str(state), "zh", namespace="state", kind=kind) != str(state)


def test_mermaid_draws_every_state_and_transition() -> None:
    """transitions' own mermaid drawing has a block per kind with every declared state and edge."""
    text = mermaid()
    assert text.count("stateDiagram-v2") == len(KINDS)
    for kind in KINDS:
        block = mermaid(kind)
        for state in definition(kind).states:
            assert f'state "{state}" as {state.replace("-", "_")}' in block
        drawn = {
            (source, label.removesuffix(" (system)"), dest)
            for source, dest, labels in re.findall(r"^\s*(\w+) --> (\w+): (.+)$", block, re.M)
            for label in labels.split(" | ")
        }
        expected = {(s.replace("-", "_"), a, d.replace("-", "_")) for s, a, d in declared(kind)}
        assert drawn == expected
        assert f"[*] --> {definition(kind).initial}" in block
    assert "certified --> expired: expired (system)" in mermaid("qualification")


def test_the_record_path_asks_the_machine() -> None:
    """require_legal answers from the Machine's get_triggers: allowed passes, refused says what is allowed."""
    machine = compiled("qualification").machine
    assert "certified" in machine.get_triggers("APPLIED")
    require_legal("qualification", "applied", "certified", track="hnte", system=False)
    with pytest.raises(IllegalTransition, match="allowed now: applied, certified"):
        require_legal("qualification", "none", "review-passed", track="hnte", system=False)
    with pytest.raises(IllegalTransition, match="scheduler only"):
        require_legal("qualification", "certified", "expired", track="hnte", system=False)
    require_legal("qualification", "certified", "expired", track="hnte", system=True)


def test_describe_covers_every_transition() -> None:
    """describe() rows, expanded over their sources, are exactly the declared transitions."""
    rows = describe("zh")
    for kind in KINDS:
        expanded = {
            (src, row["action"], row["to"]) for row in rows if row["kind"] == kind for src in row["from"]
        }
        assert expanded == declared(kind)
    expired = next(r for r in rows if r["kind"] == "listing" and r["action"] == "expired")
    assert expired["system_only"] is True and expired["label"] == "到期失效"


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_random_sequences_stay_in_the_enum_and_refusals_change_nothing(
    kind: TrackKind, data: st.DataObject
) -> None:
    """On a real Machine, any action sequence keeps a valid state; refusals leave it unchanged,
    and `check` agrees with the Machine at every step."""
    enum = definition(kind).states
    actions = reference.actions_for(kind)
    sequence = data.draw(st.lists(st.sampled_from(actions), max_size=30))
    model = new_model(kind)
    for action in sequence:
        before = model.state
        try:
            expected: str | None = check(kind, str(before), action, system=True)
        except IllegalTransition:
            expected = None
        try:
            model.trigger(action)
        except MachineError:
            assert expected is None
            assert model.state is before
        else:
            assert model.state == expected
        assert model.state in set(enum)


@pytest.mark.parametrize("track", list(reference.tracks()))
def test_the_folds_step_table_is_the_machine_on_every_state_and_action(track: str) -> None:
    """`step_table` (the fold's one-lookup fast path) accepts exactly what a real Machine of the
    track's kind fires, from every state and for every action of every kind, and leads where the
    Machine leads; what it misses, `check_track` refuses."""
    kind = reference.track_kind(track)
    table = step_table(track)
    fired_steps = 0
    for state in definition(kind).states:
        for action in reference.actions():
            model = new_model(kind, str(state))
            try:
                fired = model.trigger(action)
            except (MachineError, AttributeError):  # refused, or not an action of this Machine
                fired = False
            if fired:
                fired_steps += 1
                assert table.get((str(state), action)) == str(model.state)
                assert check_track(track, str(state), action, system=True) == str(model.state)
            else:
                assert (str(state), action) not in table
                with pytest.raises(IllegalTransition):
                    check_track(track, str(state), action, system=True)
    assert fired_steps == len(table) > 0
    assert step_table(track) is table  # read once per track and process


def test_the_step_table_refuses_an_unknown_track() -> None:
    """An unknown track raises KeyError, as `reference.track_kind` does (the fold skips the step)."""
    with pytest.raises(KeyError):
        step_table("no-such-track")
