"""Tracking records for every follower of the log (projections' checkpoints move there), and an
index that lets a read filtered by event type cost what it returns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO tracking (name, position) SELECT name, position FROM projection_checkpoints")
    op.drop_table("projection_checkpoints")
    op.create_index("ix_events_type_position", "events", ["event_type", "position"])


def downgrade() -> None:
    op.drop_index("ix_events_type_position", table_name="events")
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO projection_checkpoints (name, position) SELECT name, position FROM tracking")
    op.drop_table("tracking")
