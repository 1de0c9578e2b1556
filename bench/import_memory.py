"""Peak memory of ``srdi import`` by file size: it must stay flat (goal: the same peak, <= 150 MB).

Each size gets a fresh SQLite database and a CSV written for it (each enterprise registered, then
two milestones: 3 lines each, as the reliability suite's import files), and the import runs in a
fresh interpreter (``python -m bench.import_memory --child``) through ``service_layer.importer``
with the file streamed from disk, as ``srdi import`` does. The child reports its own peak RSS
(``VmHWM``) and the seconds the import took.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from bench import data
from bench.growth import _peak_mb
from bench.util import Result, log, run_json

DISTRICTS = ("yubei", "rongchang", "liangjiang", "jiangjin", "qianjiang")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def write_csv(path: Path, rows: int) -> None:
    from domain.uscc import make_uscc

    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("uscc,name,district,milestone,on,ref\n")
        for i in range(rows // 3 + 1):
            code = make_uscc(f"91500BCHMA{i:07d}")
            out.write(f"{code},重庆导入{i}科技有限公司,{DISTRICTS[i % len(DISTRICTS)]},,,\n")
            out.write(f"{code},,,innovative-sme.certified,2021-{1 + i % 9:02d}-01,创新-{i}\n")
            out.write(f"{code},,,srdi-municipal.certified,2023-{1 + i % 9:02d}-15,专精-{i}\n")


def child(url: str, path: str) -> dict[str, float]:
    from events.db import make_engine
    from events.migrate import ensure_schema
    from events.sql_store import SqlEventStore
    from service_layer.importer import import_csv
    from service_layer.policies import LiveReactor

    engine = make_engine(url)
    ensure_schema(engine)
    store = SqlEventStore(engine)
    before = _peak_mb()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        report = import_csv(store, handle, today=date(2025, 6, 1), actor="bench", reactor=LiveReactor(store))
    return {
        "seconds": time.perf_counter() - started,
        "lines": report.lines,
        "events": report.events,
        "rss_before_mb": before,
        "peak_mb": _peak_mb(),
    }


def run(sizes: list[int]) -> list[Result]:
    out: list[Result] = []
    for rows in sizes:
        csv = data.workdir() / f"import-{rows}.csv"
        write_csv(csv, rows)
        url = data.sqlite_url(f"import-{rows}")
        log(f"import memory: {rows:,} lines in a fresh process")
        got = run_json(["-m", "bench.import_memory", "--child", url, str(csv)], timeout=7200)
        met = got["peak_mb"] <= 150
        out.append(
            Result(
                "Import memory (SQLite, streamed, one transaction)",
                f"{int(got['lines']):,} lines ({int(got['events']):,} events)",
                got["peak_mb"],
                "MB",
                goal="<= 150 MB, flat",
                met=met,
                note=f"{got['seconds']:.0f} s, {got['lines'] / got['seconds']:,.0f} lines/s;"
                f" RSS {got['rss_before_mb']:.0f} MB before the import",
            )
        )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"))
    parser.add_argument("--sizes", default="100000,1000000", help="lines per file, comma-separated")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
    else:  # python -m bench.import_memory --sizes 100000,1000000: one line per size
        for result in run([int(n) for n in args.sizes.split(",")]):
            print(f"{result.case}: peak {result.value:.1f} MB ({result.note}; load {_load()})")
