"""``srdi import FILE.csv``: enterprises and milestones in bulk, the whole file or nothing.

Every line goes through the same handlers as the CLI, each seeing what the lines before it decided.
On the SQL store the file is streamed: ONE write transaction (holding the store's write lock)
takes ``IMPORT_CHUNK`` lines at a time through an `OverlayStore`, appends what they decided inside
the transaction and forgets it; later lines read it back through the same connection
(`events.in_transaction`). Memory is one chunk's, whatever the file's length; the first refused
line, or anything else failing, rolls the whole transaction back, so nothing of the file is
written. The price: other writers wait for the import's end (it holds the write lock throughout).
Any other store (in memory) decides every line first and appends once, as one batch.

The import is keyed ``import:<sha256 of the file>``: importing the same file again writes nothing
(the store remembers the key; with the key, it keeps the positions written, not every event id),
and a milestone already on record (same track, action and date) is skipped, so overlapping files
write only what is new. The events of
an import carry its key (their correlation id): a remembered key is honoured only when the events it
names do (``_check_covered``), so a key planted in the database cannot make a file skip in silence.

Columns (header required, any order, names case-insensitive; see docs/cli.md):
``uscc,name,district,department,size,milestone,on,ref,override_reason``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from domain.commands import RecordMilestone, RegisterEnterprise
from domain.errors import DomainError, InvalidInput, shown
from domain.inputs import iso_date
from domain.uscc import validate_uscc
from events.db import WRITE
from events.in_transaction import InTransactionStore
from events.sql_store import SqlEventStore
from events.store import EventStore, IdempotencyMismatch
from service_layer.overlay import OverlayStore
from service_layer.retry import retry
from service_layer.unit_of_work import Reactor, guard_appends, handle, load, refresh_reactor

COLUMNS = ("uscc", "name", "district", "department", "size", "milestone", "on", "ref", "override_reason")
EXAMPLE_HEADER = ",".join(COLUMNS[:8])

IMPORT_CHUNK = 2000  # lines decided, then appended inside the import's one transaction
_BLOCK = 1 << 20  # bytes read at a time

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each line, for a progress bar (total: the file's line count)."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did: lines read, what they recorded or skipped, events written."""

    key: str
    lines: int
    registered: int
    milestones: int
    skipped: int
    events: int
    replayed: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "lines": self.lines,
            "registered": self.registered,
            "milestones": self.milestones,
            "skipped": self.skipped,
            "events": self.events,
            "already_imported": self.replayed,
        }


@dataclass
class _Row:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


def parse(data: bytes) -> list[_Row]:
    """Decode and split the file; refuse a non-UTF-8, empty or header-less file in one line."""
    source = io.BytesIO(data)
    scan(source)
    return list(rows(source))


def scan(source: BinaryIO) -> tuple[str, int]:
    """One pass over the file: its import key, its line count; refuse it if not UTF-8 or empty.

    Reads ``_BLOCK`` bytes at a time and leaves ``source`` rewound.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, lines, blank, first = 0, 0, True, True
    while True:
        block = source.read(_BLOCK)
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the last block
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"the file is not UTF-8 text (bad byte at offset {offset - pending + error.start}); "
                "save it as 'CSV UTF-8' and import again"
            ) from None
        if first and text.startswith("\ufeff"):
            text = text[1:]
        first = first and not text
        if blank and text.strip():
            blank = False
        if not block:
            break
        digest.update(block)
        lines += block.count(b"\n")
        offset += len(block)
    if blank:
        raise InvalidInput(f"the file is empty; its first line must be the header, e.g. {EXAMPLE_HEADER}")
    source.seek(0)
    return "import:" + digest.hexdigest(), lines


def rows(source: BinaryIO) -> Iterator[_Row]:
    """The file's lines after the header, one at a time (the header checked first)."""
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        try:
            header = [h.strip().lower() for h in next(reader)]
            if "uscc" not in header:
                raise InvalidInput(
                    f"line 1: missing header; the first line must name the columns, e.g. {EXAMPLE_HEADER}"
                )
            for column in header:
                if column not in COLUMNS:
                    raise InvalidInput(
                        f"line 1: unknown column {shown(column)}; the columns are {', '.join(COLUMNS)}"
                    )
                if header.count(column) > 1:
                    raise InvalidInput(f"line 1: column {shown(column)} appears twice")
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) > len(header):
                    raise InvalidInput(
                        f"line {reader.line_num}: {len(values)} values"
                        f" but the header names {len(header)} columns"
                    )
                yield _Row(reader.line_num, dict(zip(header, values, strict=False)))
        except csv.Error as error:
            raise InvalidInput(f"line {reader.line_num}: not valid CSV ({error})") from None
    finally:
        text.detach()  # the caller's file stays open


