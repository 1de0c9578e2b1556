"""What a projection is: a name, the event types it handles, its tables, and a bulk ``apply``.

A projection turns batches of recorded events into rows (SQLAlchemy Core, bulk writes). It never
commits and never touches its checkpoint: the runner calls ``apply`` inside the transaction that
also moves the projection's tracking record (``events.tracking``, keyed by the projection's name),
so rows and checkpoint commit or roll back together and a crash can leave a view neither ahead of
nor behind its checkpoint.

Adding a projection: one module defining its tables on ``metadata`` and a ``TableProjection``
subclass, one entry in ``projections.registry``, one migration creating the tables.

``Cutoff`` is the one definition of "as of a business date" and "as recorded before an instant"
that every view shares (docs/projections.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.errors import InvalidInput
from events.envelope import RecordedEvent
from events.sql_store import EventParts, _as_date, _as_utc
from events.tracking import tracking_table

metadata = sa.MetaData()

# A projection's checkpoint is its tracking record (name = the projection's name).
checkpoints_table = tracking_table

# Facts that hold whatever the business date: a registration is the enterprise's identity (history
# taken over is recorded with dates before it), and a retraction says an event never happened.
ALWAYS_APPLY = frozenset({"EnterpriseRegistered", "EventRetracted"})

IN_CHUNK = 500  # bound on the size of an IN (...) list
T = TypeVar("T")


class Projection(Protocol):
    """A read model the runner can feed, rebuild and count."""

    @property
    def name(self) -> str:
        """Unique key: the checkpoint's name and what ``replay`` reports."""

    @property
    def handles(self) -> frozenset[str]:
        """The event types ``apply`` is given (others are filtered out before it)."""

    @property
    def tables(self) -> tuple[sa.Table, ...]:
        """Its tables, parents first (deleted in reverse on a rebuild, copied for snapshots)."""

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Write the effect of ``events`` (position order, only handled types) in bulk."""

    def reset(self, conn: Connection) -> None:
        """Delete every row (a rebuild starts from nothing)."""

    def count_rows(self, conn: Connection) -> int:
        """Rows across the projection's tables (what ``replay`` reports)."""


class TableProjection:
    """Base with the table chores; subclasses set the class attributes and write ``apply``."""

    name: str = ""
    handles: frozenset[str] = frozenset()
    tables: tuple[sa.Table, ...] = ()

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        raise NotImplementedError

    def reset(self, conn: Connection) -> None:
        for table in reversed(self.tables):
            conn.execute(sa.delete(table))

    def count_rows(self, conn: Connection) -> int:
        total = 0
        for table in self.tables:
            total += int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        return total


class SubjectProjection(TableProjection):
    """A view of one table with one row per subject (an entitlement, a facility): the fold of that
    subject's events, which begin with its ``creation`` and name it by ``data[subject_key]``.

    Every event of a subject lies in one stream (its enterprise's, its own), so a rebuild may build
    the view stream by stream (``projections.feed``) from each subject's events in stream order,
    given as ``EventParts`` (type, event id, business date, data) to ``row``.
    """

    creation: str = ""
    subject_key: str = ""

    def row(self, events: Sequence[EventParts], day: DateParam) -> tuple[Any, ...]:
        """The subject's row (values in column order, dates through ``day``) from its events,
        its creation first."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Which events a view admits: ``occurred_on <= as_of`` and ``recorded_at < recorded_before``.

    The business-date bound spares ``ALWAYS_APPLY`` types; the recorded bound spares nothing (what
    the log did not know yet, it did not know).
    """

    as_of: date | None = None
    recorded_before: datetime | None = None

    @property
    def unbounded(self) -> bool:
        return self.as_of is None and self.recorded_before is None

    @classmethod
    def parse(cls, as_of: str | None, recorded_before: str | None, tz: str = "Asia/Shanghai") -> Cutoff:
        """From the CLI's ``--as-of DATE`` and ``--recorded-before TIMESTAMP`` (InvalidInput if bad).

        A timestamp without an offset is read in ``tz`` (the district's clock); a bare date means
        the start of that day there.
        """
        day = None
        if as_of is not None:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise InvalidInput(f"--as-of {as_of!r} is not a date; write it as YYYY-MM-DD") from None
        return cls(day, None if recorded_before is None else parse_instant(recorded_before, tz))

    def admits(self, event: RecordedEvent) -> bool:
        return self._admits(event.event_type, event.occurred_on, event.recorded_at)

    def admits_row(self, row: Sequence[Any]) -> bool:
        """The same test on a raw store row (columns as ``SqlEventStore.read_rows`` returns them)."""
        if self.unbounded:
            return True
        return self._admits(row[4], _as_date(row[6]), _as_utc(row[7]))

    def _admits(self, event_type: str, occurred_on: date, recorded_at: datetime) -> bool:
        if self.recorded_before is not None and recorded_at >= self.recorded_before:
            return False
        return self.as_of is None or occurred_on <= self.as_of or event_type in ALWAYS_APPLY


