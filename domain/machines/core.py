"""Machinery shared by the track machines: the definition type and its compilation.

Each kind of track declares its machine as data (an Enum of states and a table of transitions).
Each definition is built ONCE per process into a real Machine. The record path asks that Machine
whether an action may fire (`get_triggers`, see ``machines.require_legal``). A fold of millions of
recorded events cannot afford a Machine call per event, so a lookup table
`(state, action) -> new state` is read back out of the same Machine's events: derived from the one
definition (no second copy to drift), read-only and so thread-safe, a check is a dict lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from transitions import Machine

from domain import reference
from domain.reference import TrackKind

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict


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


class TrackModel:
    """The tiny model a Machine drives; `state` is a member of the definition's Enum.

    The Machine attaches `trigger(action)` and `may_trigger(action)` (and one method per action);
    they are declared here only so typed code can call them.
    """

    state: StrEnum
    trigger: Callable[..., bool]
    may_trigger: Callable[..., bool]


def build_machine(
    definition: MachineDefinition,
    *,
    model: object | None = None,
    initial: str | StrEnum | None = None,
) -> Machine:
    """Build a real Machine over `model` (a fresh TrackModel by default).

    `initial` restores a model to a recorded state without firing any callback: constructing
    with `initial=` only assigns the state, which is exactly what a replay needs.
    """
    start = definition.initial if initial is None else definition.states(initial)
    rows: list[TransitionConfigDict] = [
        {"trigger": row["trigger"], "source": list(row["source"]), "dest": row["dest"]}
        for row in definition.transitions
    ]
    return Machine(
        model=TrackModel() if model is None else model,
        states=definition.states,
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


def compile_machine(definition: MachineDefinition) -> CompiledMachine:
    """Build the Machine once and derive the lookup table from its events.

    Also checks that the machine and the reference data agree (same actions, a label for every
    state), so a new action or state cannot be added in one place and forgotten in the other.
    """
    machine = build_machine(definition)
    by_name = {member.name: member.value for member in definition.states}
    table: dict[tuple[str, str], str] = {}
    for trigger, event in machine.events.items():
        for source_name, transitions in event.transitions.items():
            if len(transitions) != 1 or transitions[0].dest is None:
                raise RuntimeError(f"{definition.kind}: {trigger} from {source_name} is ambiguous")
            table[(by_name[source_name], trigger)] = by_name[transitions[0].dest]
    triggers = tuple(machine.events)
    expected_actions = set(reference.actions_for(definition.kind))
    if set(triggers) != expected_actions:
        raise RuntimeError(
            f"{definition.kind} machine actions {sorted(triggers)} differ from tracks.toml "
            f"{sorted(expected_actions)}"
        )
    state_values = frozenset(by_name.values())
    if state_values != set(reference.state_keys(definition.kind)):
        raise RuntimeError(f"{definition.kind} machine states differ from tracks.toml labels")
    system_only = frozenset(t for t in triggers if reference.is_system_only(t))
    name_of = {value: name for name, value in by_name.items()}
    return CompiledMachine(definition, machine, table, triggers, state_values, system_only, name_of)
