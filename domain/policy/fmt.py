"""How figures are written in notes and explanations: yuan with separators, exact percentages.

Decisions compare exact fractions; these helpers only render them, so a rounded display can
never change an outcome.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction


def yuan(value: Decimal) -> str:
    """1000000 → '1,000,000'; 1234.5 → '1,234.50' (fen shown only when there are some)."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.quantize(Decimal('0.01')):,}"


def percent(ratio: Fraction) -> str:
    """Fraction(1, 8) → '12.50%' (rounded half-even to 0.01%, for display only)."""
    shown = Decimal(ratio.numerator) * 100 / Decimal(ratio.denominator)
    return f"{shown.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)}%"


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: Decimal('5.0') → '5'."""
    text = format(value.normalize(), "f")
    return text
