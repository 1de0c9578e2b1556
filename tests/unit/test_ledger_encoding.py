"""The ledger writes its JSON columns faster, and exactly as the json encoders write them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.ledger import _steps, _steps_text, _units, _units_text
from tests.json_values import scalars, values

SCALARS = scalars(nan=True)
VALUES = values(SCALARS, size=3, max_leaves=8)
STEPS = st.lists(st.dictionaries(st.text(max_size=8), VALUES, max_size=8), max_size=4)


@settings(max_examples=400)
@given(steps=STEPS)
def test_the_steps_text_is_what_the_json_encoder_writes(steps: list[dict[str, Any]]) -> None:
    assert _steps_text(steps) == _steps(steps)


@pytest.mark.parametrize(
    "value",
    [
        2**63 - 1,
        2**64 - 1,
        2**64,  # orjson refuses it
        -(2**63) - 1,
        1e-07,  # orjson writes 1e-7
        2.5e-05,  # orjson writes 0.000025
        float("nan"),
        float("inf"),
        "\ud800",  # orjson refuses a lone surrogate
        '专精特新 \x00\x1f\x7f\u2028 \\ "',
        ["nested"],
        {"nested": 1.5},
    ],
)
def test_a_value_orjson_writes_otherwise_or_refuses_is_written_as_json_writes_it(value: Any) -> None:
    steps = [{"type": "created", "amount": value}, {"type": "paid", "amount": "1.00", "ref": None}]
    assert _steps_text(steps) == _steps(steps)


@given(units=st.lists(st.lists(SCALARS | st.lists(st.text(max_size=2), max_size=2), max_size=3), max_size=6))
def test_the_units_text_is_what_the_json_encoder_writes_however_often_asked(units: list[list[Any]]) -> None:
    for each in [*units, *units]:
        assert _units_text(each) == _units(each)


def test_equal_units_of_other_types_do_not_share_a_text() -> None:
    for each in ([1], [True], [1.0], ["1"], [1], [True]):
        assert _units_text(each) == _units(each)  # type: ignore[arg-type]
