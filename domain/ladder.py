"""Ladder prerequisites (梯度培育) as versioned data with effective dates.

The national rules changed on 2026-04-01 (科技和创新型中小企业 became the bottom tier), and
they will change again, so prerequisites are not code: `domain/data/ladder.toml` lists complete
versions, each in force from its date until the next one. The version is chosen by the date of
the action being recorded, so replaying history applies the rules that were in force at the time.

The aggregate decides whether a title is valid; this module only says what is needed, through a
`holds_valid(track, on) -> bool` callable, which keeps it free of any event or storage code.
"""

from __future__ import annotations

import bisect
import itertools
import tomllib
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain import reference
from domain.errors import PrerequisiteMissing

HoldsValid = Callable[[str, date], bool]
"""`holds_valid(track, on)`: does the enterprise hold a valid title of `track` on `on`?"""

OVERRIDE_HINT = "record it first or use --override-prerequisite --reason TEXT"


class Requirement(BaseModel):
    """An action on `track` needs a valid title of any of `any_of` (rules `version`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    track: str
    actions: tuple[str, ...] = Field(min_length=1)
    any_of: tuple[str, ...] = Field(min_length=1)
    zh: str

    @property
    def needs(self) -> str:
        """'a valid innovative-sme or tech-sme title'."""
        return f"a valid {' or '.join(self.any_of)} title"

    @property
    def description(self) -> str:
        """One human line: what is needed, for which actions, under which rules."""
        return f"{self.track} {'/'.join(self.actions)} needs {self.needs} (ladder rules {self.version})"


class LadderVersion(BaseModel):
    """A complete set of prerequisites in force from `effective_from`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1)
    effective_from: date
    source: str
    requirements: tuple[Requirement, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _inject_version(cls, data: object) -> object:
        """Requirements sit inside their version in the file; copy the version key into each."""
        if isinstance(data, dict) and isinstance(data.get("requirements"), list):
            data["requirements"] = [
                {"version": data.get("key"), **r} if isinstance(r, dict) else r for r in data["requirements"]
            ]
        return data

    @model_validator(mode="after")
    def _valid_requirements(self) -> LadderVersion:
        """Tracks and actions must exist; one rule per (track, action); no title needs itself."""
        tracks = reference.tracks()
        seen: set[tuple[str, str]] = set()
        for r in self.requirements:
            for key in (r.track, *r.any_of):
                if key not in tracks or tracks[key].kind != "qualification":
                    raise ValueError(f"ladder {self.key}: {key!r} is not a qualification track")
            if r.track in r.any_of:
                raise ValueError(f"ladder {self.key}: {r.track} cannot require itself")
            for action in r.actions:
                if action not in reference.actions_for("qualification", include_system=False):
                    raise ValueError(f"ladder {self.key}: {action!r} is not a staff action")
                if (r.track, action) in seen:
                    raise ValueError(f"ladder {self.key}: two rules for {r.track}.{action}")
                seen.add((r.track, action))
        return self


class LadderFile(BaseModel):
    """All versions, sorted by date, with unique keys and distinct effective dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: tuple[LadderVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> LadderFile:
        """Versions must be listed oldest first with distinct keys and strictly later dates."""
        keys = [v.key for v in self.versions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"ladder version keys repeat: {keys}")
        dates = [v.effective_from for v in self.versions]
        if any(a >= b for a, b in itertools.pairwise(dates)):
            raise ValueError(f"ladder versions must be in strictly increasing date order: {dates}")
        return self


@cache
def _ladder() -> LadderFile:
    """Load and validate ladder.toml once per process."""
    raw = resources.files("domain").joinpath("data", "ladder.toml").read_text(encoding="utf-8")
    return LadderFile.model_validate(tomllib.loads(raw))


@cache
def _starts() -> list[date]:
    """Effective dates, for bisecting."""
    return [v.effective_from for v in _ladder().versions]


def versions() -> tuple[LadderVersion, ...]:
    """Every ladder version, oldest first."""
    return _ladder().versions


def version_on(on: date) -> LadderVersion | None:
    """The version in force on `on` (None before the first one, which starts in 1900)."""
    index = bisect.bisect_right(_starts(), on) - 1
    return _ladder().versions[index] if index >= 0 else None


def requirements_for(track: str, action: str, on: date) -> Requirement | None:
    """What `track.action` on `on` needs under the rules then in force, or None if nothing."""
    version = version_on(on)
    if version is None:
        return None
    for requirement in version.requirements:
        if requirement.track == track and action in requirement.actions:
            return requirement
    return None


def missing_prerequisite(track: str, action: str, on: date, holds_valid: HoldsValid) -> str | None:
    """The one-line reason `track.action` on `on` is refused by the ladder, or None if allowed."""
    requirement = requirements_for(track, action, on)
    if requirement is None or any(holds_valid(t, on) for t in requirement.any_of):
        return None
    return (
        f"{track}.{action} needs {requirement.needs} on {on.isoformat()} "
        f"(ladder rules {requirement.version}); {OVERRIDE_HINT}"
    )


def require_prerequisite(
    track: str,
    action: str,
    on: date,
    holds_valid: HoldsValid,
    *,
    override_reason: str | None = None,
) -> str | None:
    """Raise PrerequisiteMissing unless met or overridden; return the overridden reason if any.

    The return value lets the caller record on the event that a prerequisite was overridden,
    and why, so an audit can find every exception made.
    """
    missing = missing_prerequisite(track, action, on, holds_valid)
    if missing is None:
        return None
    if override_reason is None or not override_reason.strip():
        raise PrerequisiteMissing(missing)
    return missing
