"""How the ``srdi`` script starts and ends a process: no cyclic GC while modules load, a short exit.

Measured on the 2-core dev box (``srdi audit verify`` on an empty log, ~390 ms in all; bench/):

* While SQLAlchemy, pydantic and typer load, the cyclic garbage collector runs every few hundred
  allocations and, as the heap grows, full collections of everything loaded so far (~50 ms in all).
  Module objects live as long as the process, so scanning them is wasted. `pause_gc` turns the
  collector off at start; `resume_gc`, called once the database is open (the heavy imports are
  done), moves everything alive into the permanent generation (``gc.freeze``: never scanned again)
  and turns it back on, so a long command (a rebuild, a demo, the scheduler) collects as usual.
* Interpreter shutdown then tears every module down and runs a last full collection (~50-100 ms)
  for a process about to vanish. `exit_now` ends it the way ``sys.exit`` would as far as anything
  outside the process can tell: stdout and stderr flushed, ``atexit`` callbacks (``weakref.finalize``,
  logging) run, the exit code kept. The database is closed before (the CLI closes its engine when
  the command's context ends; SQLite folds its WAL file back in on that close), every write
  committed before the command printed, and files are written under ``with``. When another
  thread is still alive, or the script is not the caller, the usual ``sys.exit`` is taken.

`cli.main` (what the tests drive in-process) uses neither; `cli.run` (the console script) uses both.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
from typing import NoReturn

_paused = False


def pause_gc() -> None:
    """Stop cyclic garbage collection until `resume_gc` (the script's first call)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc() -> None:
    """Freeze what is alive (modules, settings, the engine) and collect as usual from here on."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def exit_code(code: object) -> int:
    """``SystemExit.code`` as the process exit status, as the interpreter maps it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(code: int) -> NoReturn:
    """End the process with ``code``: flush, run ``atexit`` callbacks, skip the module teardown."""
    if threading.active_count() > 1:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # the reader left; a stream closed
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
