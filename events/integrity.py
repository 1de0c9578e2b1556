"""Walking the hash chain: the first position whose stored bytes do not match what was written.

The check recomputes each event's canonical form from the stored columns (see ``events.canonical``),
so a changed payload, date, actor, order or hash is found, and a payload whose stored text is not in
canonical form (an edit that kept the JSON meaning) is found too.

`VerifyResult.events` is the number of events in the log, whether or not the chain holds (docs/cli.md
gives ``audit verify --json`` the same ``events`` in both answers); `checked` is how many of them
were checked, up to and including the first bad one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from events import canonical
from events.sql_store import SqlEventStore, _as_date, _as_utc, _loads, _typer
from events.tables import events_table as T


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of a walk: `events` in the log, `checked` of them up to the first bad one."""

    ok: bool
    events: int
    first_bad_position: int | None = None
    reason: str | None = None
    checked: int | None = None
    """Events checked, the first bad one included; None when ok (every event was checked)."""
    last_position: int = 0
    """The position of the log's last stored row (0 for an empty log), whether or not it verified."""
    last_hash: str = canonical.GENESIS
    """The hash stored in that row (the genesis hash for an empty log): note it, or anchor it."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "events": self.events,
            "last_position": self.last_position,
            "last_hash": self.last_hash,
        }
        if not self.ok:
            out["first_bad_position"] = self.first_bad_position
            out["reason"] = self.reason
            out["checked"] = self.checked  # beyond the contract (docs/cli.md)
        return out


def raw_rows(engine: Engine, batch: int = 5000) -> Iterator[Sequence[Any]]:
    """Stored rows exactly as they are, in position order, one batch at a time.

    The values are those ``sa.select(*_COLUMNS)`` gives (dates parsed by SQLAlchemy's own types),
    read through the store's driver-SQL scan, which is several times cheaper per row.
    """
    store = SqlEventStore(engine)
    typed = _typer(store._sql)
    for rows in store._scan(-1, batch, None):
        yield from typed(rows)


def verify_rows(rows: Iterable[Sequence[Any]], progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Check every row in order; after the first bad one, only count the rest (`events`)."""
    previous = canonical.GENESIS
    count = 0
    iterator = iter(rows)
    for count, row in enumerate(iterator, start=1):
        position = row[0]
        reason = _check(row, previous, count)
        if reason is not None:
            rest, last = 0, row
            for rest, last in enumerate(iterator, start=1):  # noqa: B007  (the last row is wanted)
                pass
            return VerifyResult(
                False, count + rest, position, reason, count, last_position=last[0], last_hash=last[12]
            )
        previous = row[12]
        if progress is not None and count % 10000 == 0:
            progress(count)
    return VerifyResult(True, count, last_position=count, last_hash=previous)


def _check(row: Sequence[Any], previous: str, expected_position: int) -> str | None:
    position = row[0]
    if position != expected_position:
        return f"position {position} follows {expected_position - 1}: an event is missing or moved"
    payload = row[11]
    try:
        data = _loads(payload)
        occurred: date = _as_date(row[6])
        recorded: datetime = _as_utc(row[7])
    except (ValueError, TypeError) as error:
        return f"stored columns do not parse: {error}"
    if canonical.dumps(data) != payload:
        return "payload text is not the canonical text that was written"
    # canonical.canonical_event of the row, given that dumps(data) is the stored payload
    text = canonical.canonical_text(
        position=position,
        event_id=row[1],
        stream_id=row[2],
        stream_version=row[3],
        event_type=row[4],
        schema_version=row[5],
        occurred_on=occurred.isoformat(),
        recorded_at=_recorded_text(recorded),
        actor=row[8],
        causation_id=row[9],
        correlation_id=row[10],
        payload=payload,
    )
    if canonical.chain_hash(previous, text) != row[12]:
        return "hash does not match the event and the previous hash"
    return None


_last_recorded: tuple[datetime | None, str] = (None, "")


def _recorded_text(moment: datetime) -> str:
    """``canonical.format_recorded_at``, remembering the last answer (a bulk append shares one)."""
    global _last_recorded
    last = _last_recorded
    if last[0] is moment or last[0] == moment:
        return last[1]
    text = canonical.format_recorded_at(moment)
    _last_recorded = (moment, text)
    return text


def verify(engine: Engine, progress: Callable[[int], None] | None = None) -> VerifyResult:
    return verify_rows(raw_rows(engine), progress)


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    """The log against its signed anchors: ``ok`` when every anchored prefix is still intact."""

    ok: bool
    anchors: int
    anchored_position: int
    """The highest position an intact anchor covers (0 when there is none)."""
    unanchored_events: int
    """Events after the highest anchored position: intact by the chain, not yet by a signature."""
    first_bad_position: int | None = None
    reason: str | None = None
    pinned: bool = False
    """Whether the signatures were checked against an expected public key (else the key they carry)."""


def check_anchors(
    engine: Engine, chain: VerifyResult, anchors: Sequence[Any], pinned: str | None = None
) -> AnchorCheck:
    """Every anchor's signature, and the stored hash at each anchored position, against the log.

    ``chain`` is the hash-chain walk of the same log (it must be ok for the hashes to mean anything).
    A log shorter than an anchor was truncated (or emptied); a different hash at an anchored position
    means the events up to there were rewritten, forged or removed and the chain recomputed.
    Raises ``events.anchors.BadAnchor`` for an anchor whose signature fails.
    """
    from events.anchors import check_signature

    for anchor in anchors:
        check_signature(anchor, pinned)
    last = chain.last_position
    stored = _hashes_at(engine, sorted({a.position for a in anchors if 0 < a.position <= last}))
    good = 0
    for anchor in sorted(anchors, key=lambda a: a.position):
        if anchor.position > last:
            return AnchorCheck(
                False, len(anchors), good, 0, last + 1,
                f"the log ends at position {last} but the anchor of {anchor.anchored_at} (line "
                f"{anchor.line}) signed {anchor.position} events: events were removed from the end",
                pinned is not None,
            )  # fmt: skip
        expected = canonical.GENESIS if anchor.position == 0 else stored.get(anchor.position)
        if expected != anchor.hash:
            return AnchorCheck(
                False, len(anchors), good, 0, anchor.position,
                f"the hash at position {anchor.position} is not the one signed on {anchor.anchored_at} "
                f"(line {anchor.line}): events after position {good} and up to {anchor.position} were "
                "changed, forged or removed and the chain recomputed",
                pinned is not None,
            )  # fmt: skip
        good = anchor.position
    return AnchorCheck(True, len(anchors), good, max(last - good, 0), pinned=pinned is not None)


def _hashes_at(engine: Engine, positions: Sequence[int]) -> dict[int, str]:
    import sqlalchemy as sa

    found: dict[int, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(positions), 500):
            chunk = positions[start : start + 500]
            rows = conn.execute(sa.select(T.c.position, T.c.hash).where(T.c.position.in_(chunk)))
            found.update({int(p): str(h) for p, h in rows})
    return found
