"""The event log's tables (SQLAlchemy Core). Migrations create them; code only reads this shape."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# INTEGER PRIMARY KEY on SQLite makes position the rowid: the cheapest ordered scan there is.
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("position", Position, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("stream_id", sa.String(200), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("causation_id", sa.String(36)),
    sa.Column("correlation_id", sa.String(36)),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
)

idempotency_table = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
