"""The CLI stays light to start: heavy packages are imported by the commands that use them.

``srdi --help`` must not pay for SQLAlchemy, pydantic-settings, structlog, Alembic, openpyxl or
APScheduler (issue 7, CLI cold start). Each case runs in a fresh interpreter and checks which modules
were loaded, not how long it took, so a module-level import creeping back fails here on any machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

HEAVY = ("sqlalchemy", "pydantic_settings", "structlog", "alembic", "openpyxl", "apscheduler")

# Runs ``srdi ARGS`` through ``cli.main()`` (what the console script, ``cli.run``, wraps), then
# reports the exit code and which of the watched packages ended up in ``sys.modules``.
_PROBE = """
import json, sys
watched, args = json.loads(sys.argv[1]), sys.argv[2:]
code = None
import cli
if args != ["--import-only"]:
    sys.argv = ["srdi", *args]
    try:
        cli.main()
    except SystemExit as done:
        code = done.code
sys.stdout.flush()
sys.stderr.write("\\n" + json.dumps({"code": code, "loaded": [m for m in watched if m in sys.modules]}))
"""


def _probe(*args: str, watched: tuple[str, ...] = HEAVY) -> tuple[int | None, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(watched), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["loaded"]


def test_importing_the_cli_loads_no_heavy_package() -> None:
    """``import cli`` (every command registered) loads none of the heavy packages."""
    _, loaded = _probe("--import-only")
    assert loaded == [], f"imported at module level by cli / cli_commands: {loaded}"


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (("--help",), 0),
        (("audit", "--help"), 0),
        (("audit", "verify", "--help"), 0),
        (("ledger", "--help"), 0),
        ((), 2),  # no command: the help is printed and the exit code is 2 (click's convention)
        (("audit",), 2),
    ],
    ids=["root", "group", "command", "ledger", "no-args", "group-no-args"],
)
def test_help_loads_no_heavy_package(args: tuple[str, ...], exit_code: int) -> None:
    """Printing help (root, a group, a command) loads none of the heavy packages."""
    code, loaded = _probe(*args)
    assert code == exit_code
    assert loaded == [], f"imported while printing help: {loaded}"


def test_root_help_does_not_load_the_domain_or_the_store() -> None:
    """``srdi --help`` loads none of srdi's own layers (domain, store, projections, scheduler)."""
    watched = ("domain", "events", "projections", "scheduler", "service_layer.settings")
    code, loaded = _probe("--help", watched=watched)
    assert code == 0
    assert loaded == [], f"imported while printing the root help: {loaded}"


def test_a_usage_error_loads_no_heavy_package() -> None:
    """A mistyped command is refused (exit 2) before anything heavy is imported."""
    code, loaded = _probe("no-such-command")
    assert code == 2
    assert loaded == []


def test_bootstrap_is_light_to_import() -> None:
    """``service_layer.bootstrap`` (imported by the CLI and the scheduler) defers its heavy parts."""
    script = (
        "import json, sys; import service_layer.bootstrap; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == []


def test_verify_on_a_migrated_log_loads_only_what_it_needs(tmp_path: Path) -> None:
    """``audit verify`` on a database already at the newest schema skips Alembic (and the rest).

    structlog too: nothing is logged at the default level, so nothing loads it (`events.lazy_logging`).
    """
    url = f"sqlite:///{tmp_path / 'srdi.db'}"
    code, _ = _probe("--db", url, "db", "upgrade")
    assert code == 0
    watched = ("alembic", "openpyxl", "apscheduler", "structlog")
    code, loaded = _probe("--db", url, "audit", "verify", watched=watched)
    assert code == 0
    assert loaded == [], f"imported by audit verify on a migrated log: {loaded}"
