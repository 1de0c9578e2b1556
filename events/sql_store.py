"""The event store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Ordering: every append runs under one global write lock (``BEGIN IMMEDIATE`` on SQLite, a
transaction-scoped advisory lock on PostgreSQL) and numbers its events ``last position + 1 …``.
PostgreSQL makes a transaction visible before it releases its locks, so when position N+1 is
visible, N already is: a reader tailing ``read_all`` can never skip an event that commits late.
The same lock serialises the hash chain, which needs the previous hash anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from events import canonical
from events.base import registry
from events.db import WRITE, is_sqlite
from events.envelope import SYSTEM_ACTOR, AppendResult, RecordedEvent, StreamAppend
from events.group_commit import GroupCommit, Ticket
from events.lazy_logging import configured, get_logger, pending_level, structlog_module
from events.store import (
    ConcurrencyConflict,
    DuplicateEventId,
    EventStore,
    IdempotencyMismatch,
    LogQuery,
    StreamQuery,
    check_storable,
)
from events.tables import events_table as T
from events.tables import idempotency_table as K

log = get_logger("srdi.store")

CHANNEL = "srdi_events"  # every append NOTIFYs it on PostgreSQL (`events.wakeup` LISTENs)
APPEND_LOCK_KEY = 0x5_2D1  # pg_advisory_xact_lock key reserved for the event log
_IN_CHUNK = 500
_ONE_BY_ONE = 8  # streams in one append up to which each stream's version is read on its own
_COPY_FROM = 50  # rows in one append from which PostgreSQL gets COPY instead of INSERTs
_COLUMNS = (
    T.c.position,
    T.c.event_id,
    T.c.stream_id,
    T.c.stream_version,
    T.c.event_type,
    T.c.schema_version,
    T.c.occurred_on,
    T.c.recorded_at,
    T.c.actor,
    T.c.causation_id,
    T.c.correlation_id,
    T.c.payload,
    T.c.hash,
)
_FOLDED = (*_COLUMNS[:7], T.c.payload)
"""The columns a fold reads (``EventParts`` and the stream key), in the order of a folded row: those
of ``_COLUMNS`` up to the business date at the same places, then the payload."""
_PAYLOAD, _FOLDED_PAYLOAD = _COLUMNS.index(T.c.payload), _FOLDED.index(T.c.payload)


def _select_list(*, utf8: bool = False, fold: bool = False) -> str:
    """``_COLUMNS`` as a select list; with ``utf8`` the payload as its stored UTF-8 bytes (SQLite:
    the JSON parser reads them as they are, where a str is decoded by the driver and, holding any
    Chinese, encoded back for the parser); with ``fold`` only the columns a fold reads
    (``_FOLDED``): the driver hands over every column of every row, a NULL too (on Python 3.11's
    sqlite3 each releasing and taking back the GIL)."""
    names = []
    for c in _FOLDED if fold else _COLUMNS:
        if c is T.c.payload:
            names.append("CAST(payload AS BLOB)" if utf8 else "payload")
        else:
            names.append(c.name)
    return ", ".join(names)


_SELECT = _select_list()
_Work = tuple[Sequence[StreamAppend], list[list[tuple[Any, ...]]], str | None]  # appends, prepared, key


class _Statements:
    """The hot statements as driver SQL, built once per dialect.

    The append and replay paths run these with ``exec_driver_sql`` or the DBAPI cursor: SQLAlchemy's
    per-row parameter and result processing was most of their cost (see docs/benchmarks.md). Values
    are converted here exactly as SQLAlchemy's types would convert them.
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self.sqlite = is_sqlite(engine)
        mark = "?" if self.sqlite else "%s"
        self.mark = mark
        # the write lock, and the wake-up of LISTENing followers (sent at commit, dropped on rollback)
        self.lock = f"SELECT pg_advisory_xact_lock({mark}), pg_notify('{CHANNEL}', '')"
        self.seen = f'SELECT result FROM {K.name} WHERE "key" = {mark}'
        self.remember = f'INSERT INTO {K.name} ("key", result, recorded_at) VALUES ({mark}, {mark}, {mark})'
        self.tail = f"SELECT position, hash FROM {T.name} ORDER BY position DESC LIMIT 1"
        self.insert = f"INSERT INTO {T.name} ({_SELECT}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
        self.copy = f"COPY {T.name} ({_SELECT}) FROM STDIN"
        self.scan = f"SELECT {_SELECT} FROM {T.name} WHERE position > {mark}"
        self.scan_until = f"{self.scan} AND position <= {mark}"
        self.order = f" ORDER BY position LIMIT {mark}"
        self.version = (
            f"SELECT stream_version FROM {T.name} WHERE stream_id = {mark}"
            " ORDER BY stream_version DESC LIMIT 1"
        )
        self.stream = f"SELECT {_SELECT} FROM {T.name} WHERE stream_id = {mark} AND stream_version > {mark}"
        # What reads whose rows go only to the decoders select: a followers' window; a rebuild's folds
        self.decoded_columns = _select_list(utf8=self.sqlite)
        self.folded_columns = _select_list(utf8=self.sqlite, fold=True)
        # Stored text of Date / DateTime on SQLite, and their parsers: SQLAlchemy's own processors.
        date_type, moment_type = T.c.occurred_on.type, T.c.recorded_at.type
        self.bind_date = date_type.dialect_impl(dialect).bind_processor(dialect)
        self.bind_moment = moment_type.dialect_impl(dialect).bind_processor(dialect)
        self.parse_date = date_type.dialect_impl(dialect).result_processor(dialect, None)
        self.parse_moment = moment_type.dialect_impl(dialect).result_processor(dialect, None)
        self.dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def of_types(self, count: int) -> str:
        return f" AND event_type IN ({', '.join([self.mark] * count)})"

    def window(self, types: int) -> str:
        """The events of some types in a position range, read along the log's key.

        On SQLite ``+event_type`` keeps the planner off the (event_type, position) index: for a
        range of consecutive positions, seeking each type there and sorting was 2.6x the cost of
        walking the range (bench/).
        """
        column = "+event_type" if self.sqlite else "event_type"
        mark, marks = self.mark, ", ".join([self.mark] * types)
        return (
            f"SELECT {self.decoded_columns} FROM {T.name} WHERE position > {mark} AND position <= {mark}"
            f" AND {column} IN ({marks}) ORDER BY position"
        )

    def by_stream(self, types: int) -> str:
        """Events of some types up to a position, after a (stream, version), in stream order.

        On SQLite along ``ix_events_stream_type`` (stream key, then type): the type and the
        position (the rowid) are tested in the index, and only the events wanted are fetched;
        ``+`` keeps the planner on that order rather than the type index and a sort of every
        remaining event at each page. PostgreSQL walks the stream key and tests each row.
        """
        plus = "+" if self.sqlite else ""
        mark, marks = self.mark, ", ".join([self.mark] * types)
        return (
            f"SELECT {self.folded_columns} FROM {T.name} WHERE {plus}event_type IN ({marks})"
            f" AND {plus}position <= {mark} AND (stream_id, stream_version) > ({mark}, {mark})"
            f" ORDER BY stream_id, stream_version LIMIT {mark}"
        )

    @property
    def present(self) -> str:
        return f"SELECT count(*) FROM {T.name} WHERE position > {self.mark} AND position <= {self.mark}"

    def versions(self, count: int) -> str:
        marks = ", ".join([self.mark] * count)
        return (
            f"SELECT stream_id, MAX(stream_version) FROM {T.name}"
            f" WHERE stream_id IN ({marks}) GROUP BY stream_id"
        )


