"""The scheduler's jobs: read the review calendar, issue due reminders, record lapses, notify.

Exactly once, whatever runs twice:
- a reminder is a ``ReminderIssued`` event in ``reminders-<USCC>`` whose event id AND idempotency key
  are ``uuid5(uscc, track, deadline, threshold)``: a second run, a second scheduler or a restart
  finds the key and writes nothing (``replayed``), or loses the race on the unique event id;
- a lapse is ``RecordMilestone(action="expired")`` through the same handler the CLI uses, as the
  system actor; once recorded the title is no longer ``certified`` (or the listing no longer in
  tutoring), so a second attempt is refused by the state machine and counts as already done;
- a notice is written to the outbox table in the same transaction as the event it announces, and
  sent after the commit (``scheduler.outbox``): a kill loses none and sends none twice;
- the whole scan is one transaction that also moves the scheduler's tracking record to
  (day, calendar position) (``scheduler.scan_transaction``): a kill before the commit leaves nothing
  of the scan, and a scan of an older day, or of the same day from no newer calendar, is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.engine import Connection

from domain.commands import RecordMilestone
from domain.enterprise import Enterprise
from domain.errors import DomainError, IllegalTransition
from events.db import is_sqlite
from events.envelope import SYSTEM_ACTOR, NewEvent, StreamAppend
from events.lazy_logging import get_logger
from events.schemas import ReminderIssued, reminder_stream
from events.store import DuplicateEventId, EventStore
from events.tracking import TrackingConflict, record_position, tracked_position
from projections.calendar import CALENDAR_VIEW, read_calendar, tutoring_valid_until
from scheduler import scan
from scheduler.notify import Notice, NoticeKind
from scheduler.outbox import deliver
from scheduler.scan import Deadline, DeadlineKey, DueExpiry, DueReminder, ReminderKind
from scheduler.scan_transaction import SCHEDULER, ScanTransaction, scan_transaction
from scheduler.tables import scans_table
from service_layer.bootstrap import Services
from service_layer.commands import reactor_of
from service_layer.unit_of_work import handle, load

log = get_logger("srdi.scheduler")

_KINDS: dict[str, ReminderKind] = {"review-due": "review-due", "tutoring-lapses": "tutoring-lapses"}
LAPSED_KIND: dict[str, NoticeKind] = {"review-due": "expired", "tutoring-lapses": "tutoring-lapsed"}
CALENDAR = CALENDAR_VIEW  # the stored view the calendar is read from, and its tracking record


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What one scan did: the day, the first day it covered, and what it appended and notified.

    ``refused_at``: set when the scan was refused because the scheduler already stood at or past
    it (the day it stands at); nothing was written.
    """

    day: date
    covered_from: date
    reminders: tuple[Notice, ...]
    expiries: tuple[Notice, ...]
    refused_at: date | None = None


def scan_since_last(services: Services, today: date) -> ScanReport:
    """Scan ``today``, covering every day since the last recorded scan (see ``scheduler.scan``)."""
    last = last_scanned(services)
    covered_from = today if last is None or last >= today else date.fromordinal(last.toordinal() + 1)
    if covered_from < today:
        log.info("catching up", first_missed=covered_from.isoformat(), today=today.isoformat())
    return run_scan(services, today, covered_from)


