"""The command line in this process, as the integration tests drive it: ``srdi --db URL ARGS``.

Typer's runner over the same `cli.app` the script runs (the end-to-end tests run the script itself,
`tests.e2e.acceptance`; the reliability suite runs `cli.main` with a real argv,
`tests.reliability.support.run_cli`).
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

import cli

RUNNER = CliRunner()


def invoke(url: str, *args: str, **options: Any) -> Result:
    """One run, whatever its exit code (``options`` go to the runner: ``env``, ``input``)."""
    return RUNNER.invoke(cli.app, ["--db", url, *args], **options)


def ok(url: str, *args: str) -> str:
    """The standard output of a run that must succeed."""
    result = invoke(url, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return str(result.stdout)


def as_json(url: str, *args: str) -> Any:
    """The JSON document a run with ``--json`` prints (it must succeed)."""
    return json.loads(ok(url, *args, "--json"))
