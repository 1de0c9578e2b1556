"""``srdi import FILE.csv``: enterprises and milestones in bulk, the whole file or nothing.

Every line goes through the same handlers as the CLI, against an `OverlayStore` so each line sees
what the lines before it decided while nothing is written. Only when every line is accepted is
everything written, in ONE ``append_batch`` keyed ``import:<sha256 of the file>``: importing the
same file again writes nothing (the store remembers the key), and a milestone already on record
(same track, action and date) is skipped, so overlapping files write only what is new. The events of
an import carry its key (their correlation id): a remembered key is honoured only when the events it
names do (``_check_covered``), so a key planted in the database cannot make a file skip in silence.

Columns (header required, any order, names case-insensitive; see docs/cli.md):
``uscc,name,district,department,size,milestone,on,ref,override_reason``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from domain.commands import RecordMilestone, RegisterEnterprise
from domain.errors import DomainError, InvalidInput, shown
from domain.handlers import Reactor, guard_appends, handle, load, refresh_reactor
from domain.inputs import iso_date
from domain.retry import retry
from domain.uscc import validate_uscc
from events.store import EventStore, IdempotencyMismatch
from service_layer.overlay import OverlayStore

COLUMNS = ("uscc", "name", "district", "department", "size", "milestone", "on", "ref", "override_reason")
EXAMPLE_HEADER = ",".join(COLUMNS[:8])

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each line, for a progress bar."""


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"the file is not UTF-8 text (bad byte at offset {error.start}); "
            "save it as 'CSV UTF-8' and import again"
        ) from None
    if not text.strip():
        raise InvalidInput(f"the file is empty; its first line must be the header, e.g. {EXAMPLE_HEADER}")
    reader = csv.reader(io.StringIO(text, newline=""))
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
        rows: list[_Row] = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise InvalidInput(
                    f"line {reader.line_num}: {len(values)} values but the header names {len(header)} columns"
                )
            rows.append(_Row(reader.line_num, dict(zip(header, values, strict=False))))
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: not valid CSV ({error})") from None
    return rows


def import_csv(
    store: EventStore,
    data: bytes,
    *,
    today: date,
    actor: str,
    reactor: Reactor | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], object] | None = None,
) -> ImportReport:
    """Validate every line, then write everything in one batch, or refuse naming the first bad line.

    A conflict (another writer touched one of the file's enterprises, or a policy activation
    committed after the lines were decided) decides the whole file again from what is stored now,
    with the same back-off as every command (`domain.retry`).
    """
    key = "import:" + hashlib.sha256(data).hexdigest()
    rows = parse(data)

    def attempt() -> ImportReport:
        overlay = OverlayStore(store)
        counts = {"registered": 0, "milestones": 0, "skipped": 0}
        for done, row in enumerate(rows, start=1):
            try:
                _apply(overlay, row, counts, today=today, actor=actor, reactor=reactor, key=key)
            except DomainError as error:
                raise InvalidInput(f"line {row.line}: {error.message}") from None
            if progress is not None:
                progress(done, len(rows))
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
        return ImportReport(key, len(rows), **counts, events=0 if replayed else events, replayed=replayed)

    return retry(attempt, sleep=sleep, on_conflict=lambda _conflict: refresh_reactor(reactor))


def _check_covered(store: EventStore, key: str, event_ids: tuple[str, ...]) -> None:
    """The store found ``key`` remembered (and checked that the events it names stand, contiguous,
    in the log); the first of them, a line's own event, must carry this file's key."""
    first = store.get_event(event_ids[0]) if event_ids else None
    if first is None or first.correlation_id != key[:36]:
        raise IdempotencyMismatch(key, "the events it names were not written by an import of this file")


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
