"""`service_layer.importer.parse`: a file that is not UTF-8, or quotes a huge value, is one short line."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from service_layer.importer import _date, parse


@pytest.mark.parametrize(
    "data",
    [
        "uscc,name,district\n91500000MA5U000013,重庆甲科技有限公司,渝北\n".encode("gb18030"),
        b"uscc,name\n\xff\xfe,x\n",
    ],
)
def test_a_file_that_is_not_utf8_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"not UTF-8 text .* save it as 'CSV UTF-8'"):
        parse(data)


def test_a_huge_unknown_column_is_quoted_cut_short() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(("uscc," + "c" * 10_000 + "\n").encode())
    line = str(caught.value)
    assert line.startswith("line 1: unknown column 'ccc") and "(10,000 characters)" in line
    assert len(line) < 300


def test_a_huge_date_is_quoted_cut_short() -> None:
    with pytest.raises(InvalidInput) as caught:
        _date("2024-" * 2_000)
    assert "(10,000 characters)" in str(caught.value) and len(str(caught.value)) < 200
