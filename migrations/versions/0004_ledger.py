"""The payout ledger read model: one row per entitlement with its dated lifecycle.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MONEY = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("uscc", sa.String(32), nullable=False),
        sa.Column("district", sa.String(50), nullable=False),
        sa.Column("policy", sa.String(50), nullable=False),
        sa.Column("rule", sa.String(20), nullable=False),
        sa.Column("article", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("trigger_event", sa.String(36), nullable=False),
        sa.Column("accrued_on", sa.Date, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("ceiling", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("amount", MONEY),
        sa.Column("approved_amount", MONEY),
        sa.Column("paid_amount", MONEY, nullable=False),
        sa.Column("responsible_units", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("steps", sa.Text, nullable=False),
    )
    op.create_index("ix_ledger_entries_district_year", "ledger_entries", ["district", "year"])
    op.create_index("ix_ledger_entries_uscc", "ledger_entries", ["uscc"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_uscc", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_district_year", table_name="ledger_entries")
    op.drop_table("ledger_entries")
