"""The read façade: every question asked of the record (status, history, ledger, explain, targets,
calendar, reminders, audit), in one place, so the command line never reaches the log or a read model.

Each read returns typed results (the types named here are the ones callers may use) and prints
nothing. A read of the projections first brings them up to the log's end (`projections.feed`);
``recorded_before`` reads a snapshot rebuilt from what the log held then; a status ``as_of`` a date
folds the one enterprise's stream through the same fold the status projection keeps.

Every module is imported inside the function that needs it: ``srdi --help`` and ``srdi status``
pay only for what they use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from events.envelope import RecordedEvent
    from events.integrity import VerifyResult
    from projections.calendar import CalendarEntry
    from projections.check import ViewsCheck
    from projections.export import ExportResult
    from projections.feed import RebuildResult
    from projections.ledger_view import LedgerEntry
    from projections.status import StatusView
    from projections.targets import TargetRow
    from scheduler.scan import Deadline
    from service_layer.bootstrap import Services

# The types the reads return, importable from here; loaded on first use (PEP 562), like everything here.
_RESULT_TYPES = {
    "CalendarEntry": "projections.calendar",
    "Deadline": "scheduler.scan",
    "ExportResult": "projections.export",
    "LedgerEntry": "projections.ledger_view",
    "RebuildResult": "projections.feed",
    "RecordedEvent": "events.envelope",
    "StatusView": "projections.status",
    "TargetRow": "projections.targets",
    "VerifyResult": "events.integrity",
}


def __getattr__(name: str) -> Any:
    module = _RESULT_TYPES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)


__all__ = [
    "CalendarEntry",
    "Deadline",
    "EnterpriseHistory",
    "ExportResult",
    "LedgerEntry",
    "LedgerReading",
    "RebuildResult",
    "RecordedEvent",
    "StatusView",
    "TargetRow",
    "VerifyResult",
    "ViewsCheck",
]


# ── one enterprise ─────────────────────────────────────────────────────────────────────────────


def _not_registered(uscc: str) -> Exception:
    from domain.errors import InvalidInput

    return InvalidInput(
        f"no enterprise {uscc} is registered; add it first with: "
        f"srdi enterprise add {uscc} --name NAME --district KEY"
    )


def enterprise_status(
    services: Services,
    uscc: str,
    *,
    as_of: date | None = None,
    recorded_before: datetime | None = None,
    on: date | None = None,
) -> StatusView:
    """One enterprise's titles and listing: `srdi status` and the status projection, one path.

    Now: the status projection, caught up first. As of a date or an instant: the enterprise's own
    stream folded in memory by the projection's fold (one stream is small; no snapshot needed).
    On ``on`` (the as-of day or today) a title past its ``valid_until`` reads expired, recorded or
    not; None reads the states as recorded. An enterprise not registered (by ``recorded_before``)
    is refused in one line.
    """
    from domain.uscc import validate_uscc
    from events.schemas import enterprise_stream
    from projections.framework import Cutoff
    from projections.status import fold_status, read_status_rows

    code = validate_uscc(uscc)
    cutoff = Cutoff(as_of, recorded_before)
    if cutoff.unbounded:
        from projections.feed import view as caught_up

        with caught_up(services.engine, ["status"]) as conn:
            view = read_status_rows(conn, code, on)
    else:
        stream = services.store.read_stream(enterprise_stream(code))
        view = fold_status(code, (e for e in stream if cutoff.admits(e)), on)
    if view is None:
        raise _not_registered(code)
    return view


@dataclass(frozen=True, slots=True)
class EnterpriseHistory:
    """Every event of one enterprise's stream, oldest first, with its registered name."""

    uscc: str
    name: str | None
    events: list[RecordedEvent]

    def retractions(self) -> dict[str, RecordedEvent]:
        """Retracted event id -> the retraction that withdrew it."""
        return {e.data["retracted_event_id"]: e for e in self.events if e.event_type == "EventRetracted"}

    def previous(self) -> dict[str, dict[str, str | None]]:
        """For each details change: the value each field it sets had on its date, before it.

        Taken from the registration and the changes recorded before it (retracted ones left out).
        """
        from domain.details import DetailsHistory, change_of

        gone = set(self.retractions())
        history = DetailsHistory()
        before: dict[str, dict[str, str | None]] = {}
        for e in self.events:
            if e.event_type not in ("EnterpriseRegistered", "EnterpriseDetailsChanged") or e.event_id in gone:
                continue
            change = change_of(e.event_id, e.occurred_on, e.data)
            if e.event_type == "EnterpriseDetailsChanged":
                then = history.on(e.occurred_on)
                before[e.event_id] = {k: then.get(k) for k, _ in change.fields}
            history = history.with_change(change)
        return before

    def to_json(self) -> dict[str, Any]:
        """`history --json`: every event in order, each retraction linked both ways.

        A details change also carries ``"previous"``: each field it sets as it stood on its date.
        """
        retracted_by = self.retractions()
        previous = self.previous()
        entries = []
        for e in self.events:
            by = retracted_by.get(e.event_id)
            extra = {"previous": previous[e.event_id]} if e.event_id in previous else {}
            retracts = e.data.get("retracted_event_id") if e.event_type == "EventRetracted" else None
            entries.append(
                {
                    "event_id": e.event_id,
                    "position": e.position,
                    "stream_version": e.stream_version,
                    "type": e.event_type,
                    "schema_version": e.schema_version,
                    "occurred_on": e.occurred_on.isoformat(),
                    "recorded_at": e.recorded_at.isoformat(),
                    "actor": e.actor,
                    "causation_id": e.causation_id,
                    "correlation_id": e.correlation_id,
                    "data": e.data,
                    "retracts": retracts,
                    "retracted_by": None
                    if by is None
                    else {
                        "event_id": by.event_id,
                        "reason": by.data.get("reason"),
                        "occurred_on": by.occurred_on.isoformat(),
                        "recorded_at": by.recorded_at.isoformat(),
                        "actor": by.actor,
                    },
                    **extra,
                }
            )
        return {"uscc": self.uscc, "name": self.name, "events": entries}


