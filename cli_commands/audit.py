"""Audit and operations: verify the hash chain, export it for an auditor, apply migrations."""

from __future__ import annotations

import typer

from cli_commands.common import Integrity, guarded, print_json, services

audit_app = typer.Typer(help="Check and export the log for an audit.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@audit_app.command("verify")
@guarded
def audit_verify(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Walk the hash chain and name the first bad position (exit 4 if any)."""
    from events.integrity import verify

    result = verify(services(ctx).engine)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        typer.echo(f"ok: {result.events} events, hash chain intact")
    else:
        typer.echo(
            f"FAILED at position {result.first_bad_position} ({result.checked} of {result.events} events "
            f"checked): {result.reason}"
        )
    if not result.ok:
        if not as_json:
            raise Integrity(f"hash chain broken at position {result.first_bad_position}")
        raise typer.Exit(4)


@audit_app.command("export")
@guarded
def audit_export(
    ctx: typer.Context,
    path: str = typer.Argument(..., metavar="PATH", help="Where to write the JSON Lines bundle."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="The log as it stood at the end of DATE (events recorded by then)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write a self-verifying JSON Lines bundle: a header, then every event with its hash.

    The README's few lines of standard-library Python verify it without srdi.
    """
    from cli_commands.common import parse_date
    from projections.export import ExportFailed, export

    svc = services(ctx)
    day = parse_date(as_of, "--as-of") if as_of else None
    try:
        result = export(svc.engine, path, as_of=day, tz=svc.settings.timezone)
    except ExportFailed as error:
        raise Integrity(str(error)) from None
    if as_json:
        print_json(result.to_json())
    else:
        typer.echo(f"exported {result.events} events to {result.path}; last hash {result.last_hash}")


@db_app.command("upgrade")
@guarded
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration."""
    from events.db import make_engine
    from events.migrate import upgrade

    engine = make_engine(services(ctx).settings.database_url)
    typer.echo(f"database at revision {upgrade(engine)}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
