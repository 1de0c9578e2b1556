"""The designation machine: 数字化车间, 智能工厂, 绿色工厂 and Yubei's benchmark enterprises.

A designation is certified (认定 / 遴选), may be certified again (a renewal, or the next year's
selection of a benchmark enterprise: a new period starts that day), revoked, and, only where the
data gives it a validity period, lapse (recorded by the scheduler, like a title's expiry).
"""

from __future__ import annotations

from enum import StrEnum

from domain.machines.core import MachineDefinition, TransitionRow


class DesignationState(StrEnum):
    """Where a designation stands; `none` means never certified."""

    NONE = "none"
    CERTIFIED = "certified"
    REVOKED = "revoked"
    EXPIRED = "expired"


S = DesignationState

TRANSITIONS: tuple[TransitionRow, ...] = (
    {
        "trigger": "certified",
        "source": [S.NONE, S.CERTIFIED, S.REVOKED, S.EXPIRED],
        "dest": S.CERTIFIED,
    },
    {"trigger": "revoked", "source": [S.CERTIFIED], "dest": S.REVOKED},
    {"trigger": "expired", "source": [S.CERTIFIED], "dest": S.EXPIRED},
)

DEFINITION = MachineDefinition(
    kind="designation",
    states=DesignationState,
    initial=S.NONE,
    transitions=TRANSITIONS,
    subject="the designation",
)
