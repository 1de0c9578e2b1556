"""``srdi``: the one command line for district staff, scripts and auditors.

Thin by design: parse, call a handler or a read model, print. Sub-commands live in
``cli_commands/``; heavy modules are imported inside commands so ``srdi --help`` starts fast.
"""

from __future__ import annotations

import typer

from cli_commands import audit, dashboard, demo, enterprises, ledger, scheduler, views

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


for module in (audit, dashboard, demo, enterprises, ledger, scheduler, views):
    module.register(app)


def main() -> None:
    """Console entry point: usage errors become one plain line on stderr and exit code 2.

    Typer's own rendering of a usage error is a multi-line panel; staff and scripts get one line.
    Duck-typed (``format_message`` + ``exit_code``) because Typer may vendor its own click.
    """
    import sys

    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="srdi", standalone_mode=False)
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
