"""Reference data: districts, tracks, actions and state labels, and parsing of what staff type.

Staff type Chinese names (市级专精特新, 小巨人, 渝北) as often as keys, so every parser accepts
the key, the short and full Chinese names and a few aliases, and every refusal is one line naming
the input and the valid choices. Tracks, actions, validity periods, state labels and the machines'
transitions live in `domain/data/tracks.toml` (validated by pydantic on first use) so that a new
alias, a changed period or a new transition is a data change. Districts are a short table here
until the policy data brings more.
"""

from __future__ import annotations

import tomllib
import unicodedata
from datetime import date, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.errors import InvalidInput

TrackKind = Literal["qualification", "listing", "pool", "designation"]
"""A qualification title, the listing ladder, a pool (库: admitted, left) or a designation (称号)."""
MEMBERSHIP_KINDS: frozenset[str] = frozenset({"pool", "designation"})
"""Kinds folded as memberships (`domain.memberships`), not as titles or the listing stage."""
Namespace = Literal["track", "action", "state", "district"]

KINDS: tuple[TrackKind, ...] = get_args(TrackKind)
_KEY_PATTERN = r"^[a-z][a-z0-9-]*$"
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』《》")


# ── districts ────────────────────────────────────────────────────────────────────────────────


class District(BaseModel):
    """A district (区) that issues its own policy; `key` is what events and policies store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=_KEY_PATTERN)
    zh: str
    zh_full: str


DISTRICTS: dict[str, District] = {
    d.key: d
    for d in (
        District(key="rongchang", zh="荣昌", zh_full="荣昌区"),
        District(key="liangjiang", zh="两江", zh_full="两江新区"),
        District(key="jiangjin", zh="江津", zh_full="江津区"),
        District(key="yubei", zh="渝北", zh_full="渝北区"),
        District(key="qianjiang", zh="黔江", zh_full="黔江区"),
    )
}


# ── the tracks data file ─────────────────────────────────────────────────────────────────────


class TrackSpec(BaseModel):
    """One track: its machine kind, Chinese names, aliases and (for titles) validity period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=_KEY_PATTERN)
    kind: TrackKind
    zh: str
    zh_full: str
    aliases: tuple[str, ...] = ()
    validity_years: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _period_matches_kind(self) -> TrackSpec:
        """A title expires, a listing stage does not: the period must be present iff a title."""
        if self.kind == "qualification" and self.validity_years is None:
            raise ValueError(f"track {self.key}: a qualification needs validity_years")
        if self.kind in ("listing", "pool") and self.validity_years is not None:
            raise ValueError(f"track {self.key}: a {self.kind} track has no validity_years")
        return self


class ActionSpec(BaseModel):
    """One action: which machine kinds accept it and whether only the scheduler may record it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=_KEY_PATTERN)
    kinds: tuple[TrackKind, ...] = Field(min_length=1)
    zh: str
    aliases: tuple[str, ...] = ()
    system_only: bool = False


class TransitionSpec(BaseModel):
    """One transition of a machine: `action` may be recorded in the states `from`, leads to `to`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    action: str
    from_: tuple[str, ...] = Field(alias="from", min_length=1)
    to: str


