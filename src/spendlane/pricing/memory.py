"""Catalog answers kept in the ledger, so later runs need not load the catalog.

Loading genai-prices costs about half a second; an incremental run that prices a handful of new
calls should not pay it. Answers are valid for one catalog version: upgrading genai-prices
starts afresh.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from typing import Any

from spendlane.pricing.catalog import CatalogAnswer
from spendlane.pricing.ratecard import RateCard


@cache
def catalog_version() -> str:
    """The installed genai-prices version, read from its dist-info folder name.

    importlib.metadata would do, but costs 30 ms of imports on a run that may price one call.
    """
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("genai_prices-") and name.endswith(".dist-info"):
                return "genai-prices " + name.removeprefix("genai_prices-").removesuffix(
                    ".dist-info"
                )
    return "genai-prices unknown"


def to_row(answer: CatalogAnswer) -> tuple[Any, ...]:
    card = None
    if answer.card is not None:
        c = answer.card
        card = json.dumps(
            {"thresholds": c.thresholds, "bands": c.bands, "denominator": c.denominator}
        )
    return (
        catalog_version(), answer.hint or "", answer.model, answer.speed or "", answer.from_day,
        answer.to_day, answer.provider_id, card,
    )  # fmt: skip


def from_row(row: tuple[Any, ...]) -> CatalogAnswer:
    _, hint, model, speed, from_day, to_day, provider_id, card_json = row
    card = None
    if card_json is not None:
        data = json.loads(card_json)
        card = RateCard(
            thresholds=tuple(data["thresholds"]),
            bands=tuple(tuple(band) for band in data["bands"]),
            denominator=data["denominator"],
        )
    return CatalogAnswer(hint or None, model, speed or None, from_day, to_day, provider_id, card)
