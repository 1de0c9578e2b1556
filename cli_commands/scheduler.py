"""``srdi scheduler run`` (reminders and expiries) and ``srdi reminders`` (what is due, recording nothing)."""

from __future__ import annotations

import signal
import threading
from datetime import date
from types import FrameType
from typing import Any

import typer

from cli_commands.common import guarded, optional_date, parse_date, print_json, services
from cli_commands.options import Json, Lang, Language
from cli_commands.output import console as plain_console
from cli_commands.output import echo

scheduler_app = typer.Typer(help="Reminders and expiries of the review calendar.", no_args_is_help=True)


@scheduler_app.command("run")
@guarded
def scheduler_run(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run one day's scan and exit (for cron and tests)."),
    today: str | None = typer.Option(
        None, "--today", help="Act as if today were DATE (YYYY-MM-DD); the clock runs on from there."
    ),
) -> None:
    """Scan the review calendar daily: send the due reminders and record lapses (one leader per database)."""
    from zoneinfo import ZoneInfo

    from scheduler import daemon, jobs
    from service_layer import logs

    svc = services(ctx)
    settings = svc.settings
    if "log_level" not in settings.model_fields_set:  # a service reports its work unless told otherwise
        logs.configure(settings.log_format, "info")
    day = optional_date(today, "--today")
    if day is not None:
        from domain.errors import InvalidInput
        from service_layer.commands import today as business_today

        real = business_today(settings.timezone)
        if day > real:  # expiries and reminders are facts dated by the day scanned: never ahead of it
            raise InvalidInput(
                f"--today {day.isoformat()} is after today ({real.isoformat()}); the scheduler records "
                f"expiries only for days that have come: give a date up to {real.isoformat()}"
            )
    clock = daemon.Clock.pinned(ZoneInfo(settings.timezone), day)
    if once:
        report = jobs.scan_since_last(svc, clock.today())
        if report.refused_at is not None:
            since = "a later day" if report.refused_at > report.day else "and no deadline changed since"
            echo(f"{report.day} not scanned: already scanned {report.refused_at} ({since}); nothing recorded")
            return
        span = "" if report.covered_from == report.day else f" (covering from {report.covered_from})"
        echo(
            f"scanned {report.day}{span}: {len(report.reminders)} reminder(s) issued, "
            f"{len(report.expiries)} expiry(ies) recorded"
        )
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    daemon.run(svc, clock, stop)


@guarded
def reminders(
    ctx: typer.Context,
    within: int = typer.Option(
        90, "--within", min=0, help="Deadlines at most DAYS away (overdue by at most DAYS included)."
    ),
    today: str | None = typer.Option(None, "--today", help="Count days from DATE instead of today."),
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """List the review and tutoring deadlines coming up, without recording anything."""
    from service_layer.commands import today as business_today
    from service_layer.reads import reminders as upcoming

    svc = services(ctx, reading=True)
    day: date = parse_date(today, "--today") if today else business_today(svc.settings.timezone)
    rows: list[dict[str, Any]] = [
        {
            "uscc": r.uscc,
            "track": r.track,
            "valid_until": r.deadline.isoformat(),
            "days_left": r.days_left(day),
            "kind": r.kind,
        }
        for r in upcoming(svc, day, within)
    ]
    if as_json:
        print_json(rows)
        return
    _table(rows, day, within, lang)


def _table(rows: list[dict[str, Any]], day: date, within: int, lang: str) -> None:
    from rich.table import Table

    from domain.labels import label

    title = label("reminders", lang, namespace="text")
    table = Table(title=f"{title} ({day}, ≤ {within} {label('days', lang, namespace='text')})")
    for header in ("uscc", "track", "valid-until", "days-left", "deadline-kind"):
        table.add_column(label(header, lang, namespace="column"))
    for row in rows:
        table.add_row(
            row["uscc"],
            label(row["track"], lang, namespace="track"),
            row["valid_until"],
            str(row["days_left"]),
            label(row["kind"], lang, namespace="deadline"),
        )
    plain_console().print(table)
