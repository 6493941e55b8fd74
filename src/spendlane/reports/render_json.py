"""JSON renderers in ccusage's shape: field names and nesting kept so scripts keep working."""

from __future__ import annotations

from typing import Any

from spendlane.money import nano_to_usd
from spendlane.reports.daily import DailyReport, Tally


def _tokens(t: Tally) -> dict[str, Any]:
    return {
        "inputTokens": t.input_tokens,
        "outputTokens": t.output_tokens,
        "cacheCreationTokens": t.cache_creation_tokens,
        "cacheReadTokens": t.cache_read_tokens,
    }


def daily_json(report: DailyReport) -> dict[str, Any]:
    rows = []
    for day in report.days:
        models = sorted(day.models.items(), key=lambda kv: (-kv[1].cost_nano, kv[0]))
        rows.append(
            {
                "date": day.date.isoformat(),
                **_tokens(day.total),
                "totalTokens": day.total.total_tokens,
                "totalCost": nano_to_usd(day.total.cost_nano),
                "modelsUsed": [name for name, _ in models],
                "modelBreakdowns": [
                    {"modelName": name, **_tokens(t), "cost": nano_to_usd(t.cost_nano)}
                    for name, t in models
                ],
            }
        )
    out: dict[str, Any] = {
        "daily": rows,
        "totals": {
            **_tokens(report.total),
            "totalCost": nano_to_usd(report.total.cost_nano),
            "totalTokens": report.total.total_tokens,
        },
    }
    if report.unpriced:
        out["unpriced"] = [
            {
                "model": u.model,
                "provider": u.provider,
                "source": u.source,
                "events": u.events,
                "totalTokens": u.tokens,
            }
            for u in report.unpriced
        ]
    return out
