"""Failures of the environment, not of the input: the database or the disk cannot do its part.

The CLI maps `Unavailable` to exit 5 and `Busy` to exit 3, each as one line. `explain` turns a
driver or OS error into one of them (or returns None for a bug): it names the database by its URL
with the password hidden and never repeats SQL, which the drivers put in their messages.
"""

from __future__ import annotations

import errno

FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
"""OS errors that mean the disk (or the quota, or the file-size limit) is full."""


class Unavailable(Exception):
    """The database or the disk cannot serve the command (exit 5); nothing was written."""


class Busy(Exception):
    """Another process held the database past the busy timeout (exit 3); nothing was written."""


def safe_url(url: str) -> str:
    """The database URL with its password replaced by ``***`` (or as typed when it does not parse)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(a malformed URL)"


def explain(error: BaseException, url: str) -> Exception | None:
    """`Busy` or `Unavailable` for a database or disk failure, else None (a bug: exit 1)."""
    from sqlalchemy import exc

    where = safe_url(url)
    if isinstance(error, exc.ArgumentError | exc.NoSuchModuleError):
        return Unavailable(
            f"the database URL is malformed ({where}); give one such as sqlite:///srdi.db or "
            "postgresql://user@host/db"
        )
    if isinstance(error, OSError):
        return _os_failure(error)
    if not isinstance(error, exc.DBAPIError):
        return None
    text = str(error.orig if error.orig is not None else error).lower()
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if "database is locked" in text or "database table is locked" in text:
        return Busy(f"the database {where} is busy (another process is writing); try again; nothing written")
    if "readonly" in text or "read-only" in text or sqlstate == "25006":
        return Unavailable(f"the database {where} is read-only; nothing written")
    if "disk is full" in text or "no space left" in text or sqlstate == "53100":
        return Unavailable(f"the disk of the database {where} is full; nothing written")
    if isinstance(error, exc.OperationalError | exc.InterfaceError) or sqlstate.startswith("08"):
        reason = _first_line(str(error.orig if error.orig is not None else error))
        password = _password(url)
        if password:
            reason = reason.replace(password, "***")
        return Unavailable(f"the database {where} cannot be reached or opened ({reason}); nothing written")
    return None


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:
        return None


def _os_failure(error: OSError) -> Exception | None:
    target = f" ({error.filename})" if error.filename else ""
    if error.errno in FULL:
        return Unavailable(f"the disk is full{target}; nothing written")
    if error.errno in (errno.EROFS, errno.EIO):
        return Unavailable(f"the disk cannot be written{target}: {error.strerror}; nothing written")
    return None


def _first_line(text: str) -> str:
    """The driver's reason without its SQL and background links: the first line, cut short."""
    line = text.strip().splitlines()[0] if text.strip() else "no reason given"
    for cut in ("[SQL:", "(Background on this error"):
        line = line.split(cut, 1)[0]
    line = line.strip().rstrip(":")
    return line[:200]
