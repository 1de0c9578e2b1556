"""``srdi measures USCC``: an enterprise's pools, designations and industry (the documents' measures).

Read from the enterprise's own stream with the aggregate the handlers decide with, like ``status``
(whose JSON keeps only the contract's keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, optional_date, print_json, services
from cli_commands.options import AsOf, Json, Lang, Language, Uscc
from cli_commands.output import console as plain_console

if TYPE_CHECKING:
    from domain.reference import TrackKind


@guarded
def measures(
    ctx: typer.Context,
    uscc: Uscc,
    as_of: AsOf = None,
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """Pools, designations and industry of an enterprise, now or as of a date."""
    from rich.table import Table

    from domain.industries import industry_label
    from domain.labels import label
    from domain.uscc import validate_uscc
    from service_layer.reads import enterprise_measures

    code = validate_uscc(uscc)  # bad input is refused before the database is looked at
    day = optional_date(as_of)
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
