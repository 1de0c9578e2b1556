"""The label catalogue: one entry point for every label, both languages for every entry."""

from __future__ import annotations

import re
import string

import pytest

import events  # noqa: F401  (registers the event types)
from cli_commands.options import Lang
from domain.labels import _catalogue, label, sentence
from events.base import registry


def test_every_entry_has_an_english_and_a_chinese_text() -> None:
    """No empty label in either language, and every namespace answers through `label`."""
    for namespace, entries in _catalogue().items():
        for key, (en, zh) in entries.items():
            assert en.strip() and zh.strip(), (namespace, key)
            assert label(key, Lang.en, namespace=namespace) == en  # type: ignore[arg-type]
            assert label(key, Lang.zh, namespace=namespace) == zh  # type: ignore[arg-type]


def test_every_event_type_has_a_label() -> None:
    """`srdi history` labels every event type the log can hold, in both languages."""
    labelled = set(_catalogue()["event"])
    assert set(registry.known_types()) <= labelled


def test_a_sentence_has_the_same_placeholders_in_both_languages() -> None:
    """A phrase filled in one language can be filled in the other with the same values."""
    fields = string.Formatter()
    for key, (en, zh) in _catalogue()["sentence"].items():
        names = [{f for _, f, _, _ in fields.parse(text) if f} for text in (en, zh)]
        assert names[0] == names[1], key


def test_reference_data_and_unknown_keys() -> None:
    """Tracks and districts come from the reference data; an unknown key comes back unchanged."""
    assert label("little-giant", "zh", namespace="track") == "小巨人"
    assert label("yubei", "zh", namespace="district") == "渝北"
    assert label("no-such-status", "zh", namespace="status") == "no-such-status"
    assert sentence("article", "zh", n=5) == "第5条"
    assert re.fullmatch(r"article 5", sentence("article", "en", n=5))


def test_a_language_is_one_of_two() -> None:
    """--lang's Lang is exactly the catalogue's two languages, en and zh."""
    assert [lang.value for lang in Lang] == ["en", "zh"]
    with pytest.raises(ValueError):
        Lang("fr")