class SqlEventStore(EventStore):
    """The durable store. One instance per engine; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._sql = _Statements(engine)
        self._copy_ok: bool | None = None
        self.system_actor = SYSTEM_ACTOR
        """What the events the policy engine and the scheduler derive (actor ``system``) are recorded as:
        ``login/system`` for a PostgreSQL login the actor trigger binds (``service_layer.bootstrap``)."""
        self._writer = engine.execution_options(**WRITE)  # its connections write (BEGIN IMMEDIATE)
        self._group: GroupCommit[_Work, AppendResult] = GroupCommit(self._append_group)

    # -- writing -----------------------------------------------------------------------------
    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Appended in one transaction, possibly with other threads' appends (`events.group_commit`)."""
        return self._group.submit((appends, self._prepare(appends), idempotency_key))

    def append_batch_checked(
        self, appends: Sequence[StreamAppend], check: Callable[[int], object]
    ) -> AppendResult:
        """``append_batch``, then ``check(first_position)`` in the same write transaction.

        The transaction holds the store's global write lock (``BEGIN IMMEDIATE`` / the advisory
        lock) from the numbering to the commit, so every event before the batch's first position
        is committed and none can be added: ``check`` (reading on another connection) sees exactly
        what came first. If it raises, nothing is written. (A policy activation checks that no
        enterprise was registered unseen: ``service_layer.policies.locked_commit``.)
        """
        return self._transaction(
            appends, self._prepare(appends), None, lambda _conn, receipt: check(receipt.first_position)
        )

    def _transaction(
        self,
        appends: Sequence[StreamAppend],
        prepared: Sequence[Sequence[tuple[Any, ...]]],
        idempotency_key: str | None,
        then: Callable[[Connection, AppendResult], object] | None,
    ) -> AppendResult:
        try:
            with self._writer.connect() as conn, conn.begin():
                receipt = self._append_prepared(conn, appends, prepared, idempotency_key)
                if then is not None:
                    then(conn, receipt)
                return receipt
        except IntegrityError as error:
            raise self._explain_integrity(error, appends) from None

    def _append_group(self, tickets: list[Ticket[_Work, AppendResult]]) -> None:
        """Several threads' appends in one transaction, in the order they queued.

        Each is numbered, checked and chained after the one before it exactly as if it had run
        alone; a conflict or an idempotency mismatch fails only that one, before it writes
        anything. A duplicate event id fails a row insert, which leaves the transaction holding part
        of an append: the whole group is rolled back and each append runs alone, so each writer
        learns its own outcome.
        """
        try:
            with self._writer.connect() as conn, conn.begin():
                chain: list[Any] = []  # each append chains on to the one before it
                for ticket in tickets:
                    try:
                        ticket.result = self._append_prepared(conn, *ticket.work, chain)
                    except (ConcurrencyConflict, IdempotencyMismatch) as error:
                        ticket.error = error
            return
        except IntegrityError:
            for ticket in tickets:
                ticket.result, ticket.error = None, None
        for ticket in tickets:
            try:
                ticket.result = self._transaction(*ticket.work, None)
            except Exception as error:
                ticket.error = error

    def append_in(
        self,
        conn: Connection,
        appends: Sequence[StreamAppend],
        *,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        """Append inside the caller's write transaction (so projections can share it)."""
        return self._append_prepared(conn, appends, self._prepare(appends), idempotency_key)

    def _prepare(self, appends: Sequence[StreamAppend]) -> list[list[tuple[Any, ...]]]:
        """Per append, per event: every column and canonical piece that does not need the lock.

        The payload's canonical JSON, the stored business date and the canonical text around
        position, ``recorded_at`` and stream version (``canonical.canonical_parts``) are made here,
        outside the write lock; holding it, an append only numbers, joins and hashes (the hash needs
        the previous event's hash, so it cannot leave the lock).
        """
        check_storable(appends)  # keys too long or holding a NUL: refused here, on every back-end
        bind_date = self._sql.bind_date
        days: dict[date, tuple[str, Any]] = {}  # business date -> (canonical text, stored value)
        dumps, parts = canonical.dumps, canonical.canonical_parts
        out: list[list[tuple[Any, ...]]] = []
        for item in appends:
            stream_id = item.stream_id
            prepared: list[tuple[Any, ...]] = []
            for new in item.events:
                event = new.event
                actor = self.system_actor if new.actor == SYSTEM_ACTOR else new.actor
                event_type, schema_version = event.event_type, event.schema_version
                payload = dumps(event.payload())
                occurred_on = new.occurred_on
                day = days.get(occurred_on)
                if day is None:
                    stored_day = bind_date(occurred_on) if bind_date is not None else occurred_on
                    day = days[occurred_on] = (occurred_on.isoformat(), stored_day)
                head, middle = parts(
                    event_id=new.event_id,
                    stream_id=stream_id,
                    event_type=event_type,
                    schema_version=schema_version,
                    occurred_on=day[0],
                    actor=actor,
                    causation_id=new.causation_id,
                    correlation_id=new.correlation_id,
                    payload=payload,
                )
                prepared.append(
                    (
                        new.event_id, event_type, schema_version, day[1], actor, new.causation_id,
                        new.correlation_id, payload, head, middle,
                    )
                )  # fmt: skip
            out.append(prepared)
        return out

    def _append_prepared(
        self,
        conn: Connection,
        appends: Sequence[StreamAppend],
        prepared: Sequence[Sequence[tuple[Any, ...]]],
        idempotency_key: str | None,
        chain: list[Any] | None = None,
    ) -> AppendResult:
        """Number, check, chain and insert ``appends`` in ``conn``'s write transaction.

        ``chain``: the log's last ``[position, hash]`` when the caller knows it (the appends before
        in the same transaction), updated here; empty or None: read from the log.
        """
        sql = self._sql
        self._lock(conn)
        if idempotency_key is not None:
            seen = self._fetch(conn, sql.seen, (idempotency_key,))
            if seen:
                return self._replayed(conn, idempotency_key, seen[0][0])
        current = self._versions(conn, {a.stream_id for a in appends})
        versions: dict[str, int] = {}
        for item in appends:
            at = versions.get(item.stream_id, current.get(item.stream_id, 0))
            if item.expected_version is not None and item.expected_version != at:
                raise ConcurrencyConflict(item.stream_id, item.expected_version, at)
            versions[item.stream_id] = at + len(item.events)
        if chain:
            position, previous = chain
        else:
            tail = self._fetch(conn, sql.tail, ())
            position, previous = (tail[0][0], tail[0][1]) if tail else (0, canonical.GENESIS)
        now = datetime.now(UTC)
        stored_now: Any = now.replace(tzinfo=None) if self._sqlite else now
        if sql.bind_moment is not None:
            stored_now = sql.bind_moment(stored_now)
        recorded = canonical.recorded_part(canonical.format_recorded_at(now))
        sha256 = hashlib.sha256
        rows: list[tuple[Any, ...]] = []
        local: dict[str, int] = {}
        for item, events in zip(appends, prepared, strict=True):
            stream_id = item.stream_id
            version = local.get(stream_id, current.get(stream_id, 0))
            for event_id, kind, schema, day, actor, cause, correlation, payload, head, middle in events:
                position += 1
                version += 1
                # chain_hash(previous, assemble(head, position, recorded, middle, version)), inlined
                text = f"{previous}{head}{position}{recorded}{middle}{version}}}"
                previous = sha256(text.encode()).hexdigest()
                rows.append(
                    (
                        position, event_id, stream_id, version, kind, schema, day, stored_now,
                        actor, cause, correlation, payload, previous,
                    )
                )  # fmt: skip
            local[stream_id] = version
        if self._sqlite:
            self._insert_sqlite(conn, rows)
        elif len(rows) >= _COPY_FROM and self._copy_allowed(conn):
            self._copy(conn, rows)
        elif rows:
            conn.exec_driver_sql(sql.insert, rows if len(rows) > 1 else rows[0])
        first = rows[0][0] if rows else position
        result = AppendResult(
            first_position=first,
            last_position=position,
            event_ids=tuple(r[1] for r in rows),
            stream_versions=versions,
        )
        if idempotency_key is not None:
            record = {**result.to_json(), "digest": covered_digest(r[12] for r in rows)}
            conn.exec_driver_sql(sql.remember, (idempotency_key, json.dumps(record), stored_now))
        if chain is not None:
            chain[:] = [position, previous]
        _log_appended(rows)
        return result

    def _replayed(self, conn: Connection, key: str, text: str) -> AppendResult:
        """The remembered result of ``key``, once the log shows the events it claims.

        The record names the events it covered (positions, ids) and the digest of their chain
        hashes: each hash covers its event and everything before it, so a record planted without
        its events, or left behind by a cut log, does not match and the append is refused
        (``IdempotencyMismatch``) instead of skipped in silence.
        """
        try:
            record = json.loads(text)
            result = AppendResult.from_json(record, replayed=True)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise IdempotencyMismatch(key, "its record is not one srdi wrote") from None
        # A bulk import records how many events it wrote instead of every id (`remember_range`):
        # the digest of their chain hashes covers the ids as well.
        count = len(result.event_ids) or int(record.get("events", 0))
        if count <= 0:
            raise IdempotencyMismatch(key, "its record names no event")
        if result.last_position - result.first_position + 1 != count:
            raise IdempotencyMismatch(key, "its record's positions and events disagree")
        rows = self._fetch(
            conn,
            f"SELECT position, event_id, hash FROM {T.name} WHERE position >= {self._sql.mark} "
            f"AND position <= {self._sql.mark} ORDER BY position",
            (result.first_position, result.last_position),
        )
        ids = tuple(r[1] for r in rows)
        if ids != result.event_ids and (result.event_ids or len(ids) != count):
            raise IdempotencyMismatch(
                key,
                f"the log does not hold its events at {result.first_position}-{result.last_position}",
            )
        digest = record.get("digest")
        if digest is not None and digest != covered_digest(r[2] for r in rows):
            raise IdempotencyMismatch(key, "the events it covered are not the ones in the log")
        return result

    def lock(self, conn: Connection) -> None:
        """Take the store's write lock in ``conn``'s transaction (held to its end; PostgreSQL only:
        on SQLite the ``BEGIN IMMEDIATE`` of a write connection is the lock)."""
        self._lock(conn)

    def remembered(self, conn: Connection, key: str) -> AppendResult | None:
        """What the append keyed ``key`` wrote, checked against the log, if one was stored."""
        seen = self._fetch(conn, self._sql.seen, (key,))
        return self._replayed(conn, key, seen[0][0]) if seen else None

    def remember_range(self, conn: Connection, key: str, first: int, last: int) -> None:
        """Store ``key`` for the events at ``first..last``, written in ``conn``'s transaction.

        For a bulk writer (the import) that appended them in parts: the record holds the range, the
        number of events and the digest of their chain hashes (read back here, a page at a time),
        not every event id, so its size does not grow with the import.
        """
        digest = hashlib.sha256()  # covered_digest of the range's hashes, fed a page at a time
        separator = ""
        for start in range(first, last + 1, 10_000):
            rows = self._fetch(
                conn,
                f"SELECT hash FROM {T.name} WHERE position >= {self._sql.mark}"
                f" AND position <= {self._sql.mark} ORDER BY position",
                (start, min(last, start + 9_999)),
            )
            for (chain_hash,) in rows:
                digest.update((separator + chain_hash).encode("ascii"))
                separator = "\n"
        now = datetime.now(UTC)
        stored: Any = now.replace(tzinfo=None) if self._sqlite else now
        if self._sql.bind_moment is not None:
            stored = self._sql.bind_moment(stored)
        record = {
            "first_position": first, "last_position": last, "event_ids": [], "stream_versions": {},
            "events": last - first + 1, "digest": digest.hexdigest(),
        }  # fmt: skip
        conn.exec_driver_sql(self._sql.remember, (key, json.dumps(record), stored))

    def _lock(self, conn: Connection) -> None:
        if not self._sqlite:
            conn.exec_driver_sql(self._sql.lock, (APPEND_LOCK_KEY,))

    def _versions(self, conn: Connection, stream_ids: set[str]) -> dict[str, int]:
        """Each stream's current version.

        A few streams: one ``ORDER BY stream_version DESC LIMIT 1`` each, a descent of the
        ``(stream_id, stream_version)`` index whatever the stream's length. Many (an import, an
        activation; short streams): ``MAX ... GROUP BY`` over bounded ``IN`` lists, which reads
        every row of those streams but saves a round trip per stream.
        """
        found: dict[str, int] = {}
        ids = sorted(stream_ids)
        if len(ids) <= _ONE_BY_ONE:
            for stream_id in ids:
                row = self._fetch(conn, self._sql.version, (stream_id,))
                if row:
                    found[stream_id] = int(row[0][0])
            return found
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = tuple(ids[start : start + _IN_CHUNK])
            found.update({sid: int(v) for sid, v in self._fetch(conn, self._sql.versions(len(chunk)), chunk)})
        return found

    def _insert_sqlite(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """The rows on the DBAPI cursor (inside the caller's transaction), errors wrapped as SQLAlchemy's."""
        if not rows:
            return
        statement = self._sql.insert
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        try:
            if len(rows) == 1:
                dbapi.execute(statement, rows[0])
            else:
                dbapi.executemany(statement, rows)
        except self._sql.dbapi_error as error:
            raise self._driver_error(error, statement, rows) from error

    def _copy_allowed(self, conn: Connection) -> bool:
        """COPY unless row-level security applies to this login (a role of ``srdi db roles``):
        PostgreSQL refuses COPY FROM into a table whose row policies apply. Asked once per store."""
        if self._copy_ok is None:
            active = conn.exec_driver_sql(f"SELECT row_security_active('{T.name}')").scalar()
            self._copy_ok = not active
        return self._copy_ok

    def _copy(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """PostgreSQL bulk path: ``COPY ... FROM STDIN`` (2-3x an executemany of INSERTs)."""
        cursor = conn.connection.cursor()
        try:
            with cursor.copy(self._sql.copy) as copy:
                for row in rows:
                    copy.write_row(row)
        except self._sql.dbapi_error as error:
            raise self._driver_error(error, self._sql.copy, None) from error
        finally:
            cursor.close()

    def _fetch(self, conn: Connection, statement: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        """All rows of a driver-SQL query, as plain tuples.

        On SQLite straight from the DBAPI cursor (SQLAlchemy's result wrapping costs more than the
        query), with errors wrapped as SQLAlchemy would; on PostgreSQL through ``exec_driver_sql``.
        """
        if not self._sqlite:
            return conn.exec_driver_sql(statement, tuple(params)).all()
        if not conn.in_transaction():
            conn.begin()  # what SQLAlchemy's autobegin would have done for conn.execute
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        try:
            return dbapi.execute(statement, params).fetchall()  # type: ignore[no-any-return]
        except self._sql.dbapi_error as error:
            raise self._driver_error(error, statement, params) from error

    def _driver_error(self, error: Exception, statement: str, params: Any) -> Exception:
        """A driver's error as SQLAlchemy would have raised it (IntegrityError, OperationalError ...)."""
        wrapped: Exception = sa.exc.DBAPIError.instance(
            statement, params, error, self._sql.dbapi_error, dialect=self.engine.dialect
        )
        return wrapped

    def _explain_integrity(self, error: IntegrityError, appends: Sequence[StreamAppend]) -> Exception:
        ids = [e.event_id for a in appends for e in a.events]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            return DuplicateEventId(dup)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                stored = conn.execute(
                    sa.select(T.c.event_id).where(T.c.event_id.in_(ids[start : start + _IN_CHUNK]))
                ).first()
                if stored is not None:
                    return DuplicateEventId(stored[0])
        return error

    # -- reading -----------------------------------------------------------------------------
    def stream_events(self, query: StreamQuery) -> list[RecordedEvent]:
        """One range read on the ``(stream_id, stream_version)`` index: bounds, order and limit in SQL."""
        with self.engine.connect() as conn:
            return self.stream_in(conn, query)

    def stream_in(self, conn: Connection, query: StreamQuery) -> list[RecordedEvent]:
        """``stream_events`` on ``conn`` (an open write transaction sees its own events)."""
        statement, params = self._stream_query(query)
        decode, _new_batch = _decoder(self._sql)
        return [decode(row) for row in self._fetch(conn, statement, params)]

    def _stream_query(self, query: StreamQuery) -> tuple[str, list[Any]]:
        sql = self._sql
        statement = sql.stream
        params: list[Any] = [query.stream_id, query.from_version]
        if query.to_version is not None:
            statement += f" AND stream_version <= {sql.mark}"
            params.append(query.to_version)
        statement += " ORDER BY stream_version DESC" if query.descending else " ORDER BY stream_version"
        if query.limit is not None:
            statement += f" LIMIT {sql.mark}"
            params.append(query.limit)
        return statement, params

    def log_events(self, query: LogQuery, batch: int) -> Iterator[RecordedEvent]:
        """Every event of ``query`` in position order, upcast; the replay path.

        Reads like ``read_rows`` (one short read transaction per batch) but as driver SQL, and
        decodes with per-batch caches: the upcast check per event type, parsed business dates,
        and the shared ``recorded_at`` of a bulk append. Same values as ``_decode`` gives.
        ``event_types`` filters in SQL (``event_type IN (...)``).
        """
        decode, new_batch = _decoder(self._sql)
        for rows in self._scan(query.after_position, batch, query.until_position, query.types):
            new_batch()
            yield from map(decode, rows)

    def _scan(
        self,
        after_position: int,
        batch: int,
        until_position: int | None,
        types: tuple[str, ...] = (),
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """Raw rows in batches; with ``types``, only events of those types (empty: every type)."""
        sql = self._sql
        statement = sql.scan if until_position is None else sql.scan_until
        if types:
            statement += sql.of_types(len(types))
        statement += sql.order
        last = after_position
        with self.engine.connect() as conn:
            while True:
                bounds = (last,) if until_position is None else (last, until_position)
                params = (*bounds, *types, batch)
                with conn.begin():
                    rows = self._fetch(conn, statement, params)
                if not rows:
                    return
                last = rows[-1][0]
                yield rows
                if len(rows) < batch:
                    return

    def read_rows(
        self, after_position: int = 0, *, batch: int = 1000, until_position: int | None = None
    ) -> Iterator[Sequence[Any]]:
        """Raw rows in position order, one short read transaction per batch (bounded memory).

        Each row holds the columns of ``_COLUMNS`` with the values ``sa.select`` would give
        (``occurred_on`` a date, ``recorded_at`` a datetime), read as driver SQL for speed.
        """
        typed = _typer(self._sql)
        for rows in self._scan(after_position, batch, until_position):
            yield typed(rows)

    def read_raw_rows(
        self, after_position: int = 0, *, batch: int = 1000, until_position: int | None = None
    ) -> Iterator[Sequence[Any]]:
        """``read_rows`` as the driver gives them (dates as stored): for ``decoder``."""
        return self._scan(after_position, batch, until_position)

    def read_window(
        self, after_position: int, until_position: int, types: Sequence[str]
    ) -> tuple[int, Sequence[Sequence[Any]]]:
        """How many events positions ``(after, until]`` hold, and those of ``types`` among them.

        Raw rows as ``read_raw_rows`` gives them (on SQLite the payload as its stored UTF-8 bytes,
        which the decoders take as well), in one read transaction. A count equal to the
        range's width means the range has no hole, so a follower that only wants some types can
        skip the rest in SQL and still know it missed nothing.
        """
        sql = self._sql
        bounds = (after_position, until_position)
        with self.engine.connect() as conn, conn.begin():
            held = self._fetch(conn, sql.present, bounds)[0][0]
            rows = self._fetch(conn, sql.window(len(types)), (*bounds, *types)) if types else []
        return int(held), rows

    def read_by_stream(
        self, types: Sequence[str], until_position: int, *, batch: int = 1000
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """Rows of ``types`` up to ``until_position`` for folds (``parts_decoder``), stream by
        stream, each in its order: only the columns a fold reads (``_FOLDED``: those of
        ``read_raw_rows`` up to the business date at their places, then the payload, on SQLite as
        its stored UTF-8 bytes). Reading the whole rows cost a fifth more.

        For a rebuild whose views depend only on each stream's own events: it meets every stream's
        events together, however the log interleaves them. One short read per batch (keyset on
        the stream key), as ``read_raw_rows``.
        """
        sql = self._sql
        statement = sql.by_stream(len(types))
        stream, version = "", 0
        with self.engine.connect() as conn:
            while True:
                with conn.begin():
                    rows = self._fetch(conn, statement, (*types, until_position, stream, version, batch))
                if not rows:
                    return
                stream, version = rows[-1][2], rows[-1][3]
                yield rows
                if len(rows) < batch:
                    return

    def count_of_types(self, types: Sequence[str], until_position: int) -> int:
        """How many events of ``types`` the log holds up to ``until_position`` (the type index)."""
        marks = ", ".join([self._sql.mark] * len(types))
        statement = (
            f"SELECT count(*) FROM {T.name} WHERE event_type IN ({marks}) AND position <= {self._sql.mark}"
        )
        with self.engine.connect() as conn, conn.begin():
            return int(self._fetch(conn, statement, (*types, until_position))[0][0])

    def decoder(self) -> tuple[Callable[[Sequence[Any]], RecordedEvent], Callable[[], None]]:
        """A decoder of ``read_raw_rows`` rows (what ``read_all`` uses) and its per-batch reset.

        For readers that decode only some rows of a batch: the same ``RecordedEvent`` as
        ``read_all`` gives, with its caches (upcast check per type, parsed dates, shared
        ``recorded_at``). Call the reset before each batch.
        """
        return _decoder(self._sql)

    def parts_decoder(self) -> tuple[Callable[[Sequence[Any]], EventParts], Callable[[], None]]:
        """``decoder`` for folds: each ``read_by_stream`` row's ``EventParts`` (type, id, business
        date, upcast data) instead of the whole ``RecordedEvent``, with the same caches and reset."""
        _decode, parts, new_batch = _decoders(self._sql)
        return parts, new_batch

    def last_position(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(T.c.position))).scalar()
        return int(value or 0)

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.max(T.c.stream_version)).where(T.c.stream_id == stream_id)
            ).scalar()
        return int(value or 0)

    def get_event(self, event_id: str) -> RecordedEvent | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_COLUMNS).where(T.c.event_id == event_id)).first()
        return self._decode(row) if row is not None else None

    @staticmethod
    def _decode(row: Any) -> RecordedEvent:
        event_type, version = row[4], row[5]
        data = _loads(row[11])
        if version != registry.current_version(event_type):
            data = registry.upcast(event_type, version, data)
        return _make_recorded(
            row[0], row[1], row[2], row[3], event_type, version, _as_date(row[6]), _as_utc(row[7]),
            row[8], row[9], row[10], data, row[12],
        )  # fmt: skip


def covered_digest(hashes: Iterable[str]) -> str:
    """What an idempotency record covered: sha256 of its events' chain hashes, one per line."""
    return hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()


_MISSING = object()
# A run of 19 digits: an integer orjson may read as a float (it keeps 64 bits), json.loads exactly.
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))  # digit -> 0, else space
_DIGIT_RUN = b"0" * 19
_orjson_loads = orjson.loads
_DecodeError = orjson.JSONDecodeError