def run_scan(services: Services, day: date, covered_from: date) -> ScanReport:
    """One scan in one transaction (``scheduler.scan_transaction``), then delivery of every notice.

    Refused (nothing written) when the scheduler already stands at or past this day and calendar
    position: the report then has no reminders or expiries and names where it stands.
    """
    settings = services.settings
    horizon = max(max(settings.reminder_days, default=-1), 0)
    catch_up_calendar(services)  # before the transaction: the view commits its own rows
    try:
        with scan_transaction(services) as scan_tx:
            # the view's position before its rows: the scan never claims more of the log than it read
            seen = tracked_position(scan_tx.conn, CALENDAR)
            position, stands = scan.scan_position(day, seen), tracked_position(scan_tx.conn, SCHEDULER)
            if stands >= position:  # refused up front; `record_position` below is the guard that holds
                raise TrackingConflict(SCHEDULER, stands, position)
            rows = deadlines(scan_tx.conn, day, horizon)
            reminded = issued_thresholds(scan_tx.store, (r for r in rows if r.days_left(day) >= 0))
            due = scan.plan(rows, day, settings.reminder_days, reminded)
            reminders = [n for r in due.reminders if (n := issue_reminder(scan_tx, r, day)) is not None]
            expiries = [n for e in due.expiries if (n := record_expiry(scan_tx, e, day)) is not None]
            mark_scanned(scan_tx.conn, day, covered_from, len(reminders), len(expiries))
            record_position(scan_tx.conn, SCHEDULER, position)
    except TrackingConflict as refused:
        at = scan.scanned_day(refused.stored)
        log.info("scan refused: already scanned", day=day.isoformat(), stands_at=str(at))
        return ScanReport(day, covered_from, (), (), refused_at=at)
    finally:  # whatever was committed has its notice in the outbox table: send it (and any left over)
        deliver(services.engine, settings)
    log.info(
        "scan done",
        day=day.isoformat(),
        covered_from=covered_from.isoformat(),
        reminders=len(reminders),
        expiries=len(expiries),
    )
    return ScanReport(day, covered_from, tuple(reminders), tuple(expiries))


def upcoming(services: Services, day: date, within_days: int) -> list[Deadline]:
    """Deadlines within ``within_days`` of ``day`` either way, recording nothing.

    Overdue ones not yet lapsed (the scheduler has not run since) are included while they are at
    most ``within_days`` past: "within 30 days" of today does not reach a deadline a year ago.
    """
    rows = scan.within(calendar(services, day, within_days), day, within_days)
    return [r for r in rows if r.days_left(day) >= -within_days]


# -- the two jobs -------------------------------------------------------------------------------
def issue_reminder(scan_tx: ScanTransaction, due: DueReminder, day: date) -> Notice | None:
    """Append the reminder and its notice once; None when it was already issued (by anyone)."""
    row = due.deadline
    units = responsible_units(load(scan_tx.store, row.uscc))
    event = ReminderIssued(
        uscc=row.uscc,
        track=row.track,
        deadline=row.deadline,
        days_left=due.days_left,
        threshold=due.threshold,
        kind=row.kind,
        responsible_units=list(units),
    )
    new = NewEvent(event, day, SYSTEM_ACTOR, event_id=due.event_id)
    notice = Notice(
        due.event_id, row.kind, row.uscc, row.track, row.deadline, due.days_left, due.threshold, units, day
    )
    store = scan_tx.noticing(lambda _appends: notice)
    try:
        store.append(reminder_stream(row.uscc), [new], None, idempotency_key=due.event_id)
    except DuplicateEventId:
        return None
    return notice if store.noticed else None


def record_expiry(scan_tx: ScanTransaction, due: DueExpiry, day: date) -> Notice | None:
    """Record the lapse through the command handler as the system, with its notice; None when done."""
    row = due.deadline
    enterprise = load(scan_tx.store, row.uscc)
    if not still_pending(enterprise, row):
        return None  # reviewed, revoked or lapsed since the calendar row was written
    command = RecordMilestone(
        uscc=row.uscc, track=row.track, action="expired", on=due.on, ref=f"valid until {row.deadline}"
    )
    units = responsible_units(enterprise)  # an expiry changes no district or department
    kind = LAPSED_KIND[row.kind]

    def notice_for(appends: Sequence[StreamAppend]) -> Notice:
        event_id = appends[0].events[0].event_id  # the command's own event comes first
        return Notice(
            event_id, kind, row.uscc, row.track, row.deadline, row.days_left(day), None, units, due.on
        )

    store = scan_tx.noticing(notice_for)
    reactor = reactor_of(scan_tx.services)
    try:
        handle(store, command, today=day, actor=SYSTEM_ACTOR, reactor=reactor, system=True)
    except IllegalTransition:
        return None  # another scheduler recorded it first
    except DomainError as error:  # one enterprise's odd history must not stop everyone else's scan
        log.error("lapse not recorded", uscc=row.uscc, track=row.track, error=str(error))
        return None
    return store.noticed[-1] if store.noticed else None


