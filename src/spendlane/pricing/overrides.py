"""The user's own prices: `prices.toml` in the config dir.

For models the catalog does not know, local models that cost nothing, and negotiated rates.
Example::

    [[model]]
    match = "qwen3.5-plus"      # a model name, or a glob such as "gpt-oss*"
    provider = "alibaba"        # optional: applies only to this provider, and names it
    input = 0.40                # USD per million tokens (uncached input)
    output = 1.20
    cache_read = 0.04
    cache_write = 0.50          # 5-minute cache writes
    cache_write_1h = 0.80

    [[model]]
    match = "llama*"
    free = true                 # local model: $0, counted as priced

    [[model]]
    match = "claude-*"
    multiplier = 0.8            # negotiated: 20 % off the catalog rates
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from fractions import Fraction
from pathlib import Path
from typing import Any

from spendlane.pricing.ratecard import FREE, MANUAL_UNITS, PricedUnit, RateCard, compile_ratecard
from spendlane.tomlconfig import ConfigError, load_toml, locate

_ALLOWED = {"match", "provider", "free", "multiplier", *MANUAL_UNITS}


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """One `[[model]]` entry: either its own card, or a multiplier on the catalog's."""

    match: str
    provider: str | None
    card: RateCard | None
    multiplier: Fraction | None

    def applies(self, provider: str | None, model: str) -> bool:
        if self.provider is not None and provider is not None and provider != self.provider:
            return False
        return fnmatchcase(model.lower(), self.match.lower())


def load_overrides(path: Path) -> list[PriceOverride]:
    """Read prices.toml; a missing file means no overrides, a bad one is a ConfigError."""
    if not path.exists():
        return []
    data, text = load_toml(path)
    entries = data.get("model", [])
    unknown_tables = set(data) - {"model"}
    if unknown_tables:
        name = sorted(unknown_tables)[0]
        raise ConfigError(path, None, name, "unknown section; expected [[model]] entries")
    if not isinstance(entries, list):
        raise ConfigError(path, None, "model", "expected [[model]] array of tables")
    return [_parse_entry(path, text, index, entry) for index, entry in enumerate(entries)]


def _parse_entry(path: Path, text: str, index: int, entry: dict[str, Any]) -> PriceOverride:
    def fail(field: str | None, message: str) -> ConfigError:
        return ConfigError(path, locate(text, "model", index, field), field, message)

    for field in entry:
        if field not in _ALLOWED:
            allowed = ", ".join(sorted(_ALLOWED))
            return_error = fail(field, f"unknown field; expected one of: {allowed}")
            raise return_error
    match = entry.get("match")
    if not isinstance(match, str) or not match:
        raise fail("match" if "match" in entry else None, "expected a model name or glob string")
    provider = entry.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise fail("provider", "expected a provider name string")
    rates: dict[str, Fraction] = {}
    for field in MANUAL_UNITS:
        if field in entry:
            rates[field] = _non_negative(entry[field], lambda m, f=field: fail(f, m))
    free = entry.get("free", False)
    if not isinstance(free, bool):
        raise fail("free", "expected true or false")
    multiplier = None
    if "multiplier" in entry:
        multiplier = _non_negative(entry["multiplier"], lambda m: fail("multiplier", m))
    chosen = sum([free, bool(rates), multiplier is not None])
    if chosen != 1:
        raise fail(None, "give exactly one of: free = true, per-token rates, or multiplier")
    card: RateCard | None = None
    if free:
        card = FREE
    elif rates:
        if "input" not in rates or "output" not in rates:
            raise fail("input" if "input" not in rates else "output", "required with rates")
        units = [
            PricedUnit(
                usage_key=MANUAL_UNITS[f][0],
                dimensions=MANUAL_UNITS[f][1],
                per=1_000_000,
                base=price,
            )
            for f, price in rates.items()
        ]
        card = compile_ratecard(units)
    return PriceOverride(match=match, provider=provider, card=card, multiplier=multiplier)


def _non_negative(value: Any, fail: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("expected a number (USD per million tokens)")
    if value < 0:
        raise fail("must not be negative")
    return Fraction(str(value))
