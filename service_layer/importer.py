"""``srdi import FILE.csv|FILE.xlsx``: enterprises, milestones and measures in bulk, all or nothing.

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
from typing import Any, BinaryIO

from domain.commands import (
    AnyCommand,
    AssignSpecialist,
    MeasureCommand,
    RecordIncubation,
    RecordInnovationProject,
    RecordMilestone,
    RecordStandard,
    RegisterEnterprise,
    ReportPatent,
    ReportRetrofit,
)
from domain.enterprise import Enterprise
from domain.errors import DomainError, InvalidInput, shown
from domain.inputs import iso_date
from domain.uscc import validate_uscc
from events.db import WRITE
from events.in_transaction import InTransactionStore
from events.sql_store import SqlEventStore
from events.store import EventStore, IdempotencyMismatch
from service_layer.overlay import OverlayStore
from service_layer.retry import retry
from service_layer.spreadsheet import EXAMPLE_HEADER, Row, header_keys, is_xlsx, read_xlsx
from service_layer.unit_of_work import Reactor, guard_appends, handle, load, refresh_reactor

REPORT_KINDS = ("retrofit", "incubation", "innovation-project", "standard", "specialist", "patent")
"""What the `report` column may say (English, or Chinese through `REPORT_ALIASES`)."""
REPORT_ALIASES = {
    "技术改造": "retrofit",
    "智能化改造": "retrofit",
    "绿色化改造": "retrofit",
    "改造": "retrofit",
    "孵化": "incubation",
    "研究院孵化": "incubation",
    "重大创新攻关项目": "innovation-project",
    "揭榜挂帅": "innovation-project",
    "标准": "standard",
    "标准制修订": "standard",
    "服务专员": "specialist",
    "专利": "patent",
    "专利授权": "patent",
}

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
    reports: int = 0
    replayed: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "lines": self.lines,
            "registered": self.registered,
            "milestones": self.milestones,
            "reports": self.reports,
            "skipped": self.skipped,
            "events": self.events,
            "already_imported": self.replayed,
        }


def parse(data: bytes, sheet: str | None = None) -> list[Row]:
    """Decode and split the file (CSV or XLSX); refuse a non-UTF-8, empty or header-less file in one line."""
    source = io.BytesIO(data)
    scan(source)
    return list(rows(source, sheet))


def scan(source: BinaryIO) -> tuple[str, int]:
    """One pass over the file: its import key, its line count; refuse it if not UTF-8 or empty.

    Reads ``_BLOCK`` bytes at a time and leaves ``source`` rewound.
    """
    if _xlsx(source):
        return "import:" + hashlib.sha256(source.read()).hexdigest(), 0
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


def _xlsx(source: BinaryIO) -> bool:
    """Is the file an XLSX workbook (a ZIP holding xl/workbook.xml)? Leaves ``source`` rewound."""
    head = source.read(2)
    source.seek(0)
    if head != b"PK":
        return False
    found = is_xlsx(source.read())
    source.seek(0)
    return found


def rows(source: BinaryIO, sheet: str | None = None) -> Iterator[Row]:
    """The file's lines after the header, one at a time (the header checked first); a workbook's
    rows (``service_layer.spreadsheet``: first sheet, or ``sheet``)."""
    if _xlsx(source):
        yield from read_xlsx(source.read(), sheet)
        return
    if sheet is not None:
        raise InvalidInput("--sheet is for an .xlsx workbook; this file is CSV")
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        try:
            header = header_keys(next(reader), "line 1")
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) > len(header):
                    raise InvalidInput(
                        f"line {reader.line_num}: {len(values)} values"
                        f" but the header names {len(header)} columns"
                    )
                yield Row(reader.line_num, {k: v for k, v in zip(header, values, strict=False) if k})
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
    sheet: str | None = None,
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
    door = _Door(today, actor, reactor, key)

    def attempt() -> ImportReport:
        source.seek(0)
        if isinstance(store, SqlEventStore):
            return _import_streaming(store, source, door, total, progress, chunk, sheet)
        lines = list(rows(source, sheet))
        overlay = OverlayStore(store)
        counts = {"registered": 0, "milestones": 0, "reports": 0, "skipped": 0}
        for done, row in enumerate(lines, start=1):
            _decide(overlay, row, counts, door)
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


def import_file(
    services: Any, data: bytes | BinaryIO, *, progress: Progress | None = None, sheet: str | None = None
) -> ImportReport:
    """`srdi import`: the file imported on today's business date by the person acting, with the
    policy engine deciding what the new facts owe (`import_csv`)."""
    from service_layer.commands import current_actor, reactor_of, today

    return import_csv(
        services.store,
        data,
        today=today(services.settings.timezone),
        actor=current_actor(services),
        reactor=reactor_of(services),
        progress=progress,
        sheet=sheet,
    )


def _import_streaming(
    store: SqlEventStore,
    source: BinaryIO,
    door: _Door,
    total: int,
    progress: Progress | None,
    chunk: int,
    sheet: str | None = None,
) -> ImportReport:
    """The SQL path: ONE write transaction, ``chunk`` lines decided and appended at a time."""
    key, reactor = door.key, door.reactor
    counts = {"registered": 0, "milestones": 0, "reports": 0, "skipped": 0}
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
            for row in rows(source, sheet):
                lines += 1
                _decide(overlay, row, counts, door)
                if lines % chunk == 0:
                    written += flush(overlay)
                    overlay = OverlayStore(base)
                if progress is not None:
                    progress(lines, max(total, lines))
            written += flush(overlay)
            if seen is not None:  # imported before: what this run decided (if anything) is not kept
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


@dataclass(frozen=True)
class _Door:
    """How every line's commands are handled: on today's date, by the actor, with the policy
    engine, each event carrying the file's key as its correlation id."""

    today: date
    actor: str
    reactor: Reactor | None
    key: str

    def run(self, overlay: OverlayStore, command: AnyCommand) -> None:
        handle(
            overlay,
            command,
            today=self.today,
            actor=self.actor,
            reactor=self.reactor,
            correlation_id=self.key[:36],
        )


