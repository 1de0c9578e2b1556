"""`events.log`: loggers that load structlog on first use still honour the configuration given first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# In a fresh interpreter: configure (JSON, info), log through a lazy logger, report what was loaded.
_PROBE = """
import json, sys
from service_layer import logs
from events.log import get_logger, pending_level
logs.configure("json", sys.argv[1])
loaded_before = "structlog" in sys.modules
level = pending_level()
get_logger("srdi.test").info("hello", n=1)
get_logger("srdi.test").debug("hidden")
sys.stderr.flush()
print(json.dumps({"before": loaded_before, "level": level, "after": "structlog" in sys.modules,
                  "pending_after": pending_level()}))
"""


def _probe(level: str) -> tuple[dict[str, object], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, level], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), [line for line in done.stderr.splitlines() if line.strip()]


def test_configuring_loads_nothing_and_the_first_line_applies_the_configuration() -> None:
    report, lines = _probe("info")
    assert report == {"before": False, "level": 20, "after": True, "pending_after": None}
    assert len(lines) == 1, lines  # the debug line is filtered by the configured level
    line = json.loads(lines[0])  # rendered by the configured JSON renderer, not structlog's default
    assert (line["event"], line["n"], line["level"]) == ("hello", 1, "info")
    assert line["timestamp"].endswith("Z")


def test_a_level_above_the_line_logs_nothing() -> None:
    report, lines = _probe("warning")
    assert report["level"] == 30
    assert lines == []


def test_configuring_after_structlog_is_loaded_applies_at_once() -> None:
    """In a process that already loaded structlog (the tests), ``configure`` is immediate."""
    import structlog

    from events.log import pending_level
    from service_layer import logs

    try:
        logs.configure("json", "error")
        assert pending_level() is None
        assert structlog.get_config()["wrapper_class"] is structlog.make_filtering_bound_logger(40)
    finally:
        logs.configure("console", "warning")
