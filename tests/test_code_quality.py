"""The code stays ruff- and mypy-clean: part of the test command so CI enforces it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "domain",
    "events",
    "projections",
    "scheduler",
    "service_layer",
    "cli_commands",
    "cli.py",
    "bench",
]


def _tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return which


def test_ruff_finds_nothing() -> None:
    """ruff check reports no lint errors anywhere in the project."""
    done = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    """mypy --strict (pyproject settings) reports no type errors in the product code and the benchmarks."""
    done = subprocess.run([_tool("mypy"), *PACKAGES], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