def enterprise_history(services: Services, uscc: str) -> EnterpriseHistory:
    """The enterprise's whole stream as recorded (retracted events included, marked)."""
    from domain.uscc import validate_uscc
    from events.schemas import enterprise_stream
    from projections.status import fold_status

    code = validate_uscc(uscc)
    events = services.store.read_stream(enterprise_stream(code))
    status = fold_status(code, events)
    if status is None:
        raise _not_registered(code)
    return EnterpriseHistory(code, status.name, events)


def enterprise_measures(services: Services, uscc: str, *, as_of: date | None = None) -> dict[str, Any]:
    """`srdi measures --json`: the enterprise's industry, pools, designations and measures records."""
    from domain.enterprise import Enterprise
    from domain.uscc import validate_uscc
    from events.schemas import enterprise_stream

    code = validate_uscc(uscc)
    events = services.store.read_stream(enterprise_stream(code))
    enterprise = Enterprise.load(events, as_of=as_of)
    if not enterprise.registered:
        raise _not_registered(code)
    return enterprise.measures_json()


# ── the ledger ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class LedgerReading:
    """The ledger entries a filter selects, and their totals."""

    entries: list[LedgerEntry]
    totals: dict[str, Decimal]

    def to_json(self) -> dict[str, Any]:
        return {"entries": [e.to_json() for e in self.entries], "totals": self.totals}


def ledger(
    services: Services,
    *,
    enterprise: str | None = None,
    district: str | None = None,
    year: int | None = None,
    unit: str | None = None,
    as_of: str | None = None,
    recorded_before: str | None = None,
) -> LedgerReading:
    """Every entitlement the filters select, folded to ``as_of``, as the log knew it before an instant.

    ``as_of`` and ``recorded_before`` are the command line's text (a date; a timestamp read in the
    district's clock when it has no offset); a bad one is refused in one line.
    """
    from domain.reference import normalise, parse_district
    from domain.uscc import validate_uscc
    from projections.feed import view
    from projections.framework import Cutoff
    from projections.ledger_view import LedgerFilter, read_ledger, totals

    cutoff = Cutoff.parse(as_of, recorded_before, services.settings.timezone)
    filters = LedgerFilter(
        validate_uscc(enterprise) if enterprise else None,
        parse_district(district) if district else None,
        year,
        cutoff.as_of,
    )
    with view(services.engine, ["ledger"], Cutoff(recorded_before=cutoff.recorded_before)) as conn:
        entries = read_ledger(conn, filters)
    if unit is not None:  # the catalogue: "a ledger can be split by unit"
        wanted = normalise(unit)
        entries = [e for e in entries if wanted in {normalise(u) for u in e.responsible_units}]
    return LedgerReading(entries, totals(entries))


def explain(services: Services, entitlement_id: str, lang: str = "en") -> dict[str, Any]:
    """Why an entitlement: rule, article quoted, triggers, figures, readings, arithmetic, lifecycle."""
    from service_layer.ledger import explain as explain_entitlement

    return explain_entitlement(services, entitlement_id, lang)


# ── districts and deadlines ────────────────────────────────────────────────────────────────────


