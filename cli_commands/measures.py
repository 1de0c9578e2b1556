"""``srdi measures USCC``: an enterprise's pools, designations and industry (the documents' measures).

Read from the enterprise's own stream with the aggregate the handlers decide with, like ``status``
(whose JSON keeps only the contract's keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, parse_date, print_json
from cli_commands.enterprises import JSON_OPTION
from cli_commands.output import console as plain_console
from cli_commands.reading import LANG_OPTION, _lang, _stream

if TYPE_CHECKING:
    from domain.reference import TrackKind


@guarded
def measures(
    ctx: typer.Context,
    uscc: str = typer.Argument(..., metavar="USCC"),
    as_of: str | None = typer.Option(None, "--as-of", help="As the world stood on DATE (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Pools, designations and industry of an enterprise, now or as of a date."""
    from rich.table import Table

    from domain.enterprise import Enterprise
    from domain.industries import industry_label
    from domain.reference import label

    lang = _lang(lang)
    day = parse_date(as_of, "--as-of") if as_of else None
    _, events = _stream(ctx, uscc)
    document = Enterprise.load(events, as_of=day).measures_json()
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


def register(app: typer.Typer) -> None:
    app.command("measures")(measures)