def _loads(text: Any) -> Any:
    """``json.loads(text)``: the same value or the same error, twice as fast; for ``bytes`` (a
    payload read as its stored UTF-8), ``json.loads(text.decode())``.

    orjson parses what it parses exactly as json.loads does, except integers past 64 bits (which
    it makes floats) and what it refuses (NaN, a lone surrogate, bytes that are not UTF-8…); those
    go to json.loads, which gives its own value or error. Such an integer is a run of at least 19
    digits, looked for in the UTF-8 bytes with every digit mapped to ``0`` and every other byte to
    a space (a regular expression cost three times the parse). ``find``, not ``in``: ``in`` first
    tries the operand as an integer and raises and discards a TypeError each time.
    """
    kind = type(text)
    if kind is not str and kind is not bytes:
        return json.loads(text)
    try:
        value = _orjson_loads(text)
    except _DecodeError:
        pass
    else:
        utf8 = text if kind is bytes else text.encode()
        if utf8.translate(_DIGITS_ONLY).find(_DIGIT_RUN) < 0:
            return value
    return json.loads(text.decode() if kind is bytes else text)


def _typer(sql: _Statements) -> Callable[[Sequence[Sequence[Any]]], Sequence[Sequence[Any]]]:
    """Apply SQLAlchemy's result types for the date columns to driver rows (none on PostgreSQL)."""
    parse_date, parse_moment = sql.parse_date, sql.parse_moment
    if parse_date is None and parse_moment is None:
        return lambda rows: rows
    dates: dict[Any, Any] = {}
    last_moment: list[Any] = [_MISSING, None]

    def typed(rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        if len(dates) > 50_000:
            dates.clear()
        out = []
        for c0, c1, c2, c3, c4, c5, raw_day, raw_moment, c8, c9, c10, c11, c12 in rows:
            occurred = dates.get(raw_day, _MISSING)
            if occurred is _MISSING:
                occurred = dates[raw_day] = parse_date(raw_day) if parse_date is not None else raw_day
            if raw_moment == last_moment[0]:
                recorded = last_moment[1]
            else:
                recorded = parse_moment(raw_moment) if parse_moment is not None else raw_moment
                last_moment[0], last_moment[1] = raw_moment, recorded
            out.append((c0, c1, c2, c3, c4, c5, occurred, recorded, c8, c9, c10, c11, c12))
        return out

    return typed


EventParts = tuple[str, str, date, Any]
"""What a fold reads of an event, without the envelope: (event type, event id, business date, data
upcast to the current schema)."""
_Decode = Callable[[Sequence[Any]], RecordedEvent]


def _decoder(sql: _Statements) -> tuple[_Decode, Callable[[], None]]:
    """A row decoder for one replay, and the hook that resets its caches at each batch."""
    decode, _parts, new_batch = _decoders(sql)
    return decode, new_batch


def _decoders(sql: _Statements) -> tuple[_Decode, Callable[[Sequence[Any]], EventParts], Callable[[], None]]:
    """Two decoders of one replay's rows sharing its caches (the upcast check per event type,
    parsed business dates): whole ``RecordedEvent``s from ``read_raw_rows`` rows, and only the
    ``EventParts`` a fold reads (a fifth of the cost of the whole, which a rebuild pays per event)
    from ``read_by_stream`` rows, whose payload stands at ``_FOLDED_PAYLOAD``; and the per-batch
    reset."""
    parse_date, parse_moment = sql.parse_date, sql.parse_moment
    current: dict[str, int] = {}
    dates: dict[Any, date] = {}
    last_moment: list[Any] = [_MISSING, None]
    current_version, upcast = registry.current_version, registry.upcast
    make, loads = _make_recorded, _loads

    def new_batch() -> None:
        current.clear()  # a type registered meanwhile is seen from the next batch on
        if len(dates) > 50_000:
            dates.clear()

    def parts_reader(payload: int) -> Callable[[Sequence[Any]], EventParts]:
        """The parts of rows holding the payload at ``payload`` (the columns before it are
        ``_COLUMNS``'s in both shapes)."""

        def parts(row: Sequence[Any]) -> EventParts:
            event_type, version = row[4], row[5]
            data = loads(row[payload])
            now_current = current.get(event_type)
            if now_current is None:
                now_current = current[event_type] = current_version(event_type)
            if version != now_current:
                data = upcast(event_type, version, data)
            raw = row[6]
            occurred = dates.get(raw)
            if occurred is None:
                occurred = dates[raw] = _as_date(parse_date(raw) if parse_date is not None else raw)
            return event_type, row[1], occurred, data

        return parts

    whole_parts = parts_reader(_PAYLOAD)

    def decode(row: Sequence[Any]) -> RecordedEvent:
        event_type, event_id, occurred, data = whole_parts(row)
        raw = row[7]
        if raw == last_moment[0]:
            recorded = last_moment[1]
        else:
            recorded = _as_utc(parse_moment(raw) if parse_moment is not None else raw)
            last_moment[0], last_moment[1] = raw, recorded
        return make(
            row[0], event_id, row[2], row[3], event_type, row[5], occurred, recorded,
            row[8], row[9], row[10], data, row[12],
        )  # fmt: skip

    return decode, parts_reader(_FOLDED_PAYLOAD), new_batch


def _recorded_maker() -> Callable[..., RecordedEvent]:
    """``RecordedEvent(*fields)`` in field order, built the cheap way when that is the same thing.

    The frozen dataclass ``__init__`` sets each slot through ``object.__setattr__`` (~2.3 us per
    event on the replay path); setting the slots through their descriptors gives the identical
    object in ~1 us. Used only while ``RecordedEvent`` is a plain frozen, slotted dataclass whose
    fields are the decoder's columns in order, with no ``__post_init__``; otherwise the class itself.
    """
    from dataclasses import fields

    names = tuple(f.name for f in fields(RecordedEvent))
    expected = (*(c.name for c in _COLUMNS[:11]), "data", "hash")
    if names != expected:
        raise RuntimeError(f"RecordedEvent fields {names} no longer match the decoder's {expected}")
    slots = getattr(RecordedEvent, "__slots__", ())
    if hasattr(RecordedEvent, "__post_init__") or tuple(slots) != names:
        return RecordedEvent
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12 = (
        RecordedEvent.__dict__[name].__set__ for name in names
    )
    new = object.__new__

    def make(
        position: int, event_id: str, stream_id: str, stream_version: int, event_type: str,
        schema_version: int, occurred_on: date, recorded_at: datetime, actor: str,
        causation_id: str | None, correlation_id: str | None, data: Any, hash: str,
    ) -> RecordedEvent:  # fmt: skip
        event = new(RecordedEvent)
        s0(event, position)
        s1(event, event_id)
        s2(event, stream_id)
        s3(event, stream_version)
        s4(event, event_type)
        s5(event, schema_version)
        s6(event, occurred_on)
        s7(event, recorded_at)
        s8(event, actor)
        s9(event, causation_id)
        s10(event, correlation_id)
        s11(event, data)
        s12(event, hash)
        return event

    return make


_make_recorded = _recorded_maker()


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


_last_utc: tuple[Any, datetime | None] = (_MISSING, None)


def _as_utc(value: Any) -> datetime:
    global _last_utc
    last = _last_utc  # one bulk append shares one recorded_at: keep the last answer (immutable)
    if value == last[0]:
        return last[1]  # type: ignore[return-value]
    moment: datetime = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    _last_utc = (value, moment)
    return moment


def _log_appended(rows: list[tuple[Any, ...]]) -> None:
    if not rows or not _debug_enabled():
        return
    for row in rows:
        log.debug("appended", stream=row[2], version=row[3], position=row[0], event_type=row[4])


_debug_cache: dict[Any, bool] = {}


def _debug_enabled() -> bool:
    """Skip building per-event log calls on the bulk path unless debug logging is on.

    A configuration not applied yet (structlog not loaded: see `events.lazy_logging`) answers from its level.
    Otherwise a filtering bound logger's level is part of its class, so the answer is cached per
    configured wrapper class (``structlog.configure`` with another level gives another class).
    """
    if not configured():
        return False
    pending = pending_level()
    if pending is not None:
        return pending <= 10
    structlog = structlog_module()
    wrapper = structlog.get_config()["wrapper_class"]
    enabled = _debug_cache.get(wrapper)
    if enabled is None:
        check = getattr(structlog.get_logger("srdi.store").bind(), "is_enabled_for", None)
        enabled = _debug_cache[wrapper] = bool(check(10)) if check is not None else True
    return enabled
