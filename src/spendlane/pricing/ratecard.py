"""Exact integer cost arithmetic for one resolved set of model prices.

genai-prices computes each request's price in `Decimal`, which is exact but too slow to run a
million times (about 250 µs a call). A `RateCard` is the same calculation compiled once per
(provider, model, day): every price becomes an integer over one common denominator, and the
usage hierarchy (a cache write is a kind of input, a 1-hour cache write a kind of cache write…)
is folded into one coefficient per token kind. Pricing an event is then a handful of integer
multiplications, and the result equals genai-prices' `calc_price` rounded to the nano-dollar.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from spendlane.events import UsageEvent
from spendlane.money import NANO_PER_USD

# The token kinds an event carries, in a fixed order; "requests" is a constant 1 per call.
KINDS: tuple[str, ...] = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "output",
    "reasoning",
    "web_searches",
    "requests",
)

# How each genai-prices usage key is made of our kinds (its value is the sum of these kinds).
# `input_tokens` there is *total* input, cache included; output includes reasoning. Units not
# listed (audio, image, text-only splits…) have a count of zero for every event we know, so
# leaving them out changes no leaf and no price.
USAGE_KEY_KINDS: Mapping[str, tuple[str, ...]] = {
    "input_tokens": ("input", "cache_read", "cache_write_5m", "cache_write_1h"),
    "cache_read_tokens": ("cache_read",),
    "cache_write_tokens": ("cache_write_5m", "cache_write_1h"),
    "cache_write_5m_tokens": ("cache_write_5m",),
    "cache_write_1h_tokens": ("cache_write_1h",),
    "output_tokens": ("output",),
    "output_reasoning_tokens": ("reasoning",),
    "web_searches": ("web_searches",),
    "requests": ("requests",),
}


@dataclass(frozen=True, slots=True)
class PricedUnit:
    """One priced unit of a model: its usage key, its dimensions, `per`, and price tiers."""

    usage_key: str
    dimensions: Mapping[str, str]
    per: int
    base: Fraction  # USD per `per` units
    tiers: tuple[tuple[int, Fraction], ...] = ()  # (start, USD per `per`), ascending


@dataclass(frozen=True, slots=True)
class RateCard:
    """Coefficients (integer numerators over `denominator`, USD per token) per input-size band.

    `thresholds[i]` is the start of band i+1: a request whose total input is *above* it pays
    band i+1's rates on all its tokens, the whole request, as genai-prices and Anthropic do.
    """

    thresholds: tuple[int, ...]
    bands: tuple[tuple[int, ...], ...]
    denominator: int

    def cost_nano(self, event: UsageEvent) -> int:
        total_input = (
            event.input_tokens
            + event.cache_read_tokens
            + event.cache_write_5m_tokens
            + event.cache_write_1h_tokens
        )
        c = self.bands[bisect_left(self.thresholds, total_input)]
        reasoning, output = event.reasoning_tokens, event.output_tokens
        scaled = (
            c[0] * event.input_tokens
            + c[1] * event.cache_read_tokens
            + c[2] * event.cache_write_5m_tokens
            + c[3] * event.cache_write_1h_tokens
            + c[4] * output
            + c[5] * (reasoning if reasoning < output else output)
            + c[6] * event.web_search_requests
            + c[7]
        )
        return round_half_even(scaled * NANO_PER_USD, self.denominator)


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, ties to even."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _is_descendant_or_self(ancestor: PricedUnit, descendant: PricedUnit) -> bool:
    return ancestor.dimensions.items() <= descendant.dimensions.items()


def _leaf_kind_weights(units: Sequence[PricedUnit]) -> dict[str, dict[str, int]]:
    """For each priced unit, how its *leaf* count is made of our kinds.

    Mirrors genai-prices' decomposition: a unit is charged only for what its more specific
    priced units (cache reads inside input, 1-hour writes inside cache writes…) do not cover.
    """
    ordered = sorted(units, key=lambda u: (-len(u.dimensions), u.usage_key))
    leaves: dict[str, dict[str, int]] = {}
    for unit in ordered:
        weights = dict.fromkeys(USAGE_KEY_KINDS[unit.usage_key], 1)
        for other in ordered:
            if other is not unit and _is_descendant_or_self(unit, other):
                for kind, w in leaves[other.usage_key].items():
                    weights[kind] = weights.get(kind, 0) - w
        leaves[unit.usage_key] = weights
    return leaves


def compile_ratecard(units: Sequence[PricedUnit]) -> RateCard:
    """Fold priced units into per-band integer coefficients over one common denominator."""
    starts = sorted({start for unit in units for start, _ in unit.tiers})
    leaves = _leaf_kind_weights(units)

    def price_in_band(unit: PricedUnit, band: int) -> Fraction:
        # Band b covers total input above starts[b-1]; genai-prices takes the highest tier
        # whose start is strictly below the total input.
        price = unit.base
        for start, tier_price in unit.tiers:
            if band > 0 and start <= starts[band - 1]:
                price = tier_price
        return price / unit.per

    fraction_bands: list[list[Fraction]] = []
    for band in range(len(starts) + 1):
        coefficients = [Fraction(0)] * len(KINDS)
        for unit in units:
            rate = price_in_band(unit, band)
            for kind, weight in leaves[unit.usage_key].items():
                coefficients[KINDS.index(kind)] += rate * weight
        fraction_bands.append(coefficients)

    denominator = 1
    for coefficients in fraction_bands:
        for value in coefficients:
            denominator = lcm(denominator, value.denominator)
    bands = tuple(
        tuple(int(value * denominator) for value in coefficients) for coefficients in fraction_bands
    )
    return RateCard(thresholds=tuple(starts), bands=bands, denominator=denominator)


FREE = RateCard(thresholds=(), bands=((0,) * len(KINDS),), denominator=1)

# Dimensions of the units a user can price by hand in prices.toml (same as genai-prices').
_TOKENS_IN = {"family": "tokens", "direction": "input"}
_TOKENS_OUT = {"family": "tokens", "direction": "output"}
MANUAL_UNITS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "input": ("input_tokens", _TOKENS_IN),
    "cache_read": ("cache_read_tokens", {**_TOKENS_IN, "token_type": "cache_read"}),
    "cache_write": ("cache_write_tokens", {**_TOKENS_IN, "token_type": "cache_write"}),
    "cache_write_1h": (
        "cache_write_1h_tokens",
        {**_TOKENS_IN, "token_type": "cache_write", "cache_ttl": "1h"},
    ),
    "output": ("output_tokens", _TOKENS_OUT),
    "reasoning": ("output_reasoning_tokens", {**_TOKENS_OUT, "token_type": "reasoning"}),
}


def scaled(card: RateCard, factor: Fraction) -> RateCard:
    """The same card with every rate multiplied by `factor` (a negotiated discount)."""
    denominator = card.denominator * factor.denominator
    bands = tuple(tuple(c * factor.numerator for c in band) for band in card.bands)
    return RateCard(thresholds=card.thresholds, bands=bands, denominator=denominator)