def still_pending(enterprise: Enterprise, row: Deadline) -> bool:
    """Does the aggregate itself (not just the calendar view) still show this deadline open?"""
    if row.kind == "tutoring-lapses":
        since = enterprise.listing.since
        return (
            enterprise.listing.stage == "ipo-tutoring"
            and since is not None
            and (tutoring_valid_until(since) == row.deadline)
        )
    title = enterprise.titles.get(row.track)
    return title is not None and title.state == "certified" and title.valid_until == row.deadline


def responsible_units(enterprise: Enterprise) -> tuple[str, ...]:
    """The district office, and the district's responsible department when one is assigned."""
    if enterprise.district is None:
        return ()
    if enterprise.department:
        return (enterprise.district, f"{enterprise.district}/{enterprise.department}")
    return (enterprise.district,)


# -- reading ------------------------------------------------------------------------------------
def calendar(services: Services, day: date, within_days: int | None = None) -> list[Deadline]:
    """The review calendar's rows due by ``day + within_days`` (all when None), caught up first."""
    from projections.feed import view

    with view(services.engine, [CALENDAR]) as conn:
        return deadlines(conn, day, within_days)


def catch_up_calendar(services: Services) -> None:
    from projections.feed import catch_up as catch_up_projections

    catch_up_projections(services.engine, [CALENDAR])


def deadlines(conn: Connection, day: date, within_days: int | None) -> list[Deadline]:
    """The calendar view's deadlines due by ``day + within_days``, read on ``conn`` as it stands."""
    entries = read_calendar(conn, day, within=within_days)
    return [Deadline(e.uscc, e.track, _KINDS[e.kind], e.valid_until) for e in entries if e.kind in _KINDS]


def issued_thresholds(store: EventStore, rows: Iterable[Deadline]) -> dict[DeadlineKey, int]:
    """For each deadline, the tightest threshold already reminded (read from the reminder streams)."""
    issued: dict[DeadlineKey, int] = {}
    for uscc in sorted({r.uscc for r in rows}):
        for event in store.read_stream(reminder_stream(uscc)):
            data = event.data
            key = (uscc, data["track"], date.fromisoformat(data["deadline"]))
            issued[key] = min(issued.get(key, data["threshold"]), data["threshold"])
    return issued


# -- where the scheduler stands ------------------------------------------------------------------
def last_scanned(services: Services) -> date | None:
    """The last day scanned, from the scheduler's tracking record (None before the first scan)."""
    return scan.scanned_day(tracked_position(services.engine, SCHEDULER))


def mark_scanned(conn: Connection, day: date, covered_from: date, reminders: int, expiries: int) -> None:
    """Log the scan of ``day`` in the scan's transaction; a repeated day adds its counts to the first."""
    sqlite = is_sqlite(conn.engine)
    if sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    now = datetime.now(UTC)
    if sqlite:
        now = now.replace(tzinfo=None)  # as the event store keeps it: naive UTC on SQLite
    table = scans_table
    statement = insert(table).values(
        day=day, covered_from=covered_from, scanned_at=now, reminders=reminders, expiries=expiries
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day],
        set_={
            "scanned_at": statement.excluded.scanned_at,
            "reminders": table.c.reminders + statement.excluded.reminders,
            "expiries": table.c.expiries + statement.excluded.expiries,
        },
    )
    conn.execute(statement)
