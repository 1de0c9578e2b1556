"""`explain --lang zh`: the explanation of an entitlement in Chinese throughout.

The engine writes its arithmetic, notes and figure names in English (they are stored with each
entitlement and must read the same forever). This module renders a stored explanation in Chinese
when it is read: every sentence the engine writes has a pattern in the label catalogue
(``domain/data/labels.toml``, sections ``explain-*``: the English pattern beside its Chinese),
money stays as written, track, size, owner and status keys become their Chinese names, and a
reading shows the document's own wording. A text no pattern knows is left as it is rather than
guessed.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from domain.labels import CatalogueNamespace, catalogue_section, label, sentence
from domain.policy.model import Policy

_FIELDS = {
    "{M}": r"([\d,.]+)",  # an amount as the engine writes it (100,000 / 1,234.50)
    "{D}": r"(\d{4}-\d{2}-\d{2})",
    "{Y}": r"(\d{4})",
    "{P}": r"(-?[\d.]+%)",
}

Rule = tuple[re.Pattern[str], str]


@cache
def _rules(section: CatalogueNamespace) -> list[Rule]:
    """A catalogue section of [English pattern, Chinese] as compiled patterns, in catalogue order."""
    rules = []
    for english, chinese in catalogue_section(section).values():
        for field, pattern in _FIELDS.items():
            english = english.replace(field, pattern)
        rules.append((re.compile(english), chinese))
    return rules


def _zh(key: str, section: CatalogueNamespace) -> str:
    return label(key, "zh", namespace=section)


def _word(key: str) -> tuple[str, str]:
    """A joining word of the engine (English) and of the Chinese."""
    return label(key, "en", namespace="explain-word"), label(key, "zh", namespace="explain-word")


def zh_event(event_type: str) -> str:
    """An event type as an explanation names it (`EntitlementPaid` → 拨付); unknown ones unchanged."""
    return _zh(event_type, "explain-event")


def zh_status(status: str) -> str:
    return _zh(status, "explain-status")


class _Chinese(string.Formatter):
    """Fills a Chinese template: ``{1}`` is a group as written, ``{1:track}`` a group rendered."""

    def format_field(self, value: Any, format_spec: str) -> str:
        render: Callable[[str], str] | None = _RENDER.get(format_spec)
        return render(value) if render is not None else str(format(value, format_spec))


def _first(section: CatalogueNamespace, text: str) -> str | None:
    for pattern, to in _rules(section):
        m = pattern.fullmatch(text)
        if m is not None:
            return _Chinese().format(to, m.group(0), *m.groups())
    return None


def zh_text(text: str) -> str:
    """One sentence of the engine (a step, a note, a reason) in Chinese; parts joined by '; '."""
    whole = _first("explain-sentence", text)
    if whole is not None:
        return whole
    parts, parts_zh = _word("parts")
    if parts in text:
        return parts_zh.join(zh_text(part) for part in text.split(parts))
    yuan, yuan_zh = _word("yuan")
    return _first("explain-figure", text) or text.replace(yuan, yuan_zh)


def zh_what(text: str) -> str:
    """What changed (`FinancialsReported <id>`, `LeaseReported <id> was retracted (…)`, a policy)."""
    changed = _first("explain-change", text)
    if changed is not None:
        return changed
    m = re.fullmatch(r"(\w+) (\S+)", text)
    if m is not None and m.group(1) in catalogue_section("explain-event"):
        return f"{zh_event(m.group(1))} {m.group(2)}"
    return text


def zh_name(name: str) -> str:
    """A figure's or missing figure's name (`revenue 2023` → `2023 年主营业务收入`)."""
    return _first("explain-figure", name) or name


def zh_value(value: str) -> str:
    """A figure's value: sizes, owners and tracks by their Chinese names; money as written."""
    if value in catalogue_section("explain-value"):
        return _zh(value, "explain-value")
    between, between_zh = _word("list")
    if between in value:
        return between_zh.join(zh_value(v) for v in value.split(between))
    return label(value, "zh", namespace="track") if re.fullmatch(r"[a-z-]+", value) else value


def zh_tracks(text: str) -> str:
    either, either_zh = _word("tracks")
    return either_zh.join(label(t, "zh", namespace="track") for t in text.split(either))


def zh_sizes(text: str) -> str:
    return "/".join(_zh(s, "explain-value") for s in text.split("/"))


def zh_list(text: str) -> str:
    between, between_zh = _word("list")
    return between_zh.join(zh_name(part) for part in text.split(between))


_RENDER: dict[str, Callable[[str], str]] = {
    "text": zh_text,
    "track": lambda key: label(key, "zh", namespace="track"),
    "tracks": zh_tracks,
    "value": zh_value,
    "sizes": zh_sizes,
    "list": zh_list,
    "what": zh_what,
    "event": zh_event,
}


def in_chinese(doc: Mapping[str, Any], policy: Policy | None) -> dict[str, Any]:
    """The `explain` document with every text in Chinese (keys and ids unchanged).

    `summary` becomes the article's own words; a reading is named by the document's wording it
    reads (its key when the data has none); `status_label` names the status in Chinese (`status`
    keeps the ledger's key).
    """
    out = dict(doc)
    out["summary"] = doc.get("quote") or doc.get("summary", "")
    out["status_label"] = zh_status(str(doc.get("status")))
    out["kind_label"] = _zh(str(doc.get("kind")), "explain-kind")
    wording = {r.name: r.wording_zh for r in policy.readings} if policy is not None else {}
    out["readings"] = {
        _reading_name(name, wording): _zh(str(v), "explain-value")
        for name, v in dict(doc.get("readings") or {}).items()
    }
    out["figures"] = {zh_name(str(k)): zh_value(str(v)) for k, v in dict(doc.get("figures") or {}).items()}
    out["steps"] = [zh_text(str(s)) for s in doc.get("steps") or []]
    out["missing"] = [zh_name(str(m)) for m in doc.get("missing") or []]
    out["note"] = zh_text(str(doc.get("note") or "")) if doc.get("note") else ""
    out["history"] = [_step(step) for step in doc.get("history") or []]
    out["adjustments"] = [_adjustment(a) for a in doc.get("adjustments") or []]
    return out


def _reading_name(name: str, wording: Mapping[str, str | None]) -> str:
    """A reading by the document's own words, quoted (its key when the data has none)."""
    words = wording.get(name)
    return sentence("quoted", "zh", text=words) if words else name


def _adjustment(adj: Mapping[str, Any]) -> dict[str, Any]:
    """A correction of the amount with its reason, statuses and both arithmetics in Chinese."""
    done = dict(adj)
    done["reason"] = zh_text(str(adj.get("reason") or ""))
    for key in ("status_from", "status_to"):
        if adj.get(key):
            done[key] = zh_status(str(adj[key]))
    for side in ("before", "after"):
        part = dict(adj.get(side) or {})
        done[side] = {
            "figures": {
                zh_name(str(k)): zh_value(str(v)) for k, v in dict(part.get("figures") or {}).items()
            },
            "steps": [zh_text(str(s)) for s in part.get("steps") or []],
        }
    return done


def _step(step: Mapping[str, Any]) -> dict[str, Any]:
    done = dict(step)
    done["event"] = zh_event(str(step.get("event")))
    if "status" in step:
        done["status"] = zh_status(str(step["status"]))
    if step.get("reason"):
        done["reason"] = zh_text(str(step["reason"]))
    return done
