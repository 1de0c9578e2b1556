"""The rebuild on the demo log as a district records it (interleaved) against the demo's own order.

``srdi demo`` writes each enterprise's whole history at once, so every enterprise's events are
contiguous in its log and a rebuild (``projections.feed.catch_up``: windows of ``batch`` positions;
the enterprise folds they touch are loaded, re-folded and their rows rewritten at each write, once
per window before ``002b342``, once per ``HELD_FOLDS`` enterprises held since) writes each
enterprise about once. A district's log is recorded over the years across all its enterprises;
``bench.interleave`` re-records the same events in that order. This section rebuilds both logs,
at the default batch (20,000 events) and at 100,000, and reports per case:

* events per CPU-second of the rebuild (``rebuild`` alone, in a fresh interpreter:
  ``python -m bench.demo_interleaved --child URL BATCH``), against the raw scan of the same file
  (``sqlite3 + json.loads``) and eventsourcing's decode-only follow, as ``bench.demo_log`` does;
* how many times each enterprise's rows were written: ``EnterpriseProjection.write`` is wrapped in
  the child (product code unchanged) and counts the folds the status projection writes (the targets
  projection writes the same folds) and how many of those replaced rows already there;
* the child's peak RSS (``VmHWM``) and its RSS before the rebuild, and the load average around it.

The cases alternate over ``rounds`` rounds and each keeps its best CPU time (and the peak RSS of
that run). The host's speed drifts by a third within minutes, and the baselines take seconds where
a rebuild of 2M events takes half a minute, so the best of each can come from different minutes:
each round's rebuild is also set against that round's baselines, and the median of those paired
ratios is reported beside the ratio of the bests. Environment:

    SRDI_BENCH_DEMO_LOG=/tmp/demo-200k.db            the demo log (copied first: never written)
    SRDI_BENCH_DEMO_INTERLEAVED=/tmp/demo-200k-i.db  optional: an interleaved copy already made by
                                                     ``python -m bench.interleave`` (copied too);
                                                     made in the scratch directory otherwise
    SRDI_BENCH_INTERLEAVED_BATCHES=20000,100000      the catch-up batch sizes to compare
    SRDI_BENCH_INTERLEAVED_ROUNDS=5                  rounds (default: the plan's); more rounds, a
                                                     steadier median of the paired ratios

    python -m bench.run --only interleaved
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench import data, es_compare
from bench.growth import _peak_mb
from bench.interleave import check, interleave
from bench.replay import raw_scan
from bench.util import Result, Timing, log, run_json, throughput_vs, timed
from events.db import make_engine
from events.migrate import ensure_schema

SECTION = "Rebuild of the demo log, interleaved as a district records it"
ES_EVENTS_MAX = 250_000  # eventsourcing's decode-only rate does not depend on the log's length


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def child(url: str, batch: int) -> dict[str, Any]:
    """In a fresh interpreter: one rebuild at ``batch``; its CPU, wall, peak RSS and fold writes."""
    from projections.feed import rebuild
    from projections.fold import EnterpriseProjection

    written = {"calls": 0, "folds": 0, "replaced": 0}
    enterprises: set[str] = set()
    original = EnterpriseProjection.write

    def counting(self: EnterpriseProjection, conn: Any, folds: Any, stale: Any) -> None:
        if self.name == "status":
            written["calls"] += 1
            written["folds"] += len(folds)
            written["replaced"] += len(stale)
            enterprises.update(f.uscc for f in folds)
        original(self, conn, folds, stale)

    EnterpriseProjection.write = counting  # type: ignore[method-assign]
    engine = make_engine(url)
    load_before, rss_before = _load(), _peak_mb()
    wall, cpu, result = timed(lambda: rebuild(engine, batch=batch))
    load_after = _load()
    engine.dispose()
    return {
        "events": result.events,
        "wall": wall,
        "cpu": cpu,
        "rss_before_mb": rss_before,
        "peak_mb": _peak_mb(),
        "load": [load_before[0], load_after[0]],  # 1-minute load average before and after
        "write_calls": written["calls"],
        "folds_written": written["folds"],
        "folds_replaced": written["replaced"],
        "enterprises": len(enterprises),
        "rows": result.projections,
    }


def _copy(source: Path, name: str) -> Path:
    """``source`` copied into the scratch directory (read only: its WAL, if any, read by SQLite),
    and the copy migrated to this version's schema, as ``srdi`` would on opening it."""
    target = data.workdir() / name
    data.remove_sqlite_files(target)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    reader.backup(writer)  # a consistent copy, WAL included, without writing to the source
    writer.close()
    reader.close()
    engine = make_engine(f"sqlite:///{target}")
    ensure_schema(engine)
    engine.dispose()
    return target


