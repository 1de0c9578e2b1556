"""The track state machines: one `transitions.Machine` per kind, built from the data, checked fast.

Each kind of track (qualification, listing, pool, designation) declares its machine as data in
`domain/data/tracks.toml` (`[machines.KIND]`: the states it labels, the initial state, the
transitions in order). `definition(kind)` turns that table into a `MachineDefinition` (a StrEnum of
the states and the transition rows), and `compiled(kind)` builds it ONCE per process into a real
Machine. The record path asks that Machine whether an action may fire (`require_legal`, by
`get_triggers`). A fold of millions of recorded events cannot afford a Machine call per event, so a
lookup table `(state, action) -> new state` is read back out of the same Machine's events: derived
from the one definition (no second copy to drift), read-only and so thread-safe, a check (`check`,
`check_track`, `restore`) is a dict lookup.

`srdi machines` must show what the software enforces, not what someone once typed, so its drawing
is built from the same definition and rendered by transitions' own diagram support (`mermaid`:
its `GraphMachine` with ``graph_engine="mermaid"``, no graphviz needed); the text table and
``--json`` (`describe`) read the states and transitions of the record path's Machine.

States are plain strings (the Enum members are StrEnums) so events and projections store them as
they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict

from transitions import Machine

from domain import labels, reference
from domain.errors import IllegalTransition
from domain.reference import KINDS, TrackKind

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict


# ── the definitions, from the data ───────────────────────────────────────────────────────────


class TransitionRow(TypedDict):
    """One row of a machine table: the action (trigger), where it may start, where it leads."""

    trigger: str
    source: list[StrEnum]
    dest: StrEnum


@dataclass(frozen=True)
class MachineDefinition:
    """A machine declared as data; `subject` names what the state describes, for messages."""

    kind: TrackKind
    states: type[StrEnum]
    initial: StrEnum
    transitions: tuple[TransitionRow, ...]
    subject: str


@cache
def definition(kind: TrackKind) -> MachineDefinition:
    """The declared machine of a kind: its states as a StrEnum (member names are the keys in upper
    case, ``ipo-accepted`` → ``IPO_ACCEPTED``) and its transition rows, in the data's order."""
    spec = reference.machine_spec(kind)
    states = StrEnum(  # type: ignore[misc]
        f"{kind.capitalize()}State",
        [(key.upper().replace("-", "_"), key) for key in reference.state_keys(kind)],
    )
    rows = tuple(
        TransitionRow(trigger=t.action, source=[states(s) for s in t.from_], dest=states(t.to))
        for t in spec.transitions
    )
    return MachineDefinition(kind, states, states(spec.initial), rows, spec.subject)


class TrackModel:
    """The tiny model a Machine drives; `state` is a member of the definition's Enum.

    The Machine attaches `trigger(action)` and `may_trigger(action)` (and one method per action);
    they are declared here only so typed code can call them.
    """

    state: StrEnum
    trigger: Callable[..., bool]
    may_trigger: Callable[..., bool]


def _build(defn: MachineDefinition, *, model: object | None = None, initial: str | None = None) -> Machine:
    """Build a real Machine over `model` (a fresh TrackModel by default).

    `initial` restores a model to a recorded state without firing any callback: constructing
    with `initial=` only assigns the state, which is exactly what a replay needs.
    """
    start = defn.initial if initial is None else defn.states(initial)
    rows: list[TransitionConfigDict] = [
        {"trigger": row["trigger"], "source": list(row["source"]), "dest": row["dest"]}
        for row in defn.transitions
    ]
    return Machine(
        model=TrackModel() if model is None else model,
        states=defn.states,
        transitions=rows,
        initial=start,
        auto_transitions=False,
        ignore_invalid_triggers=False,
        send_event=False,
    )


@dataclass(frozen=True)
class CompiledMachine:
    """A definition, its one cached Machine and the lookup table read back from that Machine."""

    definition: MachineDefinition
    machine: Machine
    table: dict[tuple[str, str], str] = field(repr=False)
    triggers: tuple[str, ...]
    state_values: frozenset[str]
    system_only: frozenset[str]
    name_of: dict[str, str] = field(repr=False)  # stored state value -> the Machine's state name

    def allowed(self, state: str, *, system: bool = False) -> tuple[str, ...]:
        """Actions the machine accepts from `state`, in table order; staff never see `expired`."""
        return tuple(
            t for t in self.triggers if (state, t) in self.table and (system or t not in self.system_only)
        )


