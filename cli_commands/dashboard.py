"""``srdi dashboard PATH``: the district report page, one self-contained HTML file.

Thin: parse, read the figures (`service_layer.dashboard`), render (`service_layer.dashboard_page`),
write through a temporary file in the same folder. An existing file is kept unless ``--force``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli_commands.common import fail, guarded, optional_date, optional_district, services
from cli_commands.options import AsOf, District, Force, Lang, PageLanguage
from cli_commands.output import echo


@guarded
def dashboard(
    ctx: typer.Context,
    path: Path = typer.Argument(..., metavar="PATH", help="The HTML file to write."),
    district: District = None,
    as_of: AsOf = None,
    lang: PageLanguage = Lang.zh,
    force: Force = False,
) -> None:
    """Write the district report page: targets, titles, money and listing, read at one log position."""
    from service_layer.commands import today
    from service_layer.dashboard import Unsettled, assemble
    from service_layer.dashboard_page import check_path, render, write_page

    key = optional_district(district)
    day = optional_date(as_of)
    check_path(path, force=force)  # refuse before any reading
    svc = services(ctx, reading=True)
    try:
        page = assemble(svc.engine, district=key, as_of=day, today=today(svc.settings.timezone))
    except Unsettled as busy:  # writers kept moving the views apart: try again (exit 3)
        fail(str(busy), 3)
    write_page(path, render(page, lang), force=force)
    where = key or "all districts"
    echo(f"wrote {path} ({where}, as of {page.day.isoformat()}, log position {page.position}, {lang})")
