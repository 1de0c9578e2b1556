"""Realistic histories at any size, written through the real bulk path, and fresh databases.

The events are those ``srdi demo`` writes: ``service_layer.demo.generate`` runs a few hundred
enterprises' plans through the real command handlers (so every event passed a clerk's checks), and
those histories are then cloned, enterprise by enterprise, under new valid USCCs, names and event
ids (retractions follow their target), up to the size asked for. If the demo generator cannot be
used, a built-in generator of registrations, valid milestones and yearly figures takes its place.
Events go in through ``SqlEventStore.append_batch``, ``CHUNK_EVENTS`` events per transaction.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import events  # noqa: F401  (registers the event types)
from events.db import make_engine
from events.envelope import AppendResult, NewEvent, StreamAppend
from events.migrate import ensure_schema
from events.schemas import EnterpriseRegistered, FinancialsReported, MilestoneRecorded, enterprise_stream
from events.sql_store import SqlEventStore
from service_layer import logs

logs.configure("console", "warning")  # as the CLI runs: no per-event debug logging

PG_URL = os.environ.get(
    "SRDI_BENCH_PG_URL", os.environ.get("SRDI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
CHUNK_EVENTS = 5000  # events per append_batch transaction on the bulk path
TEMPLATE_ENTERPRISES = 300
DISTRICTS = ["yubei", "rongchang", "liangjiang", "jiangjin", "qianjiang", "shapingba", "jiulongpo"]
DEPARTMENTS = ["经信委", "科技局", "商务委", None]
TRACKS = [  # (track, actions in an order its machine accepts, state after each)
    ("innovative-sme", [("applied", "none", "applied"), ("certified", "applied", "certified")]),
    ("srdi-municipal", [("certified", "none", "certified"), ("review-passed", "certified", "certified")]),
    ("listing", [("otc-listed", "none", "otc-listed"), ("neeq-filed", "otc-listed", "neeq-filed")]),
]
Template = tuple[str, list[NewEvent]]  # (USCC, the enterprise's events in order)


class _Capture:
    """Just enough of a store for ``service_layer.demo.generate`` to hand over its histories."""

    def __init__(self) -> None:
        self.appends: list[StreamAppend] = []

    def stream_version(self, stream_id: str) -> int:
        return 0

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        self.appends.extend(appends)
        return AppendResult(0, 0, (), {})


@cache
def templates(seed: int = 7) -> tuple[str, list[Template]]:
    """Histories to clone, and where they come from (``srdi demo``, or the built-in generator)."""
    try:
        from service_layer.demo import generate

        capture = _Capture()
        generate(capture, TEMPLATE_ENTERPRISES, seed)  # type: ignore[arg-type]
        found: list[Template] = []
        for item in capture.appends:
            first = item.events[0].event
            if not item.stream_id.startswith("enterprise-") or not isinstance(first, EnterpriseRegistered):
                continue
            found.append((first.uscc, list(item.events)))
        if sum(len(t[1]) for t in found) < 1000:
            raise ValueError("the demo generator wrote too few events to clone")
        return "srdi demo histories, cloned", found
    except Exception as error:  # the demo is another engineer's moving target: never fail the bench on it
        rng = random.Random(seed)
        return f"built-in generator (demo unusable: {type(error).__name__})", [
            _builtin(n, rng) for n in range(TEMPLATE_ENTERPRISES)
        ]


def _builtin(n: int, rng: random.Random) -> Template:
    uscc = _uscc(n)
    evs = [
        NewEvent(
            EnterpriseRegistered(
                uscc=uscc,
                name=f"重庆示例科技有限公司{n:06d}",
                district=DISTRICTS[n % len(DISTRICTS)],
                department=rng.choice(DEPARTMENTS),
                size=rng.choice(["micro", "small", "medium"]),
            ),
            date(2019, 1, 2),
            actor="import",
        )
    ]
    track, steps = TRACKS[n % len(TRACKS)]
    for step, (action, source, dest) in enumerate(steps):
        evs.append(
            NewEvent(
                MilestoneRecorded(
                    uscc=uscc,
                    track=track,
                    action=action,
                    ref=f"渝经信发〔{2020 + 2 * step}〕{rng.randrange(1, 200)}号",
                    from_state=source,
                    to_state=dest,
                ),
                date(2020 + 2 * step, 1 + rng.randrange(12), 1 + rng.randrange(28)),
                actor="import",
            )
        )
    for year in range(2019, 2026):
        revenue = Decimal(rng.randrange(5_000_000, 90_000_000)) / 100
        rd = (revenue * Decimal(rng.randrange(3, 12)) / 100).quantize(Decimal("0.01"))
        evs.append(
            NewEvent(
                FinancialsReported(uscc=uscc, year=year, revenue=revenue, rd_expense=rd),
                date(year + 1, 3, 31),
                actor="import",
            )
        )
    return uscc, evs


def _uscc(n: int) -> str:
    body = f"91500{n:010d}XY"[:17]
    try:
        from domain.uscc import make_uscc

        return make_uscc(body)
    except Exception:
        return body + "0"


def clone(template: Template, n: int) -> tuple[str, list[NewEvent]]:
    """Enterprise ``n``: the template's history under a new USCC, name and event ids."""
    old_uscc, evs = template
    uscc = _uscc(n)
    ids: dict[str, str] = {}
    out: list[NewEvent] = []
    for new in evs:
        event = new.event
        update: dict[str, object] = {}
        if getattr(event, "uscc", None) == old_uscc:
            update["uscc"] = uscc
        if isinstance(event, EnterpriseRegistered):
            update["name"] = f"{event.name}·{n}"
        target = getattr(event, "retracted_event_id", None)
        if target is not None:
            update["retracted_event_id"] = ids.get(target, target)
        event_id = ids[new.event_id] = str(uuid.uuid4())
        out.append(
            NewEvent(
                event.model_copy(update=update) if update else event,
                new.occurred_on,
                new.actor,
                event_id,
                ids.get(new.causation_id, new.causation_id) if new.causation_id else None,
                ids.get(new.correlation_id, new.correlation_id) if new.correlation_id else None,
            )
        )
    return enterprise_stream(uscc), out


