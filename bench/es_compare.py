"""The pyeventsourcing/eventsourcing library on SQLite, with the same events, for comparison.

The same three event types with the same fields (Decimals as Decimals, business dates as dates),
saved through an eventsourcing ``Application``; the replay reads the application's notification
log in sections of 1000 with ``NotificationLogReader.select`` and turns each notification into a
domain event with ``app.mapper.to_domain_event``: what an eventsourcing follower does to catch up.
"""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.system import NotificationLogReader

from bench.data import DEPARTMENTS, DISTRICTS, TRACKS

# What ``populate`` records as a milestone's action and states: each step of ``bench.data.TRACKS``
# is an (action, from, to) triple, and the whole triple is recorded (a JSON list) where srdi's
# events hold the action's name. Kept as the published figures were measured with it.
Step = str | tuple[str, str, str]


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Enterprise(Aggregate):
    @event("EnterpriseRegistered")
    def __init__(
        self, uscc: str, name: str, district: str, department: str | None, size: str | None, occurred_on: date
    ) -> None:
        self.uscc = uscc

    @event("MilestoneRecorded")
    def record_milestone(
        self,
        track: str,
        action: Step,
        ref: str | None,
        override_reason: str | None,
        from_state: Step | None,
        to_state: Step | None,
        occurred_on: date,
    ) -> None:
        pass

    @event("FinancialsReported")
    def report(self, year: int, revenue: Decimal, rd_expense: Decimal | None, occurred_on: date) -> None:
        pass


class Register(Application):  # type: ignore[type-arg]
    log_section_size = 1000

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def open_app(path: str) -> Register:
    return Register(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path})


def populate(path: str, total: int, seed: int = 7, chunk: int = 5000) -> float:
    """``total`` events like bench.data's, saved ~``chunk`` at a time; returns seconds in ``save``."""
    app = open_app(path)
    rng = random.Random(seed)
    left, n, spent = total, 0, 0.0
    pending: list[Enterprise] = []
    size = 0
    while left > 0:
        uscc = f"91500{n:08d}{rng.randrange(10**5):05d}"
        agg = Enterprise(
            uscc=uscc,
            name=f"重庆示例科技有限公司{n:06d}",
            district=DISTRICTS[n % len(DISTRICTS)],
            department=rng.choice(DEPARTMENTS),
            size=rng.choice(["micro", "small", "medium"]),
            occurred_on=date(2019, 1, 2),
        )
        count = 1
        track, actions = TRACKS[n % len(TRACKS)]
        state: Step = "none"
        for step, action in enumerate(actions):
            if count >= left:
                break
            agg.record_milestone(
                track=track,
                action=action,
                ref=f"渝经信发〔{2020 + step}〕{rng.randrange(1, 200)}号",
                override_reason=None,
                from_state=state,
                to_state=action,
                occurred_on=date(2020 + step, 1 + rng.randrange(12), 1 + rng.randrange(28)),
            )
            state = action
            count += 1
        for year in range(2019, 2026):
            if count >= left:
                break
            revenue = Decimal(rng.randrange(5_000_000, 90_000_000)) / 100
            rd = (revenue * Decimal(rng.randrange(3, 12)) / 100).quantize(Decimal("0.01"))
            agg.report(year=year, revenue=revenue, rd_expense=rd, occurred_on=date(year + 1, 3, 31))
            count += 1
        n += 1
        left -= count
        pending.append(agg)
        size += count
        if size >= chunk or left <= 0:
            t0 = time.perf_counter()
            app.save(*pending)
            spent += time.perf_counter() - t0
            pending, size = [], 0
    app.close()
    return spent


def replay(app: Register) -> int:
    """Read and decode every event, as a catching-up follower does."""
    reader = NotificationLogReader(app.notification_log, section_size=1000)
    to_domain_event = app.mapper.to_domain_event
    n = 0
    for notifications in reader.select(start=1):
        for notification in notifications:
            to_domain_event(notification)
            n += 1
    return n


def sample(app: Register) -> Any:
    """One decoded event, to check the comparison decodes what we think it does."""
    notes = app.notification_log.select(start=1, limit=3)
    return [app.mapper.to_domain_event(n) for n in notes]
