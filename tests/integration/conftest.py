"""Fixtures of the integration tests: logging on the real stderr, the sample ledger history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from events.db import make_engine
from events.migrate import ensure_schema
from service_layer import logs
from tests.bootstrap import Office, bootstrap
from tests.integration.ledger_history import record_history


@pytest.fixture(autouse=True)
def stderr_logging() -> Iterator[None]:
    """Point logging at the real stderr before and after each test.

    A CLI run under typer's runner configures structlog with the runner's stderr, which is closed
    when the run ends; a later warning (the fold logs skipped steps) would then fail on a closed file.
    """
    logs.configure("console", "warning")
    yield
    logs.configure("console", "warning")


@pytest.fixture
def history(db_url: str) -> Iterator[Office]:
    """The sample ledger history (`tests.integration.ledger_history`) recorded on the test database
    at ``db_url``; the office's engine is open on it."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    office = bootstrap(engine)
    record_history(office)
    yield office
    engine.dispose()
