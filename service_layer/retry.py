"""Trying an optimistic write again after a `ConcurrencyConflict`: capped exponential back-off, full jitter.

Every write reads what it decides on, decides, and appends at the versions it read; a conflict
means someone else appended first, and the write is decided again from what is there now. Retried
at once, writers that collided collide again in lockstep: eight processes on one enterprise on
PostgreSQL could exhaust three immediate retries. So `retry` waits before each new attempt a random
time drawn uniformly from ``[0, min(cap, base * 2**(failures - 1)))`` ("full jitter"): the window
doubles with each failure of this write, and the randomness spreads the contenders out.

Defaults: 10 attempts, 5 ms base, 200 ms cap, so at most 9 waits of at most 5, 10, 20, 40, 80,
160, 200, 200 and 200 ms (under 1 s in all, half that on average) before the conflict is raised
(CLI exit 3, nothing written). No wait follows the last attempt.

``sleep`` and ``random`` are injectable, so tests neither sleep nor depend on chance; they default
to the standard library's (the domain reads no clock to *decide* anything: a wait changes nothing
that is recorded).
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from typing import TypeVar

from events.store import ConcurrencyConflict

T = TypeVar("T")

ATTEMPTS = 10
BASE_SECONDS = 0.005
CAP_SECONDS = 0.2


def backoff(
    failures: int,
    *,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
    random: Callable[[], float] = _random.random,
) -> float:
    """Seconds to wait after the ``failures``-th failed attempt (1, 2, …): full jitter, capped.

    ``random()`` is in ``[0, 1)``; the window is ``min(cap, base * 2**(failures - 1))``.
    """
    if failures < 1:
        raise ValueError(f"failures is counted from 1, not {failures}")
    window = min(cap, base * 2.0 ** min(failures - 1, 64))
    return random() * window


def retry(
    attempt: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
    sleep: Callable[[float], object] | None = None,
    random: Callable[[], float] = _random.random,
    on_conflict: Callable[[ConcurrencyConflict], object] | None = None,
) -> T:
    """Call ``attempt()`` until it returns, at most ``attempts`` times; only a conflict is retried.

    After a `ConcurrencyConflict` that is not the last allowed, ``on_conflict(error)`` runs (to drop
    a cache read before the conflict, say) and then ``sleep(backoff(...))``; after the last one the
    conflict itself is raised, with no wait. Any other exception passes straight through.
    ``sleep`` defaults to ``time.sleep`` (looked up at each wait).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    failures = 0
    while True:
        try:
            return attempt()
        except ConcurrencyConflict as conflict:
            failures += 1
            if failures >= attempts:
                raise
            if on_conflict is not None:
                on_conflict(conflict)
            (sleep or time.sleep)(backoff(failures, base=base, cap=cap, random=random))
