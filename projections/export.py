"""The audit export: a JSON Lines bundle anyone can verify with the standard library alone.

Line 1 is a header (format, event count, last hash, cutoff, the hash rule); each further line is
one event in canonical JSON (``events.canonical``: sorted keys, no spaces, UTF-8) with the stored
payload as written (never upcast) and its ``hash``. Verifying (README, "Verifying an audit export
independently"): every line is canonical, each hash is ``sha256(previous + canonical(event without
hash))`` from 64 zeros, positions run 1…N, and N and the last hash match the header.

With an anchor log, the header also carries the latest signed anchor the exported prefix covers
(``events.anchors``), checked against the bundle's own hash at its position before anything is
written; the README's script checks its signature with the auditor's copy of the public key.

``--as-of DATE`` exports the log as it stood at the end of that day in the district's time zone:
the longest prefix of events recorded before then. A chain can only be verified as a prefix, so
an export never filters by business date. The chain is verified while exporting; a broken log
writes nothing and raises ``ExportFailed`` (the CLI exits 4).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from events import canonical
from events.anchors import Anchor, latest
from events.integrity import VerifyResult, raw_rows, verify_rows
from events.sql_store import _as_date, _as_utc

FORMAT = "srdi-audit-export"
VERSION = 1


class ExportFailed(Exception):
    """The log failed verification while exporting; nothing was written."""

    def __init__(self, result: VerifyResult, message: str | None = None) -> None:
        super().__init__(
            message
            or f"the log fails verification at position {result.first_bad_position}: {result.reason}; "
            "nothing was exported (run srdi audit verify)"
        )
        self.result = result


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    events: int
    last_hash: str
    recorded_before: datetime | None
    anchor: Anchor | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "events": self.events,
            "last_hash": self.last_hash,
            "recorded_before": self.recorded_before.isoformat() if self.recorded_before else None,
            "anchored_position": self.anchor.position if self.anchor is not None else None,
        }


def end_of_day(day: date, tz: str) -> datetime:
    """The first instant after ``day`` in ``tz``, in UTC (the end of time for the calendar's last day)."""
    try:
        return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(tz)).astimezone(UTC)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def event_line(row: Sequence[Any]) -> str:
    """One stored row as its canonical export line (the hashed fields plus ``hash``)."""
    return canonical.dumps(
        {
            "actor": row[8],
            "causation_id": row[9],
            "correlation_id": row[10],
            "data": json.loads(row[11]),
            "event_id": row[1],
            "event_type": row[4],
            "hash": row[12],
            "occurred_on": _as_date(row[6]).isoformat(),
            "position": row[0],
            "recorded_at": canonical.format_recorded_at(_as_utc(row[7])),
            "schema_version": row[5],
            "stream_id": row[2],
            "stream_version": row[3],
        }
    )


def export(
    engine: Engine,
    path: Path | str,
    *,
    as_of: date | None = None,
    tz: str = "Asia/Shanghai",
    anchors: Sequence[Anchor] = (),
    open_output: Callable[[Path], AbstractContextManager[IO[Any]]] | None = None,
) -> ExportResult:
    """Write the bundle to ``path`` (atomically: a temporary file renamed into place).

    ``anchors``: signed anchors (signatures already checked); the latest one within the exported
    prefix goes into the header, and must match the bundle's hash at its position. The CLI passes
    ``open_output`` (`service_layer.files.output_file`: an existing file kept unless ``--force``,
    a link, device or directory refused).
    """
    target = Path(path)
    cutoff = end_of_day(as_of, tz) if as_of is not None else None
    last = [canonical.GENESIS]
    wanted = {a.position for a in anchors}
    seen: dict[int, str] = {0: canonical.GENESIS}
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as body:

        def written() -> Iterator[Sequence[Any]]:
            for row in raw_rows(engine):
                if cutoff is not None and _as_utc(row[7]) >= cutoff:
                    return
                body.write(event_line(row) + "\n")
                last[0] = row[12]
                if row[0] in wanted:
                    seen[row[0]] = row[12]
                yield row

        result = verify_rows(written())
        if not result.ok:
            raise ExportFailed(result)
        carried = latest(anchors, up_to=result.events)
        broken = next(
            (a for a in anchors if a.position <= result.events and seen.get(a.position) != a.hash), None
        )
        if broken is not None:
            raise ExportFailed(
                result,
                f"the hash at position {broken.position} is not the one signed on {broken.anchored_at}: "
                "the log was rewritten; nothing was exported (run srdi audit verify --anchors)",
            )
        header = {
            "format": FORMAT,
            "version": VERSION,
            "events": result.events,
            "last_hash": last[0],
            "genesis": canonical.GENESIS,
            "as_of": as_of.isoformat() if as_of else None,
            "recorded_before": cutoff.isoformat() if cutoff else None,
            "exported_at": datetime.now(UTC).isoformat(),
            "hashed_fields": list(canonical.HASHED_FIELDS),
            "rule": "hash_n = sha256(hash_{n-1} + canonical(line without 'hash')), hash_0 = genesis",
            "anchor": carried.to_json() if carried is not None else None,
        }
        body.seek(0)
        with (open_output or _beside)(target) as out:
            out.write(canonical.dumps(header) + "\n")
            shutil.copyfileobj(body, out)
    return ExportResult(target, result.events, last[0], cutoff, carried)


@contextmanager
def _beside(target: Path) -> Iterator[IO[str]]:
    """A temporary file in the target's folder, flushed and renamed over the target at the end."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
