"""The qualification machine, shared by the six title tracks (tech-sme … champion).

A title is applied for, certified, reviewed every period, and can be revoked or lapse. The table
below is the single definition: the Machine, the fast lookup used by `check`, the diagrams and the
tests are all derived from it.
"""

from __future__ import annotations

from enum import StrEnum

from domain.machines.core import MachineDefinition, TransitionRow


class QualificationState(StrEnum):
    """Where a title stands; `none` means nothing was ever recorded on the track."""

    NONE = "none"
    APPLIED = "applied"
    CERTIFIED = "certified"
    REVOKED = "revoked"
    EXPIRED = "expired"


S = QualificationState

TRANSITIONS: tuple[TransitionRow, ...] = (
    # A new application after a revocation or an expiry starts the track again.
    {"trigger": "applied", "source": [S.NONE, S.REVOKED, S.EXPIRED], "dest": S.APPLIED},
    # Staff may record a certification without a recorded application (history taken over).
    {
        "trigger": "certified",
        "source": [S.NONE, S.APPLIED, S.REVOKED, S.EXPIRED],
        "dest": S.CERTIFIED,
    },
    # A passed review keeps the title; a new validity period starts on the review date.
    {"trigger": "review-passed", "source": [S.CERTIFIED], "dest": S.CERTIFIED},
    {"trigger": "review-failed", "source": [S.CERTIFIED], "dest": S.REVOKED},
    {"trigger": "revoked", "source": [S.CERTIFIED, S.APPLIED], "dest": S.REVOKED},
    # Recorded by the scheduler only, when the validity period ends without a passed review.
    {"trigger": "expired", "source": [S.CERTIFIED], "dest": S.EXPIRED},
)

DEFINITION = MachineDefinition(
    kind="qualification",
    states=QualificationState,
    initial=S.NONE,
    transitions=TRANSITIONS,
    subject="the title",
)
