"""Money is integer nano-USD inside; dollars appear only at the edges."""

from __future__ import annotations

NANO_PER_USD = 1_000_000_000


def usd_to_nano(usd: float) -> int:
    """Round a reported dollar amount to whole nano-USD (half to even), exactly.

    Going through the float's shortest decimal repr avoids binary-float error: 0.1 USD is
    100,000,000 nano-USD, not 100,000,000.00000001.
    """
    from decimal import ROUND_HALF_EVEN, Decimal

    exact = Decimal(repr(float(usd))) * NANO_PER_USD
    return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def nano_to_usd(nano: int) -> float:
    return nano / NANO_PER_USD


def format_usd(nano: int) -> str:
    """Dollars to the cent for people, rounded half up: 12_344_999_999 -> "$12.34";
    "<$0.01" for a positive amount under half a cent (never a misleading "$0.00")."""
    sign = "-" if nano < 0 else ""
    cents = (abs(nano) + 5_000_000) // 10_000_000
    if cents == 0 and nano > 0:
        return "<$0.01"
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def parse_usd(text: str) -> int:
    """Dollars as a person types them ("1.50", "$2") to exact nano-USD; ValueError if it is
    not a finite amount >= 0."""
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise ValueError(f"expected dollars like 1.50, got {text!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"expected dollars >= 0, got {text!r}")
    return int((amount * NANO_PER_USD).to_integral_value())
