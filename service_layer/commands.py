"""The door every write goes through from the outside: today's date, who acts, and the handler.

The CLI, the import and the scheduler build a command and call `execute`; the domain never reads
the clock or the environment itself, which keeps it replayable and testable.
"""

from __future__ import annotations

import getpass
import os
import unicodedata
import weakref
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.commands import AnyCommand
from domain.errors import InvalidInput, escaped, is_utf8, shown
from service_layer.unit_of_work import CommandResult, Reactor, handle

TIMEZONE = "Asia/Shanghai"


def today(timezone: str = TIMEZONE) -> date:
    """The business day in Chongqing (Asia/Shanghai), whatever the server's own zone."""
    return datetime.now(ZoneInfo(timezone)).date()


def current_actor(services: Any = None) -> str:
    """Who is acting, as recorded in every event this process appends.

    On PostgreSQL (when ``services`` is given) the database session user, which the client cannot
    choose: a login of its own per person, holding one of the roles of ``srdi db roles``. A shared
    login (the owner running maintenance) may add a name with ``SRDI_ACTOR``: ``login/name``, the
    login always first. On SQLite there is no login: ``SRDI_ACTOR`` if set, else the OS user.
    """
    named = _named_actor()
    engine = getattr(services, "engine", None) if services is not None else None
    if engine is None or engine.dialect.name == "sqlite":
        return named or _os_user()
    login = session_user(engine)
    return login if named in (None, login) else f"{login}/{named}"


def session_user(engine: Any) -> str:
    """The PostgreSQL login of this engine's connections (asked once per engine)."""
    cached = _SESSION_USERS.get(engine)
    if cached is None:
        import sqlalchemy as sa

        with engine.connect() as conn:
            cached = str(conn.execute(sa.text("SELECT session_user")).scalar())
        _SESSION_USERS[engine] = cached
    return cached


_SESSION_USERS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def system_actor(engine: Any) -> str:
    """What the policy engine's and the scheduler's events are recorded as: ``system``, or on
    PostgreSQL ``login/system`` when the database binds this login's actor (every login but the
    schema's owner and superusers: migration 0012), whose trigger refuses any other actor."""
    return f"{session_user(engine)}/system" if actor_bound(engine) else "system"


def actor_bound(engine: Any) -> bool:
    """Whether the database vouches for this login as the actor (PostgreSQL: every login but the
    schema's owner and superusers, migration 0012); never on SQLite, which has no logins."""
    if engine.dialect.name == "sqlite":
        return False
    import sqlalchemy as sa

    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT srdi_actor_bound()")).scalar())


def _named_actor() -> str | None:
    actor = os.environ.get("SRDI_ACTOR", "").strip()
    if not actor:
        return None
    if not is_utf8(actor):
        raise InvalidInput(f"SRDI_ACTOR {shown(actor)} is not valid UTF-8 text; set it to the name in UTF-8")
    if len(actor) > MAX_ACTOR or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in actor):
        raise InvalidInput(
            f"SRDI_ACTOR {shown(actor)} is not a name: give one line of at most {MAX_ACTOR} "
            "printable characters"
        )
    return actor


MAX_ACTOR = 128
"""The longest ``SRDI_ACTOR``: with a PostgreSQL login (at most 63 characters) and ``/`` in front it
still fits the log's ``actor`` column (200 characters, `events.store.LIMITS`)."""


def _os_user() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"
    return escaped(user)[:MAX_ACTOR]  # a login name that is not UTF-8 is kept, written as \xNN escapes


def reactor_of(services: Any) -> Reactor | None:
    """The policy engine wired into the services, when there is one."""
    reactor: Reactor | None = getattr(services, "reactor", None)
    return reactor


def entitlement_rows(result: CommandResult) -> list[dict[str, Any]]:
    """The entitlements a command triggered, as `{"id","rule","amount","status"}`.

    Statuses are the ledger's (docs/cli.md): a pending entitlement decided not eligible is `reversed`.
    """
    return [
        {
            "id": r.entitlement_id,
            "rule": r.rule,
            "amount": r.amount,
            "status": "reversed" if r.status == "not-eligible" else r.status,
        }
        for r in result.entitlements()
    ]


def execute(services: Any, command: AnyCommand, *, system: bool = False) -> CommandResult:
    """Run one command against the services' store with today's date, the actor and the reactor."""
    settings = getattr(services, "settings", None)
    timezone = getattr(settings, "timezone", TIMEZONE) or TIMEZONE
    return handle(
        services.store,
        command,
        today=today(timezone),
        actor=current_actor(services),
        reactor=reactor_of(services),
        system=system,
    )
