"""The store parses payloads faster than json.loads, and into exactly what json.loads gives: from
text, and from the UTF-8 bytes a rebuild reads (what json.loads gives for their text)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from events.sql_store import _loads
from tests.json_values import scalars, values

SCALARS = scalars(nan=False)
VALUES = values(SCALARS, size=4, max_leaves=20)


def _same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down (1 == 1.0 == True would hide a changed type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=400)
@given(value=VALUES, ensure_ascii=st.booleans(), compact=st.booleans())
def test_every_json_text_parses_to_what_json_loads_gives(
    value: Any, ensure_ascii: bool, compact: bool
) -> None:
    separators = (",", ":") if compact else None
    text = json.dumps(value, ensure_ascii=ensure_ascii, separators=separators)
    assert _same(_loads(text), json.loads(text))
    try:
        stored = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 holds it, nor does any database text
        assume(False)
    assert _same(_loads(stored), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # orjson alone would make this a float
        "-9223372036854775809",
        "18446744073709551616",
        '{"amount": 99999999999999999999, "fen": 1}',
        '{"rate": 0.5, "fen": 12345678901234567890123}',  # a float beside: still searched
        '{"rates": [[1.5]], "code": "915001001234567890"}',  # a float, no long number
        '[{"a": [2.5e300, 18446744073709551615]}]',
        "NaN",
        "[Infinity, -Infinity]",
        "1e400",
        '"\\ud800"',
        ' {"a": 1} \n',
        '{"a": 1, "a": 2}',
    ],
)
def test_what_orjson_reads_otherwise_is_read_by_json_loads(text: str) -> None:
    assert _same(_loads(text), json.loads(text))
    assert _same(_loads(text.encode()), json.loads(text))


@pytest.mark.parametrize("text", ["", "{", '{"a": 1} x', "\ufeff{}", "[1,]", '"\x01"', "nul"])
def test_a_text_json_loads_refuses_is_refused_with_its_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        _loads(text)
    assert str(got.value) == str(expected.value)
    with pytest.raises(json.JSONDecodeError) as got:
        _loads(text.encode())
    assert str(got.value) == str(expected.value)


def test_bytes_that_are_not_utf8_are_refused_as_their_decoding_refuses_them() -> None:
    stored = '{"name": "重庆"}'.encode()[:-4] + b'"}'  # a character cut in half
    with pytest.raises(UnicodeDecodeError) as expected:
        stored.decode()
    with pytest.raises(UnicodeDecodeError) as got:
        _loads(stored)
    assert str(got.value) == str(expected.value)
