"""A small sample history appended through the store (grows into the full generator later)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from events.envelope import NewEvent, StreamAppend
from events.schemas import (
    EnterpriseRegistered,
    FinancialsReported,
    MilestoneRecorded,
    enterprise_stream,
)
from events.store import EventStore

DISTRICTS = ["yubei", "rongchang", "liangjiang", "jiangjin", "qianjiang"]


def generate(store: EventStore, enterprises: int = 20, seed: int = 7) -> dict[str, int]:
    from domain.uscc import make_uscc

    rng = random.Random(seed)
    appends: list[StreamAppend] = []
    counts: dict[str, int] = {}
    for n in range(enterprises):
        uscc = make_uscc(f"915001{n:06d}{rng.randrange(10**5):05d}")
        district = DISTRICTS[n % len(DISTRICTS)]
        events = [
            NewEvent(
                EnterpriseRegistered(
                    uscc=uscc,
                    name=f"示例企业{n:03d}",
                    district=district,
                    size=rng.choice(["micro", "small", "medium"]),
                ),
                date(2019, 1, 2),
                actor="demo",
            )
        ]
        start = date(2020 + rng.randrange(3), 1 + rng.randrange(12), 1 + rng.randrange(28))
        events.append(
            NewEvent(
                MilestoneRecorded(uscc=uscc, track="innovative-sme", action="certified"), start, actor="demo"
            )
        )
        for year in range(2019, 2026):
            revenue = Decimal(rng.randrange(5_000_000, 90_000_000))
            events.append(
                NewEvent(
                    FinancialsReported(uscc=uscc, year=year, revenue=revenue),
                    date(year + 1, 3, 31),
                    actor="demo",
                )
            )
        for new in events:
            counts[new.event_type] = counts.get(new.event_type, 0) + 1
        appends.append(StreamAppend(enterprise_stream(uscc), tuple(events), 0))
    store.append_batch(appends)
    return counts
