"""An index of each stream's events with their types, so that a rebuild reading the log stream by
stream skips the events no view reads without fetching them.

A rebuild reads every enterprise's stream in order (``SqlEventStore.read_by_stream``) and wants
only the types its views handle; the stream key alone made it fetch every event of a stream to
see its type, and on a log recorded over the years (each stream's events spread over the file)
each such fetch is a read of its own page. With the type beside the stream key, only the events
wanted are fetched.

On SQLite only: on PostgreSQL 15, the version srdi runs on, the plan of that read keeps the list of
types as a filter on each fetched row, with this index or without it (an ordered scan there takes
no such list on a column after the leading ones), so the index would cost every append its write
and spare no read. A PostgreSQL that tests the list inside the index would want its own migration.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_events_stream_type", "events", ["stream_id", "stream_version", "event_type"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_events_stream_type", table_name="events")
