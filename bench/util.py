"""Timing helpers and the result record every benchmark returns."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Result:
    """One line of the table: a measurement, its baseline, and the goal for their ratio."""

    section: str
    case: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None  # srdi relative to the baseline, oriented so that higher is better
    goal: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def throughput_vs(
    section: str,
    case: str,
    events_per_s: float,
    baseline_per_s: float | None,
    baseline_name: str,
    min_ratio: float | None,
    note: str = "",
) -> Result:
    """A higher-is-better rate against a baseline rate, with an optional minimum ratio."""
    ratio = events_per_s / baseline_per_s if baseline_per_s else None
    goal = f">= {min_ratio:.2f}x" if min_ratio is not None else ""
    met = (ratio >= min_ratio) if (ratio is not None and min_ratio is not None) else None
    return Result(
        section, case, events_per_s, "events/s", baseline_per_s, baseline_name, ratio, goal, met, note
    )


@dataclass
class Timing:
    """Best wall-clock and best CPU (this process: user + system) seconds of a case."""

    wall: float = float("inf")
    cpu: float = float("inf")


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds for one call of ``fn`` (garbage collector settled first)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def interleaved_best(cases: dict[str, Callable[[], Callable[[], Any]]], rounds: int) -> dict[str, Timing]:
    """Best times of each case over ``rounds`` rounds, the cases alternating within each round.

    Each case is a set-up function (not timed) returning the function to time. The machine is
    shared (2 cores, other work running); alternating the cases and keeping each one's best run
    keeps the ratios stable even when the absolute numbers drift. CPU time (of this process) is
    steadier still for work that stays in this process, such as a replay from the page cache.
    """
    best = {name: Timing() for name in cases}
    for _ in range(rounds):
        for name, setup in cases.items():
            wall, cpu, _ = timed(setup())
            best[name].wall = min(best[name].wall, wall)
            best[name].cpu = min(best[name].cpu, cpu)
    return best


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def run_json(args: list[str], env: dict[str, str] | None = None, timeout: float = 1800) -> dict[str, Any]:
    """Run a bench helper in a fresh interpreter; it prints one JSON document as its last line."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    done = subprocess.run(
        [PYTHON, *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
