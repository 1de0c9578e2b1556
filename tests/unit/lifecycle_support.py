"""Helpers shared by the lifecycle tests: USCCs, a store snapshot, and a handler bound to a day."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from domain.commands import AnyCommand, RecordMilestone, RegisterEnterprise
from domain.enterprise import Enterprise
from domain.errors import DomainError
from domain.uscc import make_uscc
from events.envelope import NewEvent, RecordedEvent
from events.memory import InMemoryEventStore
from events.schemas import EntitlementCreated
from service_layer.unit_of_work import CommandResult, Reactor, handle

TODAY = date(2026, 11, 1)
A = make_uscc("91500000MA5U0000A")
B = make_uscc("91500112MA5U0000B")


def snapshot(store: InMemoryEventStore) -> list[tuple[str, str, int]]:
    """Everything the store holds, in a comparable form."""
    return [(e.event_id, e.stream_id, e.stream_version) for e in store.read_all()]


def assert_refused(store: InMemoryEventStore, action: Callable[[], Any], match: str) -> DomainError:
    """The action raises a one-line DomainError matching ``match`` and the store is unchanged."""
    before = snapshot(store)
    with pytest.raises(DomainError, match=match) as caught:
        action()
    assert "\n" not in str(caught.value)
    assert snapshot(store) == before
    return caught.value


@dataclass
class Desk:
    """A clerk's desk: one store, one day, one actor, an optional reactor."""

    store: InMemoryEventStore = field(default_factory=InMemoryEventStore)
    today: date = TODAY
    reactor: Reactor | None = None

    def run(self, command: AnyCommand, *, system: bool = False) -> CommandResult:
        return handle(
            self.store, command, today=self.today, actor="clerk", reactor=self.reactor, system=system
        )

    def register(self, uscc: str = A, district: str = "yubei") -> CommandResult:
        return self.run(RegisterEnterprise(uscc=uscc, name="重庆测试科技有限公司", district=district))

    def record(self, milestone: str, on: str, uscc: str = A, **more: Any) -> CommandResult:
        return self.run(RecordMilestone.parse(uscc, milestone, date.fromisoformat(on), **more))

    def load(self, uscc: str = A, **filters: Any) -> Enterprise:
        return Enterprise.load(self.store.read_stream(f"enterprise-{uscc}"), **filters)

    def stream(self, uscc: str = A) -> list[RecordedEvent]:
        return self.store.read_stream(f"enterprise-{uscc}")


class FakeReactor:
    """Creates one entitlement per certification and remembers what it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[Enterprise, list[str]]] = []

    def react(self, enterprise: Enterprise, new_events: Sequence[NewEvent], *, today: date) -> list[NewEvent]:
        self.seen.append((enterprise, [e.event_type for e in new_events]))
        out: list[NewEvent] = []
        for new in new_events:
            data = new.event.payload()
            if new.event_type == "MilestoneRecorded" and data["action"] == "certified":
                out.append(
                    NewEvent(
                        EntitlementCreated(
                            entitlement_id=f"ent-{new.event_id[:8]}",
                            policy="yubei-2024",
                            rule="YB-5a",
                            article="5",
                            kind="award",
                            uscc=enterprise.uscc,
                            district=enterprise.district or "",
                            trigger_event_id=new.event_id,
                            accrued_on=new.occurred_on,
                            amount=100000,
                            ceiling=False,
                            status="accrued",
                        ),
                        new.occurred_on,
                        causation_id=new.event_id,
                    )
                )
        return out
