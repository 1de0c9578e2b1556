"""Read models on the command line: ``targets``, ``calendar`` and ``replay`` (projections work).

Every read first brings the projections it reads up to the log's end (``projections.feed``);
``--recorded-before`` reads a snapshot rebuilt from what the log held then instead.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, parse_date, print_json, services
from cli_commands.output import console as plain_console
from cli_commands.output import echo

if TYPE_CHECKING:
    from projections.calendar import CalendarEntry
    from projections.targets import TargetRow

_JSON = typer.Option(False, "--json", help="Print one JSON document.")
_LANG = typer.Option("en", "--lang", help="Labels: en or zh.")


def _today(ctx: typer.Context) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(services(ctx).settings.timezone)).date()


@guarded
def targets(
    ctx: typer.Context,
    district: str = typer.Argument(..., help="District key or Chinese name (qianjiang, 黔江…)."),
    year: int | None = typer.Option(None, "--year", min=2000, max=2100, help="Only targets of this year."),
    as_of: str | None = typer.Option(None, "--as-of", help="Count as the world stood on DATE."),
    recorded_before: str | None = typer.Option(
        None, "--recorded-before", help="Count only what the log knew before TIMESTAMP."
    ),
    as_json: bool = _JSON,
    lang: str = _LANG,
) -> None:
    """Each policy document's targets for a district beside the actual counts."""
    from domain.reference import label, parse_district
    from projections.feed import view
    from projections.framework import Cutoff
    from projections.targets import TARGET_VIEWS, read_targets

    key = parse_district(district)
    label("x", lang)  # refuse an unknown --lang before any work
    svc = services(ctx, reading=True)
    cutoff = Cutoff.parse(as_of, recorded_before, svc.settings.timezone)
    on = cutoff.as_of or _today(ctx)
    with view(svc.engine, TARGET_VIEWS, Cutoff(recorded_before=cutoff.recorded_before)) as conn:
        rows = read_targets(conn, key, year=year, on=on)
    if as_json:
        print_json(
            {"district": key, "year": year, "as_of": on.isoformat(), "rows": [r.to_json() for r in rows]}
        )
        return
    _print_targets(label(key, lang, namespace="district"), year, on, rows, lang)


def _print_targets(district: str, year: int | None, on: date, rows: list[TargetRow], lang: str) -> None:
    from rich.table import Table

    if not rows:
        echo(f"no targets for {district}{f' in {year}' if year else ''} in the policy data")
        return
    table = Table(title=f"{district} targets{f' {year}' if year else ''} (counted on {on.isoformat()})")
    for name in ("policy", "year", "measure", "department", "basis", "target", "actual", "met"):
        table.add_column(
            name, justify="right" if name in ("year", "target", "actual") else "left", overflow="fold"
        )
    for r in rows:
        measure = r.label_zh if lang == "zh" else r.measure
        met = "—" if r.met is None else ("yes" if r.met else "no")
        actual = "—" if r.actual is None else str(r.actual)
        target = f"{'>' if r.comparison == 'more-than' else '≥'}{r.target}"
        table.add_row(r.policy, str(r.year), measure, r.department or "", r.basis, target, actual, met)
    plain_console().print(table)


@guarded
def calendar(
    ctx: typer.Context,
    within: int | None = typer.Option(None, "--within", min=0, help="Only deadlines within DAYS."),
    today: str | None = typer.Option(None, "--today", help="Count days from DATE (default today)."),
    district: str | None = typer.Option(None, "--district", help="Only this district."),
    as_json: bool = _JSON,
    lang: str = _LANG,
) -> None:
    """The review calendar: every certified title's valid_until and every IPO tutoring deadline."""
    from domain.reference import label, parse_district
    from projections.calendar import read_calendar
    from projections.feed import view

    label("x", lang)
    day = parse_date(today, "--today") if today else _today(ctx)
    key = parse_district(district) if district else None
    with view(services(ctx, reading=True).engine, ["calendar"]) as conn:
        entries = read_calendar(conn, day, within=within, district=key)
    if as_json:
        print_json({"today": day.isoformat(), "within": within, "entries": [e.to_json() for e in entries]})
        return
    _print_calendar(day, entries, lang)


def _print_calendar(day: date, entries: list[CalendarEntry], lang: str) -> None:
    from rich.table import Table

    from domain.reference import label

    table = Table(title=f"review calendar on {day.isoformat()} ({len(entries)} deadlines)")
    for name in ("valid until", "days left", "uscc", "name", "district", "track", "kind", "since"):
        table.add_column(name, justify="right" if name == "days left" else "left", overflow="fold")
    for e in entries:
        table.add_row(
            e.valid_until.isoformat(),
            str(e.days_left),
            e.uscc,
            e.name or "",
            label(e.district, lang, namespace="district") if e.district else "",
            label(e.track, lang, namespace="track"),
            f"{e.kind} (lapsed)" if e.lapsed else e.kind,
            e.since.isoformat(),
        )
    plain_console().print(table)


@guarded
def replay(
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None, "--as-of", help="Rebuild a snapshot as of DATE and report it (live views untouched)."
    ),
    as_json: bool = _JSON,
    batch: int | None = typer.Option(
        None, "--batch", min=1, help="Events per transaction (default 20000); a crash loses one at most."
    ),
) -> None:
    """Rebuild every projection from the log, in batches, and report events, seconds and rows."""
    import sys

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from projections.feed import DEFAULT_BATCH, rebuild

    day = parse_date(as_of, "--as-of") if as_of else None
    engine = services(ctx).engine
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=plain_console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    with bar:
        task = bar.add_task("replaying events", total=None)
        result = rebuild(
            engine,
            day,
            lambda done, total: bar.update(task, completed=done, total=total),
            batch=batch or DEFAULT_BATCH,
        )
    if as_json:
        print_json(result.to_json())
        return
    when = f" as of {day.isoformat()} (snapshot; live views untouched)" if day else ""
    echo(f"replayed {result.events} events in {result.seconds:.2f} s{when}")
    for name, rows in result.projections.items():
        echo(f"  {name}: {rows} rows")


def register(app: typer.Typer) -> None:
    app.command("targets")(targets)
    app.command("calendar")(calendar)
    app.command("replay")(replay)
