"""Wiring: one place that turns settings into an engine and a store, shared by CLI and scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from service_layer import logs
from service_layer.settings import Settings

if TYPE_CHECKING:
    from service_layer.policies import LiveReactor


@dataclass
class Services:
    """Lazily opened infrastructure for one process (the CLI or the scheduler)."""

    settings: Settings = field(default_factory=Settings)

    @cached_property
    def engine(self) -> Engine:
        from events.db import make_engine
        from events.migrate import ensure_schema

        engine = make_engine(self.settings.database_url)
        ensure_schema(engine)
        return engine

    @cached_property
    def store(self):  # type: ignore[no-untyped-def]
        import events  # noqa: F401  (registers event types)
        from events.sql_store import SqlEventStore

        return SqlEventStore(self.engine)

    @cached_property
    def reactor(self) -> LiveReactor:
        """The policy engine every command runs through (policies read from the log, cached)."""
        from service_layer.policies import LiveReactor

        return LiveReactor(self.store)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def open_services(database_url: str | None = None) -> Services:
    settings = Settings() if database_url is None else Settings(database_url=database_url)
    logs.configure(settings.log_format, settings.log_level)
    return Services(settings)
