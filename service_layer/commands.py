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
from domain.errors import InvalidInput, escaped, is_utf8, shown
from domain.handlers import CommandResult, Reactor, handle

TIMEZONE = "Asia/Shanghai"


def today(timezone: str = TIMEZONE) -> date:
    """The business day in Chongqing (Asia/Shanghai), whatever the server's own zone."""
    return datetime.now(ZoneInfo(timezone)).date()


def current_actor() -> str:
    """Who is acting: ``SRDI_ACTOR`` if set (shared accounts, scripts), else the OS user."""
    actor = os.environ.get("SRDI_ACTOR", "").strip()
    if actor:
        if not is_utf8(actor):
            raise InvalidInput(
                f"SRDI_ACTOR {shown(actor)} is not valid UTF-8 text; set it to the name in UTF-8"
            )
        return actor
    try:
        user = getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"
    return escaped(user)  # a login name that is not UTF-8 is kept, written as \xNN escapes


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
