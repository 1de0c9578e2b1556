"""Tracking records: "follower F has processed the log up to position N", kept with F's own rows.

A follower (a projection, the scheduler, anything that reads the log and writes something of its
own) moves its record with `record_position` INSIDE the transaction that writes its rows, so the
rows and the position commit or roll back together: after a crash it resumes exactly where its
committed rows end, neither replaying an event into them twice nor skipping one.

The record only moves forward: a position at or below the stored one is refused with
`TrackingConflict` and the caller's transaction should roll back (another worker of the same
follower got there first, or a stale worker woke up late). A deliberate rewind (a rebuild starting
from nothing) says so with `rewind_position`. `tracked_position` is the "max" query: where the
follower stands, 0 when it never recorded anything.

One row per follower (``tracking``: name, position), updated in place with a guarded ``UPDATE``,
rather than one row per processed event: the table stays as small as the number of followers.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from events.store import StoreError
from events.tables import metadata

tracking_table = sa.Table(
    "tracking",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
_T = tracking_table


class TrackingConflict(StoreError):
    """A follower tried to record a position at or below the one it already holds. Roll back."""

    def __init__(self, name: str, stored: int, position: int) -> None:
        super().__init__(
            f"follower {name} has already processed up to position {stored}; "
            f"recording {position} would go back over it (another worker got there first)"
        )
        self.name = name
        self.stored = stored
        self.position = position


def record_position(conn: Connection, name: str, position: int) -> None:
    """Move ``name``'s record to ``position`` in the caller's transaction; refuse going back.

    Raises `TrackingConflict` when the stored position is ``>= position``. Two transactions racing
    to record the same follower serialise on its row (PostgreSQL's row lock, SQLite's write lock):
    the second one sees the first one's position and is refused.
    """
    moved = conn.execute(
        sa.update(_T).where(_T.c.name == name, _T.c.position < position).values(position=position)
    )
    if moved.rowcount:
        return
    stored = conn.execute(sa.select(_T.c.position).where(_T.c.name == name)).scalar()
    if stored is not None:
        raise TrackingConflict(name, int(stored), position)
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(_T).values(name=name, position=position))
    except IntegrityError:
        # another transaction inserted the first record of this follower meanwhile
        stored = conn.execute(sa.select(_T.c.position).where(_T.c.name == name)).scalar()
        raise TrackingConflict(name, int(stored or 0), position) from None


def rewind_position(conn: Connection, name: str, position: int = 0) -> None:
    """Set ``name``'s record to ``position`` even if that is lower: a rebuild starting over."""
    moved = conn.execute(sa.update(_T).where(_T.c.name == name).values(position=position))
    if not moved.rowcount:
        conn.execute(sa.insert(_T).values(name=name, position=position))


def tracked_position(bind: Connection | Engine, name: str) -> int:
    """Where ``name`` stands: the highest position it recorded, 0 if it never did."""
    query = sa.select(sa.func.max(_T.c.position)).where(_T.c.name == name)
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            value = conn.execute(query).scalar()
    else:
        value = bind.execute(query).scalar()
    return int(value or 0)


def tracked_positions(bind: Connection | Engine, names: Iterable[str] | None = None) -> dict[str, int]:
    """Every follower's position (or only those of ``names``), by name."""
    query = sa.select(_T.c.name, _T.c.position)
    if names is not None:
        query = query.where(_T.c.name.in_(sorted(set(names))))
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    else:
        rows = bind.execute(query).all()
    return {name: int(position) for name, position in rows}
