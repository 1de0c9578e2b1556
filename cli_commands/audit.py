"""Audit and operations: verify the hash chain, apply migrations."""

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
        typer.echo(f"FAILED at position {result.first_bad_position} of {result.events} read: {result.reason}")
    if not result.ok:
        if not as_json:
            raise Integrity(f"hash chain broken at position {result.first_bad_position}")
        raise typer.Exit(4)


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
