"""The district report page's figures: read once, from one position of the log, by the CLI's readers.

Nothing here computes a figure of its own. Targets are ``read_targets`` (what ``srdi targets``
prints), money is ``read_ledger`` + ``totals`` (``srdi ledger``) summed per rule and year by the
same ``totals``, titles over time are the ``total`` count of a title target (``titles_in_force``)
at each year end, the titles falling due are the calendar's own rows (``fold_entries``), and the
listing stages are each enterprise's status fold (``StatusView.of``). With an as-of date every
figure is taken as the CLI takes it with ``--as-of``.

All reads run in ONE read transaction after the projections are caught up, and only when the four
projections stand at the same checkpoint: the page then names that log position and its hash, so
an auditor can tie every figure to the log (``srdi audit verify`` walks the chain up to it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from domain.reference import DISTRICTS, state_keys, tracks
from projections.calendar import CalendarEntry, fold_entries
from projections.fold import stored_folds
from projections.framework import checkpoints_table
from projections.ledger_view import LedgerEntry, LedgerFilter, read_ledger, to_recover, totals
from projections.status import StatusView
from projections.status import enterprises_table as status_enterprises
from projections.targets import TargetRow, first_period_year, read_targets, titles_in_force

HORIZON_DAYS = 90  # titles whose review or expiry falls within this many days are listed
HISTORY_YEARS = 8  # year ends shown in the titles-over-time chart, the as-of year included
PROJECTIONS = ("ledger", "targets", "status", "facilities")
ATTEMPTS = 5  # catch-up rounds to find the projections at one position while others write
MONEY_KEYS = ("fixed", "ceilings", "approved", "paid", "recover")
ZERO = Decimal(0)
EMPTY_LOG_HASH = "0" * 64  # what `audit verify` names as the last hash of an empty log


class Unsettled(Exception):
    """The projections kept moving apart while the page was read (writers busy): try again."""


@dataclass(frozen=True, slots=True)
class MoneyLine:
    """Ledger sums of one group of entries: the contract's totals plus what is to be recovered."""

    entries: int
    fixed: Decimal
    ceilings: Decimal
    approved: Decimal
    paid: Decimal
    recover: Decimal

    @classmethod
    def of(cls, entries: Sequence[LedgerEntry]) -> MoneyLine:
        sums = totals(entries)
        recover = sum((to_recover(e) for e in entries), ZERO)
        return cls(len(entries), sums["fixed"], sums["ceilings"], sums["approved"], sums["paid"], recover)

    def get(self, key: str) -> Decimal:
        value = getattr(self, key)
        assert isinstance(value, Decimal)
        return value


@dataclass(frozen=True, slots=True)
class RuleMoney:
    """One rule of a policy document: its article, summary, and sums per accrual year and in all."""

    policy: str
    rule: str
    article: str
    summary: str
    units: tuple[str, ...]  # the responsible units the document names for the rule
    years: dict[int, MoneyLine]
    total: MoneyLine


@dataclass(frozen=True, slots=True)
class Money:
    """The ledger of a district (or of all), as `srdi ledger --json` totals it, split by rule and year."""

    total: MoneyLine
    by_year: dict[int, MoneyLine]
    by_rule: list[RuleMoney]
    statuses: dict[str, int]


@dataclass(frozen=True, slots=True)
class DistrictReport:
    key: str
    enterprises: int
    targets: list[TargetRow]
    titles: dict[int, dict[str, int]]  # year → track → enterprises holding it on the reference day
    title_days: dict[int, date]  # year → its reference day (31 December, or the as-of day)
    due: list[CalendarEntry]  # titles due within HORIZON_DAYS, soonest first
    listing: dict[str, int]  # listing stage → enterprises (every stage of the machine, `none` too)
    money: Money


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the page shows, and where in the log it was read."""

    district: str | None  # None: every district
    as_of: date | None  # the --as-of date, None for "now"
    day: date  # the business date figures are counted on (the as-of date, else today)
    position: int
    last_hash: str | None
    policies: dict[str, Any]  # policy key → its document (titles, rule summaries)
    districts: list[DistrictReport]
    money: Money  # all the page's districts together (= `srdi ledger [--district]`)
    tracks: tuple[str, ...] = field(default_factory=tuple)  # qualification tracks, in reference order
    stages: tuple[str, ...] = field(default_factory=tuple)  # listing stages, in reference order


def assemble(engine: Engine, *, district: str | None, as_of: date | None, today: date) -> Dashboard:
    """Read the page's figures at one log position (caught up first); ``district`` None = all.

    A session that may not write the views (a read-only role) reads them caught up privately, all
    at the log's end, and writes nothing.
    """
    from projections.feed import catch_up, may_write_views, private_view_at

    if not may_write_views(engine, PROJECTIONS):
        with private_view_at(engine, PROJECTIONS) as (conn, end):
            page = _read(conn, end, district=district, as_of=as_of, today=today, hashes=engine)
        return page
    for _ in range(ATTEMPTS):
        catch_up(engine, PROJECTIONS)
        with _read_transaction(engine) as conn:
            positions = _checkpoints(conn)
            if len(set(positions)) != 1:
                continue  # another process moved one projection between catch-up and read
            return _read(conn, positions[0], district=district, as_of=as_of, today=today)
    raise Unsettled("the projections kept moving while the page was read; run the command again")


@contextmanager
def _read_transaction(engine: Engine) -> Iterator[Connection]:
    """One read transaction: a snapshot on PostgreSQL (REPEATABLE READ) and on SQLite (WAL)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin() as transaction:
            try:
                yield conn
            finally:
                transaction.rollback()


