"""Every projection the runner maintains, by name, in the order ``replay`` reports them.

A new projection is one entry here (plus its module and a migration for its tables).
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.facilities import FacilitiesProjection
from projections.fold import EnterpriseProjection
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


def moving_together(chosen: Iterable[Projection]) -> list[Projection]:
    """``chosen`` and, if it holds an enterprise view, every enterprise view, in registry order.

    The enterprise views are folded from the folds one of them keeps, so the live ones are caught
    up and rebuilt together and stand at one checkpoint.
    """
    picked = list(chosen)
    if any(isinstance(p, EnterpriseProjection) for p in picked):
        views = [p for p in PROJECTIONS.values() if isinstance(p, EnterpriseProjection)]
        picked = views + [p for p in picked if p not in views]
    return picked


def with_fold_keeper(chosen: Iterable[Projection]) -> list[Projection]:
    """``chosen`` and, if it holds an enterprise view that does not keep its folds, the one that
    does: what a private build (a snapshot) of those views needs, and no more."""
    picked = list(chosen)
    views = [p for p in picked if isinstance(p, EnterpriseProjection)]
    if views and not any(p.keeps_folds for p in views):
        keepers = (p for p in PROJECTIONS.values() if isinstance(p, EnterpriseProjection) and p.keeps_folds)
        picked.insert(0, next(keepers))
    return picked
