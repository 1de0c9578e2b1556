"""The door every write goes through from the outside: today's date, who acts, and the handler.

The CLI, the import and the scheduler build a command and call `execute`; the domain never reads
the clock or the environment itself, which keeps it replayable and testable.
"""

from __future__ import annotations

import getpass
import os
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.commands import AnyCommand
from domain.handlers import CommandResult, Reactor, handle

TIMEZONE = "Asia/Shanghai"


def today(timezone: str = TIMEZONE) -> date:
    """The business day in Chongqing (Asia/Shanghai), whatever the server's own zone."""
    return datetime.now(ZoneInfo(timezone)).date()


def current_actor() -> str:
    """Who is acting: ``SRDI_ACTOR`` if set (shared accounts, scripts), else the OS user."""
    actor = os.environ.get("SRDI_ACTOR", "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"


def reactor_of(services: Any) -> Reactor | None:
    """The policy engine wired into the services, when there is one."""
    reactor: Reactor | None = getattr(services, "reactor", None)
    return reactor


def execute(services: Any, command: AnyCommand, *, system: bool = False) -> CommandResult:
    """Run one command against the services' store with today's date, the actor and the reactor."""
    settings = getattr(services, "settings", None)
    timezone = getattr(settings, "timezone", TIMEZONE) or TIMEZONE
    return handle(
        services.store,
        command,
        today=today(timezone),
        actor=current_actor(),
        reactor=reactor_of(services),
        system=system,
    )
