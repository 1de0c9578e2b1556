"""The scheduler runs no data as code, and loses no notice: APScheduler's job table goes, an outbox comes.

``apscheduler_jobs`` held pickled jobs that the scheduler unpickled when it took the lead: a row
planted there ran as code. The jobs are now defined in code with a memory job store, so the table is
dropped. ``scheduler_notices`` is the outbox: a notice row is written in the same transaction as the
event it announces and deleted from the pending set once sent (``scheduler.outbox``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.create_table(
        "scheduler_notices",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("notice", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_pending", sa.Boolean, nullable=False),
        sa.Column("email_pending", sa.Boolean, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_scheduler_notices_pending", "scheduler_notices", ["outbox_pending", "email_pending", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_scheduler_notices_pending", table_name="scheduler_notices")
    op.drop_table("scheduler_notices")
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])
