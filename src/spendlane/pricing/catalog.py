"""Where rates come from: genai-prices' bundled data, resolved once per (provider, model, day).

genai-prices is imported lazily: it costs half a second to load, and a warm run that has
nothing new to price must not pay that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from spendlane.pricing.ratecard import USAGE_KEY_KINDS, PricedUnit, RateCard, compile_ratecard

UTC = dt.UTC


_FOREVER = 10**7  # a day number past any date we will see


@dataclass(frozen=True, slots=True)
class CatalogAnswer:
    """What the catalog says about (provider hint, model, speed) for UTC days
    [from_day, to_day): a card, or None for a model it does not know.

    Prices change only on the start dates in the catalog, so one answer covers many days and
    can be remembered in the ledger: later runs price without loading the catalog at all.
    """

    hint: str | None
    model: str
    speed: str | None
    from_day: int
    to_day: int
    provider_id: str
    card: RateCard | None


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """A model genai-prices knows, with what decides which of its prices apply when."""

    provider_id: str
    model_id: str
    info: Any  # genai_prices.types.ModelInfo
    provider: Any  # genai_prices.types.Provider
    time_of_day_prices: bool  # off-peak prices: rates can change within a UTC day


def load_catalog() -> None:
    """Load genai-prices and its data now (0.15 s), as the first lookup would; the ingest's
    workers do it while the writer is still planning."""
    from genai_prices import data_snapshot
    from genai_prices.units import _get_registry

    data_snapshot.get_snapshot()
    _get_registry()


class Catalog:
    """Lookups into genai-prices' data, cached; `None` means the model is unknown."""

    def __init__(self) -> None:
        self._models: dict[tuple[str | None, str], CatalogModel | None] = {}

    def find(self, provider_id: str | None, model: str) -> CatalogModel | None:
        cache_key = (provider_id, model)
        if cache_key not in self._models:
            self._models[cache_key] = self._lookup(provider_id, model)
        return self._models[cache_key]

    def _lookup(self, provider_id: str | None, model: str) -> CatalogModel | None:
        from genai_prices import data_snapshot, types

        snapshot = data_snapshot.get_snapshot()
        try:
            provider, info = snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            if provider_id is None:
                return None
            return self._lookup(None, model)  # e.g. a Kimi model run through Claude Code
        time_of_day = isinstance(info.prices, list) and any(
            isinstance(c.constraint, types.TimeOfDateConstraint) for c in info.prices
        )
        return CatalogModel(
            provider_id=provider.id,
            model_id=info.id,
            info=info,
            provider=provider,
            time_of_day_prices=time_of_day,
        )

    def answer(
        self, hint: str | None, model: str, day: int, speed: str | None
    ) -> CatalogAnswer | None:
        """The catalog's answer for one UTC day, or None when prices change within the day
        (off-peak prices), which must be looked up per request."""
        found = self.find(hint, model)
        if found is None:
            return CatalogAnswer(hint, model, speed, 0, _FOREVER, hint or "unknown", None)
        if found.time_of_day_prices:
            return None
        from_day, to_day = _stable_days(found.info, day)
        when = dt.datetime.fromtimestamp(day * 86_400, tz=UTC)
        card = self.ratecard(found, when, speed)
        return CatalogAnswer(hint, model, speed, from_day, to_day, found.provider_id, card)

    def ratecard(self, model: CatalogModel, when: dt.datetime, speed: str | None) -> RateCard:
        """Compile the prices in force at `when` (and for `speed`, e.g. fast mode)."""
        from genai_prices.units import _get_registry

        context = {"speed": speed} if speed and speed != "standard" else None
        native = any(m is model.info for m in model.provider.models)
        prices = model.info.get_prices(when, context if native else None)
        registry = _get_registry()
        units: list[PricedUnit] = []
        for price_key, value in prices.__dict__.items():
            if value is None or price_key.startswith("_"):
                continue
            try:
                unit = registry.unit_for_price_key(price_key)
            except KeyError:
                continue
            if unit.usage_key not in USAGE_KEY_KINDS:
                continue
            units.append(_priced_unit(unit, value))
        return compile_ratecard(units)


def _stable_days(info: Any, day: int) -> tuple[int, int]:
    """The run of UTC days around `day` over which none of the model's prices change."""
    from genai_prices import types

    starts: set[int] = set()
    constraints = [c.constraint for c in info.prices] if isinstance(info.prices, list) else []
    constraints += [v.constraint for v in info.price_variants or ()]
    for constraint in constraints:
        if isinstance(constraint, types.StartDateConstraint):
            starts.add(constraint.start_date.toordinal() - _EPOCH_ORDINAL)
    before = [s for s in starts if s <= day]
    after = [s for s in starts if s > day]
    return (max(before) if before else 0), (min(after) if after else _FOREVER)


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _priced_unit(unit: Any, value: Any) -> PricedUnit:
    from genai_prices.types import TieredPrices

    if isinstance(value, TieredPrices):
        return PricedUnit(
            usage_key=unit.usage_key,
            dimensions=dict(unit.dimensions),
            per=unit.per,
            base=Fraction(value.base),
            tiers=tuple((tier.start, Fraction(tier.price)) for tier in value.tiers),
        )
    return PricedUnit(
        usage_key=unit.usage_key,
        dimensions=dict(unit.dimensions),
        per=unit.per,
        base=Fraction(value),
    )
