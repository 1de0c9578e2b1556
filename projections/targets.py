"""District targets: each policy document's targets beside what the log counts for that district.

The projection keeps history-aware facts, not counts: each title's, pool's and designation's
validity periods (``targets_periods``: the first one's start is the first certification or
admission, every start an entry), the first date of each listing stage (``targets_firsts``), the
counted facts one by one (``targets_entries``) and each enterprise's district, responsible
department and industry (``targets_enterprises``). It is folded with the status view, from the
folds that view keeps. Counts are taken when read, on a reference day: 31 December of the target's
year, or the as-of day if that is earlier. Because a period or first date only counts when it lies
on or before that day, the live rows answer ``--as-of`` exactly as a rebuild from the events up to
that day would (a test pins it).

What is counted (docs/projections.md):
- ``total`` of a title track ("达到 N 家"): enterprises holding a valid title on the reference day.
- ``new-in-year`` / ``new-in-period`` (Qianjiang's annexes): enterprises whose FIRST certification
  of the track falls in the year / period; a re-entry or a passed review is not new.
- listings (``new-listings`` and its aliases): the first listing on an exchange, ``ipo-listed`` or a
  北交所 listing (``neeq-select``, which is a listing from 2021-11-15, the day 精选层 became 北交所).
  新三板 挂牌 is not 上市. ``listed-srdi``: listed enterprises that had a municipal SRDI or little
  giant certification by the reference day, cumulative.
- pools and designations (``domain.memberships``): ``total`` counts members on the reference day,
  ``new-in-period`` enterprises whose first admission / certification falls in the period,
  ``new-in-year`` / ``new-each-year`` enterprises admitted or certified in the year (a benchmark
  enterprise chosen again next year counts again; an enterprise counts once a year): the starts
  of its periods.
- counted facts (``projections.fold.COUNTED_FACTS``: invention patents…) are counted one by one
  (``targets_entries``): ``high-value-patents`` counts invention patents granted.
- ``holding`` keeps enterprises holding one of those titles on the day of what is counted.
- ``share-percent``: of the district's enterprises of the target's industry, the percentage (rounded
  down) holding one of ``holding`` on the reference day; ``share`` gives both numbers.
Targets themselves are policy data (``domain/policies/*.toml``), never code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain import reference
from domain.policy.model import Policy, builtin_keys, load_builtin
from domain.policy.targets import Target
from domain.titles import Period
from projections.facilities import facilities_table
from projections.fold import EnterpriseFold, EnterpriseProjection, Rows
from projections.framework import DateParam, metadata

BSE_OPENED = date(2021, 11, 15)  # 精选层 → 北京证券交易所: from this day a neeq-select is a listing
LISTED = "listed"  # the derived first-listing subject in targets_firsts
LISTING_MEASURES = frozenset({"new-listings", "listings", "listed", "listed-enterprises"})
TARGET_VIEWS = ("targets", "facilities")
"""The projections `read_targets` reads: catch both up (or snapshot both) before reading."""
FACILITY_MEASURES = frozenset({"srdi-park", "internship-base", "incubator"})
FACT_MEASURES = {"high-value-patents": "patent-invention", "invention-patents": "patent-invention"}
"""Measures counted from `targets_entries` facts, and the fact subject each counts."""
SRDI_TRACKS = ("srdi-municipal", "little-giant")

enterprises_table = sa.Table(
    "targets_enterprises",
    metadata,
    sa.Column("uscc", sa.String(32), primary_key=True),
    sa.Column("district", sa.String(50)),
    sa.Column("department", sa.Text),
    sa.Column("department_key", sa.Text),
    sa.Column("industry", sa.String(40)),
    sa.Index("ix_targets_enterprises_district", "district", "department_key"),
)


def _won_where(name: str, subject: sa.Column[Any], *dated: sa.Column[Any]) -> sa.Table:
    """A table of dated rows per enterprise and ``subject``, each with where it was won (the
    district and department key in force on its date), indexed by subject and its first date."""
    on = next(c.name for c in dated if isinstance(c.type, sa.Date))
    return sa.Table(
        name,
        metadata,
        sa.Column("uscc", sa.String(32), primary_key=True),
        subject,
        *dated,
        sa.Column("district", sa.String(50)),
        sa.Column("department_key", sa.Text),
        sa.Index(f"ix_{name}_{subject.name}", subject.name, on),
    )


periods_table = _won_where(
    "targets_periods",
    sa.Column("track", sa.String(30), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("start_on", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("ended_on", sa.Date),
)
firsts_table = _won_where(
    "targets_firsts",
    sa.Column("subject", sa.String(30), primary_key=True),
    sa.Column("first_on", sa.Date, nullable=False),
)
entries_table = _won_where(
    "targets_entries",
    sa.Column("subject", sa.String(40), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("on", sa.Date, nullable=False),
)


@lru_cache(maxsize=4096)  # a handful of departments, met once per enterprise in a rebuild
def department_key(name: str | None) -> str | None:
    """How departments are matched: ``区科技局`` and ``区科技局 `` are the same unit."""
    return reference.normalise(name) if name else None


class TargetsProjection(EnterpriseProjection):
    name = "targets"
    tables = (enterprises_table, periods_table, firsts_table, entries_table)

    def add_rows(self, fold: EnterpriseFold, day: DateParam, out: Sequence[Rows]) -> None:
        enterprises, periods, firsts, entries = out
        uscc = fold.uscc
        enterprises.append(
            (
                uscc,
                fold.district,
                fold.department,
                department_key(fold.department),
                fold.industry,
            )
        )
        folded = fold.folded
        where = _where(fold)
        for track, member in folded.memberships.items():
            _add_periods(periods, uscc, track, member.periods, where, day)
        seqs: dict[str, int] = {}
        for fact in fold.counted:
            seq = seqs[fact.subject] = seqs.get(fact.subject, -1) + 1
            entries.append((uscc, fact.subject, seq, day(fact.on), *where(fact.on)))
        for track, title in folded.titles.items():
            _add_periods(periods, uscc, track, title.periods, where, day)
        stages = folded.listing.reached
        if stages:  # most enterprises never take a step towards a listing
            reached: dict[str, date] = {}
            for action, on in stages:
                reached.setdefault(action, on)
            listed = [
                d for d in (reached.get("ipo-listed"), _bse(reached.get("neeq-select"))) if d is not None
            ]
            if listed:
                reached[LISTED] = min(listed)
            for subject, on in reached.items():
                firsts.append((uscc, subject, day(on), *where(on)))


Where = Callable[[date], tuple[str | None, str | None]]


def _add_periods(
    rows: Rows, uscc: str, track: str, periods: Sequence[Period], where: Where, day: DateParam
) -> None:
    """One ``targets_periods`` row per validity period of a title, pool or designation."""
    for seq, period in enumerate(periods):
        start = period.start
        row = (uscc, track, seq, day(start), day(period.valid_until), day(period.ended_on), *where(start))
        rows.append(row)


def _where(fold: EnterpriseFold) -> Where:
    """(district, department key) in force on a day: a title or listing counts where it was won.

    Most enterprises never change their details after registering: their answer is the same every
    day. Otherwise each day is looked up once per fold.
    """
    if len(fold.details.changes) <= 1:  # one statement stands for every day, before it too
        always = (fold.district, department_key(fold.department))
        return lambda on: always
    seen: dict[date, tuple[str | None, str | None]] = {}

    def where(on: date) -> tuple[str | None, str | None]:
        found = seen.get(on)
        if found is None:
            then = fold.details.on(on)
            found = seen[on] = (then.district, department_key(then.department))
        return found

    return where


def _bse(selected: date | None) -> date | None:
    return None if selected is None else max(selected, BSE_OPENED)


# ── reading ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TargetRow:
    policy: str
    measure: str
    label_zh: str
    department: str | None
    year: int
    basis: str
    comparison: str
    target: int
    actual: int | None
    article: str
    responsible_units: tuple[str, ...] = ()
    reason: str | None = None
    share: tuple[int, int] | None = None

    @property
    def met(self) -> bool | None:
        if self.actual is None:
            return None
        return self.actual > self.target if self.comparison == "more-than" else self.actual >= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "department": self.department,
            "target": self.target,
            "actual": self.actual,
            "year": self.year,
            "policy": self.policy,
            "label_zh": self.label_zh,
            "basis": self.basis,
            "comparison": self.comparison,
            "met": self.met,
            "article": self.article,
            "responsible_units": list(self.responsible_units),
            "reason": self.reason,
            "share": None if self.share is None else {"holding": self.share[0], "of": self.share[1]},
        }


def district_policies(district: str) -> list[Policy]:
    """The shipped policy documents that cover ``district``, by key."""
    return [p for p in (load_builtin(k) for k in builtin_keys()) if district in p.districts]


def read_targets(
    conn: Connection,
    district: str,
    *,
    year: int | None,
    on: date,
    policies: Sequence[Policy] | None = None,
) -> list[TargetRow]:
    """Every target of the district's documents (of ``year`` if given) with its actual count."""
    documents = district_policies(district) if policies is None else policies
    rows: list[TargetRow] = []
    for policy in documents:
        for t in policy.all_targets():
            if year is not None and t.year != year:
                continue
            share = _share(conn, district, t, on) if t.basis == "share-percent" and t.countable else None
            rows.append(
                TargetRow(
                    policy.key,
                    t.measure,
                    t.label_zh,
                    t.department,
                    t.year,
                    t.basis,
                    t.comparison,
                    t.value,
                    _percent(share) if share is not None else actual(conn, district, t, on),
                    t.article,
                    t.responsible_units,
                    t.reason,
                    share,
                )
            )
    return rows