class MachineSpec(BaseModel):
    """A kind's machine (built by `domain.machines`): what its state describes, where it starts,
    and its transitions in order; its states are the kind's labelled states (`states`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    initial: str
    transitions: tuple[TransitionSpec, ...] = Field(min_length=1)


class TracksFile(BaseModel):
    """The whole of tracks.toml, with the cross-entry checks a typo in the file would break."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tracks: dict[str, TrackSpec]
    actions: dict[str, ActionSpec]
    states: dict[TrackKind, dict[str, str]]
    machines: dict[TrackKind, MachineSpec]

    @model_validator(mode="before")
    @classmethod
    def _inject_keys(cls, data: object) -> object:
        """Table names are the keys; copy them in so each spec knows its own key."""
        if isinstance(data, dict):
            for section in ("tracks", "actions"):
                table = data.get(section)
                if isinstance(table, dict):
                    data[section] = {
                        k: {"key": k, **v} if isinstance(v, dict) else v for k, v in table.items()
                    }
        return data

    @model_validator(mode="after")
    def _aliases_unambiguous(self) -> TracksFile:
        """Every spelling must name exactly one track (and one action), or parsing would guess."""
        for section, specs in (("tracks", self.tracks), ("actions", self.actions)):
            seen: dict[str, str] = {}
            for key, spec in specs.items():
                for name in {key, spec.zh, *spec.aliases, getattr(spec, "zh_full", key)}:
                    norm = normalise(name)
                    if seen.setdefault(norm, key) != key:
                        raise ValueError(f"{section}: {name!r} names both {seen[norm]} and {key}")
        return self

    @model_validator(mode="after")
    def _machines_agree(self) -> TracksFile:
        """Each kind has a machine over its labelled states, firing exactly the kind's actions."""
        for kind in KINDS:
            machine, states = self.machines.get(kind), self.states.get(kind, {})
            if machine is None:
                raise ValueError(f"machines: no machine for {kind}")
            used = {machine.initial, *(s for t in machine.transitions for s in (*t.from_, t.to))}
            unknown = sorted(used - set(states))
            if unknown:
                raise ValueError(f"machines.{kind}: states {unknown} have no label in states.{kind}")
            fired = {t.action for t in machine.transitions}
            declared = {key for key, spec in self.actions.items() if kind in spec.kinds}
            if fired != declared:
                raise ValueError(f"machines.{kind}: actions {sorted(fired)} differ from {sorted(declared)}")
        return self


def normalise(text: str) -> str:
    """The comparison form of a name: NFKC, no whitespace or quotes, ASCII lower-case, _ as -."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return "".join(folded.split()).replace("_", "-")


@cache
def _data() -> TracksFile:
    """Load and validate tracks.toml once per process."""
    raw = resources.files("domain").joinpath("data", "tracks.toml").read_text(encoding="utf-8")
    return TracksFile.model_validate(tomllib.loads(raw))


@cache
def _index(section: Literal["tracks", "actions", "districts"]) -> dict[str, str]:
    """Map every normalised spelling of a section's entries to its key."""
    specs: dict[str, TrackSpec] | dict[str, ActionSpec] | dict[str, District]
    specs = DISTRICTS if section == "districts" else getattr(_data(), section)
    index: dict[str, str] = {}
    for key, spec in specs.items():
        names = [key, spec.zh, getattr(spec, "zh_full", key), *getattr(spec, "aliases", ())]
        for name in names:
            index[normalise(name)] = key
    return index


def tracks() -> dict[str, TrackSpec]:
    """All tracks by key, in catalogue order."""
    return _data().tracks


def actions() -> dict[str, ActionSpec]:
    """All actions by key, in file order."""
    return _data().actions


@cache
def track_kind(track: str) -> TrackKind:
    """The machine kind of a track key (`listing` or `qualification`).

    Cached: every milestone of every fold asks it (an unknown key raises, and is not cached).
    """
    return _data().tracks[track].kind


def is_membership(track: str) -> bool:
    """Is the track a pool or a designation (folded by `domain.memberships`)?"""
    return track_kind(track) in MEMBERSHIP_KINDS


def membership_validity(track: str) -> int | None:
    """Years a designation stays valid, when the data gives one (no document does yet)."""
    return _data().tracks[track].validity_years


def actions_for(kind: TrackKind, *, include_system: bool = True) -> tuple[str, ...]:
    """The actions a machine kind accepts, in file order; staff-only lists omit `expired`."""
    return tuple(
        a.key for a in _data().actions.values() if kind in a.kinds and (include_system or not a.system_only)
    )


def is_system_only(action: str) -> bool:
    """True for actions only the scheduler records (`expired`)."""
    spec = _data().actions.get(action)
    return spec is not None and spec.system_only


def state_keys(kind: TrackKind) -> tuple[str, ...]:
    """The states of a kind's machine, in file order (each has a Chinese label)."""
    return tuple(_data().states[kind])


def machine_spec(kind: TrackKind) -> MachineSpec:
    """The transitions of a kind's machine as the data file gives them (`domain.machines` builds it)."""
    return _data().machines[kind]


# ── parsing ──────────────────────────────────────────────────────────────────────────────────


_CITY_PREFIXES = ("重庆市", "重庆")


