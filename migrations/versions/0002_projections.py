"""Projection checkpoints and the status, calendar and targets read models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

USCC = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "status_enterprises",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("name", sa.String(300)),
        sa.Column("district", sa.String(50)),
        sa.Column("department", sa.String(200)),
        sa.Column("size", sa.String(10)),
        sa.Column("listing_stage", sa.String(30)),
        sa.Column("listing_since", sa.Date),
        sa.Column("fold", sa.Text, nullable=False),
    )
    op.create_table(
        "status_titles",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("track", sa.String(30), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("since", sa.Date),
        sa.Column("certified_on", sa.Date),
        sa.Column("valid_until", sa.Date),
    )
    op.create_index("ix_status_titles_track_state", "status_titles", ["track", "state"])
    op.create_table(
        "calendar_enterprises",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("name", sa.String(300)),
        sa.Column("district", sa.String(50)),
        sa.Column("fold", sa.Text, nullable=False),
    )
    op.create_table(
        "calendar_entries",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("track", sa.String(30), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
    )
    op.create_index("ix_calendar_entries_valid_until", "calendar_entries", ["valid_until"])
    op.create_table(
        "targets_enterprises",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("district", sa.String(50)),
        sa.Column("department", sa.String(200)),
        sa.Column("department_key", sa.String(200)),
        sa.Column("fold", sa.Text, nullable=False),
    )
    op.create_index("ix_targets_enterprises_district", "targets_enterprises", ["district", "department_key"])
    op.create_table(
        "targets_periods",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("track", sa.String(30), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("start_on", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date),
    )
    op.create_index("ix_targets_periods_track", "targets_periods", ["track", "start_on"])
    op.create_table(
        "targets_firsts",
        sa.Column("uscc", USCC, primary_key=True),
        sa.Column("subject", sa.String(30), primary_key=True),
        sa.Column("first_on", sa.Date, nullable=False),
    )
    op.create_index("ix_targets_firsts_subject", "targets_firsts", ["subject", "first_on"])


def downgrade() -> None:
    for table in (
        "targets_firsts",
        "targets_periods",
        "targets_enterprises",
        "calendar_entries",
        "calendar_enterprises",
        "status_titles",
        "status_enterprises",
        "projection_checkpoints",
    ):
        op.drop_table(table)
