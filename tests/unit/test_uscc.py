"""GB 32100-2015 统一社会信用代码 validation: length, alphabet, check character, messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.uscc import ALPHABET, is_valid_uscc, make_uscc, validate_uscc

# Published codes of well-known enterprises (business-licence data), verified by computation.
REAL_CODES = [
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
]

bodies = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_accepted(code: str) -> None:
    """Real codes printed on business licences pass the check unchanged."""
    assert validate_uscc(code) == code


def test_a_plausible_code_with_a_wrong_check_character_is_refused() -> None:
    """91500000MA5U4RJ19T is not a valid code: its check character computes to K."""
    with pytest.raises(InvalidInput, match="should be K, not T"):
        validate_uscc("91500000MA5U4RJ19T")
    assert validate_uscc("91500000MA5U4RJ19K") == "91500000MA5U4RJ19K"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("91500000MA5U4RJ19", "91500000MA5U4RJ19K"),
        ("91500000MA0000027", "91500000MA00000270"),  # 31 - 0 → 31 → check "0"
        ("Y1500000MA5U4RJ19", "Y1500000MA5U4RJ19X"),  # authority/type chars not restricted
    ],
)
def test_make_uscc_appends_the_computed_check_character(body: str, expected: str) -> None:
    """make_uscc appends the GB 32100 check character, including the 31 → 0 case."""
    assert make_uscc(body) == expected
    assert validate_uscc(expected) == expected


@given(bodies)
def test_every_generated_code_validates(body: str) -> None:
    """Any 17 characters of the alphabet plus make_uscc's check character form a valid code."""
    code = make_uscc(body)
    assert len(code) == 18
    assert validate_uscc(code) == code


@given(bodies, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_any_single_character_substitution_is_detected(body: str, pos: int, char: str) -> None:
    """Changing one character of a valid code always breaks the check (weights are units mod 31)."""
    code = make_uscc(body)
    mutated = code[:pos] + char + code[pos + 1 :]
    assert is_valid_uscc(mutated) == (mutated == code)


def test_lowercase_and_whitespace_are_normalised() -> None:
    """Staff paste codes in lower case with spaces around; the upper-case code is returned."""
    assert validate_uscc("  9144030071526726xg \n") == "9144030071526726XG"


@pytest.mark.parametrize(
    "text", ["91440300 71526726XG", "9144 0300 7152 6726 xg", "９１４４０３００71526726XG"]
)
def test_grouping_spaces_and_full_width_characters_are_normalised(text: str) -> None:
    """A code grouped with spaces (full-width ones too) or typed in full-width digits is the same code."""
    assert validate_uscc(text.replace(" ", "\u3000", 1)) == "9144030071526726XG"


@pytest.mark.parametrize("text", ["91440300192203821", "9144030019220382166", ""])
def test_wrong_length_names_the_length_found(text: str) -> None:
    """A code of the wrong length is refused with the number of characters it has."""
    with pytest.raises(InvalidInput, match=f"has {len(text)} characters; .* exactly 18"):
        validate_uscc(text)


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_are_named_with_their_position(bad: str) -> None:
    """I, O, Z, S and V are not in the GB 32100 alphabet; the message names char and position."""
    code = "91440300" + bad + "922038216"
    with pytest.raises(InvalidInput, match=f"invalid character '{bad}' at position 9"):
        validate_uscc(code)


def test_other_bad_characters_are_refused() -> None:
    """Punctuation inside the code is refused at its position, before the check digit."""
    with pytest.raises(InvalidInput, match="invalid character '-' at position 3"):
        validate_uscc("91-403001922038216")


def test_wrong_check_digit_names_the_right_one() -> None:
    """A typo in the last character is refused with the check digit it should have been."""
    with pytest.raises(InvalidInput, match="check digit should be 6, not 7") as info:
        validate_uscc("914403001922038217")
    assert "\n" not in str(info.value)


def test_make_uscc_refuses_bad_bodies() -> None:
    """make_uscc needs exactly 17 alphabet characters and says so."""
    with pytest.raises(InvalidInput, match=r"has 16 characters; .* exactly 17"):
        make_uscc("9144030019220382")
    with pytest.raises(InvalidInput, match="invalid character 'O'"):
        make_uscc("9144030019220382O")
