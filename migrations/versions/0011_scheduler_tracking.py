"""The scheduler stands on a tracking record: its last scanned day seeds the record ``scheduler``.

A scan now commits its reminders, lapses, notices and the scheduler's position in one transaction
(``scheduler.scan_transaction``); the position is the tracking record ``scheduler`` (day, then the
calendar's log position: ``scheduler.scan.scan_position``). ``scheduler_scans`` stays as the log of
scans. A database scanned before gets a record at its last scanned day with log position 0, so a
later day goes ahead, so does that day once the calendar has read any event, and an older day is
refused, as after any scan.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NAME = "scheduler"
LOG_BITS = 40  # as scheduler.scan.LOG_BITS when this was written (a migration does not import it)


def upgrade() -> None:
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(day) FROM scheduler_scans")).scalar()
    if last is None:
        return
    day = last if isinstance(last, date) else date.fromisoformat(str(last))
    bind.execute(sa.text("DELETE FROM tracking WHERE name = :name"), {"name": NAME})
    bind.execute(
        sa.text("INSERT INTO tracking (name, position) VALUES (:name, :position)"),
        {"name": NAME, "position": day.toordinal() << LOG_BITS},
    )


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM tracking WHERE name = '{NAME}'"))