def _percent(share: tuple[int, int]) -> int:
    """The share as a whole percentage, rounded down (0 when the sector has no enterprise)."""
    holding, of = share
    return holding * 100 // of if of else 0


def actual(conn: Connection, district: str, target: Target, on: date) -> int | None:
    """The count a target is measured against, on its reference day; None if not countable."""
    what = target.counted
    kind = _kind(what)
    if not target.countable or kind is None or target.basis == "share-percent":
        return None
    ref = min(date(target.year, 12, 31), on)
    dept = department_key(target.department)
    holding = target.holding
    if kind == "fact":
        return _facts(conn, district, dept, FACT_MEASURES.get(what, what), target, ref)
    if kind == "facility":
        return _facilities(conn, district, what, target, ref)
    subject = LISTED if kind in ("listed", "listed-srdi") else what
    if target.basis == "total":
        if kind in ("title", "member"):
            return _stock(conn, district, dept, what, ref, holding)
        return _firsts(conn, district, dept, subject, None, ref, srdi_only=kind == "listed-srdi")
    start_year = target.from_year or target.year
    if kind == "member" and target.basis in ("new-in-year", "new-each-year"):
        years = range(
            start_year if target.basis == "new-each-year" else target.year, min(target.year, ref.year) + 1
        )
        counts = [
            _entries(conn, district, dept, what, date(y, 1, 1), min(date(y, 12, 31), ref), holding)
            for y in years
        ]
        return min(counts) if counts else 0
    if target.basis == "new-in-year":
        return _firsts(conn, district, dept, subject, date(target.year, 1, 1), ref, holding=holding)
    if target.basis == "new-in-period":
        return _firsts(conn, district, dept, subject, date(start_year, 1, 1), ref, holding=holding)
    years = range(start_year, min(target.year, ref.year) + 1)  # new-each-year: the weakest year
    counts = [
        _firsts(conn, district, dept, subject, date(y, 1, 1), min(date(y, 12, 31), ref), holding=holding)
        for y in years
    ]
    return min(counts) if counts else 0