def _checkpoints(conn: Connection) -> list[int]:
    c = checkpoints_table.c
    found = dict(conn.execute(sa.select(c.name, c.position).where(c.name.in_(PROJECTIONS))).all())
    return [int(found.get(name, 0)) for name in PROJECTIONS]


def _hash_at(conn: Connection, position: int, hashes: Engine | None = None) -> str | None:
    from events.tables import events_table

    query = sa.select(events_table.c.hash).where(events_table.c.position == position)
    if hashes is None:
        found = conn.execute(query).scalar_one_or_none()
    else:
        with hashes.connect() as own:
            found = own.execute(query).scalar_one_or_none()
    return None if found is None else str(found)


def _read(
    conn: Connection,
    position: int,
    *,
    district: str | None,
    as_of: date | None,
    today: date,
    hashes: Engine | None = None,
) -> Dashboard:
    """The page at ``position``; the log's hash there is read on ``conn`` or, where ``conn`` reads
    private copies of the views, on a connection of ``hashes`` (a stored event never changes)."""
    from domain.policy.model import builtin_keys, load_builtin

    day = as_of or today
    keys = [district] if district is not None else list(DISTRICTS)
    entries = read_ledger(conn, LedgerFilter(None, district, None, as_of))
    policies = {k: load_builtin(k) for k in builtin_keys()}
    people = enterprises_by_district(conn, district, as_of, day)
    reports = [
        _district(conn, key, day, people.get(key), [e for e in entries if e.district == key], policies)
        for key in keys
    ]
    return Dashboard(
        district,
        as_of,
        day,
        position,
        _hash_at(conn, position, hashes) if position else EMPTY_LOG_HASH,
        policies,
        reports,
        money(entries, policies),
        tuple(k for k, spec in tracks().items() if spec.kind == "qualification"),
        state_keys("listing"),
    )


@dataclass(slots=True)
class _People:
    """One district's enterprises as of the day: how many, per listing stage, and titles due."""

    count: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    due: list[CalendarEntry] = field(default_factory=list)


def enterprises_by_district(
    conn: Connection, district: str | None, as_of: date | None, day: date
) -> dict[str, _People]:
    """One pass over the enterprises' status folds (as of the date, in the district of that date):
    listing stages as `srdi status` shows them and the calendar's review rows falling due."""
    found: dict[str, _People] = {}
    for fold in stored_folds(conn, status_enterprises, district=district, as_of=as_of):
        if fold.district is None:
            continue
        people = found.setdefault(fold.district, _People())
        people.count += 1
        people.stages[StatusView.of(fold).listing["stage"] or "none"] += 1
        people.due.extend(
            e for e in fold_entries(fold, day) if e.track != "listing" and 0 <= e.days_left <= HORIZON_DAYS
        )
    return found


def _district(
    conn: Connection,
    key: str,
    day: date,
    people: _People | None,
    entries: Sequence[LedgerEntry],
    policies: dict[str, Any],
) -> DistrictReport:
    mine = people or _People()
    targets = read_targets(conn, key, year=None, on=day)
    titles, title_days = titles_by_year(conn, key, day)
    stages = {stage: mine.stages.get(stage, 0) for stage in state_keys("listing")}
    due = sorted(mine.due, key=lambda e: (e.valid_until, e.uscc, e.track))
    return DistrictReport(key, mine.count, targets, titles, title_days, due, stages, money(entries, policies))


def titles_by_year(
    conn: Connection, district: str, day: date
) -> tuple[dict[int, dict[str, int]], dict[int, date]]:
    """Enterprises holding each title at each year end up to ``day`` (the last point is ``day``)."""
    first = first_period_year(conn, district)
    start = max(day.year - HISTORY_YEARS + 1, first if first is not None else day.year)
    counts: dict[int, dict[str, int]] = {}
    days: dict[int, date] = {}
    for year in range(min(start, day.year), day.year + 1):
        ref = min(date(year, 12, 31), day)
        days[year] = ref
        counts[year] = {track: n for (_, track), n in titles_in_force(conn, ref, district).items()}
    return counts, days


def money(entries: Iterable[LedgerEntry], policies: dict[str, Any]) -> Money:
    """The ledger's totals, and the same totals per accrual year and per rule and year."""
    chosen = list(entries)
    by_year: dict[int, list[LedgerEntry]] = {}
    by_rule: dict[tuple[str, str], list[LedgerEntry]] = {}
    for e in chosen:
        by_year.setdefault(e.accrued_on.year, []).append(e)
        by_rule.setdefault((e.policy, e.rule), []).append(e)
    rules = []
    for (policy, rule), group in sorted(by_rule.items(), key=lambda item: _rule_order(item[0], policies)):
        years: dict[int, list[LedgerEntry]] = {}
        for e in group:
            years.setdefault(e.accrued_on.year, []).append(e)
        rules.append(
            RuleMoney(
                policy,
                rule,
                group[0].article,
                _summary(policies.get(policy), rule),
                group[0].responsible_units,
                {y: MoneyLine.of(years[y]) for y in sorted(years)},
                MoneyLine.of(group),
            )
        )
    return Money(
        MoneyLine.of(chosen),
        {y: MoneyLine.of(by_year[y]) for y in sorted(by_year)},
        rules,
        dict(sorted(Counter(e.status for e in chosen).items())),
    )


def _rule_order(key: tuple[str, str], policies: dict[str, Any]) -> tuple[str, int, str]:
    """Rules in the order their document lists them (unknown rules last, by id)."""
    policy, rule = key
    document = policies.get(policy)
    ids = [r.id for r in document.rules] if document is not None else []
    return policy, ids.index(rule) if rule in ids else len(ids), rule


def _summary(document: Any, rule: str) -> str:
    if document is None:
        return ""
    found = next((r for r in document.rules if r.id == rule), None)
    return "" if found is None else str(found.summary)
