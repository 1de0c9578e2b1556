"""The eventsourcing library's own recorder test cases, run against srdi's store on both back-ends.

A thin adapter maps eventsourcing's recorder API onto `SqlEventStore`: an originator is a stream
(its id as text), a stored event is a srdi event whose type is the topic and whose payload holds
the originator version and the state (base64: srdi stores JSON), and a notification id is the
log position. srdi numbers each stream 1, 2, 3 ... itself; eventsourcing names each event's
version, starting anywhere (its cases start at 0 or 1), so the adapter maps versions onto stream
versions by the stream's first one, appends each originator's events at the stream's version
read just before (srdi's expected version is the conflict check) and reports a conflict, a
version already stored or out of sequence, or a duplicate event as eventsourcing's
``IntegrityError``. Reads go through srdi's own bounds, order and limit (``read_stream``,
``read_all``) so the cases test the store, not the adapter.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    IntegrityError,
    Notification,
    StoredEvent,
)
from eventsourcing.tests import persistence as peer  # imports pycryptodome: in the test extra

from events.base import Event
from events.envelope import NewEvent, RecordedEvent, StreamAppend
from events.sql_store import SqlEventStore
from events.store import ConcurrencyConflict, DuplicateEventId
from tests.backends import fresh_engine


class PeerEvent(Event):
    """A stored event of eventsourcing's: its originator version and opaque state.

    Not registered (no ``event_type=`` keyword): each topic gets its own subclass whose
    ``event_type`` is the topic, so srdi's type column is eventsourcing's topic column.
    """

    originator_version: int
    state: str


_TOPICS: dict[str, type[PeerEvent]] = {}


def _event_of(stored: StoredEvent) -> PeerEvent:
    cls = _TOPICS.get(stored.topic)
    if cls is None:
        cls = _TOPICS[stored.topic] = type("PeerEvent", (PeerEvent,), {"event_type": stored.topic})
    return cls(originator_version=stored.originator_version, state=base64.b64encode(stored.state).decode())


def _originator(stream_id: str) -> UUID | str:
    try:
        return UUID(stream_id)
    except ValueError:
        return stream_id


def _stored(event: RecordedEvent) -> StoredEvent:
    return StoredEvent(
        _originator(event.stream_id),
        event.data["originator_version"],
        event.event_type,
        base64.b64decode(event.data["state"]),
    )


class SrdiRecorder(ApplicationRecorder):
    """eventsourcing's application recorder API over srdi's store."""

    def __init__(self, store: SqlEventStore) -> None:
        self.store = store

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        by_stream: dict[str, list[StoredEvent]] = {}
        for stored in stored_events:
            by_stream.setdefault(str(stored.originator_id), []).append(stored)
        appends = [self._append(stream_id, events) for stream_id, events in by_stream.items()]
        try:
            receipt = self.store.append_batch(appends)
        except (ConcurrencyConflict, DuplicateEventId) as error:
            raise IntegrityError(str(error)) from error
        # srdi numbers a batch stream by stream: map each given event to its position
        positions = iter(range(receipt.first_position, receipt.last_position + 1))
        numbered = {id(s): next(positions) for item in by_stream.values() for s in item}
        return [numbered[id(s)] for s in stored_events]

    def _append(self, stream_id: str, events: list[StoredEvent]) -> StreamAppend:
        last = self.store.read_stream(stream_id, descending=True, limit=1)
        at = last[0].stream_version if last else 0
        first = last[0].data["originator_version"] + 1 if last else events[0].originator_version
        if [e.originator_version for e in events] != list(range(first, first + len(events))):
            raise IntegrityError(
                f"{stream_id}: versions {[e.originator_version for e in events]} after {first - 1}"
            )
        new = tuple(NewEvent(_event_of(e), date.today(), "eventsourcing") for e in events)
        return StreamAppend(stream_id, new, at)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        stream_id = str(originator_id)
        head = self.store.read_stream(stream_id, limit=1)
        if not head:
            return []
        offset = head[0].data["originator_version"] - 1  # stream version = originator version - offset
        events = self.store.read_stream(
            stream_id,
            0 if gt is None else gt - offset,
            to_version=None if lte is None else lte - offset,
            descending=desc,
            limit=limit,
        )
        return [_stored(e) for e in events]

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        after = 0 if start is None else start - 1 if inclusive_of_start else start
        out: list[Notification] = []
        for event in self.store.read_all(
            after, batch=max(limit, 1), until_position=stop, event_types=topics or None
        ):
            if len(out) == limit:
                break
            stored = _stored(event)
            out.append(
                Notification(
                    stored.originator_id,
                    stored.originator_version,
                    stored.topic,
                    stored.state,
                    event.position,
                )
            )
        return out

    def max_notification_id(self) -> int | None:
        return self.store.last_position() or None

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Any:
        raise NotImplementedError("srdi's followers wait with events.wakeup.LogWaiter")


class SrdiAggregateRecorder(SrdiRecorder):
    """The aggregate recorder API: the same, except that inserting returns nothing."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        super().insert_events(stored_events)
        return None


class OnSrdi:
    """Each case's recorder on a fresh database of ``backend``, dropped after the case.

    The library's cases and these mixes of them are abstract (``__test__ = False``); the classes
    below that name a back-end are the ones collected.
    """

    __test__ = False
    backend: ClassVar[str]

    def store(self) -> SqlEventStore:
        case: Any = self
        folder = case.enterContext(tempfile.TemporaryDirectory())
        return SqlEventStore(case.enterContext(fresh_engine(self.backend, Path(folder))))


NOT_A_CONTRACT = "a timing print with no assertion: srdi's speed is measured in bench/"


class AggregateRecorderCases(OnSrdi, peer.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return SrdiAggregateRecorder(self.store())

    @pytest.mark.skip(reason=NOT_A_CONTRACT)
    def test_performance(self) -> None: ...


class ApplicationRecorderCases(OnSrdi, peer.ApplicationRecorderTestCase[ApplicationRecorder]):
    def create_recorder(self) -> ApplicationRecorder:
        return SrdiRecorder(self.store())

    @pytest.mark.skip(reason=NOT_A_CONTRACT)
    def test_performance(self) -> None: ...


class NonInterleavingNotificationIdsCases(OnSrdi, peer.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> ApplicationRecorder:
        return SrdiRecorder(self.store())


def _collected(cases: type[OnSrdi], backend: str) -> type[OnSrdi]:
    """``cases`` on ``backend``, as a class pytest collects (PostgreSQL ones marked as such)."""
    label = "Postgres" if backend == "postgres" else "Sqlite"
    name = f"Test{label}{cases.__name__.removesuffix('Cases')}"
    made = type(name, (cases,), {"__test__": True, "backend": backend, "__module__": __name__})
    return pytest.mark.postgres(made) if backend == "postgres" else made


for _cases in (AggregateRecorderCases, ApplicationRecorderCases, NonInterleavingNotificationIdsCases):
    for _backend in ("sqlite", "postgres"):
        _made = _collected(_cases, _backend)
        globals()[_made.__name__] = _made
del _cases, _backend, _made