def _kind(measure: str) -> str | None:
    if measure in LISTING_MEASURES:
        return "listed"
    if measure == "listed-srdi":
        return "listed-srdi"
    if measure in FACT_MEASURES or measure.startswith("patent-"):
        return "fact"
    if measure in FACILITY_MEASURES:
        return "facility"
    spec = reference.tracks().get(measure)
    if spec is None:
        return None
    if spec.kind == "qualification":
        return "title"
    return "member" if spec.kind in reference.MEMBERSHIP_KINDS else None


def _holds(uscc: sa.ColumnElement[Any], tracks: Sequence[str], day: Any) -> sa.ColumnElement[bool]:
    """The enterprise holds a valid title of one of ``tracks`` on ``day`` (a date or a column)."""
    h = periods_table.alias("held")
    return sa.exists().where(
        h.c.uscc == uscc,
        h.c.track.in_(list(tracks)),
        h.c.start_on <= day,
        h.c.valid_until >= day,
        sa.or_(h.c.ended_on.is_(None), h.c.ended_on > day),
    )


def _facts(conn: Connection, district: str, dept: str | None, subject: str, target: Target, ref: date) -> int:
    """Facts one by one (patents): all up to ``ref`` for a total, else those of the period / year."""
    x = entries_table.c
    query = sa.select(sa.func.count()).select_from(entries_table).where(x.subject == subject, x.on <= ref)
    if target.basis == "new-in-year":
        query = query.where(x.on >= date(target.year, 1, 1))
    elif target.basis != "total":
        query = query.where(x.on >= date(target.from_year or target.year, 1, 1))
    if target.holding:
        query = query.where(_holds(x.uscc, target.holding, x.on))
    return int(conn.execute(_won_in(query, entries_table, district, dept)).scalar_one())


