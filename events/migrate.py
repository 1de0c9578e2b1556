"""Schema migrations through Alembic, applied on first use so a new database needs no manual step.

``ensure_schema`` is on every command's path, so it only reads ``alembic_version`` and compares it to
``HEAD``; Alembic itself (slow to import) is loaded only when there is something to apply.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

HEAD = "0017"  # keep equal to the newest revision in migrations/versions (a test checks)
_SCRIPTS = Path(__file__).resolve().parent.parent / "migrations"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, target: str = "head") -> str:
    """Apply every pending migration; returns the revision the database is now at."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    with engine.connect() as conn:
        conn = conn.execution_options(srdi_write=True)
        config.attributes["connection"] = conn
        command.upgrade(config, target)
        conn.commit()
    return current_revision(engine) or ""


def ensure_schema(engine: Engine) -> None:
    try:
        at = current_revision(engine)
    except sa.exc.OperationalError:
        at = None
    if at != HEAD:
        upgrade(engine)


def script_head() -> str:
    """The newest revision among the migration scripts (for the HEAD consistency test)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    head = ScriptDirectory.from_config(config).get_current_head()
    return head or ""
