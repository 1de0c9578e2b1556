"""Drawings of the machines by `transitions` itself: its `GraphMachine` with the mermaid engine.

`srdi machines` must show what the software enforces, not what someone once typed, so the drawing
is built from each kind's one definition (the same the record path's Machine is built from) and
rendered by transitions' own diagram support (``graph_engine="mermaid"``: no graphviz needed).
The text table and ``--json`` read the states and transitions of the record path's Machine.
"""

from __future__ import annotations

from typing import Any

from domain import labels, reference
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

    definition = DEFINITIONS[kind]
    sources = {str(s) for row in definition.transitions for s in row["source"]}
    states = [
        {"name": _mermaid_id(str(s)), "label": str(s), "final": str(s) not in sources}
        for s in definition.states
    ]
    rows = [
        {
            "trigger": row["trigger"],
            "source": [_mermaid_id(str(s)) for s in row["source"]],
            "dest": _mermaid_id(str(row["dest"])),
            "label": row["trigger"] + (" (system)" if reference.is_system_only(row["trigger"]) else ""),
        }
        for row in definition.transitions
    ]
    return DiagramMachine(
        states=states,
        transitions=rows,
        initial=_mermaid_id(str(definition.initial)),
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"title: {kind} machine ({', '.join(tracks_of(kind))})",
        show_state_attributes=False,
    )


def mermaid(kind: TrackKind | None = None) -> str:
    """One `stateDiagram-v2` block per kind (or just `kind`), as transitions draws it, blank-line apart."""
    blocks = [
        str(_graph_machine(k).get_graph().draw(None)).rstrip() for k in ([kind] if kind else DEFINITIONS)
    ]
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
                    "label": labels.label(action, lang, namespace="action"),
                    "from": [],
                    "to": dest,
                    "system_only": reference.is_system_only(action),
                },
            )
            row["from"].append(source)
        rows.extend(by_action.values())
    return rows
