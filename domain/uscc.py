"""统一社会信用代码 (USCC) validation per GB 32100-2015.

The USCC is the enterprise's identity in every stream, so a typo must be caught at the door rather
than create a second, phantom enterprise. Only what the standard makes checkable is checked: the
length, the 31-character alphabet and the check character. The registration-authority (1st) and
organisation-type (2nd) characters are deliberately not restricted further, because authorities
have added codes over time and a stricter list would reject real enterprises.
"""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidInput, shown

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015: digits and upper-case letters without I, O, Z, S, V."""

WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weight of each of the first 17 positions (3^(i) mod 31)."""

LENGTH = 18

_VALUE = {char: index for index, char in enumerate(ALPHABET)}


def _normalise(text: str) -> str:
    """Drop every whitespace, fold full-width forms (NFKC) and upper-case.

    Staff paste codes from licences, spreadsheets and Word files, where they come grouped with
    spaces (``91500000 MA5U4RJ19K``), padded, in lower case or in full-width digits. None of these
    changes which code is meant, and the check character still guards against a wrong one.
    """
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _check_body(body: str, expected_length: int, original: str) -> None:
    """Raise InvalidInput naming the length or the first character outside the alphabet.

    What was typed is quoted cut to a readable length (`shown`): a pasted paragraph is not echoed.
    """
    if len(body) != expected_length:
        raise InvalidInput(
            f"USCC {shown(original.strip())} has {len(body):,} characters; "
            f"a 统一社会信用代码 has exactly {expected_length}"
            + (" before its check character" if expected_length != LENGTH else "")
        )
    for position, char in enumerate(body, start=1):
        if char not in _VALUE:
            hint = {"I": "1", "O": "0", "Z": "2", "S": "5"}.get(char)
            advice = f" (did you mean {hint!r}?)" if hint else ""
            raise InvalidInput(
                f"USCC {shown(original.strip())} has the invalid character {shown(char)} at position "
                f"{position}; only 0-9 and A-Z without I, O, Z, S, V are allowed{advice}"
            )


def check_character(first17: str) -> str:
    """Return the check character for 17 already-validated upper-case characters."""
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(text: str) -> str:
    """Return the normalised (stripped, upper-case) code, or raise InvalidInput saying why not.

    Order of checks: length, then the first bad character, then the check character, so the
    message always names the most basic problem first.
    """
    code = _normalise(text)
    _check_body(code, LENGTH, text)
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            f"USCC {code} fails its GB 32100-2015 check: the check digit should be "
            f"{expected}, not {code[17]}; re-read the code from the business licence"
        )
    return code


def make_uscc(first17: str) -> str:
    """Append the correct check character to 17 characters (demo data and tests use it)."""
    body = _normalise(first17)
    _check_body(body, LENGTH - 1, first17)
    return body + check_character(body)


def is_valid_uscc(text: str) -> bool:
    """True when `validate_uscc` would accept the text (for filters that must not raise)."""
    try:
        validate_uscc(text)
    except InvalidInput:
        return False
    return True
