"""The scheduler's own tables: the scan log (migration 0003) and the notice outbox (0006).

``scheduler_scans`` logs which days a scan covered and what it did, in the scan's own transaction
(where the scheduler stands is its tracking record, ``scheduler.scan_transaction``).
``scheduler_notices`` holds each notice from the transaction that appended the event it announces
until every channel it was meant for has sent it (``scheduler.outbox``). The jobs themselves are
defined in code and kept in memory: nothing the scheduler runs is read from the database
(APScheduler's pickled job table is gone, migration 0006).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


scans_table = sa.Table(
    "scheduler_scans",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("covered_from", sa.Date, nullable=False),
    sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reminders", sa.Integer, nullable=False),
    sa.Column("expiries", sa.Integer, nullable=False),
)

notices_table = sa.Table(
    "scheduler_notices",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("notice", sa.Text, nullable=False),  # Notice.as_json, canonical JSON
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outbox_pending", sa.Boolean, nullable=False),
    sa.Column("email_pending", sa.Boolean, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
)
