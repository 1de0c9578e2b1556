"""``srdi``: the one command line for district staff, scripts and auditors.

Thin by design: parse, call a handler or a read model, print. Sub-commands live in
``cli_commands/``; heavy modules are imported inside commands so ``srdi --help`` starts fast.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from cli_commands import (
    audit,
    dashboard,
    demo,
    enterprises,
    facilities,
    importing,
    ledger,
    measures,
    policies,
    reading,
    reports,
    scheduler,
    views,
)

app = typer.Typer(
    name="srdi",
    help="srdi: the system of record for 专精特新 (SRDI) SME programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", envvar="SRDI_DATABASE_URL", help="Database URL (default sqlite:///srdi.db)."
    ),
) -> None:
    """Global options."""


# Every command and every command group of srdi, each with the function or sub-app that runs it
# (``srdi --help`` lists the commands, then the groups).
COMMANDS: dict[str, Callable[..., None]] = {
    "dashboard": dashboard.dashboard,
    "demo": demo.demo,
    "record": enterprises.record,
    "retract": enterprises.retract,
    "status": reading.status,
    "history": reading.history,
    "machines": reading.machines,
    "measures": measures.measures,
    "import": importing.import_file,
    "ledger": ledger.ledger,
    "explain": ledger.explain,
    "simulate": policies.simulate,
    "reminders": scheduler.reminders,
    "targets": views.targets,
    "calendar": views.calendar,
    "replay": views.replay,
}
GROUPS: dict[str, typer.Typer] = {
    "audit": audit.audit_app,
    "db": audit.db_app,
    "enterprise": enterprises.enterprise_app,
    "report": reports.report_app,
    "facility": facilities.facility_app,
    "entitlement": ledger.entitlement_app,
    "policy": policies.policy_app,
    "scheduler": scheduler.scheduler_app,
}
for name, command in COMMANDS.items():
    app.command(name)(command)
for name, group in GROUPS.items():
    app.add_typer(group, name=name)


def hoist_db(args: list[str], command: object) -> list[str]:
    """``--db URL`` given after the command name moved before it, where the root option is parsed.

    ``srdi demo --db URL`` and ``srdi --db URL demo`` are the same command. A ``--db`` that is the
    value of another option (``--ref --db``) or comes after ``--`` is left where it is.
    """
    takes_value = _options_taking_values(args, command)
    moved: list[str] = []
    rest: list[str] = []
    value_next = False  # the token is the value of the option before it
    i = 0
    while i < len(args):
        token = args[i]
        if value_next:
            rest.append(token)
            value_next = False
        elif token == "--":
            rest.extend(args[i:])
            break
        elif i > 0 and token == "--db" and i + 1 < len(args):
            moved.extend(args[i : i + 2])
            i += 2
            continue
        elif i > 0 and token.startswith("--db="):
            moved.append(token)
        else:
            rest.append(token)
            value_next = token in takes_value
        i += 1
    at = _command_index(rest)
    return [*rest[:at], *moved, *rest[at:]]


def _command_index(args: list[str]) -> int:
    """Where the command name stands: after the root's own options (``--db URL``, ``--help``)."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] == "--db" else 1
    return min(i, len(args))


def _options_taking_values(args: list[str], command: object) -> set[str]:
    """The option names that take a value along the command path named in ``args``."""
    names: set[str] = {"--db"}
    current = command  # duck-typed: Typer vendors its own click
    for token in args:
        for param in getattr(current, "params", ()):
            if getattr(param, "param_type_name", "") == "option" and not (param.is_flag or param.count):
                names.update(param.opts)
        subcommands = getattr(current, "commands", None)
        if isinstance(subcommands, dict) and token in subcommands:
            current = subcommands[token]
    return names


def main() -> None:
    """Console entry point: usage errors become one plain line on stderr and exit code 2.

    Typer's own rendering of a usage error is a multi-line panel; staff and scripts get one line.
    Duck-typed (``format_message`` + ``exit_code``) because Typer may vendor its own click.
    """
    import sys

    command = typer.main.get_command(app)
    try:
        args = hoist_db(sys.argv[1:], command)
        code = command.main(args=args, prog_name="srdi", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("error: aborted; nothing partial was written", err=True)
        sys.exit(1)
    except Exception as error:
        message = getattr(error, "format_message", None)
        exit_code = getattr(error, "exit_code", None)
        if message is None or not isinstance(exit_code, int):
            raise
        text = " ".join(message().split())
        if text:  # empty when the help was printed instead (a group called without a command)
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            from cli_commands.output import echo

            echo(f"error: {text}{hint}", err=True)
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def run() -> None:
    """The ``srdi`` console script: `main` with a quicker start and exit (`cli_commands.startup`)."""
    from cli_commands import startup

    startup.pause_gc()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = startup.exit_code(done.code)
    startup.exit_now(code)


if __name__ == "__main__":
    run()
