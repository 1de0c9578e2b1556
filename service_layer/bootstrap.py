"""Wiring: one place that turns settings into an engine and a store, shared by CLI and scheduler.

Light to import: settings (pydantic-settings), logging (structlog) and the engine (SQLAlchemy) are
loaded when first used, so importing this module costs the CLI's ``--help`` nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from service_layer.policies import LiveReactor
    from service_layer.settings import Settings


def _settings_from_environment() -> Settings:
    from service_layer.settings import Settings

    return Settings()


@dataclass
class Services:
    """Lazily opened infrastructure for one process (the CLI or the scheduler)."""

    settings: Settings = field(default_factory=_settings_from_environment)
    on_open: Callable[[], object] | None = None
    """Called once the database is open and migrated (the CLI ends its start-up GC pause there)."""

    @cached_property
    def engine(self) -> Engine:
        from events.db import make_engine
        from events.migrate import ensure_schema

        settings = self.settings
        engine = make_engine(
            settings.database_url,
            busy_timeout=settings.busy_timeout_seconds,
            connect_timeout=settings.connect_timeout_seconds,
        )
        ensure_schema(engine)
        if self.on_open is not None:
            self.on_open()
        return engine

    @cached_property
    def store(self):  # type: ignore[no-untyped-def]
        import events  # noqa: F401  (registers event types)
        from events.sql_store import SqlEventStore

        store = SqlEventStore(self.engine)
        from service_layer.commands import system_actor

        store.system_actor = system_actor(self.engine)
        return store

    @cached_property
    def reactor(self) -> LiveReactor:
        """The policy engine every command runs through (policies read from the log, cached)."""
        from service_layer.policies import LiveReactor

        return LiveReactor(self.store)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def missing_database(url: str) -> str | None:
    """Why a command that only reads cannot run on ``url``: a SQLite file that does not exist.

    None when the database may exist (any server URL: connecting will tell).
    """
    from events.db import normalise_url, sqlite_file

    path = sqlite_file(normalise_url(url))
    if path is None or path.exists():
        return None
    return f"no database at {path}; check --db (or SRDI_DATABASE_URL); nothing was created"


def open_services(database_url: str | None = None, on_open: Callable[[], object] | None = None) -> Services:
    from service_layer import logs
    from service_layer.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    logs.configure(settings.log_format, settings.log_level)
    return Services(settings, on_open)


def services_on(engine: Engine, settings: Settings | None = None) -> Services:
    """Services on an engine that is already open and migrated (tests, benchmarks, embedding code)."""
    from service_layer.settings import Settings

    services = Services(settings or Settings(database_url=engine.url.render_as_string(hide_password=False)))
    services.__dict__["engine"] = engine  # the cached_property's slot: no second engine, no migration
    return services


def upgrade_schema(services: Services) -> str:
    """Apply every pending schema migration; the revision the database is at after."""
    from events.db import make_engine
    from events.migrate import upgrade

    return upgrade(make_engine(services.settings.database_url))
