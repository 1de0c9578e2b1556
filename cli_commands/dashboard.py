"""``srdi dashboard PATH``: the district report page, one self-contained HTML file.

Thin: parse, read the figures (`service_layer.dashboard`), render (`service_layer.dashboard_page`),
write through a temporary file in the same folder. An existing file is kept unless ``--force``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli_commands.common import fail, guarded, parse_date, services
from cli_commands.options import PAGE_LANG_OPTION, Lang
from cli_commands.output import echo


@guarded
def dashboard(
    ctx: typer.Context,
    path: Path = typer.Argument(..., metavar="PATH", help="The HTML file to write."),
    district: str | None = typer.Option(
        None, "--district", help="Only this district (key or Chinese name); default: every district."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Figures as they stood on DATE (default today)."),
    lang: Lang = PAGE_LANG_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace PATH if it exists."),
) -> None:
    """Write the district report page: targets, titles, money and listing, read at one log position."""
    from domain.reference import parse_district
    from service_layer.commands import today
    from service_layer.dashboard import Unsettled, assemble
    from service_layer.dashboard_page import check_path, render, write_page

    key = parse_district(district) if district else None
    day = parse_date(as_of, "--as-of") if as_of else None
    check_path(path, force=force)  # refuse before any reading
    svc = services(ctx, reading=True)
    try:
        page = assemble(svc.engine, district=key, as_of=day, today=today(svc.settings.timezone))
    except Unsettled as busy:  # writers kept moving the views apart: try again (exit 3)
        fail(str(busy), 3)
    write_page(path, render(page, lang), force=force)
    where = key or "all districts"
    echo(f"wrote {path} ({where}, as of {page.day.isoformat()}, log position {page.position}, {lang})")
