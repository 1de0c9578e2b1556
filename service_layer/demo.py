"""``srdi demo``: a realistic sample history through the real handlers, then copied in bulk.

Each enterprise's plan (`service_layer.demo_plan`) is replayed through `service_layer.unit_of_work.handle`
against an in-memory store, so every demo event passed the same checks as a clerk's command (and
the policy engine reacted to it, when one is wired in). A chunk of enterprises at a time is then
copied into the real store with ONE ``append_batch`` (same event ids, dates and actors), which is
the bulk path and keeps memory flat for ``--enterprises 20000``.

A demo killed part-way leaves whole chunks (each is one transaction). Run again with the same
seed, it plans every enterprise again (the same plan gives the same facts) and writes only those
whose stream is not in the database yet, so it finishes the sample; a sample already complete is
refused as before.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain import facilities
from domain.commands import Retract
from domain.enterprise import Enterprise
from domain.errors import DomainError, InvalidInput
from events.envelope import AppendResult, NewEvent, StreamAppend
from events.memory import InMemoryEventStore
from events.schemas import facility_stream
from events.store import EventStore
from service_layer.demo_plan import TODAY, plan
from service_layer.unit_of_work import Reactor, handle

CHUNK = 500


@dataclass
class DemoSummary:
    """What the demo wrote, for the summary tables (and ``--json``)."""

    enterprises: int = 0
    events: Counter[str] = field(default_factory=Counter)
    titles: dict[str, Counter[str]] = field(default_factory=dict)  # district → track → valid titles
    listings: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    seconds: float = 0.0
    already_there: int = 0
    """Enterprises of the sample found in the database from an earlier, interrupted run."""
    written: int = 0
    """Events this run appended (all of the sample's, unless an earlier run wrote some)."""

    @property
    def total(self) -> int:
        return sum(self.events.values())

    def to_json(self) -> dict[str, object]:
        return {
            "enterprises": self.enterprises,
            "events": self.total,
            "today": TODAY.isoformat(),
            "events_by_type": dict(sorted(self.events.items())),
            "valid_titles_by_district": {d: dict(sorted(c.items())) for d, c in sorted(self.titles.items())},
            "listings_by_stage": dict(sorted(self.listings.items())),
            "refused": self.refused,
            "enterprises_already_there": self.already_there,
            "events_written": self.written,
            "seconds": round(self.seconds, 3),
        }


class _CapturingStore(InMemoryEventStore):
    """An in-memory store that also keeps each stream's appended `NewEvent`s, to copy them out."""

    def __init__(self) -> None:
        super().__init__()
        self.captured: dict[str, list[NewEvent]] = {}

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        result = super().append_batch(appends, idempotency_key=idempotency_key)
        for item in appends:
            self.captured.setdefault(item.stream_id, []).extend(item.events)
        return result


def generate(
    store: EventStore,
    enterprises: int = 200,
    seed: int = 7,
    *,
    reactor: Reactor | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Generate ``enterprises`` enterprises for ``seed`` into ``store``, finishing an interrupted
    run of the same seed; refuse when every one of them is there already."""
    started = time.perf_counter()
    summary = DemoSummary()
    for start in range(0, enterprises, chunk):
        memory = _CapturingStore()
        for index in range(start, min(start + chunk, enterprises)):
            final = _run_plan(memory, seed, index, reactor, summary)
            _tally(summary, final)
        present = {s for s in memory.captured if store.stream_version(s) > 0}
        summary.already_there += len(present)
        appends = [StreamAppend(s, tuple(ev), 0) for s, ev in memory.captured.items() if s not in present]
        if appends:
            store.append_batch(appends)
            summary.written += sum(len(a.events) for a in appends)
        for events in memory.captured.values():
            summary.events.update(e.event_type for e in events)
        if progress is not None:
            progress(min(start + chunk, enterprises), enterprises)
    if summary.already_there == summary.enterprises:
        raise InvalidInput(
            f"the {enterprises} demo enterprises of seed {seed} are already in this database; "
            "use another --seed or a fresh --db"
        )
    facilities = [a for a in _facilities(seed) if store.stream_version(a.stream_id) == 0]
    if facilities:
        store.append_batch(facilities)
    for item in facilities:
        summary.events.update(e.event_type for e in item.events)
    summary.seconds = time.perf_counter() - started
    return summary


FACILITIES = (
    ("liangjiang", "srdi-park", "两江{}号“专精特新”产业园", 4),
    ("liangjiang", "internship-base", "两江“专精特新”企业就业见习基地{}", 9),
    ("yubei", "incubator", "渝北科技型初创企业孵化器{}", 2),
    ("jiangjin", "incubator", "江津中小企业孵化器{}", 1),
)
"""(district, kind, name, how many) of the demo's parks, internship bases and incubators."""


def _facilities(seed: int) -> list[StreamAppend]:
    """The demo's facilities, established between 2022 and the demo's today (ids carry the seed)."""
    rng = random.Random(f"srdi-demo-facilities:{seed}")
    appends: list[StreamAppend] = []
    for district, kind, name, count in FACILITIES:
        for n in range(1, count + 1):
            key = f"DEMO{seed}-{district[:2].upper()}-{kind.upper()}-{n:02d}"
            on = date(2022, 3, 1) + timedelta(days=rng.randint(0, (TODAY - date(2022, 3, 1)).days))
            new = facilities.establish(
                facilities.Facility(key),
                kind=kind,
                name=name.format(n),
                district=district,
                on=on,
                today=TODAY,
                actor=f"demo-{district}",
            )
            appends.append(StreamAppend(facility_stream(key), tuple(new), 0))
    return appends


def _run_plan(
    memory: InMemoryEventStore, seed: int, index: int, reactor: Reactor | None, summary: DemoSummary
) -> Enterprise:
    enterprise_plan = plan(seed, index)
    keys: dict[str, str] = {}
    final = Enterprise()
    for step in enterprise_plan.steps:
        command = step.command
        if step.retracts is not None:
            if step.retracts not in keys:
                continue
            command = Retract(event_id=keys[step.retracts], reason=command.reason, on=command.on)
        try:
            result = handle(
                memory, command, today=TODAY, actor=step.actor, reactor=reactor, system=step.system
            )
        except DomainError:
            summary.refused += 1  # a plan step the handlers would not accept: left out, counted
            continue
        final = result.enterprise
        if step.key is not None:
            keys[step.key] = result.event_id
    summary.enterprises += 1
    return final


def _tally(summary: DemoSummary, enterprise: Enterprise) -> None:
    district = enterprise.district or "?"
    valid = summary.titles.setdefault(district, Counter())
    for track in enterprise.titles:
        if enterprise.holds_valid(track, TODAY):
            valid[track] += 1
    if enterprise.listing.stage != "none":
        summary.listings[enterprise.listing.stage] += 1