def _facilities(conn: Connection, district: str, kind: str, target: Target, ref: date) -> int:
    """Parks, bases, incubators: open on ``ref`` for a total, else established in the period / year."""
    f = facilities_table.c
    query = (
        sa.select(sa.func.count())
        .select_from(facilities_table)
        .where(f.district == district, f.kind == kind, f.established_on <= ref)
    )
    if target.basis == "total":
        query = query.where(sa.or_(f.closed_on.is_(None), f.closed_on > ref))
    elif target.basis == "new-in-year":
        query = query.where(f.established_on >= date(target.year, 1, 1))
    else:
        query = query.where(f.established_on >= date(target.from_year or target.year, 1, 1))
    return int(conn.execute(query).scalar_one())


def _entries(
    conn: Connection,
    district: str,
    dept: str | None,
    subject: str,
    start: date,
    end: date,
    holding: Sequence[str],
) -> int:
    """Enterprises admitted to a pool / certified a designation between ``start`` and ``end``: the
    starts of its periods (each admission or certification opens one)."""
    p = periods_table.c
    query = (
        sa.select(sa.func.count(sa.distinct(p.uscc)))
        .select_from(periods_table)
        .where(p.track == subject, p.start_on >= start, p.start_on <= end)
    )
    if holding:
        query = query.where(_holds(p.uscc, holding, p.start_on))
    return int(conn.execute(_won_in(query, periods_table, district, dept)).scalar_one())


def _share(conn: Connection, district: str, target: Target, on: date) -> tuple[int, int]:
    """(enterprises of the industry holding one of ``holding`` on the day, enterprises of it)."""
    ref = min(date(target.year, 12, 31), on)
    e = enterprises_table.c
    dept = department_key(target.department)
    base = sa.select(sa.func.count()).select_from(enterprises_table).where(e.industry == target.industry)
    of = int(conn.execute(_in_district(base, district, dept)).scalar_one())
    tracks = target.holding or SRDI_TRACKS
    holding = int(
        conn.execute(_in_district(base.where(_holds(e.uscc, tracks, ref)), district, dept)).scalar_one()
    )
    return holding, of


def _in_district(query: sa.Select[Any], district: str, dept: str | None) -> sa.Select[Any]:
    """Enterprises of the district (and department) now: the base of an industry's share."""
    e = enterprises_table.c
    query = query.where(e.district == district)
    return query.where(e.department_key == dept) if dept is not None else query


