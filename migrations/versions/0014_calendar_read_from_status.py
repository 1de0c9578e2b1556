"""The review calendar is read from the status view: its own tables go.

Every calendar row was a certified title of ``status_titles`` (its ``since`` and ``valid_until``)
or an enterprise of ``status_enterprises`` in ``ipo-tutoring``: the same fold, written twice. The
calendar now reads those rows, through two indexes that keep its ``--within`` query a range scan:
``status_titles (state, valid_until)`` and ``status_enterprises (listing_stage)``. The calendar's
tracking record goes with its tables. A downgrade recreates the tables empty; the next catch-up
fills them from the log.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_calendar_entries_valid_until", table_name="calendar_entries")
    op.drop_table("calendar_entries")
    op.drop_table("calendar_enterprises")
    op.execute(sa.text("DELETE FROM tracking WHERE name = 'calendar'"))
    op.create_index("ix_status_titles_state_valid_until", "status_titles", ["state", "valid_until"])
    op.create_index("ix_status_enterprises_listing_stage", "status_enterprises", ["listing_stage"])


def downgrade() -> None:
    op.drop_index("ix_status_enterprises_listing_stage", table_name="status_enterprises")
    op.drop_index("ix_status_titles_state_valid_until", table_name="status_titles")
    op.create_table(
        "calendar_enterprises",
        sa.Column("uscc", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("district", sa.String(50)),
        sa.Column("fold", sa.Text, nullable=False),
    )
    op.create_table(
        "calendar_entries",
        sa.Column("uscc", sa.String(32), primary_key=True),
        sa.Column("track", sa.String(30), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
    )
    op.create_index("ix_calendar_entries_valid_until", "calendar_entries", ["valid_until"])
