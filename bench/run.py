"""The one benchmark command: every case in one run on one machine, so ratios are stable.

    .venv/bin/python -m bench.run [--quick] [--sizes 10000,100000,1000000] [--only replay,bulk,...]

Prints the table and writes ``bench/results.json`` (``bench/results-quick.json`` with ``--quick``).
Needs the ``bench`` extra (``pip install -e '.[bench]'``: eventsourcing, pyinstrument). PostgreSQL
cases use ``SRDI_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/test) and skip without
a server. Scratch databases go to ``$SRDI_BENCH_DIR`` (default: <tmp>/srdi-bench) and are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import data
from bench.util import ROOT, Result, log

SECTIONS = (
    "replay",
    "bulk",
    "single",
    "cli",
    "growth",
    "pg",
    "follow",
    "writers",
    "demo",
    "interleaved",
    "import",
)


@dataclass(frozen=True)
class Plan:
    replay_events: int
    replay_rounds: int
    bulk_events: int
    bulk_rounds: int
    single_count: int
    single_preload: int
    cli_repeats: int
    sizes: tuple[int, ...]
    pg_events: int
    pg_rounds: int
    pg_writers: tuple[int, ...]
    pg_seconds: float
    import_sizes: tuple[int, ...]  # lines per imported file (1M lines: python -m bench.import_memory)


FULL = Plan(
    100_000, 3, 50_000, 3, 500, 10_000, 10, (10_000, 100_000, 1_000_000), 100_000, 3, (1, 8), 5.0,
    (10_000, 30_000),
)  # fmt: skip
QUICK = Plan(10_000, 2, 10_000, 2, 100, 2_000, 3, (10_000, 30_000), 10_000, 2, (8,), 1.5, (3_000, 10_000))


def machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "absent"

    pg = None
    if data.postgres_available():
        import sqlalchemy as sa

        from events.db import make_engine

        engine = make_engine(data.PG_URL)
        with engine.connect() as conn:
            pg = conn.execute(sa.text("SHOW server_version")).scalar()
        engine.dispose()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": version("sqlalchemy"),
        "pydantic": version("pydantic"),
        "psycopg": version("psycopg"),
        "eventsourcing": version("eventsourcing"),
        "postgresql": pg,
        "bench_dir": str(data.workdir()),
        "load_average_1_5_15": os.getloadavg(),
    }


def fmt_value(r: Result) -> str:
    if r.value is None or (isinstance(r.value, float) and math.isnan(r.value)):
        return "-"
    if r.unit == "events/s":
        return f"{r.value:,.0f}/s"
    if r.unit == "ms":
        return f"{r.value:,.2f} ms" if r.value < 100 else f"{r.value:,.0f} ms"
    return f"{r.value:,.2f} {r.unit}"


def fmt_baseline(r: Result) -> str:
    if r.baseline is None:
        return ""
    shown = Result(r.section, r.case, r.baseline, r.unit)
    return f"{fmt_value(shown)} ({r.baseline_name})"


def fmt_ratio(r: Result) -> str:
    if not r.baseline:
        return ""
    return f"{r.value / r.baseline:.2f}x"  # throughput: share of the baseline; times: multiple of it


def fmt_met(r: Result) -> str:
    return {True: "met", False: "MISSED", None: ""}[r.met]


def print_table(results: list[Result], title: str) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text
        print(title)
        for r in results:
            cells = (
                r.section,
                r.case,
                fmt_value(r),
                fmt_baseline(r),
                fmt_ratio(r),
                r.goal,
                fmt_met(r),
                r.note,
            )
            print(" | ".join(cells))
        return
    table = Table(title=title, show_lines=False)
    for column in ("case", "srdi", "baseline", "ratio", "goal", "", "note"):
        table.add_column(column, overflow="fold")
    section = None
    for r in results:
        if r.section != section:
            section = r.section
            table.add_row(f"[bold]{section}[/bold]", "", "", "", "", "", "")
        met = fmt_met(r)
        met = {"met": "[green]met[/green]", "MISSED": "[red]MISSED[/red]"}.get(met, met)
        table.add_row("  " + r.case, fmt_value(r), fmt_baseline(r), fmt_ratio(r), r.goal, met, r.note)
    Console(width=200).print(table)


def markdown(results: list[Result]) -> str:
    """The same table in Markdown, for docs/benchmarks.md."""
    lines = ["| case | srdi | baseline | ratio | goal | |", "|---|---:|---:|---:|---|---|"]
    section = None
    for r in results:
        if r.section != section:
            section = r.section
            lines.append(f"| **{section}** | | | | | |")
        case = f"{r.case} ({r.note})" if r.note else r.case
        cells = (case, fmt_value(r), fmt_baseline(r), fmt_ratio(r), r.goal, fmt_met(r))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer rounds (under a minute)")
    parser.add_argument("--sizes", help="growth sizes, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument(
        "--out",
        help="where to write the JSON (default bench/results.json; bench/results-quick.json with --quick)",
    )
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    out_path = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / ("results-quick.json" if args.quick else "results.json")
    )
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else plan.sizes
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    if "replay" in only:
        try:
            import eventsourcing  # noqa: F401
        except ImportError:
            parser.error("the replay comparison needs the bench extra: .venv/bin/pip install -e '.[bench]'")

    start = time.perf_counter()
    load_before = os.getloadavg()
    results: list[Result] = []
    timings: dict[str, float] = {}

    def section(name: str, fn: Any, *fn_args: Any) -> None:
        if name not in only:
            return
        t0 = time.perf_counter()
        results.extend(fn(*fn_args))
        timings[name] = time.perf_counter() - t0

    from bench import (
        append,
        cli_start,
        demo_interleaved,
        demo_log,
        follow,
        growth,
        import_memory,
        pg,
        replay,
        writers,
    )

    try:
        section("replay", replay.run, plan.replay_events, plan.replay_rounds)
        section("bulk", append.bulk, plan.bulk_events, plan.bulk_rounds)
        section("single", append.single, plan.single_count, plan.single_preload)
        section("cli", cli_start.run, plan.cli_repeats)
        section("growth", growth.run, list(sizes))
        section("pg", pg.run, plan.pg_events, plan.pg_rounds, plan.pg_writers, plan.pg_seconds)
        section("demo", demo_log.run, max(2, plan.replay_rounds - 1))
        section("interleaved", demo_interleaved.run, max(2, plan.replay_rounds - 1))
        section("writers", writers.run, (1, 4), 5.0 if plan is FULL else 2.0, plan.replay_rounds)
        section("follow", follow.run, plan.replay_events // 5, 40 if plan is FULL else 10, plan.replay_rounds)
        section("import", import_memory.run, list(plan.import_sizes))
    finally:
        if not os.environ.get("SRDI_BENCH_KEEP"):
            shutil.rmtree(data.workdir(), ignore_errors=True)

    total = time.perf_counter() - start
    info = machine()
    info["load_average_at_start"] = load_before
    mode = "quick" if args.quick else "full"
    title = (
        f"srdi benchmarks ({mode}) - {info['cpus']} CPUs, Python {info['python']},"
        f" SQLite {info['sqlite']}, PostgreSQL {info['postgresql'] or 'absent'} - {total:.0f} s"
        f" - load average {load_before[0]:.1f} at start, {info['load_average_1_5_15'][0]:.1f} at end"
        f" - events: {data.source()}"
    )
    print_table(results, title)
    if args.markdown:
        print(markdown(results))
    document = {
        "mode": "quick" if args.quick else "full",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": total,
        "section_seconds": timings,
        "plan": plan.__dict__ | {"sizes": list(sizes)},
        "machine": info,
        "results": [r.to_json() for r in results],
    }
    out_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {out_path}")
    missed = [f"{r.section}: {r.case}" for r in results if r.met is False]
    if missed:
        log("goals missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
