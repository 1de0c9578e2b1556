"""Audit and operations: verify the hash chain, export it for an auditor, apply migrations."""

from __future__ import annotations

from pathlib import Path

import typer

from cli_commands.common import Integrity, fail, guarded, optional_date, print_json, services
from cli_commands.options import Force, Json
from cli_commands.output import echo

audit_app = typer.Typer(help="Check and export the log for an audit.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@audit_app.command("verify")
@guarded
def audit_verify(
    ctx: typer.Context,
    anchors_path: Path | None = typer.Option(
        None, "--anchors", metavar="PATH", help="Also prove every prefix signed in this anchor log intact."
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", metavar="PATH", help="The expected signer of the anchors (PATH.pub of keygen)."
    ),
    views: bool = typer.Option(
        False, "--views", help="Also recompute every view from the log and compare it with the stored one."
    ),
    as_json: Json = False,
) -> None:
    """Walk the hash chain and name the first bad position (exit 4 if any); print the last hash."""
    from service_layer.anchoring import AnchorError, BadAnchor, pinned_key, verify_with_anchors
    from service_layer.reads import verify_log

    svc = services(ctx, reading=True)
    check = None
    try:
        if anchors_path is None:
            result = verify_log(svc)
        else:
            pinned = pinned_key(svc.settings, public_key)
            result, check = verify_with_anchors(svc.engine, anchors_path, pinned)
    except AnchorError as error:
        fail(str(error))
    except BadAnchor as error:
        if as_json:
            print_json({"ok": False, "first_bad_position": None, "reason": str(error)})
            raise typer.Exit(4) from None
        raise Integrity(str(error)) from None
    document = result.to_json()
    if check is not None:
        document.update(
            anchored_position=check.anchored_position,
            unanchored_events=check.unanchored_events,
            anchors=check.anchors,
            anchor_key_pinned=check.pinned,
        )
        if not check.ok:
            document.update(ok=False, first_bad_position=check.first_bad_position, reason=check.reason)
    views_check = None
    if views and document["ok"]:  # views are only worth comparing with a log that holds
        from service_layer.reads import check_views

        views_check = check_views(svc)
        document.update(views_check.to_json())
        if not views_check.ok:
            document["ok"] = False
    elif views:
        document.update(views_ok=None, first_differing_view=None, views_difference="the log is not intact")
    ok = bool(document["ok"])
    if as_json:
        print_json(document)
    elif ok:
        echo(f"ok: {result.events} events, hash chain intact")
        echo(f"last position {result.last_position}, last hash {result.last_hash}")
        if check is not None:
            echo(
                f"anchors: {check.anchors} verified{'' if check.pinned else ' (signer not pinned)'}; "
                f"anchored up to position {check.anchored_position}; "
                f"{check.unanchored_events} events not yet anchored"
            )
        if views_check is not None:
            echo(f"views: all {views_check.views} equal their recomputation from the log")
    elif views_check is not None and not views_check.ok:
        echo(f"FAILED: the {views_check.first_view} view differs from the log: {views_check.difference}")
        echo(f"last position {result.last_position}, last hash {result.last_hash}")
    elif check is None or check.ok:
        echo(
            f"FAILED at position {result.first_bad_position} ({result.checked} of {result.events} events "
            f"checked): {result.reason}"
        )
        echo(f"last position {result.last_position}, last hash {result.last_hash}")
    else:
        echo(f"FAILED at position {check.first_bad_position}: {check.reason}")
        echo(f"last position {result.last_position}, last hash {result.last_hash}")
    if not ok:
        if as_json:
            raise typer.Exit(4)
        if views_check is not None and not views_check.ok:
            raise Integrity(
                f"the {views_check.first_view} view differs from the log: {views_check.difference}; "
                "rebuild the views with srdi replay"
            )
        raise Integrity(f"the log is not intact at position {document['first_bad_position']}")


@audit_app.command("keygen")
@guarded
def audit_keygen(
    path: Path = typer.Argument(
        ..., metavar="PATH", help="The private key file; the public key goes to PATH.pub."
    ),
) -> None:
    """Make an Ed25519 key pair for signing anchors (private key mode 0600; never overwrites)."""
    from service_layer.anchoring import AnchorError, keygen

    try:
        private, public = keygen(path)
    except AnchorError as error:
        fail(str(error))
    echo(f"private key {private} (mode 0600: keep it off the database host's backups); public key {public}")


@audit_app.command("anchor")
@guarded
def audit_anchor(
    ctx: typer.Context,
    key: Path | None = typer.Option(
        None, "--key", metavar="PATH", help="The signing key (else SRDI_ANCHOR_KEY)."
    ),
    log_path: Path | None = typer.Option(
        None,
        "--log",
        metavar="PATH",
        help="The anchor log to append to (else SRDI_ANCHOR_LOG, srdi-anchors.jsonl).",
    ),
    as_json: Json = False,
) -> None:
    """Sign (position, last hash, time) of the verified log and append it to the anchor log."""
    from service_layer.anchoring import AnchorError, BadAnchor, LogNotIntact, anchor

    svc = services(ctx, reading=True)
    try:
        done = anchor(svc.settings, svc.engine, key=key, log_path=log_path)
    except AnchorError as error:
        fail(str(error))
    except (LogNotIntact, BadAnchor) as error:
        raise Integrity(str(error)) from None
    if as_json:
        print_json(done.to_json())
        return
    echo(
        f"anchored position {done.anchor.position}, hash {done.anchor.hash} at {done.anchor.anchored_at} "
        f"in {done.path}" + (f"; mailed to {', '.join(done.mailed_to)}" if done.mailed_to else "")
    )


@audit_app.command("export")
@guarded
def audit_export(
    ctx: typer.Context,
    path: str = typer.Argument(..., metavar="PATH", help="Where to write the JSON Lines bundle."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="The log as it stood at the end of DATE (events recorded by then)."
    ),
    anchors_path: Path | None = typer.Option(
        None,
        "--anchors",
        metavar="PATH",
        help="Carry the latest signed anchor of this log (default SRDI_ANCHOR_LOG when it exists).",
    ),
    as_json: Json = False,
    force: Force = False,
) -> None:
    """Write a self-verifying JSON Lines bundle: a header, then every event with its hash.

    The README's few lines of standard-library Python verify it without srdi.
    """
    from service_layer.anchoring import AnchorError
    from service_layer.errors import IntegrityFailure
    from service_layer.files import check_output
    from service_layer.reads import export_log

    day = optional_date(as_of)
    check_output(path, force=force)
    try:
        result = export_log(
            services(ctx, reading=True), path, as_of=day, anchors_path=anchors_path, force=force
        )
    except AnchorError as error:
        fail(str(error))
    except IntegrityFailure as error:
        raise Integrity(str(error)) from None
    if as_json:
        print_json(result.to_json())
    else:
        echo(f"exported {result.events} events to {result.path}; last hash {result.last_hash}")
        if result.anchor is not None:
            echo(f"carries the anchor of position {result.anchor.position} ({result.anchor.anchored_at})")


@db_app.command("upgrade")
@guarded
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration."""
    from service_layer.bootstrap import upgrade_schema

    echo(f"database at revision {upgrade_schema(services(ctx))}")


@db_app.command("roles")
@guarded
def db_roles(
    ctx: typer.Context,
    prefix: str | None = typer.Option(
        None,
        "--prefix",
        help="Role names: PREFIX + recorder|approver|payer|auditor (default srdi_, or DISTRICT_).",
    ),
    district: str | None = typer.Option(
        None, "--district", help="Limit the roles to this district's enterprises (row-level security)."
    ),
    as_json: Json = False,
) -> None:
    """Create the PostgreSQL roles recorder, approver, payer, auditor, granted only their commands."""
    from domain.reference import parse_district
    from service_layer.roles import RolesRefused, create_roles_for

    key = parse_district(district) if district is not None else None
    try:
        result = create_roles_for(services(ctx), prefix, key)
    except RolesRefused as error:
        fail(str(error))
    if as_json:
        print_json(result.to_json())
        return
    limited = f", limited to {result.district}" if result.district else ""
    for kind, name in result.roles.items():
        state = "created" if name in result.created else "kept"
        echo(f"{kind}: {name} ({state}; grants set in schema {result.schema}{limited})")
    echo(
        "give each person a login in one role, e.g. CREATE ROLE li_wei LOGIN IN ROLE "
        + result.roles["approver"]
    )