def import_csv(
    store: EventStore,
    data: bytes | BinaryIO,
    *,
    today: date,
    actor: str,
    reactor: Reactor | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], object] | None = None,
    chunk: int = IMPORT_CHUNK,
) -> ImportReport:
    """Validate every line and write everything, or refuse naming the first bad line and write nothing.

    ``data`` is the file's bytes or a binary file open for reading (streamed, never read whole).
    A conflict (another writer touched one of the file's enterprises, or a policy activation
    committed after the lines were decided: only possible off the SQL store, which holds the write
    lock throughout) decides the whole file again from what is stored now, with the same back-off
    as every command (`service_layer.retry`).
    """
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    key, total = scan(source)

    def attempt() -> ImportReport:
        source.seek(0)
        if isinstance(store, SqlEventStore):
            return _import_streaming(store, source, key, total, today, actor, reactor, progress, chunk)
        lines = list(rows(source))
        overlay = OverlayStore(store)
        counts = {"registered": 0, "milestones": 0, "skipped": 0}
        for done, row in enumerate(lines, start=1):
            _decide(overlay, row, counts, today=today, actor=actor, reactor=reactor, key=key)
            if progress is not None:
                progress(done, len(lines))
        appends = overlay.appends()
        events = sum(len(a.events) for a in appends)
        replayed = False
        if appends:
            # The lines were decided with the policy list the reactor read: assert it is still the
            # one in force, or an activation committed meanwhile would never see these enterprises.
            guards = guard_appends(reactor, store)
            receipt = store.append_batch([*appends, *guards], idempotency_key=key)
            replayed = receipt.replayed
            if replayed:
                _check_covered(store, key, receipt.event_ids)
        return ImportReport(key, len(lines), **counts, events=0 if replayed else events, replayed=replayed)

    return retry(attempt, sleep=sleep, on_conflict=lambda _conflict: refresh_reactor(reactor))


def _import_streaming(
    store: SqlEventStore,
    source: BinaryIO,
    key: str,
    total: int,
    today: date,
    actor: str,
    reactor: Reactor | None,
    progress: Progress | None,
    chunk: int,
) -> ImportReport:
    """The SQL path: ONE write transaction, ``chunk`` lines decided and appended at a time."""
    counts = {"registered": 0, "milestones": 0, "skipped": 0}
    with store.engine.connect() as conn:
        conn = conn.execution_options(**WRITE)
        with conn.begin() as transaction:
            store.lock(conn)
            base = InTransactionStore(store, conn)
            seen = store.remembered(conn, key)
            if seen is not None:
                _check_first(base, key, seen.first_position)
            first = base.last_position() + 1
            written, lines = 0, 0

            def flush(overlay: OverlayStore) -> int:
                appends = overlay.appends()
                if appends:
                    store.append_in(conn, appends)
                return sum(len(a.events) for a in appends)

            overlay = OverlayStore(base)
            for row in rows(source):
                lines += 1
                _decide(overlay, row, counts, today=today, actor=actor, reactor=reactor, key=key)
                if lines % chunk == 0:
                    written += flush(overlay)
                    overlay = OverlayStore(base)
                if progress is not None:
                    progress(lines, max(total, lines))
            written += flush(overlay)
            if seen is not None and written:  # imported before: what this run decided is not kept
                transaction.rollback()
                return ImportReport(key, lines, **counts, events=0, replayed=True)
            if written and seen is None:
                guards = guard_appends(reactor, store)
                if guards:
                    store.append_in(conn, guards)
                store.remember_range(conn, key, first, base.last_position())
    return ImportReport(key, lines, **counts, events=written, replayed=False)


