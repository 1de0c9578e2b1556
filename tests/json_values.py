"""Hypothesis strategies for values the json module writes and reads: what srdi's faster encoders
and decoders (orjson where it gives the very same text or value) are held to."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

AWKWARD_TEXT = '专精特新重庆渝北区¥€\\"/\n\t\x00\x1f\x7f\u2028'


def scalars(*, nan: bool) -> st.SearchStrategy[Any]:
    """None, booleans, integers past 64 bits, floats (infinities, and NaN with ``nan``), any text
    (lone surrogates included) and text of awkward characters."""
    return (
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=nan)
        | st.text()
        | st.text(alphabet=AWKWARD_TEXT)
    )


def values(leaves: st.SearchStrategy[Any], *, size: int, max_leaves: int) -> st.SearchStrategy[Any]:
    """Lists and dictionaries of ``leaves``, nested, at most ``size`` items each."""
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=size) | st.dictionaries(st.text(max_size=2 * size), inner, max_size=size)
        ),
        max_leaves=max_leaves,
    )
