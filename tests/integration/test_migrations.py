"""Migrations: the fast-path HEAD constant matches the scripts, upgrade is repeatable, and the
log's stream-and-type index comes and goes with its migration."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from events.migrate import HEAD, current_revision, ensure_schema, script_head, upgrade


def test_head_constant_matches_newest_migration() -> None:
    """events.migrate.HEAD names the newest revision in migrations/versions."""
    assert script_head() == HEAD


def test_upgrade_is_idempotent_and_creates_the_log(engine: Engine) -> None:
    """A migrated database is at HEAD, has the events table, and re-running changes nothing."""
    assert current_revision(engine) == HEAD
    ensure_schema(engine)
    assert current_revision(engine) == HEAD
    assert sa.inspect(engine).has_table("events")


def test_the_stream_type_index_comes_and_goes_with_its_migration(engine: Engine) -> None:
    """0017 adds the index of each stream's events with their types on SQLite (PostgreSQL, which
    would not test the type in it, is left alone); its downgrade drops it."""

    def names() -> set[str | None]:
        return {i["name"] for i in sa.inspect(engine).get_indexes("events")}

    wanted = engine.dialect.name == "sqlite"
    assert ("ix_events_stream_type" in names()) is wanted
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[2] / "migrations"))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0016")
        conn.commit()
    assert current_revision(engine) == "0016" and "ix_events_stream_type" not in names()
    upgrade(engine)
    assert current_revision(engine) == HEAD and ("ix_events_stream_type" in names()) is wanted
