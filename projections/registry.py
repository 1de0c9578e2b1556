"""Every projection the runner maintains, by name, in the order ``replay`` reports them.

A new projection is one entry here (plus its module and a migration for its tables).
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.facilities import FacilitiesProjection
from projections.framework import Projection
from projections.ledger import LedgerProjection
from projections.status import StatusProjection
from projections.targets import TargetsProjection

PROJECTIONS: dict[str, Projection] = {
    p.name: p
    for p in (
        StatusProjection(),
        TargetsProjection(),
        LedgerProjection(),
        FacilitiesProjection(),
    )
}


def register(projection: Projection) -> None:
    """Add a projection at run time (tests, plug-ins); its tables must already exist."""
    if projection.name in PROJECTIONS:
        raise ValueError(f"projection {projection.name!r} is already registered")
    PROJECTIONS[projection.name] = projection


def select(names: Iterable[str] | None = None) -> list[Projection]:
    """The named projections (all of them for None), refusing an unknown name."""
    if names is None:
        return list(PROJECTIONS.values())
    chosen: list[Projection] = []
    for name in names:
        if name not in PROJECTIONS:
            raise KeyError(f"unknown projection {name!r}; known: {', '.join(PROJECTIONS)}")
        if PROJECTIONS[name] not in chosen:
            chosen.append(PROJECTIONS[name])
    return chosen