def parse_district(text: str) -> str:
    """Return the district key for a key, short or full Chinese name; else InvalidInput.

    The city may lead the name as on a letterhead (重庆市渝北区, 重庆两江新区).
    """
    name = normalise(text)
    index = _index("districts")
    key = index.get(name)
    for prefix in _CITY_PREFIXES:
        if key is None and name.startswith(prefix):
            key = index.get(name.removeprefix(prefix))
    if key is None:
        keys = ", ".join(DISTRICTS)
        names = ", ".join(d.zh for d in DISTRICTS.values())
        raise InvalidInput(f"unknown district {text!r}; use one of: {keys} (or {names})")
    return key


def parse_track(text: str) -> str:
    """Return the track key for a key or any Chinese name or alias; else InvalidInput."""
    key = _index("tracks").get(normalise(text))
    if key is None:
        raise InvalidInput(
            f"unknown track {text!r}; use one of: {', '.join(_data().tracks)} "
            "(Chinese names such as 市级专精特新, 小巨人, 高新技术企业 work too)"
        )
    return key


def parse_action(text: str, track: str | None = None) -> str:
    """Return the action key; with a track, also refuse actions its machine kind does not have."""
    key = _index("actions").get(normalise(text))
    where = f" for {track}" if track else ""
    kind = track_kind(track) if track else None
    if kind is not None and key is not None and kind not in _data().actions[key].kinds:
        key = _KIND_SYNONYMS.get((kind, key), key)
    valid = actions_for(kind, include_system=False) if kind else tuple(_data().actions)
    if key is None:
        raise InvalidInput(f"unknown action {text!r}{where}; use one of: {', '.join(valid)}")
    if kind is not None and kind not in _data().actions[key].kinds:
        raise InvalidInput(
            f"{track} has no action {key!r} (that is a {_data().actions[key].kinds[0]} action); "
            f"use one of: {', '.join(valid)}"
        )
    return key


_KIND_SYNONYMS = {("pool", "certified"): "admitted", ("pool", "revoked"): "left"}
"""入库 is `certified` for a title (科技型中小企业入库) and `admitted` for a pool; 取消 likewise."""


def parse_track_action(text: str) -> tuple[str, str]:
    """Split `TRACK.ACTION` (either part English or Chinese) into (track_key, action_key)."""
    track_text, dot, action_text = unicodedata.normalize("NFKC", text).strip().partition(".")
    if not dot or not track_text.strip() or not action_text.strip():
        raise InvalidInput(
            f"expected TRACK.ACTION such as srdi-municipal.certified or 市级专精特新.认定, got {text!r}"
        )
    track = parse_track(track_text)
    return track, parse_action(action_text, track)


# ── Chinese names and validity ──────────────────────────────────────────────────────────────────────


def track_label_zh(key: str, *, full: bool = False) -> str | None:
    """A track's Chinese name (the full one with ``full``), None for an unknown key."""
    spec = _data().tracks.get(key)
    return None if spec is None else (spec.zh_full if full else spec.zh)


def action_label_zh(key: str) -> str | None:
    """An action's Chinese name, None for an unknown key."""
    spec = _data().actions.get(key)
    return None if spec is None else spec.zh


def state_label_zh(key: str, kind: TrackKind) -> str | None:
    """A state's Chinese name in a machine kind's table, None when the kind has no such state."""
    return _data().states[kind].get(key)


def validity_years(track: str) -> int:
    """Years a certification or passed review of the track stays valid (tech-sme: 1, else 3)."""
    return _validity_years(track)


@cache
def _validity_years(track: str) -> int:
    # cached: every fold of every title during a replay asks this (parsing the name each time showed
    # up in the replay profile); unknown names raise, and exceptions are not cached
    spec = _data().tracks[parse_track(track)]
    if spec.validity_years is None:
        raise InvalidInput(f"{spec.key} has no validity period; only qualification titles expire")
    return spec.validity_years


def add_years(start: date, years: int) -> date:
    """The same calendar date `years` later; 29 Feb becomes 1 Mar in a non-leap year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a non-leap year
        return date(start.year + years, 3, 1)


@lru_cache(maxsize=32_768)  # every certification and review in a replay; dates repeat a lot
def valid_until(start: date, track: str) -> date:
    """Last day a title is valid: the day before the same date N years on (inclusive end).

    2023-03-01 → 2026-02-28 for a 3-year title; 2024-02-29 → 2027-02-28.
    """
    return add_years(start, validity_years(track)) - timedelta(days=1)
