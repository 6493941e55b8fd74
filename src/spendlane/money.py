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