@cache
def compiled(kind: TrackKind) -> CompiledMachine:
    """The kind's machine, built once per process, with the lookup table derived from its events.

    The data file's own checks (`reference.TracksFile`) make sure its states are labelled and its
    actions are the kind's; here the built Machine must give one destination per (state, action).
    """
    defn = definition(kind)
    machine = _build(defn)
    by_name = {member.name: member.value for member in defn.states}
    table: dict[tuple[str, str], str] = {}
    for trigger, event in machine.events.items():
        for source_name, transitions in event.transitions.items():
            if len(transitions) != 1 or transitions[0].dest is None:
                raise RuntimeError(f"{kind}: {trigger} from {source_name} is ambiguous")
            table[(by_name[source_name], trigger)] = by_name[transitions[0].dest]
    triggers = tuple(machine.events)
    system_only = frozenset(t for t in triggers if reference.is_system_only(t))
    name_of = {value: name for name, value in by_name.items()}
    return CompiledMachine(defn, machine, table, triggers, frozenset(by_name.values()), system_only, name_of)


# ── legality: the record path and the fold ───────────────────────────────────────────────────


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
    kind: TrackKind, current_state: str, action: str, *, track: str | None = None, system: bool = False
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


def require_legal(kind: TrackKind, current_state: str, action: str, *, track: str, system: bool) -> None:
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


@cache
def step_table(track: str) -> Mapping[tuple[str, str], str]:
    """(state, action) -> state after, for every step `check_track` accepts with ``system=True``.

    A fold's fast path (`titles.TitleFold`): one dict lookup per milestone, its track resolved
    once. Read from the kind's compiled table (the Machine's own events), read-only; a miss means
    a refusal, which the caller words through `check_track`. An unknown track raises KeyError.
    """
    return MappingProxyType(compiled(reference.track_kind(track)).table)


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
    return _build(definition(kind), initial=state)


def new_model(kind: TrackKind, state: str | None = None) -> TrackModel:
    """A model at `state` on its own fresh Machine: call `.trigger(action)`, read `.state`."""
    model = TrackModel()
    _build(definition(kind), model=model, initial=state)
    return model


# ── drawings: `srdi machines` ────────────────────────────────────────────────────────────────


def _mermaid_id(value: str) -> str:
    """Mermaid state ids may not contain '-', so ids use '_' and the label keeps the key."""
    return value.replace("-", "_")


def edges(kind: TrackKind) -> list[tuple[str, str, str]]:
    """Every (source, action, dest) of the kind's Machine, in definition order."""
    states = definition(kind).states
    return [
        (str(states[t.source].value), trigger, str(states[t.dest].value))
        for trigger, event in compiled(kind).machine.events.items()
        for transitions in event.transitions.values()
        for t in transitions
        if t.dest is not None
    ]


def tracks_of(kind: TrackKind) -> list[str]:
    """The track keys driven by a machine kind."""
    return [key for key, spec in reference.tracks().items() if spec.kind == kind]


def _graph_machine(kind: TrackKind) -> Any:
    """A `GraphMachine` (mermaid engine) of the kind's definition: states labelled by their keys,
    scheduler-only actions labelled ``(system)``, states with no way out marked final."""
    from transitions import State
    from transitions.extensions import GraphMachine

    class LabelledState(State):
        """A state that carries its diagram label (the stored key) for transitions' markup."""

        def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.label = label

    class DiagramMachine(GraphMachine):
        state_cls = LabelledState

    defn = definition(kind)
    sources = {str(s) for row in defn.transitions for s in row["source"]}
    states = [
        {"name": _mermaid_id(str(s)), "label": str(s), "final": str(s) not in sources} for s in defn.states
    ]
    rows = [
        {
            "trigger": row["trigger"],
            "source": [_mermaid_id(str(s)) for s in row["source"]],
            "dest": _mermaid_id(str(row["dest"])),
            "label": row["trigger"] + (" (system)" if reference.is_system_only(row["trigger"]) else ""),
        }
        for row in defn.transitions
    ]
    return DiagramMachine(
        states=states,
        transitions=rows,
        initial=_mermaid_id(str(defn.initial)),
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"title: {kind} machine ({', '.join(tracks_of(kind))})",
        show_state_attributes=False,
    )


def mermaid(kind: TrackKind | None = None) -> str:
    """One `stateDiagram-v2` block per kind (or just `kind`), as transitions draws it, blank-line apart."""
    blocks = [str(_graph_machine(k).get_graph().draw(None)).rstrip() for k in ([kind] if kind else KINDS)]
    return "\n\n".join(blocks) + "\n"


def describe(lang: str = "en") -> list[dict[str, Any]]:
    """One plain row per (kind, action) for a text table or `--json`.

    Keys: kind, tracks, action, label, from (list of states), to, system_only.
    """
    rows: list[dict[str, Any]] = []
    for kind in KINDS:
        by_action: dict[str, dict[str, Any]] = {}
        for source, action, dest in edges(kind):
            row = by_action.setdefault(
                action,
                {
                    "kind": kind,
                    "tracks": tracks_of(kind),
                    "action": action,
                    "label": labels.label(action, lang, namespace="action"),
                    "from": [],
                    "to": dest,
                    "system_only": reference.is_system_only(action),
                },
            )
            row["from"].append(source)
        rows.extend(by_action.values())
    return rows
