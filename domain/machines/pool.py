"""The pool machine, shared by the district pools (培育库, 上市企业储备库, 高新技术企业培育库).

An enterprise is admitted (入库) and may leave (出库); it may be admitted again later. Pools have
no validity period and no review: membership lasts until it is ended.
"""

from __future__ import annotations

from enum import StrEnum

from domain.machines.core import MachineDefinition, TransitionRow


class PoolState(StrEnum):
    """Whether the enterprise is in the pool; `none` means never admitted."""

    NONE = "none"
    ADMITTED = "admitted"
    LEFT = "left"


S = PoolState

TRANSITIONS: tuple[TransitionRow, ...] = (
    {"trigger": "admitted", "source": [S.NONE, S.LEFT], "dest": S.ADMITTED},
    {"trigger": "left", "source": [S.ADMITTED], "dest": S.LEFT},
)

DEFINITION = MachineDefinition(
    kind="pool",
    states=PoolState,
    initial=S.NONE,
    transitions=TRANSITIONS,
    subject="the pool membership",
)
