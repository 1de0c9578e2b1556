"""Fixtures of the integration tests: logging on the real stderr, the sample ledger history, where
the scheduler's notices go, and a real SMTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from events.db import make_engine
from events.migrate import ensure_schema
from service_layer import logs
from tests.bootstrap import FakeNotifier, Inbox, Office, bootstrap
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


@pytest.fixture
def notifier(tmp_path: Path) -> FakeNotifier:
    """Where the scheduler's notices go: an outbox file of this test's own."""
    return FakeNotifier(tmp_path / "outbox.jsonl")


@pytest.fixture
def office(engine: Engine, notifier: FakeNotifier) -> Office:
    """An office on the test database whose scheduler's notices go to ``notifier``."""
    return bootstrap(engine, notifier=notifier)


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(free_port: int) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 and a free port, for the length of one test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port)
    controller.start()
    try:
        yield inbox, free_port
    finally:
        controller.stop()
