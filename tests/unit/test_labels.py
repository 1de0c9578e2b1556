"""The label catalogue: one entry point for every label, both languages for every entry."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["domain", "events", "projections", "scheduler", "service_layer", "cli_commands", "cli.py"]
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Modules whose Chinese is not a label, each with what it is. Anything else that shows Chinese takes
# it from the catalogue; a new module with a Chinese string literal fails the test below.
NOT_LABELS = {
    "cli.py": "the programme's name in the help text",
    "cli_commands/enterprises.py": "help texts: examples of what to type",
    "cli_commands/facilities.py": "help texts: examples of what to type",
    "cli_commands/reports.py": "help texts: examples of what to type",
    "cli_commands/views.py": "help texts: examples of what to type",
    "cli_commands/ledger.py": "help texts: examples of what to type",
    "domain/commands.py": "input vocabulary: the Chinese words staff may type for a choice",
    "domain/inputs.py": "input vocabulary: the Chinese words staff may type for a size",
    "domain/facilities.py": "input vocabulary: the names of the kinds of facility staff may type",
    "domain/reference.py": "reference data: the districts' names and quotation marks staff may type",
    "domain/uscc.py": "an error message naming the code in Chinese",
    "domain/policy/amounts.py": "the engine's stored arithmetic (units and terms of the documents)",
    "domain/policy/occasions.py": "the engine's stored notes (the documents' term 首次)",
    "domain/policy/engine.py": "the engine's stored text (a list of names)",
    "events/schemas.py": "input vocabulary of old events (sizes written in Chinese)",
    "service_layer/spreadsheet.py": "input vocabulary: the column headings of the districts' lists",
    "service_layer/importer.py": "input vocabulary: the report kinds of the districts' lists",
    "service_layer/demo.py": "demo data: made-up names of facilities",
    "service_layer/demo_plan.py": "demo data: made-up names of enterprises, units and people",
}


def _chinese_literals(path: Path) -> list[str]:
    """The string literals of a module that hold Chinese, docstrings left out (they explain, not show)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {  # a string standing alone as a statement documents the code above or around it
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CJK.search(node.value)
    ]


def test_chinese_comes_from_the_catalogue() -> None:
    """No module outside NOT_LABELS writes a Chinese string literal: labels live in labels.toml."""
    files = [
        p
        for name in PRODUCT
        for p in ((ROOT / name).rglob("*.py") if (ROOT / name).is_dir() else [ROOT / name])
    ]
    found = [
        hit
        for path in files
        if path.relative_to(ROOT).as_posix() not in NOT_LABELS
        for hit in _chinese_literals(path)
    ]
    assert found == [], "Chinese outside the label catalogue:\n" + "\n".join(found)


def test_every_explanation_pattern_compiles_and_fills() -> None:
    """Each English pattern of `explain` compiles; its Chinese names only groups the pattern has."""
    from service_layer.explain_zh import _rules

    fields = string.Formatter()
    for section in ("explain-sentence", "explain-figure", "explain-change"):
        for pattern, chinese in _rules(section):
            used = {int(f) for _, f, _, _ in fields.parse(chinese) if f}
            assert used <= set(range(1, pattern.groups + 1)), (section, pattern.pattern)
