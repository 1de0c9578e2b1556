"""The label catalogue: every user-facing label in English and Chinese (`label`, `sentence`).

Tracks, districts, actions and states are labelled from their reference data (the same names
staff may type, `domain.reference`); everything else a table, an explanation or an export shows
(event types, statuses, kinds, sizes, column headings, words) from ``domain/data/labels.toml``.
A label is presentation: an unknown key comes back unchanged, so reading old data never fails
because a label is missing. JSON documents never use labels.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Literal, get_args

from domain import reference
from domain.errors import InvalidInput
from domain.reference import TrackKind

CatalogueNamespace = Literal[
    "event",
    "size",
    "status",
    "kind",
    "deadline",
    "column",
    "text",
    "sentence",
    "industry",
    "page",
    "page-article",
    "axis",
    "explain-status",
    "explain-kind",
    "explain-event",
    "explain-value",
    "explain-word",
    "explain-sentence",
    "explain-figure",
    "explain-change",
]
Namespace = reference.Namespace | CatalogueNamespace


@cache
def _catalogue() -> dict[str, dict[str, tuple[str, str]]]:
    raw = resources.files("domain").joinpath("data", "labels.toml").read_text(encoding="utf-8")
    return {
        namespace: {key: (str(pair[0]), str(pair[1])) for key, pair in entries.items()}
        for namespace, entries in tomllib.loads(raw).items()
    }


def catalogue_section(namespace: CatalogueNamespace) -> dict[str, tuple[str, str]]:
    """Every entry of one section of the catalogue, key → (English, Chinese), in the file's order."""
    return _catalogue().get(namespace, {})


def label(
    key: str,
    lang: str = "en",
    *,
    namespace: Namespace | None = None,
    kind: TrackKind | None = None,
    full: bool = False,
) -> str:
    """The label of ``key`` in ``lang`` (en or zh).

    Reference data (``namespace`` track, district, action or state, or none given): the key in
    English, the Chinese name in zh (``kind`` picks the state table, ``full`` the full name). The
    catalogue's namespaces: its English or Chinese text. Unknown keys come back unchanged.
    """
    if lang not in ("en", "zh"):
        raise InvalidInput(f"unknown language {lang!r}; use en or zh")
    if namespace is None or namespace in get_args(reference.Namespace):
        return _reference_label(key, lang, namespace, kind, full)  # type: ignore[arg-type]
    entry = _catalogue().get(namespace, {}).get(key)
    if entry is None:
        return key
    return entry[1] if lang == "zh" else entry[0]


def _reference_label(
    key: str, lang: str, namespace: reference.Namespace | None, kind: TrackKind | None, full: bool
) -> str:
    """Tracks, districts, actions, states: the key in English, the reference data's name in zh.

    Keys shared between namespaces (`certified` is an action and a state) resolve in the order
    track, district, action, state unless `namespace` says which; `kind` picks the state table
    (`none` is 未记录 for a title, 未挂牌 for listing).
    """
    if lang == "en":
        return key
    found: str | None = None
    for ns in (namespace,) if namespace else get_args(reference.Namespace):
        if ns == "track":
            found = reference.track_label_zh(key, full=full)
        elif ns == "district" and key in reference.DISTRICTS:
            district = reference.DISTRICTS[key]
            found = district.zh_full if full else district.zh
        elif ns == "action":
            found = reference.action_label_zh(key)
        elif ns == "state":
            for k in (kind,) if kind else reference.KINDS:
                found = reference.state_label_zh(key, k)
                if found is not None:
                    break
        if found is not None:
            return found
    return key


def sentence(key: str, lang: str = "en", **values: object) -> str:
    """A phrase of the catalogue's ``sentence`` namespace with its placeholders filled in."""
    return label(key, lang, namespace="sentence").format(**values)


def labeller(lang: str, namespace: Namespace) -> Callable[[str], str]:
    """``label`` with the language and namespace fixed (for a table's many cells)."""
    return lambda key: label(key, lang, namespace=namespace)
