"""The listing machine: the capital-market ladder from regional OTC to a first listing.

Stages follow POLICY-CATALOGUE.md (003 art 7; 000 art 30; 002 art 30), including the two
regressions that really happen: a withdrawn or terminated application returns the enterprise to
tutoring, and a tutoring acceptance lapses after 12 months without an application (scheduler).
"""

from __future__ import annotations

from enum import StrEnum

from domain.machines.core import MachineDefinition, TransitionRow


class ListingStage(StrEnum):
    """The enterprise's current capital-market stage; `none` means nothing recorded."""

    NONE = "none"
    OTC_LISTED = "otc-listed"
    NEEQ_FILED = "neeq-filed"
    NEEQ_LISTED = "neeq-listed"
    NEEQ_SELECT = "neeq-select"
    IPO_TUTORING = "ipo-tutoring"
    IPO_ACCEPTED = "ipo-accepted"
    IPO_LISTED = "ipo-listed"
    TUTORING_LAPSED = "tutoring-lapsed"


S = ListingStage

TRANSITIONS: tuple[TransitionRow, ...] = (
    {"trigger": "otc-listed", "source": [S.NONE], "dest": S.OTC_LISTED},
    {"trigger": "neeq-filed", "source": [S.NONE, S.OTC_LISTED], "dest": S.NEEQ_FILED},
    {"trigger": "neeq-listed", "source": [S.NEEQ_FILED], "dest": S.NEEQ_LISTED},
    # 精选层 became 北交所 on 2021-11-15; a 北交所 listing is recorded as this stage.
    {"trigger": "neeq-select", "source": [S.NEEQ_LISTED], "dest": S.NEEQ_SELECT},
    {
        "trigger": "ipo-tutoring",
        "source": [
            S.NONE,
            S.OTC_LISTED,
            S.NEEQ_FILED,
            S.NEEQ_LISTED,
            S.NEEQ_SELECT,
            S.TUTORING_LAPSED,
        ],
        "dest": S.IPO_TUTORING,
    },
    {"trigger": "ipo-accepted", "source": [S.IPO_TUTORING], "dest": S.IPO_ACCEPTED},
    # ipo-listed is terminal: no transition leaves it.
    {"trigger": "ipo-listed", "source": [S.IPO_ACCEPTED], "dest": S.IPO_LISTED},
    # 撤回 / 终止审核 returns the enterprise to tutoring.
    {"trigger": "ipo-withdrawn", "source": [S.IPO_ACCEPTED], "dest": S.IPO_TUTORING},
    # Scheduler only: 12 months in tutoring without an accepted application.
    {"trigger": "expired", "source": [S.IPO_TUTORING], "dest": S.TUTORING_LAPSED},
)

DEFINITION = MachineDefinition(
    kind="listing",
    states=ListingStage,
    initial=S.NONE,
    transitions=TRANSITIONS,
    subject="the listing stage",
)
