"""Measures of the documents: the industry of an enterprise and every dated entry targets count.

Adds ``targets_enterprises.industry``, ``facilities`` (parks, internship bases, incubators) and
``targets_entries`` (pool admissions, designation certifications, invention patents, one row
each). The enterprise folds now keep counted facts (patents) too, so the status, calendar and
targets views are emptied with their checkpoints and rebuilt from the log on the next read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REBUILT = {
    "status": ("status_titles", "status_enterprises"),
    "calendar": ("calendar_entries", "calendar_enterprises"),
    "targets": ("targets_firsts", "targets_periods", "targets_enterprises"),
}


def upgrade() -> None:
    op.add_column("targets_enterprises", sa.Column("industry", sa.String(40)))
    op.create_table(
        "targets_entries",
        sa.Column("uscc", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(40), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("on", sa.Date, nullable=False),
    )
    op.create_index("ix_targets_entries_subject", "targets_entries", ["subject", "on"])
    op.create_table(
        "facilities",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("district", sa.String(50), nullable=False),
        sa.Column("established_on", sa.Date, nullable=False),
        sa.Column("closed_on", sa.Date),
    )
    op.create_index("ix_facilities_district_kind", "facilities", ["district", "kind"])
    checkpoints = sa.table("projection_checkpoints", sa.column("name", sa.String))
    for name, tables in REBUILT.items():
        for table in tables:
            op.execute(sa.table(table).delete())
        op.execute(checkpoints.delete().where(checkpoints.c.name == name))


def downgrade() -> None:
    op.drop_index("ix_facilities_district_kind", "facilities")
    op.drop_table("facilities")
    op.drop_index("ix_targets_entries_subject", "targets_entries")
    op.drop_table("targets_entries")
    with op.batch_alter_table("targets_enterprises") as batch:
        batch.drop_column("industry")