def _decide(overlay: OverlayStore, row: Row, counts: dict[str, int], door: _Door) -> None:
    """One line decided against the overlay; a refusal names the line."""
    try:
        _apply(overlay, row, counts, door)
    except DomainError as error:
        raise InvalidInput(f"{row.label}: {error.message}") from None


def _apply(overlay: OverlayStore, row: Row, counts: dict[str, int], door: _Door) -> None:
    uscc = validate_uscc(row.get("uscc"))
    name, district, milestone = row.get("name"), row.get("district"), row.get("milestone")
    report = row.get("report")
    if not (name or district or milestone or report):
        raise InvalidInput(
            "nothing to do: give name and district to register, milestone and on to record, or report"
        )
    if milestone and report:
        raise InvalidInput("give milestone or report on a line, not both; put each on its own line")

    def run(command: AnyCommand) -> None:
        door.run(overlay, command)

    if name or district:
        if not (name and district):
            raise InvalidInput("give both name and district to register an enterprise")
        command = RegisterEnterprise(
            uscc=uscc,
            name=name,
            district=district,
            department=row.get("department") or None,
            size=row.get("size") or None,
            industry=row.get("industry") or None,
            on=_date(row.get("on")) if row.get("on") and not (milestone or report) else None,
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
        elif not (milestone or report):
            counts["skipped"] += 1
    if report:
        measure = _report(uscc, report, row)
        if _on_record(load(overlay, uscc), measure):
            counts["skipped"] += 1
            return
        run(measure)
        counts["reports"] += 1
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


def _report(uscc: str, report: str, row: Row) -> MeasureCommand | ReportPatent:
    """The `srdi report` command a line's `report` column names, from the line's columns."""
    kind = REPORT_ALIASES.get(report.strip(), report.strip().lower())
    on = _date(row.get("on")) if row.get("on") else None
    value = row.get
    if kind == "retrofit":
        return ReportRetrofit(
            uscc=uscc,
            year=value("year") or None,
            kind=value("kind") or None,
            investment=value("investment") or None,
            project=value("project") or None,
            on=on,
        )
    if kind == "incubation":
        return RecordIncubation(uscc=uscc, institute=value("institute") or None, on=on)
    if kind == "innovation-project":
        project, field = value("project") or None, value("field") or None
        return RecordInnovationProject(uscc=uscc, project=project, field=field, on=on)
    if kind == "standard":
        standard, level = value("standard") or None, value("level") or None
        role = value("role") or "participant"
        return RecordStandard(uscc=uscc, standard=standard, level=level, role=role, on=on)
    if kind == "specialist":
        return AssignSpecialist(uscc=uscc, person=value("person") or None, unit=value("unit") or None, on=on)
    if kind == "patent":
        number, patent_kind = value("number") or None, value("kind") or "invention"
        return ReportPatent(uscc=uscc, number=number, kind=patent_kind, on=on)
    raise InvalidInput(f"report {shown(report)} is unknown; use one of: {', '.join(REPORT_KINDS)}")


def _on_record(enterprise: Enterprise, command: MeasureCommand | ReportPatent) -> bool:
    """Is this measure already on record (an overlapping file)? Then the line is skipped."""
    if isinstance(command, ReportPatent):
        return any(p.number == command.number for p in enterprise.patents)
    measures = enterprise.measures
    if isinstance(command, ReportRetrofit):
        same = (command.year, command.kind, command.investment, command.project)
        return any((m.year, m.subject, m.amount, m.name) == same for m in measures if m.kind == "retrofit")
    if isinstance(command, RecordIncubation):
        return any(m.kind == "incubation" for m in measures)
    if isinstance(command, RecordInnovationProject):
        return any(m.kind == "innovation-project" and m.name == command.project for m in measures)
    if isinstance(command, RecordStandard):
        return any(m.kind == "standard" and m.name == command.standard for m in measures)
    current = enterprise.specialist
    return current is not None and (current.name, current.detail) == (command.person, command.unit)


def _date(text: str) -> date:
    """YYYY-MM-DD only, as on the command line (`domain.inputs.iso_date`)."""
    try:
        return iso_date(text)
    except ValueError:
        raise InvalidInput(f"on {shown(text)} is not a date; write it as YYYY-MM-DD") from None
