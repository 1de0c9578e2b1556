"""Migrations: the fast-path HEAD constant matches the scripts, and upgrade is repeatable."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.migrate import HEAD, current_revision, ensure_schema, script_head


def test_head_constant_matches_newest_migration() -> None:
    """events.migrate.HEAD names the newest revision in migrations/versions."""
    assert script_head() == HEAD


def test_upgrade_is_idempotent_and_creates_the_log(engine: Engine) -> None:
    """A migrated database is at HEAD, has the events table, and re-running changes nothing."""
    assert current_revision(engine) == HEAD
    ensure_schema(engine)
    assert current_revision(engine) == HEAD
    assert sa.inspect(engine).has_table("events")
