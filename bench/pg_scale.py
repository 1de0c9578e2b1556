"""A district-sized log on PostgreSQL: build 10M events fast, then replay, read and weigh it.

``python -m bench.pg_scale --events 10000000`` (prints; not part of ``bench.run``: it needs ~1 h
and several GB):

1. **Seed**: ``srdi demo --enterprises N`` writes a real log through the real handlers (policy
   activations, entitlements, corrections, facilities) into a SQLite file.
2. **Clone**: the seed's enterprise streams are written again and again, each copy under new valid
   USCCs and new ids (every UUID in ids and payloads is remapped per copy, so retractions,
   causation and entitlement ids follow), policies and facilities once, in the seed's order, up to
   the size asked. Positions, ``recorded_at`` (one microsecond apart) and the hash chain
   (``events.canonical``) are computed here and the rows go in by ``COPY`` through psycopg 3, with
   the event table's indexes dropped during the load and rebuilt after: the chain is the one the
   store would have written, so ``srdi audit verify`` passes.

   ``events.district`` (migration 0013) is computed here too, row by row in log order, by the
   rule of the ``events_district`` trigger (``district_of``), and that trigger is disabled for the
   ``COPY`` (and enabled again before it commits): without the ``(stream_id, stream_version)``
   index its look-up is a scan of the table per row, quadratic in the log. Computed in the
   ``COPY``, not filled by an ``UPDATE`` after it (the migration's ``backfill``), so the table
   holds no dead row versions, as a log written by the store does not. Checked against the
   migration's own single statement (``DISTRICTS``) unless ``--skip-verify``: every row's district
   equal, or the run stops. A schema without the column (revision 0012, as
   ``bench.district_backfill`` builds) gets none.
3. **Measure**, each in a fresh ``srdi`` process (``/usr/bin/time``: wall seconds, peak RSS):
   ``srdi audit verify`` (after the districts' check above), ``srdi replay`` (every view rebuilt
   from the log), then ``srdi status USCC --json`` and ``srdi ledger --enterprise USCC --json``
   several times each (median wall, the interpreter's start included), the same reads in one warm
   process through the read façade (``service_layer.reads``: median), and the disk taken by each
   table and its indexes.

Everything lives in one schema of ``SRDI_BENCH_PG_URL`` (default: the test server), dropped at the
end unless ``--keep``. Load averages are printed with every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import sqlalchemy as sa

from bench import data
from bench.util import ROOT, log
from events.canonical import GENESIS, canonical_text, chain_hash, format_recorded_at

SRDI = str(Path(sys.executable).with_name("srdi"))
COLUMNS = (
    "position, event_id, stream_id, stream_version, event_type, schema_version, occurred_on,"
    " recorded_at, actor, causation_id, correlation_id, payload, hash"
)
MIGRATION_0013 = ROOT / "migrations" / "versions" / "0013_event_districts.py"
_OWN = frozenset({"EnterpriseRegistered", "EnterpriseDetailsChanged", "FacilityEstablished"})
_SLOT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9A-Z]{18}")
_START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
Parts = tuple[str | tuple[str, str], ...]  # literal text, or (kind, old value) to remap per copy


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- 1. the seed ---------------------------------------------------------------------------------
def make_seed(path: Path, enterprises: int) -> None:
    """A real log: ``srdi demo`` through the real handlers (and the policy engine)."""
    if path.exists():
        log(f"seed: reusing {path}")
        return
    log(f"seed: srdi demo --enterprises {enterprises} into {path}")
    subprocess.run(
        [SRDI, "--db", f"sqlite:///{path}", "demo", "--enterprises", str(enterprises), "--json"],
        check=True, stdout=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip


class Template:
    """One seed event cut into the text that stays and the ids that each copy renames."""

    __slots__ = (
        "actor",
        "cloned",
        "event_type",
        "ids",
        "occurred_on",
        "payload",
        "schema",
        "stream",
        "version",
    )

    def __init__(self, row: tuple[Any, ...], usccs: frozenset[str]) -> None:
        event_id, stream, version, event_type, schema, occurred_on, actor, causation, correlation, payload = (
            row
        )
        self.stream = _cut(stream, usccs)
        self.version = int(version)
        self.event_type = str(event_type)
        self.schema = int(schema)
        self.occurred_on = str(occurred_on)
        self.actor = str(actor)
        self.ids = (str(event_id), causation, correlation)
        self.payload = _cut(payload, usccs)
        self.cloned = str(stream).startswith("enterprise-")  # policies and facilities: written once


def _cut(text: str, usccs: frozenset[str]) -> Parts:
    parts: list[str | tuple[str, str]] = []
    at = 0
    for found in _SLOT.finditer(text):
        value = found.group()
        kind = "uuid" if "-" in value else ("uscc" if value in usccs else None)
        if kind is None:
            continue
        parts.append(text[at : found.start()])
        parts.append((kind, value))
        at = found.end()
    parts.append(text[at:])
    return tuple(p for p in parts if p != "")


def read_seed(path: Path) -> list[Template]:
    import sqlite3

    with sqlite3.connect(path) as db:
        usccs = frozenset(
            s.removeprefix("enterprise-")
            for (s,) in db.execute(
                "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'enterprise-%'"
            )
        )
        rows = db.execute(
            "SELECT event_id, stream_id, stream_version, event_type, schema_version, occurred_on, actor,"
            " causation_id, correlation_id, payload FROM events ORDER BY position"
        ).fetchall()
    heads = {r[0][:24] for r in rows}
    if len(heads) != len(rows):
        raise RuntimeError("two seed event ids share their first 24 characters: cannot remap by suffix")
    return [Template(r, usccs) for r in rows]


# -- 2. the copies -------------------------------------------------------------------------------
def rows(templates: list[Template], total: int, districts: bool = False) -> Iterator[str]:
    """COPY text lines for ``total`` events: the seed's copies one after another, chained.

    Copy ``k`` renames each seed USCC to a valid one of its own (``domain.uscc``) and each id of a
    cloned event (and any UUID in a payload) by its last 12 hex digits ``k``; the ids of the
    events written once (policies, facilities) stay, so what refers to them still does. With
    ``districts``, each line ends with the event's district (``district_of``), for ``COLUMNS``
    followed by ``district``.
    """
    from domain.uscc import make_uscc

    seeds = sorted({p[1] for t in templates for p in t.stream if isinstance(p, tuple) and p[0] == "uscc"})
    fixed = frozenset(t.ids[0] for t in templates if not t.cloned)
    previous, position, copy = GENESIS, 0, 0
    latest: dict[str, str] = {}  # stream -> the district of its latest event that has one
    while position < total:
        names = {old: make_uscc(f"91500{copy:04d}M{n:05d}XY") for n, old in enumerate(seeds)}
        suffix = f"{copy:012x}"

        def remap(value: str | None, suffix: str = suffix) -> str | None:
            return value if value is None or value in fixed else value[:24] + suffix

        def text(parts: Parts, names: dict[str, str] = names, suffix: str = suffix) -> str:
            return "".join(
                p if isinstance(p, str) else (names[p[1]] if p[0] == "uscc" else remap(p[1], suffix))  # type: ignore[misc]
                for p in parts
            )

        for t in templates:
            if not t.cloned and copy > 0:
                continue
            position += 1
            if position > total:
                break
            event_id, causation, correlation = (remap(i) for i in t.ids)
            stream, payload = text(t.stream), text(t.payload)
            moment = _START + timedelta(microseconds=position)
            canonical = canonical_text(
                position=position, event_id=event_id, stream_id=stream, stream_version=t.version,  # type: ignore[arg-type]
                event_type=t.event_type, schema_version=t.schema, occurred_on=t.occurred_on,
                recorded_at=format_recorded_at(moment), actor=t.actor, causation_id=causation,
                correlation_id=correlation, payload=payload,
            )  # fmt: skip
            previous = chain_hash(previous, canonical)
            fields: list[str | None] = [
                str(position), event_id, stream, str(t.version), t.event_type, str(t.schema), t.occurred_on,
                moment.isoformat(sep=" "), t.actor, causation, correlation, payload, previous,
            ]  # fmt: skip
            if districts:
                fields.append(district_of(t.event_type, stream, payload, latest))
            # COPY text: only a backslash needs escaping (JSON escapes control characters, the
            # seed's other text passed the validation boundary, which refuses them, and a district
            # is a reference key)
            yield "\t".join("\\N" if f is None else f.replace("\\", "\\\\") for f in fields) + "\n"
        copy += 1


def district_of(event_type: str, stream: str, payload: str, latest: dict[str, str]) -> str | None:
    """The district the ``events_district`` trigger (migration 0013) gives this event when it is
    appended after every event passed before it; ``latest`` is updated for the events after it.

    The trigger's rule: the event's own district (``own_district``); else, for an
    ``enterprise-``, ``reminders-`` or ``facility-`` stream, the district of the latest event of
    the parent stream that has one. Events are passed in log order, and a stream's versions follow
    that order, so "latest by ``stream_version``" is the last one passed.
    """
    district = own_district(event_type, payload)
    if district is None:
        if stream.startswith("reminders-"):
            district = latest.get("enterprise-" + stream[len("reminders-") :])
        elif stream.startswith(("enterprise-", "facility-")):
            district = latest.get(stream)
    if district is not None:
        latest[stream] = district
    return district


def own_district(event_type: str, payload: str) -> str | None:
    """Migration 0013's ``OWN``: the district a registration, a move or a facility names, or the
    one district a policy activation names. Anything but a string or null is refused: PostgreSQL's
    text of another JSON value is not Python's."""
    if event_type in _OWN:
        found = json.loads(payload).get("district")
    elif event_type == "PolicyActivated":
        policy = json.loads(payload).get("policy")
        named = policy.get("districts") if isinstance(policy, dict) else None
        found = named[0] if isinstance(named, list) and len(named) == 1 else None
    else:
        return None
    if found is not None and not isinstance(found, str):
        raise ValueError(f"{event_type}: a district that is not a string: {found!r}")
    return None if found is None else sys.intern(found)


