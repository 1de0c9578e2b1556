"""What every command shares: the services from the root options, error mapping, output helpers.

Exit codes (docs/cli.md): 0 done; 2 rejected input, one line on stderr, nothing written; 3 a write
conflict that survived retries, or a database busy past its timeout; 4 an integrity check failed;
5 the database or the disk is unavailable (unreachable, read-only, full, a malformed URL, or absent
for a command that only reads); 6 not permitted (the approver paying); 1 anything else.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

from cli_commands.output import echo
from service_layer import failures
from service_layer.bootstrap import Services, open_services

if TYPE_CHECKING:
    from service_layer.unit_of_work import CommandResult

P = ParamSpec("P")
R = TypeVar("R")


class Integrity(Exception):
    """An integrity check failed (exit 4)."""


Unavailable = failures.Unavailable
"""The database or the disk cannot be used as asked (exit 5): absent, unreachable, read-only, full."""


def services(ctx: typer.Context, *, reading: bool = False) -> Services:
    """The process's services; ``reading``: the command only reads, so a database that does not
    exist is exit 5 and is not created (a mistyped SQLite path must not become an empty log)."""
    root = ctx.find_root()
    if reading:
        from service_layer.bootstrap import missing_database

        url = root.obj.settings.database_url if isinstance(root.obj, Services) else None
        missing = missing_database(url if url is not None else _root_url(root))
        if missing is not None:
            raise Unavailable(missing)
    if root.obj is None:
        from cli_commands.startup import resume_gc

        root.obj = open_services(root.params.get("db"), on_open=resume_gc)
        root.call_on_close(root.obj.close)  # closed before the process exits (SQLite: WAL folded in)
    assert isinstance(root.obj, Services)
    return root.obj


def _root_url(root: Any) -> str:
    from service_layer.settings import Settings

    given = root.params.get("db")
    return given if given is not None else Settings().database_url


def fail(message: str, code: int = 2) -> NoReturn:
    from cli_commands.output import echo

    echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Map the domain's and store's typed errors to exit codes and one clear line."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from domain.errors import Conflict, DomainError, NotPermitted
        from service_layer.errors import (
            ConcurrencyConflict,
            DuplicateEventId,
            IdempotencyMismatch,
            UnstorableEvent,
        )
        from service_layer.failures import Busy, explain

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except NotPermitted as error:
            fail(_one_line(error), 6)
        except Conflict as error:
            fail(_one_line(error), 3)
        except DomainError as error:
            fail(_one_line(error))
        except ConcurrencyConflict as error:
            fail(_one_line(error), 3)
        except (DuplicateEventId, UnstorableEvent) as error:
            fail(_one_line(error), 2)
        except (Integrity, IdempotencyMismatch) as error:
            fail(_one_line(error), 4)
        except Unavailable as error:
            fail(_one_line(error), 5)
        except Busy as error:
            fail(_one_line(error), 3)
        except KeyboardInterrupt:
            fail("interrupted; nothing partial was written", 1)
        except BrokenPipeError:
            _reader_gone()
        except Exception as error:
            refusal = _not_permitted(error)
            if refusal is not None:
                fail(refusal, 6)
            if type(error).__name__ == "CheckpointAhead":  # projections.feed (not imported for every command)
                fail(_one_line(error), 4)
            known = explain(error, _database_url(args, kwargs))
            if isinstance(known, Busy):
                fail(_one_line(known), 3)
            if known is not None:
                fail(_one_line(known), 5)
            if os.environ.get("SRDI_DEBUG"):
                raise
            fail(
                f"internal error ({type(error).__name__}): {_one_line(error)}; "
                "set SRDI_DEBUG=1 for the traceback",
                1,
            )

    return wrapper


def _not_permitted(error: Exception) -> str | None:
    """The line for a database refusal on grounds of privilege (SQLSTATE 42501), else None.

    PostgreSQL says so when a role of ``srdi db roles`` tries what its grants or row-level policies
    do not allow, or when anything tries to change a stored event (the append-only trigger).
    """
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) != "42501":
        return None
    detail = str(getattr(getattr(orig, "diag", None), "message_primary", None) or orig).splitlines()[0]
    return f"not permitted: the database refused it ({detail}); ask for the role that may do this"


def _database_url(args: Any, kwargs: Any) -> str:
    """The URL the command uses (for naming the database in a failure; its password is hidden)."""
    ctx = next((a for a in (*args, *kwargs.values()) if hasattr(a, "find_root")), None)
    if ctx is not None:
        root = ctx.find_root()
        if isinstance(root.obj, Services):
            return root.obj.settings.database_url
        if root.params.get("db"):
            return str(root.params["db"])
    return os.environ.get("SRDI_DATABASE_URL", "sqlite:///srdi.db")


def _reader_gone() -> NoReturn:
    """The reader of stdout went away (`srdi ledger | head`): stop quietly, as a pipe's writer does.

    Whatever the command was to write is written already (reads write nothing; a write commits
    before printing), so this is not a failure. stdout is pointed at /dev/null so that Python's
    own flush at exit does not raise again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(0)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def print_json(document: Any) -> None:
    """One JSON document on stdout; money as exact JSON numbers (`exact_json`)."""
    sys.stdout.write(exact_json(document) + "\n")
    sys.stdout.flush()  # a full disk or a closed pipe is met here, inside the command's error mapping


