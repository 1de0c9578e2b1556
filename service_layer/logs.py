"""structlog set-up: readable lines on stderr by default, JSON with ``SRDI_LOG_FORMAT=json``.

Logs never go to stdout: stdout belongs to the command's own output (``--json`` documents).
The set-up is handed to `events.lazy_logging.configure_later`, so a command that logs nothing never pays
for importing structlog; the first line logged applies it.
"""

from __future__ import annotations

import logging
import sys

from events.lazy_logging import configure_later

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure(fmt: str = "console", level: str = "warning") -> None:
    minimum = _LEVELS.get(level.lower(), logging.WARNING)

    def apply() -> None:
        import structlog

        renderer: structlog.typing.Processor
        if fmt == "json":
            renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
        else:
            renderer = structlog.dev.ConsoleRenderer(colors=False)
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                renderer,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(minimum),
            # look sys.stderr up per logger, not once: test runners swap and close it between calls
            logger_factory=lambda *_args: structlog.PrintLogger(file=sys.stderr),
            cache_logger_on_first_use=False,
        )

    configure_later(apply, minimum)
