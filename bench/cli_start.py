"""CLI cold start: ``srdi --help``, ``srdi audit verify`` and ``srdi status`` against ``python -c pass``.

Each command is run as a new process, all alternating, and keeps its median wall time. The
database is created (and migrated) by untimed runs first, as after ``srdi db upgrade``: ``audit
verify`` runs on the empty log, then one enterprise is registered and certified for ``status``
(which also brings the status projection up to date before it reads).
Goal: under 3x ``python -c pass`` plus 250 ms.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from pathlib import Path

from bench import data
from bench.util import PYTHON, Result, log
from domain.uscc import make_uscc
from events.db import make_engine
from events.migrate import ensure_schema

SRDI = str(Path(PYTHON).with_name("srdi"))


def _time(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return seconds


def import_profile(cmd: list[str], env: dict[str, str], cwd: str, top: int = 8) -> list[tuple[str, float]]:
    """The heaviest packages (cumulative import ms, where first imported) of one run.

    From ``python -X importtime``: for every top-level package, the cumulative time of the line that
    imported the package itself, so nested costs are counted once, under their own package.
    """
    done = subprocess.run(
        [PYTHON, "-X", "importtime", *cmd], env=env, cwd=cwd, capture_output=True, check=False
    )
    found: dict[str, float] = {}
    for line in done.stderr.decode().splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| *(\S+)", line)
        if match and "." not in match.group(2):
            name = match.group(2)
            found[name] = max(found.get(name, 0.0), int(match.group(1)) / 1000)
    return sorted(found.items(), key=lambda kv: -kv[1])[:top]


def run(repeats: int) -> list[Result]:
    work = data.workdir() / "cli"
    work.mkdir(exist_ok=True)
    empty, one = work / "empty.db", work / "one.db"
    for db in (empty, one):
        data.remove_sqlite_files(db)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_")}
    env = {db: {**base_env, "SRDI_DATABASE_URL": f"sqlite:///{db}"} for db in (empty, one)}
    cwd = str(work)
    uscc = make_uscc("91500112MA5UC0LD1")
    commands: dict[str, tuple[list[str], Path]] = {
        "python -c pass": ([PYTHON, "-c", "pass"], empty),
        "srdi --help": ([SRDI, "--help"], empty),
        "srdi audit verify (empty log)": ([SRDI, "audit", "verify"], empty),
        "srdi status USCC --json (one enterprise)": ([SRDI, "status", uscc, "--json"], one),
    }
    engine = make_engine(f"sqlite:///{empty}")  # a read never creates a database: made here
    ensure_schema(engine)
    engine.dispose()
    add = [SRDI, "enterprise", "add", uscc, "--name", "重庆启动科技有限公司", "--district", "yubei"]
    _time(add, env[one], cwd)
    _time([SRDI, "record", uscc, "innovative-sme.certified", "--on", "2024-03-01"], env[one], cwd)
    _time([SRDI, "status", uscc], env[one], cwd)  # the status projection's first catch-up, untimed
    log(f"cli: {repeats} alternating runs of {', '.join(commands)}")
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, (cmd, db) in commands.items():
            times[name].append(_time(cmd, env[db], cwd))
    median = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
    base = median["python -c pass"]
    limit = 3 * base + 250
    out = [Result("CLI cold start (median wall time)", "python -c pass", base, "ms")]
    for name, (cmd, db) in commands.items():
        if name == "python -c pass":
            continue
        heavy = import_profile(cmd, env[db], cwd)  # the srdi script runs under python -X
        out.append(
            Result(
                "CLI cold start (median wall time)",
                name,
                median[name],
                "ms",
                base,
                "python -c pass",
                limit / median[name],
                f"< 3x + 250 ms = {limit:.0f} ms",
                median[name] < limit,
                note=f"{median[name] / base:.1f}x python -c pass",
                extra={"heaviest_imports_ms": heavy, "runs": repeats},
            )
        )
    return out


if __name__ == "__main__":
    for r in run(3):
        print(r)