def _check_covered(store: EventStore, key: str, event_ids: tuple[str, ...]) -> None:
    """The store found ``key`` remembered (and checked that the events it names stand, contiguous,
    in the log); the first of them, a line's own event, must carry this file's key."""
    first = store.get_event(event_ids[0]) if event_ids else None
    if first is None or first.correlation_id != key[:36]:
        raise IdempotencyMismatch(key, "the events it names were not written by an import of this file")


def _check_first(store: InTransactionStore, key: str, position: int) -> None:
    """`_check_covered` for a streamed import's record, which holds its range, not its ids."""
    first = next(iter(store.read_all(position - 1, until_position=position)), None)
    if first is None or first.correlation_id != key[:36]:
        raise IdempotencyMismatch(key, "the events it names were not written by an import of this file")


def _decide(
    overlay: OverlayStore,
    row: _Row,
    counts: dict[str, int],
    *,
    today: date,
    actor: str,
    reactor: Reactor | None,
    key: str,
) -> None:
    try:
        _apply(overlay, row, counts, today=today, actor=actor, reactor=reactor, key=key)
    except DomainError as error:
        raise InvalidInput(f"line {row.line}: {error.message}") from None


def _apply(
    overlay: OverlayStore,
    row: _Row,
    counts: dict[str, int],
    *,
    today: date,
    actor: str,
    reactor: Reactor | None,
    key: str,
) -> None:
    uscc = validate_uscc(row.get("uscc"))
    name, district, milestone = row.get("name"), row.get("district"), row.get("milestone")
    if not (name or district or milestone):
        raise InvalidInput("nothing to do: give name and district to register, or milestone and on to record")

    def run(command: RegisterEnterprise | RecordMilestone) -> None:
        handle(overlay, command, today=today, actor=actor, reactor=reactor, correlation_id=key[:36])

    if name or district:
        if not (name and district):
            raise InvalidInput("give both name and district to register an enterprise")
        command = RegisterEnterprise(
            uscc=uscc,
            name=name,
            district=district,
            department=row.get("department") or None,
            size=row.get("size") or None,
            on=_date(row.get("on")) if row.get("on") and not milestone else None,
        )
        existing = load(overlay, uscc)
        if not existing.registered:
            run(command)
            counts["registered"] += 1
        elif existing.district != command.district:
            raise InvalidInput(
                f"{uscc} is already registered in {existing.district}, not {command.district}; "
                "fix the district column"
            )
        elif not milestone:
            counts["skipped"] += 1
    if milestone:
        if not row.get("on"):
            raise InvalidInput("a milestone needs its date in the 'on' column (YYYY-MM-DD)")
        reason = row.get("override_reason") or None
        record = RecordMilestone.parse(
            uscc,
            milestone,
            _date(row.get("on")),
            ref=row.get("ref") or None,
            override_prerequisite=reason is not None,
            reason=reason,
        )
        existing = load(overlay, uscc)
        if any(
            (m.track, m.action, m.on) == (record.track, record.action, record.on) for m in existing.milestones
        ):
            counts["skipped"] += 1
            return
        run(record)
        counts["milestones"] += 1


def _date(text: str) -> date:
    """YYYY-MM-DD only, as on the command line (`domain.inputs.iso_date`)."""
    try:
        return iso_date(text)
    except ValueError:
        raise InvalidInput(f"on {shown(text)} is not a date; write it as YYYY-MM-DD") from None
