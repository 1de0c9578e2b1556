"""``srdi enterprise add``, ``record``, ``retract``, and the registration of the lifecycle commands.

Each command builds a domain command, runs it through `service_layer.commands.execute` (the same
handler the demo, the import and the scheduler use) and prints the event id it appended and every
entitlement the policy engine triggered. Refusals are the domain's one-line `InvalidInput` (exit 2).
"""

from __future__ import annotations

import typer

from cli_commands.common import guarded, optional_date, parse_date, print_result, run_command, services
from cli_commands.options import Json, Uscc

enterprise_app = typer.Typer(help="The register of enterprises.", no_args_is_help=True)


@enterprise_app.command("add")
@guarded
def enterprise_add(
    ctx: typer.Context,
    uscc: Uscc,
    name: str = typer.Option(..., "--name", help="Registered name."),
    district: str = typer.Option(..., "--district", help="District key or Chinese name (yubei, 渝北…)."),
    department: str | None = typer.Option(None, "--department", help="Responsible department (区科技局…)."),
    size: str | None = typer.Option(None, "--size", help="micro, small or medium."),
    industry: str | None = typer.Option(
        None, "--industry", help="Industry key or Chinese name (auto-electronics, 汽车电子, 高端装备…)."
    ),
    on: str | None = typer.Option(None, "--on", help="Date of registration (default today)."),
    as_json: Json = False,
) -> None:
    """Add an enterprise to the register; its USCC check digit is verified (GB 32100-2015)."""
    from domain.commands import RegisterEnterprise

    command = RegisterEnterprise(
        uscc=uscc,
        name=name,
        district=district,
        department=department,
        size=size,
        industry=industry,
        on=optional_date(on, "--on"),
    )
    run_command(ctx, command, as_json, f"registered {command.uscc} {command.name} ({command.district})")


@enterprise_app.command("update")
@guarded
def enterprise_update(
    ctx: typer.Context,
    uscc: Uscc,
    on: str = typer.Option(..., "--on", help="The date the change holds from (YYYY-MM-DD)."),
    name: str | None = typer.Option(None, "--name", help="New registered name."),
    size: str | None = typer.Option(None, "--size", help="micro, small or medium."),
    department: str | None = typer.Option(None, "--department", help="New responsible department."),
    district: str | None = typer.Option(None, "--district", help="District key or Chinese name it moved to."),
    industry: str | None = typer.Option(None, "--industry", help="Industry key or Chinese name (汽车电子…)."),
    as_json: Json = False,
) -> None:
    """Change an enterprise's details from a date; rules read the details in force on their trigger's date."""
    from domain.commands import ChangeEnterpriseDetails
    from service_layer.commands import execute

    command = ChangeEnterpriseDetails(
        uscc=uscc,
        on=parse_date(on),
        name=name,
        size=size,
        department=department,
        district=district,
        industry=industry,
    )
    result = execute(services(ctx), command)
    changed = result.events[0].event.payload()
    what = ", ".join(f"{k} {v}" for k, v in changed.items() if k != "uscc" and v is not None)
    print_result(result, as_json, f"updated {command.uscc} from {command.on.isoformat()}: {what}")


@guarded
def record(
    ctx: typer.Context,
    uscc: Uscc,
    milestone: str = typer.Argument(
        ..., metavar="TRACK.ACTION", help="e.g. srdi-municipal.certified, 小巨人.认定"
    ),
    on: str = typer.Option(..., "--on", help="Business date YYYY-MM-DD (not in the future)."),
    ref: str | None = typer.Option(None, "--ref", help="Document reference (文号)."),
    override: bool = typer.Option(
        False, "--override-prerequisite", help="Record despite a missing ladder prerequisite."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why the prerequisite is overridden (stored)."),
    as_json: Json = False,
) -> None:
    """Record a milestone of a track (a transition its state machine allows)."""
    from domain.commands import RecordMilestone

    command = RecordMilestone.parse(
        uscc, milestone, parse_date(on), ref=ref, override_prerequisite=override, reason=reason
    )
    run_command(
        ctx, command, as_json, f"recorded {command.track}.{command.action} on {command.on.isoformat()}"
    )


@guarded
def retract(
    ctx: typer.Context,
    event_id: str = typer.Argument(..., metavar="EVENT_ID"),
    reason: str = typer.Option(..., "--reason", help="Why the event was wrong (stored)."),
    as_json: Json = False,
) -> None:
    """Retract an event: state is computed as if it never happened; nothing is deleted."""
    from domain.commands import Retract

    run_command(ctx, Retract(event_id=event_id, reason=reason), as_json, f"retracted {event_id}")
