"""State machines of the tracks: one definition per kind, checked in constant time.

Public API:
    check(kind, current_state, action, *, track=None, system=False) -> new state
    check_track(track, current_state, action, *, system=False) -> new state
    allowed_actions(kind, current_state, *, system=False) -> actions accepted now
    require_legal(kind, current_state, action, *, track=None, system=False) -> asks the Machine
    restore(kind, history, *, start=None) -> state after replaying recorded actions
    new_machine(kind, state=None) -> a fresh transitions.Machine restored to `state`
    new_model(kind, state=None) -> the TrackModel driven by such a fresh Machine
    DEFINITIONS / definition(kind) / compiled(kind)

States are plain strings (the values of QualificationState / ListingStage) so events and
projections store them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache

from transitions import Machine

from domain import reference
from domain.errors import IllegalTransition
from domain.machines import designation, listing, pool, qualification
from domain.machines.core import (
    CompiledMachine,
    MachineDefinition,
    TrackModel,
    build_machine,
    compile_machine,
)
from domain.machines.listing import ListingStage
from domain.machines.qualification import QualificationState
from domain.reference import TrackKind

__all__ = [
    "DEFINITIONS",
    "ListingStage",
    "MachineDefinition",
    "QualificationState",
    "TrackModel",
    "allowed_actions",
    "check",
    "check_track",
    "compiled",
    "definition",
    "new_machine",
    "new_model",
    "require_legal",
    "restore",
]

DEFINITIONS: dict[TrackKind, MachineDefinition] = {
    "qualification": qualification.DEFINITION,
    "listing": listing.DEFINITION,
    "pool": pool.DEFINITION,
    "designation": designation.DEFINITION,
}


def definition(kind: TrackKind) -> MachineDefinition:
    """The declared machine of a kind."""
    return DEFINITIONS[kind]


@cache
def compiled(kind: TrackKind) -> CompiledMachine:
    """The kind's machine, built once per process, with its derived lookup table."""
    return compile_machine(DEFINITIONS[kind])


def _state(machine: CompiledMachine, state: str | StrEnum) -> str:
    """Validate a stored state; an unknown one is corrupt data or a bug, not a user mistake."""
    value = str(state)  # a StrEnum member or its value
    if value not in machine.state_values:
        kind = machine.definition.kind
        expected = ", ".join(sorted(machine.state_values))
        raise ValueError(f"{value!r} is not a {kind} state; expected one of {expected}")
    return value


def _describe(machine: CompiledMachine, state: str) -> str:
    """'the title is revoked' / 'nothing is recorded yet' for refusal messages."""
    if state == machine.definition.initial.value:
        return "nothing is recorded on this track yet"
    return f"{machine.definition.subject} is {state}"


def allowed_actions(kind: TrackKind, current_state: str, *, system: bool = False) -> tuple[str, ...]:
    """The actions that may be recorded now (without `expired` unless `system`)."""
    machine = compiled(kind)
    return machine.allowed(_state(machine, current_state), system=system)


def check(
    kind: TrackKind,
    current_state: str,
    action: str,
    *,
    track: str | None = None,
    system: bool = False,
) -> str:
    """Return the state after `action`, or raise IllegalTransition saying what is allowed now.

    `system=True` is for the scheduler, the only actor that may record `expired`. `track` only
    improves the message (`cannot record srdi-municipal.review-passed: ...`).
    """
    machine = compiled(kind)
    # Accepted path first: a hit in the table implies a valid state (every key is one), so the
    # validation below runs only for a refusal. This runs once per milestone of every fold.
    new_state = machine.table.get((current_state, action))
    if new_state is not None and (system or action not in machine.system_only):
        return new_state
    state = _state(machine, current_state)  # a StrEnum member may hash apart from its value
    if state is not current_state and (system or action not in machine.system_only):
        new_state = machine.table.get((state, action))
        if new_state is not None:
            return new_state
    # Refused: build the message only now, keeping the accepted path a couple of dict lookups.
    what = f"{track}.{action}" if track else action
    allowed = machine.allowed(state, system=system)
    allowed_text = ", ".join(allowed) if allowed else f"nothing ({state} is final)"
    if action not in machine.triggers:
        reason = f"{action!r} is not a {kind} action"
    elif action in machine.system_only and not system:
        reason = f"{action} is recorded by the scheduler only"
    else:
        reason = _describe(machine, state)
    raise IllegalTransition(f"cannot record {what}: {reason}; allowed now: {allowed_text}")


def require_legal(
    kind: TrackKind,
    current_state: str,
    action: str,
    *,
    track: str | None = None,
    system: bool = False,
) -> None:
    """The record path's question, put to the kind's one Machine: may ``action`` fire now?

    ``Machine.get_triggers(state)`` answers (what a model at that state's ``may_<action>()`` would
    say, without building a model per command); staff never fire a scheduler-only action. A refusal
    raises IllegalTransition saying what is allowed now (`check` words it).
    """
    machine = compiled(kind)
    state = _state(machine, current_state)
    fires = action in machine.machine.get_triggers(machine.name_of[state])
    if fires and (system or action not in machine.system_only):
        return
    check(kind, state, action, track=track, system=system)  # raises, naming what is allowed
    raise RuntimeError(f"{kind}: the Machine refuses {action} from {state} but its table accepts it")


def check_track(track: str, current_state: str, action: str, *, system: bool = False) -> str:
    """`check` for a track key, resolving its machine kind from the reference data."""
    return check(reference.track_kind(track), current_state, action, track=track, system=system)


def restore(kind: TrackKind, history: Iterable[str], *, start: str | None = None) -> str:
    """Replay recorded actions (oldest first) through the table, firing no callbacks.

    History is facts already accepted, so `expired` is allowed here; an impossible step still
    raises IllegalTransition because it means the stream is out of order or corrupt.
    """
    machine = compiled(kind)
    state = machine.definition.initial.value if start is None else _state(machine, start)
    for action in history:
        state = check(kind, state, action, system=True)
    return state


def new_machine(kind: TrackKind, state: str | None = None) -> Machine:
    """A fresh real Machine (its model at `state`, set without callbacks); slow, not for loops."""
    return build_machine(DEFINITIONS[kind], initial=state)


def new_model(kind: TrackKind, state: str | None = None) -> TrackModel:
    """A model at `state` on its own fresh Machine: call `.trigger(action)`, read `.state`."""
    model = TrackModel()
    build_machine(DEFINITIONS[kind], model=model, initial=state)
    return model
