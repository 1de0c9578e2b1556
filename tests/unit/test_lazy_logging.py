"""`events.lazy_logging`: silent until configured; structlog loaded on first use, as configured."""

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
from events.lazy_logging import get_logger, pending_level
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

    from events.lazy_logging import pending_level
    from service_layer import logs

    try:
        logs.configure("json", "error")
        assert pending_level() is None
        assert structlog.get_config()["wrapper_class"] is structlog.make_filtering_bound_logger(40)
    finally:
        logs.configure("console", "warning")


# In a fresh interpreter that never configures logging: append to a store, log through the loggers.
_UNCONFIGURED = """
import sys
from datetime import date
from events.db import make_engine
from events.envelope import NewEvent
from events.lazy_logging import get_logger
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore
from events.tables import metadata
engine = make_engine("sqlite://")
metadata.create_all(engine)
store = SqlEventStore(engine)
for i in range(3):
    event = MilestoneRecorded(uscc=f"U{i}", track="srdi-municipal", action="certified")
    store.append(f"s{i}", [NewEvent(event, occurred_on=date(2023, 3, 1), actor="tester")], 0)
get_logger("srdi.test").warning("unheard", n=1)
get_logger("srdi.test").bind(k=1).error("unheard either")
sys.stdout.write("structlog loaded" if "structlog" in sys.modules else "")
"""


def test_without_configuration_the_store_and_loggers_write_nothing() -> None:
    """A script that never configures logging sees no line from the store or a logger, stdout or stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_")}
    done = subprocess.run(
        [sys.executable, "-c", _UNCONFIGURED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (done.stdout, done.stderr) == ("", "")
