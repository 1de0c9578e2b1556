"""Targets count a title, pool entry or fact where it was won: district and department on each row.

The rows are cleared and the targets tracking record removed, so the next catch-up rebuilds them from the
log with the district and department in force on each date.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("targets_periods", "targets_firsts", "targets_entries")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("district", sa.String(50)))
        op.add_column(table, sa.Column("department_key", sa.String(200)))
    _rebuild_targets()


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("department_key")
            batch.drop_column("district")
    _rebuild_targets()


def _rebuild_targets() -> None:
    for table in ("targets_entries", "targets_firsts", "targets_periods", "targets_enterprises"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM tracking WHERE name = 'targets'"))
