"""The event base class, its registry and upcasters.

Every fact srdi records is a frozen pydantic model with a stable ``event_type`` (a plain string, never
an import path, so renaming a class never orphans history) and a ``schema_version``. Old versions are
upgraded on read by chained upcasters keyed by ``(event_type, from_version)``; stored rows are never
rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

JsonDict = dict[str, Any]
Upcaster = Callable[[JsonDict], JsonDict]


class UnknownEventType(LookupError):
    """An event type in the log that no schema is registered for."""


class Event(BaseModel):
    """Base of every recorded fact. Subclass with ``event_type=`` and ``version=`` keywords."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, event_type: str = "", version: int = 1, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if event_type:
            cls.event_type = event_type
            cls.schema_version = version
            registry.register(cls)

    def payload(self) -> JsonDict:
        """The JSON-native payload that is stored (Decimals become exact strings)."""
        return self.model_dump(mode="json")


class EventRegistry:
    """Maps event types to their current schema and holds the upcaster chain."""

    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[Event]) -> None:
        existing = self._types.get(cls.event_type)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {cls.event_type!r} registered twice")
        self._types[cls.event_type] = cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register ``fn`` upgrading ``event_type`` data from ``from_version`` by one."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def current_version(self, event_type: str) -> int:
        cls = self._types.get(event_type)
        return cls.schema_version if cls is not None else 1

    def upcast(self, event_type: str, version: int, data: JsonDict) -> JsonDict:
        """Upgrade ``data`` stored at ``version`` to the current schema, one step at a time."""
        target = self.current_version(event_type)
        while version < target:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise LookupError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
            data = step(dict(data))
            version += 1
        return data

    def model_for(self, event_type: str) -> type[Event]:
        try:
            return self._types[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def known_types(self) -> list[str]:
        return sorted(self._types)


registry = EventRegistry()
