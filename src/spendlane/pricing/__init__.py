"""Pricing: the cost of one event, exact to the nano-dollar, cached per (provider, model, day).

Order of authority: the user's prices.toml, then genai-prices' bundled data. A model neither
knows is *unpriced*: the event keeps its tokens, `cost_nano` stays None, and reports list it.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from spendlane.events import CostBasis, UsageEvent
from spendlane.pricing.catalog import Catalog, CatalogAnswer
from spendlane.pricing.overrides import PriceOverride, load_overrides
from spendlane.pricing.ratecard import FREE, RateCard, scaled

__all__ = ["Pricer", "RateCard", "load_overrides"]

_DAY_MS = 86_400_000
_MINUTE_MS = 60_000

# Providers whose models run on the user's own machine: free unless prices.toml says otherwise.
LOCAL_PROVIDERS = frozenset({"local", "ollama", "oss", "lmstudio", "llamacpp"})


class Pricer:
    """Prices events in place; holds the caches that make bulk pricing cheap.

    `remembered` are catalog answers stored by earlier runs; answers this pricer had to ask
    the catalog for are collected in `learned`, for the caller to store.
    """

    def __init__(
        self,
        overrides: list[PriceOverride] | None = None,
        remembered: list[CatalogAnswer] | None = None,
    ) -> None:
        self._overrides = overrides or []
        self._catalog = Catalog()
        self._remembered: dict[tuple[str | None, str, str | None], list[CatalogAnswer]] = {}
        for answer in remembered or []:
            self._remembered.setdefault((answer.hint, answer.model, answer.speed), []).append(
                answer
            )
        self.learned: list[CatalogAnswer] = []
        # (provider hint, model, day or -minute-1, speed) -> (card or None, provider id)
        self._cards: dict[tuple[str | None, str, int, str | None], tuple[RateCard | None, str]] = {}

    def price(self, event: UsageEvent) -> None:
        """Set `cost_nano`, `cost_basis` and, when the source did not know it, `provider`."""
        hint = None if event.provider == "unknown" else event.provider
        card, provider = self._card(hint, event.model, event.ts_ms, event.speed)
        event.provider = provider
        if card is None:
            event.cost_nano = None
            event.cost_basis = CostBasis.UNPRICED
            return
        event.cost_nano = card.cost_nano(event)
        event.cost_basis = CostBasis.ESTIMATED if event.model_estimated else CostBasis.COMPUTED

    def _card(
        self, hint: str | None, model: str, ts_ms: int, speed: str | None
    ) -> tuple[RateCard | None, str]:
        day = ts_ms // _DAY_MS
        day_key = (hint, model, day, speed)
        cached = self._cards.get(day_key)
        if cached is not None:
            return cached
        minute_key = (hint, model, -(ts_ms // _MINUTE_MS) - 1, speed)
        cached = self._cards.get(minute_key)
        if cached is not None:
            return cached
        result, per_minute = self._resolve(hint, model, ts_ms, speed)
        self._cards[minute_key if per_minute else day_key] = result
        return result

    def _resolve(
        self, hint: str | None, model: str, ts_ms: int, speed: str | None
    ) -> tuple[tuple[RateCard | None, str], bool]:
        override = next((o for o in self._overrides if o.applies(hint, model)), None)
        if override is not None and override.card is not None:
            return (override.card, override.provider or hint or "unknown"), False
        if override is None and hint in LOCAL_PROVIDERS:
            return (FREE, hint or "local"), False
        answer = self._catalog_answer(hint, model, ts_ms // _DAY_MS, speed)
        if answer is None:  # prices change within the day: ask per request
            found = self._catalog.find(hint, model)
            assert found is not None
            when = dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC)
            card: RateCard | None = self._catalog.ratecard(found, when, speed)
            provider = found.provider_id
            per_minute = True
        else:
            card, provider, per_minute = answer.card, answer.provider_id, False
        if card is None:
            return (None, (override.provider if override else None) or hint or "unknown"), False
        if override is not None and override.multiplier is not None:
            card = scaled(card, Fraction(override.multiplier))
        return (card, provider), per_minute

    def _catalog_answer(
        self, hint: str | None, model: str, day: int, speed: str | None
    ) -> CatalogAnswer | None:
        for known in self._remembered.get((hint, model, speed), ()):
            if known.from_day <= day < known.to_day:
                return known
        answer = self._catalog.answer(hint, model, day, speed)
        if answer is not None:
            self._remembered.setdefault((hint, model, speed), []).append(answer)
            self.learned.append(answer)
        return answer