def batches(total: int, seed: int = 7, chunk: int = CHUNK_EVENTS) -> Iterator[list[StreamAppend]]:
    """Exactly ``total`` events as lists of ``StreamAppend`` of about ``chunk`` events each."""
    _, found = templates(seed)
    left, n = total, 0
    batch: list[StreamAppend] = []
    size = 0
    while left > 0:
        stream, evs = clone(found[n % len(found)], n)
        n += 1
        evs = evs[:left]
        left -= len(evs)
        batch.append(StreamAppend(stream, tuple(evs), 0))
        size += len(evs)
        if size >= chunk:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def source(seed: int = 7) -> str:
    return templates(seed)[0]


def populate(engine: Engine, total: int, seed: int = 7) -> float:
    """Append ``total`` events through the bulk path; returns seconds spent inside the store."""
    store = SqlEventStore(engine)
    spent = 0.0
    for batch in batches(total, seed):
        t0 = time.perf_counter()
        store.append_batch(batch)
        spent += time.perf_counter() - t0
    return spent


# -- databases ---------------------------------------------------------------------------------
def workdir() -> Path:
    base = os.environ.get("SRDI_BENCH_DIR")
    path = Path(base) if base else Path(tempfile.gettempdir()) / "srdi-bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_sqlite_files(path: str | Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_url(name: str, *, fresh: bool = True) -> str:
    path = workdir() / f"{name}.db"
    if fresh:
        remove_sqlite_files(path)
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def new_sqlite_engine(name: str) -> Engine:
    engine = make_engine(sqlite_url(name))
    ensure_schema(engine)
    return engine


def postgres_available() -> bool:
    try:
        engine = make_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL for a fresh, empty PostgreSQL schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
