"""Read models on the command line: ``targets``, ``calendar`` and ``replay`` (projections work).

Each asks the read façade (`service_layer.reads`), which brings the projections it reads up to
the log's end first; ``--recorded-before`` reads a snapshot rebuilt from what the log held then.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, optional_date, optional_district, parse_date, print_json, services
from cli_commands.options import District, Json, Lang, Language
from cli_commands.output import console as plain_console
from cli_commands.output import echo

if TYPE_CHECKING:
    from service_layer.reads import CalendarEntry, TargetRow


@guarded
def targets(
    ctx: typer.Context,
    district: str = typer.Argument(..., help="District key or Chinese name (qianjiang, 黔江…)."),
    year: int | None = typer.Option(None, "--year", min=2000, max=2100, help="Only targets of this year."),
    as_of: str | None = typer.Option(None, "--as-of", help="Count as the world stood on DATE."),
    recorded_before: str | None = typer.Option(
        None, "--recorded-before", help="Count only what the log knew before TIMESTAMP."
    ),
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """Each policy document's targets for a district beside the actual counts."""
    from domain.labels import label
    from domain.reference import parse_district
    from service_layer import reads

    key = parse_district(district)  # bad input is refused before the database is looked at
    key, on, rows = reads.targets(
        services(ctx, reading=True), key, year=year, as_of=as_of, recorded_before=recorded_before
    )
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
    district: District = None,
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """The review calendar: every certified title's valid_until and every IPO tutoring deadline."""
    from service_layer import reads
    from service_layer.commands import today as business_today

    key = optional_district(district)  # refused before the database is looked at
    day = parse_date(today, "--today") if today else business_today(services(ctx).settings.timezone)
    entries = reads.calendar(services(ctx, reading=True), day, within=within, district=key)
    if as_json:
        print_json({"today": day.isoformat(), "within": within, "entries": [e.to_json() for e in entries]})
        return
    _print_calendar(day, entries, lang)


def _print_calendar(day: date, entries: list[CalendarEntry], lang: str) -> None:
    from rich.table import Table

    from domain.labels import label

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
    as_json: Json = False,
    batch: int | None = typer.Option(
        None, "--batch", min=1, help="Events read at a time (default 20000); fewer use less memory."
    ),
) -> None:
    """Rebuild every projection from the log and report events, seconds and rows.

    The views are built aside and replace the live ones in one transaction at the end: until then
    readers see the old views, and a replay that is stopped leaves them as they were.
    """
    import sys

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from service_layer.reads import rebuild_projections

    day = optional_date(as_of)
    svc = services(ctx)
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
        result = rebuild_projections(
            svc, day, lambda done, total: bar.update(task, completed=done, total=total), batch
        )
    if as_json:
        print_json(result.to_json())
        return
    when = f" as of {day.isoformat()} (snapshot; live views untouched)" if day else ""
    echo(f"replayed {result.events} events in {result.seconds:.2f} s{when}")
    for name, rows in result.projections.items():
        echo(f"  {name}: {rows} rows")