def parse_instant(text: str, tz: str = "Asia/Shanghai") -> datetime:
    """An ISO 8601 instant (``2025-03-01T09:30``, ``…Z``, ``…+08:00``, or a date) as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"--recorded-before {text!r} is not a timestamp; write it as YYYY-MM-DDTHH:MM[:SS][+08:00]"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within hours of year 1 or 9999: before or after anything recorded
        return datetime.min.replace(tzinfo=UTC) if moment.year == 1 else datetime.max.replace(tzinfo=UTC)


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def delete_where_in(conn: Connection, table: sa.Table, column: str, keys: Sequence[Any]) -> None:
    """Delete the rows whose ``column`` is one of ``keys``, in bounded IN lists."""
    for part in chunks(keys):
        conn.execute(sa.delete(table).where(table.c[column].in_(part)))


# Column types whose values the drivers take as they come (dates once through ``date_param``).
_PLAIN_TYPES = (sa.String, sa.Integer, sa.Date, sa.Boolean)
_statements: dict[tuple[str, str | None, str], str] = {}
DateParam = Callable[[date | None], date | str | None]


_ISO_KEPT = 65_536


class _IsoTexts(dict[date | None, str | None]):
    """The ISO text of each date met, kept: a replay converts a few hundred thousand dates, mostly
    the same few thousand. A dict's own lookup costs half an ``lru_cache`` hit (no recency to keep
    up); it starts again past ``_ISO_KEPT`` dates."""

    def __missing__(self, day: date | None) -> str | None:
        if len(self) >= _ISO_KEPT:
            self.clear()
        text = self[day] = None if day is None else day.isoformat()
        return text


_iso: Callable[[date | None], str | None] = _IsoTexts().__getitem__


def _same(day: date | None) -> date | None:
    return day


def date_param(conn: Connection) -> DateParam:
    """How ``insert_rows`` wants a date: ISO text on SQLite (exactly what SQLAlchemy's SQLite
    ``Date`` stores), the date itself on PostgreSQL."""
    return _iso if conn.dialect.name == "sqlite" else _same


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in ``table.columns`` order) in one bulk driver call.

    ``conn.execute(sa.insert(table), dicts)`` runs SQLAlchemy's per-value bind processing in
    Python, which on the rebuild path cost more than SQLite's own work. Projection tables have plain
    columns only (text, integers, dates, booleans), so their rows go to the driver as they are: one
    ``executemany`` on SQLite (dates converted by the caller through ``date_param``), ``COPY ...
    FROM STDIN`` on PostgreSQL (an ``executemany`` there costs a round of Python work per row). The
    connection's ``schema_translate_map`` (snapshots write to temporary tables) is honoured.
    """
    if not rows:
        return
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    statement = _statement(conn, table, schema)
    if not statement.startswith("COPY"):
        conn.exec_driver_sql(statement, list(rows))
        return
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except conn.dialect.loaded_dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(
            statement, None, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from error
    finally:
        cursor.close()


def _statement(conn: Connection, table: sa.Table, schema: str | None) -> str:
    """``INSERT ... VALUES (?, ...)`` for SQLite, ``COPY ... FROM STDIN`` for PostgreSQL (cached)."""
    dialect = conn.dialect
    key = (dialect.name, schema, table.name)
    statement = _statements.get(key)
    if statement is None:
        odd = [c.name for c in table.columns if not isinstance(c.type, _PLAIN_TYPES)]
        if odd:
            raise TypeError(f"insert_rows takes plain columns only; {table.name} has {', '.join(odd)}")
        quote = dialect.identifier_preparer.quote
        target = quote(table.name) if schema is None else f"{quote(schema)}.{quote(table.name)}"
        names = ", ".join(quote(c.name) for c in table.columns)
        if dialect.name == "postgresql":
            statement = f"COPY {target} ({names}) FROM STDIN"
        elif dialect.paramstyle == "qmark":
            statement = f"INSERT INTO {target} ({names}) VALUES ({', '.join(['?'] * len(table.columns))})"
        else:
            raise TypeError(f"insert_rows does not know the {dialect.name} database")
        _statements[key] = statement
    return statement


def required(*columns: tuple[str, sa.types.TypeEngine[Any]]) -> list[sa.Column[Any]]:
    """NOT NULL columns, one per ``(name, type)``: a view's many mandatory fields, listed once."""
    return [sa.Column(name, kind, nullable=False) for name, kind in columns]


def temp_copy(table: sa.Table, into: sa.MetaData, *, keyed: bool = True) -> sa.Table:
    """A TEMPORARY table of the same name and columns (for snapshots; no secondary indexes).

    The snapshot's connection translates the (schema-less) live tables to the temp schema, so
    every query of the projection, written against the live table, reads and writes the copy.
    Unless ``keyed``, without its primary key: for rows that come in no key order, keyed once
    they are all in (``key_copy``).
    """
    columns = [
        sa.Column(c.name, c.type, primary_key=keyed and c.primary_key, nullable=c.nullable)
        for c in table.columns
    ]
    return sa.Table(table.name, into, *columns, prefixes=["TEMPORARY"])


def key_copy(conn: Connection, schema: str, table: sa.Table) -> None:
    """Give an unkeyed copy (``temp_copy(keyed=False)``) in ``schema`` its primary key, as a
    unique index: built by sorting its rows once, where inserting each row into a key that does not
    follow their order reads and writes pages all over it (the ledger's entitlement ids: 13 us a
    row at 2M events against 5 us at 223k). Raises ``IntegrityError`` if two rows share a key.
    """
    quote = conn.dialect.identifier_preparer.quote
    keys = ", ".join(quote(c.name) for c in table.primary_key.columns)
    name = quote(f"{table.name}_key")
    if conn.dialect.name == "sqlite":
        statement = f"CREATE UNIQUE INDEX IF NOT EXISTS {schema}.{name} ON {quote(table.name)} ({keys})"
    else:
        statement = f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {schema}.{quote(table.name)} ({keys})"
    conn.exec_driver_sql(statement)