def exact_json(document: Any) -> str:
    """JSON with every `Decimal` written as the number it is (``100000``, ``12345678901.23``).

    ``json`` can only write a number through ``float``, which drops digits past 15-17 significant
    ones; so each Decimal goes out as a marked string and the marks are taken off the text.
    A whole amount is written as an integer; a fraction keeps its fen (``0.50``).
    """
    mark = uuid.uuid4().hex

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise TypeError(f"not a finite amount: {value}")
            number = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
            return f"{mark}{number:f}{mark}"
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(document, ensure_ascii=False, default=default)
    return re.sub(f'"{mark}(-?[0-9.]+){mark}"', r"\1", text)


def parse_date(text: str, option: str = "--on") -> date:
    """A calendar date written YYYY-MM-DD (surrounding spaces allowed), else exit 2 (`inputs.iso_date`)."""
    from domain.inputs import iso_date

    try:
        return iso_date(text.strip())
    except ValueError:
        fail(f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-03-01")


def optional_date(text: str | None, option: str = "--as-of") -> date | None:
    """`parse_date` for an option that may be left out (None then)."""
    return parse_date(text, option) if text else None


def optional_district(text: str | None) -> str | None:
    """A ``--district`` filter: the district's key, None when left out, else the domain's one line."""
    from domain.reference import parse_district

    return parse_district(text) if text else None


def print_done(document: Any, as_json: bool, line: str) -> None:
    """What a command did: the JSON document with ``--json``, else one line."""
    if as_json:
        print_json(document)
    else:
        echo(line)


def run_command(ctx: typer.Context, command: Any, as_json: bool, done: str) -> CommandResult:
    """Execute a domain command through the one write door and print what it did (`print_result`)."""
    from service_layer.commands import execute

    result = execute(services(ctx), command)
    print_result(result, as_json, done)
    return result


def stderr_progress(label: str, *, quiet: bool) -> Any:
    """A transient rich progress bar on stderr (stdout stays clean for ``--json``)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=quiet,
    )


def print_result(result: CommandResult, as_json: bool, done: str) -> None:
    """`{"event_id", "entitlements"}` with --json; else a line per event and per entitlement."""
    from service_layer.commands import entitlement_rows

    rows = entitlement_rows(result)
    if as_json:
        print_json({"event_id": result.event_id, "entitlements": rows})
        return
    echo(f"{done}: event {result.event_id}")
    for row in rows:
        if row["amount"] is not None:
            amount = f"{row['amount']:,} yuan"
        elif row["status"] == "pending-data":
            amount = "amount decided when the figures arrive"
        else:
            amount = "amount to be set" if row["status"] != "reversed" else "nothing owed"
        echo(f"  entitlement {row['id']} {row['rule']}: {amount}, {row['status']}")
    if not rows:
        echo("  no entitlement triggered")
