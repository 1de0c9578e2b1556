"""``srdi measures USCC``: an enterprise's pools, designations and industry (the documents' measures).

Read from the enterprise's own stream with the aggregate the handlers decide with, like ``status``
(whose JSON keeps only the contract's keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, parse_date, print_json, services
from cli_commands.options import JSON_OPTION, LANG_OPTION, Lang
from cli_commands.output import console as plain_console

if TYPE_CHECKING:
    from domain.reference import TrackKind


@guarded
def measures(
    ctx: typer.Context,
    uscc: str = typer.Argument(..., metavar="USCC"),
    as_of: str | None = typer.Option(None, "--as-of", help="As the world stood on DATE (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
    lang: Lang = LANG_OPTION,
) -> None:
    """Pools, designations and industry of an enterprise, now or as of a date."""
    from rich.table import Table

    from domain.industries import industry_label
    from domain.labels import label
    from domain.uscc import validate_uscc
    from service_layer.reads import enterprise_measures

    code = validate_uscc(uscc)  # bad input is refused before the database is looked at
    day = parse_date(as_of, "--as-of") if as_of else None
    document = enterprise_measures(services(ctx, reading=True), code, as_of=day)
    if as_json:
        print_json(document)
        return
    industry = industry_label(document["industry"], lang)
    table = Table(title=f"{document['uscc']} {document['name']} ({industry})")
    for column in ("measure", "state", "since", "first", "valid until"):
        table.add_column(column)
    kinds: tuple[tuple[str, TrackKind], ...] = (("pools", "pool"), ("designations", "designation"))
    for key, kind in kinds:
        for track, row in document[key].items():
            state = label(str(row["state"]), lang, namespace="state", kind=kind)
            table.add_row(
                label(track, lang, namespace="track"),
                state,
                row["since"] or "-",
                row["first_on"] or "-",
                row["valid_until"] or "-",
            )
    plain_console().print(table)
