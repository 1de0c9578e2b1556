"""Which views move together: the enterprise views share the folds the status view keeps."""

from __future__ import annotations

import pytest

from projections import registry
from projections.fold import fold_table
from projections.framework import Projection
from projections.status import StatusProjection, enterprises_table
from projections.targets import TargetsProjection


def _names(views: list[Projection]) -> list[str]:
    return [p.name for p in views]


@pytest.mark.parametrize("named", [["targets"], ["status"], ["facilities", "targets"], None])
def test_an_enterprise_view_brings_every_enterprise_view_for_the_live_tables(named: list[str] | None) -> None:
    chosen = registry.moving_together(registry.select(named))
    assert _names(chosen)[:2] == ["status", "targets"]
    assert set(_names(chosen)) == {"status", "targets"} | set(named or registry.PROJECTIONS)


def test_views_without_an_enterprise_view_move_alone() -> None:
    assert _names(registry.moving_together(registry.select(["ledger", "facilities"]))) == [
        "ledger",
        "facilities",
    ]


def test_a_snapshot_of_the_targets_view_builds_the_view_that_keeps_the_folds_and_no_more() -> None:
    assert _names(registry.with_fold_keeper(registry.select(["targets", "facilities"]))) == [
        "status",
        "targets",
        "facilities",
    ]
    assert _names(registry.with_fold_keeper(registry.select(["status"]))) == ["status"]
    assert _names(registry.with_fold_keeper(registry.select(["ledger"]))) == ["ledger"]


def test_folds_come_from_the_view_that_keeps_them_and_never_from_one_alone_that_does_not() -> None:
    assert fold_table([TargetsProjection(), StatusProjection()]) is enterprises_table
    with pytest.raises(RuntimeError, match="without the view that keeps the folds"):
        fold_table([TargetsProjection()])