def load(url: str, templates: list[Template], total: int) -> dict[str, float]:
    """COPY ``total`` events into the migrated, empty schema at ``url``; indexes rebuilt after.

    Where the schema has ``events.district``, the rows carry it and the ``events_district``
    trigger is disabled in this transaction, for the ``COPY`` only (see the module's docstring).
    """
    dsn, options = _dsn(url)
    timings: dict[str, float] = {}
    with psycopg.connect(dsn, options=options, autocommit=False) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        districts = _has_districts(conn)
        columns = f"{COLUMNS}, district" if districts else COLUMNS
        if districts:
            conn.execute("ALTER TABLE events DISABLE TRIGGER events_district")
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'events'::regclass AND contype IN ('p', 'u')"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = 'events' AND schemaname = current_schema()"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass)"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for name, _ in constraints:
            conn.execute(f'ALTER TABLE events DROP CONSTRAINT "{name}"')
        started = time.perf_counter()
        buffer: list[str] = []
        with conn.cursor().copy(f"COPY events ({columns}) FROM STDIN") as copy:
            for n, line in enumerate(rows(templates, total, districts), start=1):
                buffer.append(line)
                if len(buffer) == 20000:
                    copy.write("".join(buffer).encode())
                    buffer.clear()
                if n % 1_000_000 == 0:
                    spent = time.perf_counter() - started
                    log(f"load: {n:,} events copied ({spent:.0f} s; load {load_average()})")
            copy.write("".join(buffer).encode())
        timings["copy_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        for name, definition in constraints:
            conn.execute(f'ALTER TABLE events ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            conn.execute(definition)
        if districts:
            conn.execute("ALTER TABLE events ENABLE TRIGGER events_district")
        conn.commit()
        timings["index_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ANALYZE events")
        conn.commit()
        timings["analyze_seconds"] = time.perf_counter() - started
    return timings


def _has_districts(conn: psycopg.Connection[Any]) -> bool:
    """Whether the schema is at migration 0013 or later: ``events.district`` and its trigger."""
    found = conn.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass AND tgname = 'events_district'"
    ).fetchone()
    return found is not None and found[0] == 1


def migration_0013() -> ModuleType:
    """Migration 0013's module (its file name starts with a digit: no ``import`` statement)."""
    spec = importlib.util.spec_from_file_location("migration_0013", MIGRATION_0013)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def district_mismatches(url: str) -> int:
    """Rows whose stored district differs (NULL-safe) from the migration's ``DISTRICTS``."""
    dsn, options = _dsn(url)
    with psycopg.connect(dsn, options=options) as conn:
        found = conn.execute(
            f"SELECT count(*) FROM events e JOIN ({migration_0013().DISTRICTS}) d USING (position)"
            " WHERE e.district IS DISTINCT FROM d.district"
        ).fetchone()
    assert found is not None
    return int(found[0])


def _dsn(url: str) -> tuple[str, str]:
    base, options = url.split("?options=", 1)
    return base, options.replace("%3D", "=")


# -- 3. measurements -----------------------------------------------------------------------------
def timed_srdi(url: str, *args: str) -> dict[str, Any]:
    """One ``srdi`` process under ``/usr/bin/time``: wall seconds, peak RSS (MB), its stdout."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", SRDI, "--db", url, *args],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"srdi {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return {"seconds": wall, "peak_mb": peak_kb / 1024, "stdout": done.stdout, "load": load_average()}


def median_of(runs: int, fn: Any) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def disk(url: str) -> dict[str, float]:
    """MB on disk per table (heap + TOAST) and its indexes, and the schema's total."""
    dsn, options = _dsn(url)
    with psycopg.connect(dsn, options=options) as conn:
        found = conn.execute(
            "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 2 + 3 DESC"
        ).fetchall()
    out: dict[str, float] = {}
    for name, table, index in found:
        if table + index > 1 << 20:
            out[f"{name} table"] = table / 1e6
            out[f"{name} indexes"] = index / 1e6
    out["schema total"] = sum(t + i for _, t, i in found) / 1e6
    return out


def sample_enterprises(url: str, count: int, upto: float = 1.0) -> list[str]:
    """USCCs spread over the log (first, middle, last copies; or its first ``upto``) with ledger entries."""
    from events.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        last = int(conn.execute(sa.text("SELECT max(position) FROM events")).scalar() or 0)
        picks = []
        for fraction in [i / max(count - 1, 1) for i in range(count)]:
            at = max(1, int(last * fraction * 0.98 * upto))
            stream = conn.execute(
                sa.text(
                    "SELECT stream_id FROM events WHERE position >= :at"
                    " AND event_type = 'EntitlementCreated' ORDER BY position LIMIT 1"
                ),
                {"at": at},
            ).scalar()
            if stream is not None:
                picks.append(str(stream).removeprefix("enterprise-"))
    engine.dispose()
    return picks


def warm_reads(url: str, usccs: list[str], runs: int) -> dict[str, float]:
    """Median seconds of a status and a ledger read in one warm process (the read façade)."""
    from service_layer import reads
    from service_layer.bootstrap import Services
    from service_layer.settings import Settings

    svc = Services(Settings(database_url=url))
    reads.enterprise_status(svc, usccs[0])  # connect, catch up (nothing to do), warm caches
    reads.ledger(svc, enterprise=usccs[0])
    status, ledger = [], []
    for _ in range(runs):
        for code in usccs:
            status.append(median_of(1, lambda code=code: reads.enterprise_status(svc, code))[0])
            ledger.append(median_of(1, lambda code=code: reads.ledger(svc, enterprise=code))[0])
    svc.close()
    return {"status_median_s": statistics.median(status), "ledger_median_s": statistics.median(ledger)}


def view_reads(url: str, usccs: list[str], runs: int) -> dict[str, float]:
    """The views' own queries without a catch-up (usable while a replay is still writing them), and
    the status read that folds the enterprise's stream from the log (``as_of``): median seconds."""
    from datetime import date

    from events.db import make_engine
    from projections.ledger_view import LedgerFilter, read_ledger
    from projections.status import read_status_rows
    from service_layer import reads
    from service_layer.bootstrap import Services
    from service_layer.settings import Settings

    engine = make_engine(url)
    svc = Services(Settings(database_url=url))
    status, ledger, folded = [], [], []
    as_of = date(2026, 11, 1)  # the seed's "today": each enterprise's stream folded from the log
    with engine.connect() as conn:
        for _ in range(runs):
            for code in usccs:
                status.append(median_of(1, lambda code=code: read_status_rows(conn, code))[0])
                ledger.append(median_of(1, lambda code=code: read_ledger(conn, LedgerFilter(code)))[0])
                folded.append(median_of(1, lambda c=code: reads.enterprise_status(svc, c, as_of=as_of))[0])
    svc.close()
    engine.dispose()
    return {
        "status_rows_median_s": statistics.median(status),
        "ledger_rows_median_s": statistics.median(ledger),
        "status_as_of_fold_median_s": statistics.median(folded),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed-enterprises", type=int, default=2000)
    parser.add_argument("--seed", type=Path, default=None, help="a seed log (SQLite) to reuse")
    parser.add_argument("--runs", type=int, default=7, help="cold CLI runs per read (median)")
    parser.add_argument("--keep", action="store_true", help="keep the schema (its URL is printed)")
    parser.add_argument("--url", default=None, help="measure an existing schema's URL (no build)")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build, keep, print the URL")
    parser.add_argument("--drop", metavar="SCHEMA", help="drop a kept schema and exit")
    parser.add_argument(
        "--view-reads", type=float, metavar="FRACTION",
        help="only the views' queries for enterprises in the log's first FRACTION (no replay, no catch-up)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.drop:
        _drop_schema(args.drop)
        return
    if args.view_reads and args.url:
        usccs = sample_enterprises(args.url, 5, args.view_reads)
        found = {**view_reads(args.url, usccs, args.runs), "load": load_average(), "sampled": usccs}
        print(json.dumps(found, indent=2))
        return
    figures: dict[str, Any] = {
        "events": args.events,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    figures["load_start"] = load_average()
    log(f"start: load {load_average()}; disk {_df()}")
    schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
    url = args.url or _create_schema(schema)
    try:
        if args.url is None:
            seed = args.seed or data.workdir() / f"scale-seed-{args.seed_enterprises}.db"
            make_seed(seed, args.seed_enterprises)
            templates = read_seed(seed)
            figures["seed_events"] = len(templates)
            log(f"load: {args.events:,} events from {len(templates):,} seed events; load {load_average()}")
            figures["load"] = load(url, templates, args.events)
            del templates
            log(f"load done: {figures['load']}; load {load_average()}; disk {_df()}")
        figures["disk_mb_after_load"] = disk(url)
        if args.build_only:
            args.keep = True
            return
        if not args.skip_verify:
            started = time.perf_counter()
            wrong = district_mismatches(url)
            figures["districts_check"] = {
                "rows_differing": wrong, "seconds": time.perf_counter() - started, "load": load_average(),
            }  # fmt: skip
            log(f"districts against migration 0013's DISTRICTS: {figures['districts_check']}")
            if wrong:
                raise RuntimeError(f"{wrong} rows' district differ from migration 0013's DISTRICTS")
            log("srdi audit verify")
            figures["audit_verify"] = _strip(timed_srdi(url, "audit", "verify", "--json"))
            log(f"audit verify: {figures['audit_verify']}")
        log("srdi replay (every view rebuilt)")
        replay = timed_srdi(url, "replay", "--json")
        figures["replay"] = {**_strip(replay), "report": json.loads(replay["stdout"])}
        log(f"replay: {figures['replay']}")
        figures["disk_mb_after_replay"] = disk(url)
        usccs = sample_enterprises(url, 5)
        figures["sampled"] = usccs
        cold: dict[str, Any] = {}
        for name, argv in (
            ("status", ["status", "{}", "--json"]),
            ("ledger", ["ledger", "--enterprise", "{}", "--json"]),
        ):
            runs = []
            for i in range(args.runs):
                code = usccs[i % len(usccs)]
                runs.append(timed_srdi(url, *[a.replace("{}", code) for a in argv]))
            cold[name] = {
                "median_s": statistics.median(r["seconds"] for r in runs),
                "runs_s": [round(r["seconds"], 3) for r in runs],
                "peak_mb": max(r["peak_mb"] for r in runs),
                "load": runs[-1]["load"],
            }
            log(f"cold {name}: {cold[name]}")
        figures["cold_cli"] = cold
        cold_start = [timed_srdi(url, "--help")["seconds"] for _ in range(3)]
        figures["cli_help_median_s"] = statistics.median(cold_start)
        figures["warm_reads"] = {**warm_reads(url, usccs, 5), "load": load_average()}
        log(f"warm reads: {figures['warm_reads']}")
        figures["load_end"] = load_average()
    finally:
        if args.keep or args.url:
            log(f"kept: {url}")
        else:
            _drop_schema(schema)
        figures["disk_free_end"] = _df()
        figures["url"] = url
        print(json.dumps(figures, indent=2, default=str))


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "stdout"}


def _df() -> str:
    st = os.statvfs("/")
    return f"{st.f_bavail * st.f_frsize / 1e9:.1f} GB free"


def schema_url(schema: str) -> str:
    """Create ``schema`` on the benchmark server; the URL of a session whose search path is it."""
    from events.db import make_engine

    admin = make_engine(data.PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in data.PG_URL else "?"
    return f"{data.PG_URL}{sep}options=-csearch_path%3D{schema}"


def _create_schema(schema: str) -> str:
    from events.db import make_engine
    from events.migrate import ensure_schema

    url = schema_url(schema)
    engine = make_engine(url)
    ensure_schema(engine)
    engine.dispose()
    return url


def _drop_schema(schema: str) -> None:
    from events.db import make_engine

    admin = make_engine(data.PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()
    log(f"dropped schema {schema}")


if __name__ == "__main__":
    main()
