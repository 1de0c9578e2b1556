"""Shared fixtures: every store, projection and scheduler test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import Engine

import events  # noqa: F401  (registers the event types)
from service_layer import logs
from tests.backends import BACKENDS, fresh_database, fresh_engine

logs.configure("console", "warning")

# No test is timed (speed is measured in bench/): Hypothesis's per-example deadline off everywhere,
# so a loaded machine cannot fail a property that holds.
settings.register_profile("srdi", deadline=None)
settings.load_profile("srdi")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the back-end a test runs on: ``sqlite`` or ``postgres``."""
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on the current back-end."""
    with fresh_engine(backend, tmp_path) as eng:
        yield eng


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, unmigrated database on the current back-end (for CLI tests)."""
    with fresh_database(backend, tmp_path) as url:
        yield url
