"""``srdi import FILE.csv|FILE.xlsx``: enterprises, milestones and measures in bulk; all or nothing."""

from __future__ import annotations

from pathlib import Path

import typer

from cli_commands.common import guarded, print_json, services, stderr_progress
from cli_commands.options import Json
from cli_commands.output import echo


@guarded
def import_file(
    ctx: typer.Context,
    path: Path = typer.Argument(..., metavar="FILE", help="UTF-8 CSV or an .xlsx workbook, a header first."),
    sheet: str | None = typer.Option(
        None, "--sheet", help="The sheet of an .xlsx workbook (default: the first)."
    ),
    as_json: Json = False,
) -> None:
    """Register enterprises, record milestones and measures from a CSV or XLSX file (docs/cli.md)."""

    from service_layer.files import MAX_IMPORT_BYTES, open_input
    from service_layer.importer import import_file

    handle = open_input(path, "import file", limit=MAX_IMPORT_BYTES)  # streamed, never read whole
    svc = services(ctx)
    bar = stderr_progress("checking lines", quiet=as_json)
    with handle, bar:
        task = bar.add_task("import", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = import_file(svc, handle, progress=progress, sheet=sheet)
    if as_json:
        print_json(report.to_json())
    elif report.replayed:
        echo(f"{path.name} was already imported; nothing written")
    else:
        echo(
            f"imported {path.name}: {report.lines} lines, {report.registered} enterprises registered, "
            f"{report.milestones} milestones and {report.reports} measures recorded, "
            f"{report.skipped} already on record, "
            f"{report.events} events written"
        )
