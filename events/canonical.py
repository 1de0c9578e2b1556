"""The canonical form of an event and its hash chain.

Anyone can verify an export with the standard library alone:

    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    hash_n    = sha256((hash_{n-1} + canonical).encode("utf-8")).hexdigest()

where ``obj`` holds exactly the keys in ``HASHED_FIELDS`` (``data`` is the stored payload as it was
written, i.e. before any upcasting), ``occurred_on`` is ``YYYY-MM-DD``, ``recorded_at`` is
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), and the chain starts from ``GENESIS`` (64 zeros).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64

HASHED_FIELDS = (
    "actor",
    "causation_id",
    "correlation_id",
    "data",
    "event_id",
    "event_type",
    "occurred_on",
    "position",
    "recorded_at",
    "schema_version",
    "stream_id",
    "stream_version",
)


def dumps(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_recorded_at(moment: datetime) -> str:
    """UTC, microseconds, ``Z`` suffix: one spelling for one instant."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_event(
    *,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    occurred_on: date,
    recorded_at: datetime,
    actor: str,
    causation_id: str | None,
    correlation_id: str | None,
    data: Any,
) -> str:
    return dumps(
        {
            "actor": actor,
            "causation_id": causation_id,
            "correlation_id": correlation_id,
            "data": data,
            "event_id": event_id,
            "event_type": event_type,
            "occurred_on": occurred_on.isoformat(),
            "position": position,
            "recorded_at": format_recorded_at(recorded_at),
            "schema_version": schema_version,
            "stream_id": stream_id,
            "stream_version": stream_version,
        }
    )


def chain_hash(previous: str, canonical: str) -> str:
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()
