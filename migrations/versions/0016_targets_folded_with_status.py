"""The targets view is folded with the status view: each enterprise's fold is stored once.

``targets_enterprises.fold`` held the same text as ``status_enterprises.fold`` (half the bytes of
every view together). The targets view now takes its folds from the status view and the two are
caught up and rebuilt together, at one checkpoint. Views standing apart cannot be folded together,
so both are emptied and their tracking records dropped: the next catch-up (any read, or
``srdi replay``, faster on a long log) builds them again from the log. A downgrade gives the column
back, empty, and empties the targets view for the older version to build it again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TARGETS = ("targets_entries", "targets_firsts", "targets_periods", "targets_enterprises")
STATUS = ("status_titles", "status_enterprises")


def upgrade() -> None:
    for table in (*TARGETS, *STATUS):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM tracking WHERE name IN ('targets', 'status')"))
    with op.batch_alter_table("targets_enterprises") as batch:
        batch.drop_column("fold")


def downgrade() -> None:
    for table in TARGETS:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM tracking WHERE name = 'targets'"))
    with op.batch_alter_table("targets_enterprises") as batch:
        batch.add_column(sa.Column("fold", sa.Text, nullable=False, server_default=""))