def _won_in(query: sa.Select[Any], table: sa.Table, district: str, dept: str | None) -> sa.Select[Any]:
    """Rows of ``table`` won in the district (and by the department): where it was on their date."""
    query = query.where(table.c.district == district)
    return query.where(table.c.department_key == dept) if dept is not None else query


def _in_force(query: sa.Select[Any], ref: date) -> sa.Select[Any]:
    """Periods that cover ``ref``: started by then, still valid, not ended (revoked, failed) by then."""
    p = periods_table.c
    query = query.where(p.start_on <= ref, p.valid_until >= ref)
    return query.where(sa.or_(p.ended_on.is_(None), p.ended_on > ref))


def _stock(
    conn: Connection, district: str, dept: str | None, track: str, ref: date, holding: Sequence[str] = ()
) -> int:
    p = periods_table.c
    query = sa.select(sa.func.count(sa.distinct(p.uscc))).select_from(periods_table).where(p.track == track)
    if holding:
        query = query.where(_holds(p.uscc, holding, ref))
    return int(conn.execute(_won_in(_in_force(query, ref), periods_table, district, dept)).scalar_one())


def _title_tracks() -> list[str]:
    """The qualification tracks (``targets_periods`` also holds pool and designation periods)."""
    return [k for k, spec in reference.tracks().items() if spec.kind == "qualification"]


def titles_in_force(conn: Connection, ref: date, district: str | None = None) -> dict[tuple[str, str], int]:
    """Enterprises holding each title on ``ref``, by (district, track): the ``total`` count of a
    title target (``_stock``) for every district and track in one grouped query."""
    p = periods_table.c
    query = (
        sa.select(p.district, p.track, sa.func.count(sa.distinct(p.uscc)))
        .select_from(periods_table)
        .where(p.district.is_not(None), p.track.in_(_title_tracks()))
        .group_by(p.district, p.track)
    )
    if district is not None:
        query = query.where(p.district == district)
    return {(d, t): int(n) for d, t, n in conn.execute(_in_force(query, ref))}


def first_period_year(conn: Connection, district: str | None = None) -> int | None:
    """The year the district's earliest title period began (None when it has none)."""
    p = periods_table.c
    query = sa.select(sa.func.min(p.start_on)).select_from(periods_table).where(p.track.in_(_title_tracks()))
    if district is not None:
        query = query.where(p.district == district)
    first = conn.execute(query).scalar_one()
    if first is None:
        return None
    return first.year if isinstance(first, date) else date.fromisoformat(str(first)).year


def _firsts(
    conn: Connection,
    district: str,
    dept: str | None,
    subject: str,
    start: date | None,
    end: date,
    *,
    srdi_only: bool = False,
    holding: Sequence[str] = (),
) -> int:
    """Enterprises whose first certification / admission of a track, or first listing stage, falls
    between ``start`` (if any) and ``end``."""
    table, first_on, rows = _first_dates(subject)
    query = sa.select(sa.func.count()).select_from(table).where(rows, first_on <= end)
    if start is not None:
        query = query.where(first_on >= start)
    if srdi_only:  # some period of those tracks began by then: so did the first
        srdi = periods_table.alias("srdi")
        query = query.where(
            sa.exists().where(
                srdi.c.uscc == table.c.uscc, srdi.c.track.in_(SRDI_TRACKS), srdi.c.start_on <= end
            )
        )
    if holding:
        query = query.where(_holds(table.c.uscc, holding, first_on))
    return int(conn.execute(_won_in(query, table, district, dept)).scalar_one())


def _first_dates(subject: str) -> tuple[sa.Table, sa.Column[Any], sa.ColumnElement[bool]]:
    """Where the first dates of ``subject`` are kept: (table, its date column, its rows).

    A track's first certification or admission is the start of its first period (each opens one),
    so ``targets_periods`` answers it; ``targets_firsts`` keeps only the listing stages.
    """
    if subject in reference.tracks():
        p = periods_table.c
        return periods_table, p.start_on, sa.and_(p.track == subject, p.seq == 0)
    f = firsts_table.c
    return firsts_table, f.first_on, f.subject == subject