def targets(
    services: Services,
    district: str,
    *,
    year: int | None = None,
    as_of: str | None = None,
    recorded_before: str | None = None,
) -> tuple[str, date, list[TargetRow]]:
    """(district key, the day counted on, each target of its policies beside the actual count)."""
    from domain.reference import parse_district
    from projections.feed import view
    from projections.framework import Cutoff
    from projections.targets import TARGET_VIEWS, read_targets
    from service_layer.commands import today

    key = parse_district(district)
    cutoff = Cutoff.parse(as_of, recorded_before, services.settings.timezone)
    on = cutoff.as_of or today(services.settings.timezone)
    with view(services.engine, TARGET_VIEWS, Cutoff(recorded_before=cutoff.recorded_before)) as conn:
        rows = read_targets(conn, key, year=year, on=on)
    return key, on, rows


def calendar(
    services: Services, day: date, *, within: int | None = None, district: str | None = None
) -> list[CalendarEntry]:
    """The review calendar on ``day``: every certified title's valid_until, every tutoring deadline."""
    from domain.reference import parse_district
    from projections.calendar import CALENDAR_VIEWS, read_calendar
    from projections.feed import view

    key = parse_district(district) if district else None
    with view(services.engine, CALENDAR_VIEWS) as conn:
        return read_calendar(conn, day, within=within, district=key)


def reminders(services: Services, day: date, within: int) -> list[Deadline]:
    """The deadlines within ``within`` days of ``day`` either way; records nothing."""
    from scheduler import jobs

    return jobs.upcoming(services, day, within)


def facilities(
    services: Services,
    *,
    district: str | None = None,
    kind: str | None = None,
    as_of: date | None = None,
) -> list[dict[str, Any]]:
    """Every facility recorded (the live view, caught up), oldest first; ``as_of``: those open then."""
    import sqlalchemy as sa

    from projections.facilities import facilities_table as t
    from projections.feed import view

    query = sa.select(t).order_by(t.c.established_on, t.c.facility_id)
    if district:
        query = query.where(t.c.district == district)
    if kind:
        query = query.where(t.c.kind == kind)
    if as_of:
        query = query.where(
            t.c.established_on <= as_of, sa.or_(t.c.closed_on.is_(None), t.c.closed_on > as_of)
        )
    with view(services.engine, ["facilities"]) as conn:
        return [
            {
                "id": r.facility_id,
                "kind": r.kind,
                "name": r.name,
                "district": r.district,
                "established_on": str(r.established_on)[:10],
                "closed_on": None if r.closed_on is None else str(r.closed_on)[:10],
            }
            for r in conn.execute(query)
        ]


# ── the log itself ─────────────────────────────────────────────────────────────────────────────


def verify_log(services: Services) -> VerifyResult:
    """Walk the hash chain of the whole log."""
    from events.integrity import verify
    from service_layer.roles import require_whole_log

    require_whole_log(services.engine, "checking the hash chain")

    return verify(services.engine)


def check_views(services: Services) -> ViewsCheck:
    """Rebuild every projection in temporary tables and compare it with the stored one."""
    from projections.check import check_views as compare

    return compare(services.engine)


def export_log(
    services: Services,
    path: str | Path,
    *,
    as_of: date | None = None,
    anchors_path: Path | None = None,
    force: bool = False,
) -> ExportResult:
    """Write the self-verifying JSON Lines bundle, carrying the latest signed anchor when there is one.

    The anchors come from ``anchors_path``, else the configured anchor log when it exists; their
    signatures are checked first (against the pinned key). A log or an anchor that does not verify
    raises `IntegrityFailure`; an anchor log that cannot be read, ``AnchorError``.
    """
    from events import anchors
    from projections.export import ExportFailed, export
    from service_layer.anchoring import pinned_key
    from service_layer.errors import IntegrityFailure
    from service_layer.files import output_file
    from service_layer.roles import require_whole_log

    require_whole_log(services.engine, "an export")
    settings = services.settings
    source = anchors_path or (settings.anchor_log if settings.anchor_log.exists() else None)
    found = anchors.read(source) if source is not None else []
    pinned = pinned_key(settings) if found else None
    try:
        for each in found:
            anchors.check_signature(each, pinned)
        return export(
            services.engine,
            path,
            as_of=as_of,
            tz=settings.timezone,
            anchors=found,
            open_output=lambda target: output_file(target, force=force),
        )
    except (ExportFailed, anchors.BadAnchor) as error:
        raise IntegrityFailure(str(error)) from None


def rebuild_projections(
    services: Services,
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int | None = None,
) -> RebuildResult:
    """Rebuild every projection from the log (``as_of``: a snapshot, live views untouched)."""
    from projections.feed import DEFAULT_BATCH, rebuild

    return rebuild(services.engine, as_of, progress, batch=batch or DEFAULT_BATCH)
