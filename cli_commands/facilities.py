"""``srdi facility add|close|list``: SRDI parks, internship bases and incubators the targets count.

Each facility is an entity of its own (stream ``facility-<ID>``), not an enterprise: Liangjiang's
targets count 10 parks and 30 internship bases (docs/cli.md).
"""

from __future__ import annotations

import typer

from cli_commands.common import (
    guarded,
    optional_date,
    optional_district,
    parse_date,
    print_done,
    print_json,
    services,
)
from cli_commands.options import District, Json
from cli_commands.output import echo

facility_app = typer.Typer(
    help="SRDI parks, internship bases and incubators (counted by the district targets).",
    no_args_is_help=True,
)


@facility_app.command("add")
@guarded
def facility_add(
    ctx: typer.Context,
    facility_id: str = typer.Argument(..., metavar="ID", help="Your id for it, e.g. LJ-PARK-01."),
    kind: str = typer.Option(
        ..., "--kind", help="srdi-park (产业园), internship-base (见习基地) or incubator."
    ),
    name: str = typer.Option(..., "--name", help="Its name."),
    district: str = typer.Option(..., "--district", help="District key or Chinese name."),
    on: str = typer.Option(..., "--on", help="Date established or designated (YYYY-MM-DD)."),
    unit: str | None = typer.Option(None, "--unit", help="Responsible unit (两江产业集团…)."),
    ref: str | None = typer.Option(None, "--ref", help="Document reference (文号)."),
    as_json: Json = False,
) -> None:
    """Record a park, internship base or incubator established in a district on a date."""
    from domain import facilities
    from domain.inputs import text
    from domain.reference import parse_district
    from service_layer import facilities as service

    key = facilities.parse_id(facility_id)
    chosen_kind, label = facilities.parse_kind(kind), text(name, "name")
    where, day = parse_district(district), parse_date(on)
    by = text(unit, "unit") if unit and unit.strip() else None
    doc = text(ref, "ref") if ref and ref.strip() else None
    done = service.establish(
        services(ctx), key, day, kind=chosen_kind, name=label, district=where, unit=by, ref=doc
    )
    after = done.facility
    print_done(
        done.as_json(),
        as_json,
        f"added {after.kind} {key} {after.name} ({after.district}): event {done.event_id}",
    )


@facility_app.command("close")
@guarded
def facility_close(
    ctx: typer.Context,
    facility_id: str = typer.Argument(..., metavar="ID"),
    on: str = typer.Option(..., "--on", help="Date it closed or lost its designation (YYYY-MM-DD)."),
    reason: str = typer.Option(..., "--reason", help="Why (stored)."),
    as_json: Json = False,
) -> None:
    """Record that a facility closed: it no longer counts from that day."""
    from domain import facilities
    from domain.inputs import text
    from service_layer import facilities as service

    key = facilities.parse_id(facility_id)
    day, why = parse_date(on), text(reason, "reason", max_length=500)
    done = service.close(services(ctx), key, on=day, reason=why)
    print_done(done.as_json(), as_json, f"closed {key} on {day.isoformat()}: event {done.event_id}")


@facility_app.command("list")
@guarded
def facility_list(
    ctx: typer.Context,
    district: District = None,
    kind: str | None = typer.Option(None, "--kind", help="Only this kind."),
    as_of: str | None = typer.Option(None, "--as-of", help="Those open on DATE (default: all, closed too)."),
    as_json: Json = False,
) -> None:
    """Every facility recorded (the live view), oldest first."""
    from domain import facilities
    from service_layer import reads

    key = optional_district(district)
    chosen_kind = facilities.parse_kind(kind) if kind else None
    day = optional_date(as_of)
    rows = reads.facilities(services(ctx, reading=True), district=key, kind=chosen_kind, as_of=day)
    if as_json:
        print_json({"facilities": rows})
        return
    for row in rows:
        closed = f" closed {row['closed_on']}" if row["closed_on"] else ""
        echo(f"{row['id']}  {row['kind']}  {row['name']}  {row['district']}  {row['established_on']}{closed}")
    if not rows:
        echo("no facility recorded")
