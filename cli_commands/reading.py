"""``srdi status``, ``srdi history`` and ``srdi machines``: reading one enterprise and the machines.

Both ask the read façade (`service_layer.reads`): status is the status projection's (caught up
first; as of a date, the one stream folded by the same fold), history the enterprise's stream as
recorded. JSON keeps the keys of docs/cli.md whatever ``--lang`` says (scripts parse it);
``--lang zh`` changes the tables only.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, optional_date, print_json, services
from cli_commands.options import AsOf, Json, Lang, Language, Uscc
from cli_commands.output import console as plain_console

if TYPE_CHECKING:
    from service_layer.reads import RecordedEvent, StatusView


def _type(event_type: str, lang: str) -> str:
    from domain.labels import label

    return label(event_type, lang, namespace="event")


def _heads(lang: str, *keys: str) -> list[str]:
    from domain.labels import label

    return [label(key, lang, namespace="column") for key in keys]


@guarded
def status(
    ctx: typer.Context,
    uscc: Uscc,
    as_of: AsOf = None,
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """The enterprise's titles and listing stage, now or as of a date.

    A title whose validity has passed by that day (today without --as-of) reads expired, whether or
    not the scheduler has recorded the expiry yet (`expiry_recorded` says which).
    """
    from domain.uscc import validate_uscc
    from service_layer.commands import today
    from service_layer.reads import enterprise_status

    code = validate_uscc(uscc)  # bad input is refused before the database is looked at
    day = optional_date(as_of)
    on = day or today(services(ctx).settings.timezone)
    view = enterprise_status(services(ctx, reading=True), code, as_of=day, on=on)
    if as_json:
        print_json(view.to_json())
    else:
        _print_status(view, lang, day)


def _print_status(ent: StatusView, lang: str, as_of: date | None) -> None:
    from rich.table import Table

    from domain.labels import label
    from domain.reference import tracks

    district = label(ent.district or "", lang, namespace="district")
    when = f" as of {as_of.isoformat()}" if as_of else ""
    table = Table(title=f"{ent.uscc} {ent.name} ({district}){when}")
    for column in _heads(lang, "track", "state", "certified-on", "valid-until"):
        table.add_column(column)
    for track in tracks():
        title = ent.titles.get(track)
        if title is None:
            continue
        state = label(title["state"] or "none", lang, namespace="state", kind="qualification")
        if title.get("expiry_recorded") is False:
            state += f" ({label('not-yet-recorded', lang, namespace='text')})"
        table.add_row(
            label(track, lang, namespace="track"),
            state,
            title["certified_on"] or "-",
            title["valid_until"] or "-",
        )
    console = plain_console()
    console.print(table)
    size = label(ent.size, lang, namespace="size") if ent.size else "-"
    size_head, department_head, listing_head = _heads(lang, "size", "department", "listing")
    console.print(f"{size_head}: {size}   {department_head}: {ent.department or '-'}")
    stage = label(ent.listing["stage"] or "none", lang, namespace="state", kind="listing")
    since = f" ({ent.listing['since']})" if ent.listing["since"] else ""
    console.print(f"{listing_head}: {stage}{since}")


def summary(event: RecordedEvent, lang: str = "en", previous: dict[str, str | None] | None = None) -> str:
    """One readable line of what an event says (a details change: old → new, given ``previous``)."""
    from domain.labels import label

    d, kind = event.data, event.event_type
    if kind == "EnterpriseDetailsChanged":
        was = previous or {}
        parts = []
        for key in ("name", "district", "department", "size"):
            if d.get(key) is None:
                continue
            old, new = was.get(key), str(d[key])
            if key == "district":
                old = None if old is None else label(old, lang, namespace="district")
                new = label(new, lang, namespace="district")
            parts.append(f"{key} {old if old is not None else '-'} → {new}")
        return ", ".join(parts)
    if kind == "MilestoneRecorded":
        text = f"{label(d['track'], lang, namespace='track')}.{label(d['action'], lang, namespace='action')}"
        ref = f" ref {d['ref']}" if d.get("ref") else ""
        override = f" override: {d['override_reason']}" if d.get("override_reason") else ""
        return text + ref + override
    if kind == "EnterpriseRegistered":
        return f"{d['name']} ({label(d['district'], lang, namespace='district')})"
    if kind == "EventRetracted":
        return f"retracts {d['retracted_event_id']}: {d['reason']}"
    skip = {"uscc", "explanation", "policy", "responsible_units", "entitlement_id", "trigger_event_id"}
    return ", ".join(f"{k}={v}" for k, v in d.items() if k not in skip and v not in (None, "", []))


@guarded
def history(
    ctx: typer.Context,
    uscc: Uscc,
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """Every event of the enterprise, oldest first; retractions beside what they retract."""
    from domain.uscc import validate_uscc
    from service_layer.reads import enterprise_history

    code = validate_uscc(uscc)  # bad input is refused before the database is looked at
    found = enterprise_history(services(ctx, reading=True), code)
    if as_json:
        print_json(found.to_json())
        return
    from rich import box
    from rich.table import Table

    date_head, type_head, what_head, actor_head, id_head = _heads(
        lang, "date", "type", "what", "actor", "event-id"
    )
    table = Table(title=f"{found.uscc} {found.name}", box=box.SIMPLE_HEAD)
    table.add_column(date_head, no_wrap=True)
    table.add_column(type_head, no_wrap=True)
    table.add_column(what_head, overflow="fold", min_width=12)
    table.add_column(actor_head, no_wrap=True)
    table.add_column(id_head, no_wrap=True)
    retractions = found.retractions()
    previous = found.previous()
    for e in found.events:
        if e.event_type == "EventRetracted":
            continue  # shown beside what it retracts
        by = retractions.get(e.event_id)
        style = "strike dim" if by is not None else None
        table.add_row(
            e.occurred_on.isoformat(),
            _type(e.event_type, lang),
            summary(e, lang, previous.get(e.event_id)),
            e.actor,
            e.event_id,
            style=style,
        )
        if by is not None:
            kind = f"↳ {_type(by.event_type, lang)}"
            table.add_row(by.occurred_on.isoformat(), kind, by.data["reason"], by.actor, by.event_id)
    console = plain_console()
    console.width = max(console.width, 150)  # whole event ids, one line per event, even when piped
    console.print(table)


@guarded
def machines(
    fmt: str = typer.Option("text", "--format", help="text or mermaid."),
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """The track state machines, drawn from their definitions."""
    from domain import machines as track_machines
    from domain.errors import InvalidInput

    if fmt not in ("text", "mermaid"):
        raise InvalidInput(f"--format {fmt!r} is unknown; use text or mermaid")
    if as_json:
        print_json(track_machines.describe(lang))
    elif fmt == "mermaid":
        typer.echo(track_machines.mermaid(), nl=False)  # our own drawing, not user text
    else:
        from rich.table import Table

        table = Table(title="track state machines")
        for column in ("kind", "action", "label", "from", "to", "system only"):
            table.add_column(column)
        for row in track_machines.describe(lang):
            system = "yes" if row["system_only"] else ""
            table.add_row(row["kind"], row["action"], row["label"], ", ".join(row["from"]), row["to"], system)
        plain_console().print(table)
