"""Drawings of the machines, read from the built `transitions.Machine` objects themselves.

`srdi machines` must show what the software enforces, not what someone once typed, so states and
transitions are iterated from each kind's cached Machine (`machine.states`, `machine.events`),
never retyped here.
"""

from __future__ import annotations

from typing import Any

from domain import reference
from domain.machines import DEFINITIONS, compiled
from domain.reference import TrackKind


def _value(kind: TrackKind, name: str) -> str:
    """A Machine state name (the Enum member name) back to the stored state value."""
    return str(DEFINITIONS[kind].states[name].value)


def _mermaid_id(value: str) -> str:
    """Mermaid state ids may not contain '-', so ids use '_' and the label keeps the key."""
    return value.replace("-", "_")


def edges(kind: TrackKind) -> list[tuple[str, str, str]]:
    """Every (source, action, dest) of the kind's Machine, in definition order."""
    machine = compiled(kind).machine
    return [
        (_value(kind, t.source), trigger, _value(kind, t.dest))
        for trigger, event in machine.events.items()
        for transitions in event.transitions.values()
        for t in transitions
        if t.dest is not None
    ]


def tracks_of(kind: TrackKind) -> list[str]:
    """The track keys driven by a machine kind."""
    return [key for key, spec in reference.tracks().items() if spec.kind == kind]


def mermaid(kind: TrackKind | None = None) -> str:
    """One `stateDiagram-v2` block per kind (or just `kind`), separated by a blank line.

    Scheduler-only actions are labelled `(system)`; a state with no way out is drawn as final.
    """
    blocks = []
    for k in [kind] if kind else list(DEFINITIONS):
        machine = compiled(k).machine
        initial = compiled(k).definition.initial.value
        lines = [
            "---",
            f"title: {k} machine ({', '.join(tracks_of(k))})",
            "---",
            "stateDiagram-v2",
        ]
        for state in machine.states.values():
            value = _value(k, state.name)
            lines.append(f'    state "{value}" as {_mermaid_id(value)}')
        lines.append(f"    [*] --> {_mermaid_id(initial)}")
        sources = set()
        for source, action, dest in edges(k):
            sources.add(source)
            suffix = " (system)" if reference.is_system_only(action) else ""
            lines.append(f"    {_mermaid_id(source)} --> {_mermaid_id(dest)} : {action}{suffix}")
        for state in machine.states.values():
            value = _value(k, state.name)
            if value not in sources:
                lines.append(f"    {_mermaid_id(value)} --> [*]")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def describe(lang: str = "en") -> list[dict[str, Any]]:
    """One plain row per (kind, action) for a text table or `--json`.

    Keys: kind, tracks, action, label, from (list of states), to, system_only.
    """
    rows: list[dict[str, Any]] = []
    for kind in DEFINITIONS:
        by_action: dict[str, dict[str, Any]] = {}
        for source, action, dest in edges(kind):
            row = by_action.setdefault(
                action,
                {
                    "kind": kind,
                    "tracks": tracks_of(kind),
                    "action": action,
                    "label": reference.label(action, lang, namespace="action"),
                    "from": [],
                    "to": dest,
                    "system_only": reference.is_system_only(action),
                },
            )
            row["from"].append(source)
        rows.extend(by_action.values())
    return rows
