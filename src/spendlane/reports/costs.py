"""`spendlane costs`: today and this month, per provider and per model, in one glance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from spendlane.money import nano_to_usd
from spendlane.reports.calendar import DailyReport, Tally


@dataclass(slots=True)
class CostsSummary:
    today: dt.date
    zone: str
    day: Tally = field(default_factory=Tally)
    month: Tally = field(default_factory=Tally)
    # name -> (today, month)
    providers: dict[str, tuple[Tally, Tally]] = field(default_factory=dict)
    models: dict[str, tuple[Tally, Tally]] = field(default_factory=dict)
    unpriced_events: int = 0


def costs_summary(month: DailyReport, today: dt.date) -> CostsSummary:
    """From a daily report over this month so far (see `daily_report`)."""
    summary = CostsSummary(today=today, zone=month.zone, month=month.total.copy())
    summary.unpriced_events = month.total.unpriced_events
    for day in month.days:
        is_today = day.date == today
        if is_today:
            summary.day.add(day.total)
        for provider, models in day.providers.items():
            for model, tally in models.items():
                for table, name in ((summary.providers, provider), (summary.models, model)):
                    pair = table.setdefault(name, (Tally(), Tally()))
                    pair[1].add(tally)
                    if is_today:
                        pair[0].add(tally)
    return summary


def _entry(today: Tally, month: Tally) -> dict[str, Any]:
    return {
        "todayCost": nano_to_usd(today.cost_nano),
        "monthCost": nano_to_usd(month.cost_nano),
        "todayTokens": today.total_tokens,
        "monthTokens": month.total_tokens,
    }


def costs_json(summary: CostsSummary) -> dict[str, Any]:
    def ordered(table: dict[str, tuple[Tally, Tally]]) -> list[tuple[str, tuple[Tally, Tally]]]:
        return sorted(table.items(), key=lambda kv: (-kv[1][1].cost_nano, kv[0]))

    return {
        "date": summary.today.isoformat(),
        "timezone": summary.zone,
        "today": {"cost": nano_to_usd(summary.day.cost_nano),
                  "totalTokens": summary.day.total_tokens, "calls": summary.day.events},
        "month": {"cost": nano_to_usd(summary.month.cost_nano),
                  "totalTokens": summary.month.total_tokens, "calls": summary.month.events},
        "providers": [{"provider": name, **_entry(*pair)}
                      for name, pair in ordered(summary.providers)],
        "models": [{"model": name, **_entry(*pair)} for name, pair in ordered(summary.models)],
        "unpricedEvents": summary.unpriced_events,
    }  # fmt: skip
