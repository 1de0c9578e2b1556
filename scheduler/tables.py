"""The scheduler's own tables (created by migration 0003): APScheduler's job store and the scan log.

``apscheduler_jobs`` has exactly the shape ``SQLAlchemyJobStore`` expects, so the job store finds it
already there instead of creating it outside the migrations. ``scheduler_scans`` records which days a
scan covered, so a restart knows the gap it has to catch up and the log can say so.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

JOBS_TABLE = "apscheduler_jobs"

scans_table = sa.Table(
    "scheduler_scans",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("covered_from", sa.Date, nullable=False),
    sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reminders", sa.Integer, nullable=False),
    sa.Column("expiries", sa.Integer, nullable=False),
)
