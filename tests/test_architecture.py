"""The layers hold: no import cycle, the CLI goes through the service layer, the domain stays pure.

Read with ``ast`` from the source files, so an import inside a function counts as much as one at
the top of a module (those are how cycles hide). An import ``from a.b import c`` counts as an edge
to ``a.b`` and, when ``a.b.c`` is a module, to it too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "events", "projections", "scheduler", "service_layer", "cli_commands")
# What the domain may not reach: storage, the database, the other layers, the command line, the clock
# of the machine is not checked here (it is a call, not an import), logging and scheduling libraries.
INFRASTRUCTURE = (
    "events.store",
    "events.sql_store",
    "events.memory",
    "events.db",
    "events.tables",
    "events.migrate",
    "events.integrity",
    "events.lazy_logging",
    "projections",
    "scheduler",
    "service_layer",
    "cli_commands",
    "cli",
    "sqlalchemy",
    "alembic",
    "typer",
    "rich",
    "structlog",
    "apscheduler",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    found["cli"] = ROOT / "cli.py"
    return found


def _imported(path: Path) -> Iterator[str]:
    """Every name an import statement anywhere in the file (functions included) brings in."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@cache
def _graph() -> dict[str, frozenset[str]]:
    """Module -> every module of the project it imports (outside ``if TYPE_CHECKING`` or not)."""
    modules = _modules()
    return {
        name: frozenset(t for t in _imported(path) if t in modules and t != name)
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    """The check below can fail: a -> b -> c -> a is reported, d beside it is not."""
    graph = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a"}),
        "d": frozenset({"a"}),
    }
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere() -> None:
    """No two modules of the product import each other, directly or round a loop, even inside functions."""
    assert _cycles(_graph()) == []


def test_the_command_line_imports_nothing_from_events_or_projections() -> None:
    """cli.py and cli_commands/ reach the log and the read models only through the service layer."""
    reaching = {
        name: sorted(t for t in targets if t.split(".")[0] in ("events", "projections"))
        for name, targets in _graph().items()
        if name.split(".")[0] in ("cli", "cli_commands")
    }
    assert {name: found for name, found in reaching.items() if found} == {}


def _outside_imports(package: str) -> dict[str, list[str]]:
    """For each module of ``package``: every import (of the project or not) it makes, by full name."""
    return {
        name: sorted(set(_imported(path)))
        for name, path in _modules().items()
        if name == package or name.startswith(package + ".")
    }


def test_the_domain_imports_no_infrastructure() -> None:
    """domain/ imports no store, database, logging, scheduler, service layer or command line."""
    offending = {
        name: [t for t in targets if any(t == bad or t.startswith(bad + ".") for bad in INFRASTRUCTURE)]
        for name, targets in _outside_imports("domain").items()
    }
    assert {name: found for name, found in offending.items() if found} == {}
