"""The track machines on the two paths that use them: the fold (every recorded milestone of every
replay) and the record path (one decision per command).

Pure CPU, no database: synthetic enterprise streams (registration, then the municipal SRDI title
certified, reviewed three times, revoked, applied for again, certified; the listing climbing to
NEEQ) are folded with `Enterprise.load`, and `deciders.record_milestone` decides a review on the
folded enterprise. Best of five CPU timings each; printed as milestones folded and decisions per
CPU-second.

    python -m bench.machines [--enterprises 2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from domain import deciders
from domain.commands import RecordMilestone
from domain.enterprise import Enterprise
from domain.uscc import make_uscc
from events.envelope import RecordedEvent

STEPS = (
    ("srdi-municipal", "certified", date(2019, 3, 1)),
    ("srdi-municipal", "review-passed", date(2020, 3, 1)),
    ("srdi-municipal", "review-passed", date(2021, 3, 1)),
    ("srdi-municipal", "review-passed", date(2022, 3, 1)),
    ("srdi-municipal", "revoked", date(2022, 9, 1)),
    ("srdi-municipal", "applied", date(2023, 1, 1)),
    ("srdi-municipal", "certified", date(2023, 3, 1)),
    ("listing", "otc-listed", date(2020, 5, 1)),
    ("listing", "neeq-filed", date(2021, 5, 1)),
    ("listing", "neeq-listed", date(2022, 5, 1)),
)
AT = datetime(2024, 1, 1, tzinfo=UTC)


def _event(uscc: str, version: int, event_type: str, on: date, data: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(
        version, f"{uscc}-{version}", f"enterprise-{uscc}", version, event_type, 1, on, AT, "bench",
        None, None, data, "",
    )  # fmt: skip


def stream(n: int) -> list[RecordedEvent]:
    uscc = make_uscc(f"91500000MA{n:07d}")
    registered: dict[str, object] = {
        "uscc": uscc,
        "name": f"企业{n}",
        "district": "yubei",
        "department": None,
        "size": "small",
    }
    events = [_event(uscc, 1, "EnterpriseRegistered", date(2018, 1, 1), registered)]
    for version, (track, action, on) in enumerate(sorted(STEPS, key=lambda s: s[2]), start=2):
        data: dict[str, object] = {
            "uscc": uscc,
            "track": track,
            "action": action,
            "ref": None,
            "override_reason": None,
        }
        events.append(_event(uscc, version, "MilestoneRecorded", on, data))
    return events


def best_cpu(run: Callable[[], None], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=2000)
    args = parser.parse_args()
    streams = [stream(n) for n in range(args.enterprises)]
    milestones = args.enterprises * len(STEPS)

    def fold() -> None:
        for events in streams:
            Enterprise.load(events)

    folded = [Enterprise.load(events) for events in streams]
    command = [
        RecordMilestone.parse(e.uscc, "srdi-municipal.review-passed", date(2024, 3, 1)) for e in folded
    ]
    today = date(2024, 6, 1)

    def decide() -> None:
        for enterprise, cmd in zip(folded, command, strict=True):
            deciders.record_milestone(enterprise, cmd, today, "bench")

    fold_s = best_cpu(fold)
    decide_s = best_cpu(decide)
    print(f"fold: {milestones / fold_s:,.0f} milestones per CPU-second ({milestones} milestones)")
    print(f"record path: {args.enterprises / decide_s:,.0f} decisions per CPU-second")


if __name__ == "__main__":
    main()