def run(rounds: int) -> list[Result]:
    rounds = int(os.environ.get("SRDI_BENCH_INTERLEAVED_ROUNDS", rounds))
    source = os.environ.get("SRDI_BENCH_DEMO_LOG")
    if not source or not Path(source).exists():
        return [Result(SECTION, "all cases", float("nan"), "", note="skipped: set SRDI_BENCH_DEMO_LOG")]
    batches = [int(b) for b in os.environ.get("SRDI_BENCH_INTERLEAVED_BATCHES", "20000,100000").split(",")]
    load_start = _load()
    log(f"interleaved: copying {source}")
    contiguous = _copy(Path(source), "demo-contiguous.db")
    prepared = os.environ.get("SRDI_BENCH_DEMO_INTERLEAVED")
    if prepared and Path(prepared).exists():
        log(f"interleaved: copying the interleaved log {prepared}")
        interleaved = _copy(Path(prepared), "demo-interleaved.db")
        made = "made beforehand by bench.interleave"
    else:
        interleaved = data.workdir() / "demo-interleaved.db"
        log("interleaved: re-recording the demo log in business-date order (bench.interleave)")
        done = interleave(contiguous, interleaved)
        made = f"made in {done.seconds:.0f} s"
    checked = check(contiguous, interleaved)
    if not checked.ok:
        raise RuntimeError(f"the interleaved log differs from the demo log: {checked}")
    events = checked.source_events
    spans = {"contiguous": checked.mean_span_source, "interleaved": checked.mean_span_target}
    logs = {"contiguous": contiguous, "interleaved": interleaved}
    log(f"interleaved: {events:,} events; mean span of an enterprise {spans}")

    es_events = min(events, ES_EVENTS_MAX)
    es_path = str(data.workdir() / "demo-eventsourcing.db")
    data.remove_sqlite_files(es_path)
    es_compare.populate(es_path, es_events)
    es_app = es_compare.open_app(es_path)

    best = {"raw": Timing(), "eventsourcing": Timing()}
    children: dict[tuple[str, int], dict[str, Any]] = {}
    paired: dict[tuple[str, int, str], list[float]] = {}  # (kind, batch, baseline): per-round ratios
    for round_ in range(rounds):
        log(f"interleaved: round {round_ + 1} of {rounds}")
        this_round: dict[str, float] = {}
        for name, fn, n in (
            ("raw", lambda: raw_scan(str(contiguous)), events),
            ("eventsourcing", lambda: es_compare.replay(es_app), es_events),
        ):
            wall, cpu, _ = timed(fn)
            best[name].wall = min(best[name].wall, wall / n * events)
            best[name].cpu = min(best[name].cpu, cpu / n * events)
            this_round[name] = cpu / n * events
        for batch in batches:
            for kind, path in logs.items():
                args = ["-m", "bench.demo_interleaved", "--child", f"sqlite:///{path}", str(batch)]
                got = run_json(args, timeout=7200)
                log(
                    f"interleaved: {kind} batch {batch:,}: {got['cpu']:.1f} s CPU, {got['wall']:.1f} s wall,"
                    f" {got['folds_written'] / max(1, got['enterprises']):.2f} writes an enterprise,"
                    f" peak {got['peak_mb']:.0f} MB, load {got['load'][0]} -> {got['load'][1]}"
                )
                key = (kind, batch)
                if key not in children or got["cpu"] < children[key]["cpu"]:
                    children[key] = got
                for name, cpu in this_round.items():
                    paired.setdefault((kind, batch, name), []).append(cpu / got["cpu"])
    es_app.close()

    rate = {name: events / t.cpu for name, t in best.items()}
    title = (
        f"{SECTION}, SQLite ({events:,} events; events per CPU-second; best of {rounds};"
        f" load {load_start[0]:.1f} at the start, {_load()[0]:.1f} at the end)"
    )
    out: list[Result] = []
    for batch in batches:
        for kind in logs:
            got = children[(kind, batch)]
            cpu_rate = got["events"] / got["cpu"]
            per = got["folds_written"] / max(1, got["enterprises"])
            note = (
                f"batch {batch:,}; wall {got['events'] / got['wall']:,.0f}/s; {per:.2f} writes of each"
                f" enterprise's rows ({got['folds_written']:,} folds for {got['enterprises']:,} enterprises,"
                f" {got['folds_replaced']:,} replacing rows); mean span {spans[kind]:,.0f} positions"
            )
            case = f"{kind}, batch {batch:,}: rebuild"
            out.append(throughput_vs(title, f"{case} vs raw scan", cpu_rate, rate["raw"],
                                     "sqlite3 + json.loads", 0.35, note))  # fmt: skip
            out.append(throughput_vs(title, f"{case} vs eventsourcing decode-only follow", cpu_rate,
                                     rate["eventsourcing"], "eventsourcing follow", 1.0,
                                     f"eventsourcing over {es_events:,} events"))  # fmt: skip
            for name, label, goal in (("raw", "raw scan", 0.35), ("eventsourcing", "eventsourcing", 1.0)):
                ratios = sorted(paired[(kind, batch, name)])
                middle = statistics.median(ratios)
                out.append(
                    Result(title, f"{case} vs {label}, median of paired rounds", middle, "x", ratio=middle,
                           goal=f">= {goal:.2f}x", met=middle >= goal,
                           note=f"each round's rebuild against that round's {label}, so a slow or fast"
                                f" minute of the host moves both; {ratios[0]:.2f}-{ratios[-1]:.2f}x over"
                                f" {len(ratios)} rounds")
                )  # fmt: skip
            out.append(
                Result(title, f"{case}: peak RSS", got["peak_mb"], "MB",
                       note=f"{got['rss_before_mb']:.0f} MB before the rebuild;"
                            f" load {got['load'][0]} -> {got['load'][1]}",
                       extra=got)
            )  # fmt: skip
        base = children[("contiguous", batch)]["cpu"]
        out.append(
            Result(title, f"batch {batch:,}: interleaved CPU / contiguous CPU",
                   children[("interleaved", batch)]["cpu"] / base, "x", note=f"interleaved log {made}")
        )  # fmt: skip
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("URL", "BATCH"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
    else:
        started = time.perf_counter()
        for r in run(args.rounds):
            print(f"{r.case}: {r.value:,.2f} {r.unit} (baseline {r.baseline}) {r.note}")
        if not os.environ.get("SRDI_BENCH_KEEP"):
            shutil.rmtree(data.workdir(), ignore_errors=True)
        log(f"done in {time.perf_counter() - started:.0f} s")
