"""Structured loggers for library code: silent until the application configures logging, and
importing structlog only when something is actually logged.

Why silent: a library must not write to a stream it does not own. Before ``configure_later`` has
been called (``service_layer.logs.configure`` calls it), every call on a `LazyLogger` is dropped
without loading structlog, so the store or a projection used from a script or a test prints
nothing, and a debug call costs one attribute look-up.

Why: ``import structlog`` costs ~40 ms of a command's cold start (it loads rich's pretty-printer and
traceback renderer when rich is installed, and the CLI has rich), while a command that succeeds
logs nothing at the default level (``warning``). So modules hold a `LazyLogger` from `get_logger`
and ``service_layer.logs.configure`` hands its set-up to `configure_later`: applied at once when
structlog is already loaded, else on the first log call, before that call is rendered. Either way
every line goes through the configured processors, exactly as with a module-level structlog logger.

`pending_level` lets a hot path skip building debug calls without importing structlog to ask.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

_pending: Callable[[], None] | None = None
_pending_level: int | None = None
_configured = False


def configure_later(apply: Callable[[], None], level: int) -> None:
    """Run ``apply`` (it imports and configures structlog) now if structlog is loaded, else on first use.

    ``level`` is the minimum level ``apply`` sets (``logging.WARNING`` = 30...), for `pending_level`.
    """
    global _pending, _pending_level, _configured
    _configured = True
    if "structlog" in sys.modules:
        _pending, _pending_level = None, None
        apply()
    else:
        _pending, _pending_level = apply, level


def configured() -> bool:
    """Whether the application configured logging; until it does, every logger is silent."""
    return _configured


def pending_level() -> int | None:
    """The level of a configuration not applied yet (structlog not loaded), else None."""
    return _pending_level


def structlog_module() -> ModuleType:
    """structlog, with any pending configuration applied first."""
    global _pending, _pending_level
    import structlog

    apply, _pending, _pending_level = _pending, None, None
    if apply is not None:
        apply()
    return structlog


class LazyLogger:
    """Stands for ``structlog.get_logger(name)``: every attribute (``warning``, ``bind``...) is its.

    Nothing is cached: structlog's own logger resolves the configuration at each call, so a later
    ``configure`` (tests point the output at a new stream) takes effect as it would without us.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if not _configured:
            return _SILENT.bind if attr in ("bind", "new", "unbind", "try_unbind") else _drop
        return getattr(structlog_module().get_logger(self.name), attr)

    def __repr__(self) -> str:
        return f"LazyLogger({self.name!r})"


def _drop(*_args: Any, **_kwargs: Any) -> None:
    """Any log call before logging is configured: nothing is written."""


class _Silent:
    """What ``bind`` answers before logging is configured: a logger that drops every call."""

    def bind(self, *_args: Any, **_kwargs: Any) -> _Silent:
        return self

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self.bind if attr in ("new", "unbind", "try_unbind") else _drop


_SILENT = _Silent()


def get_logger(name: str) -> LazyLogger:
    return LazyLogger(name)
