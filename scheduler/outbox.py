"""The notice outbox: written with the event it announces, sent after the commit, marked once sent.

A notice used to be sent at the end of a scan, from memory: a scheduler killed after recording
reminders lost their e-mails for good. Now each notice is a ``scheduler_notices`` row inserted in
the SAME transaction as its event (``scheduler.scan_transaction.NoticingScanStore``), so an
event is never recorded without its notice, nor a notice without its event. ``deliver`` then sends
every pending row, channel by channel, and clears that channel's flag in its own transaction:

- killed before the commit: neither the event nor the notice exists; the next scan decides again;
- killed after the commit, before sending: the row is pending; the next delivery sends it (the
  daemon delivers on taking the lead and after every scan);
- killed after sending, before clearing the flag: the outbox file channel looks for the notice's
  event id among the file's last lines before writing, so it is not written twice; e-mail has no
  such check, so a message may go twice in that window, with the same ``Message-ID``
  (``<event id>@srdi``) for mail clients to fold together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.db import WRITE, is_sqlite
from events.envelope import StreamAppend
from events.lazy_logging import get_logger
from scheduler.notify import Notice, check_channels, notify_channel
from scheduler.tables import notices_table as N
from service_layer.settings import Settings

log = get_logger("srdi.scheduler")

NoticeFor = Callable[[Sequence[StreamAppend]], Notice | None]


def _now(engine: Engine) -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if is_sqlite(engine) else now  # naive UTC on SQLite, as the store


def enqueue(conn: Connection, settings: Settings, notice: Notice) -> None:
    """Insert the notice's row inside the caller's transaction (pending on the configured channels)."""
    channels = check_channels(settings.notify_channels)
    conn.execute(
        sa.insert(N).values(
            event_id=notice.event_id,
            notice=json.dumps(notice.as_json(), ensure_ascii=False, sort_keys=True),
            created_at=_now(conn.engine),
            outbox_pending="outbox" in channels,
            email_pending="email" in channels,
            sent_at=None,
        )
    )


def pending(engine: Engine) -> list[tuple[str, Notice, bool, bool]]:
    """Every notice not yet sent on all its channels, oldest first: (event id, notice, outbox, email)."""
    query = (
        sa.select(N.c.event_id, N.c.notice, N.c.outbox_pending, N.c.email_pending)
        .where(sa.or_(N.c.outbox_pending, N.c.email_pending))
        .order_by(N.c.created_at, N.c.event_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(r[0], Notice.from_json(json.loads(r[1])), bool(r[2]), bool(r[3])) for r in rows]


def deliver(engine: Engine, settings: Settings) -> int:
    """Send every pending notice on each channel it waits for; returns how many were pending.

    A channel that fails keeps its rows pending (sent by the next delivery); the others go on.
    """
    rows = pending(engine)
    if not rows:
        return 0
    notify_channel(settings, "log", [n for _, n, _, _ in rows])
    for channel, column, index in (("outbox", N.c.outbox_pending, 2), ("email", N.c.email_pending, 3)):
        waiting = [row for row in rows if row[index]]
        if not waiting:
            continue
        if notify_channel(settings, channel, [n for _, n, _, _ in waiting]):
            _clear(engine, column, [event_id for event_id, *_ in waiting])
    return len(rows)


def _clear(engine: Engine, column: Any, event_ids: list[str]) -> None:
    with engine.connect() as conn, conn.execution_options(**WRITE).begin():
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            conn.execute(sa.update(N).where(N.c.event_id.in_(chunk)).values({column.name: False}))
            conn.execute(
                sa.update(N)
                .where(N.c.event_id.in_(chunk), sa.not_(N.c.outbox_pending), sa.not_(N.c.email_pending))
                .values(sent_at=_now(engine))
            )
