"""JSON renderers in ccusage's shape: field names and nesting kept so scripts keep working."""

from __future__ import annotations

import datetime as dt
from typing import Any

from spendlane.money import nano_to_usd
from spendlane.reports.calendar import DailyReport, Period, Tally


def _tokens(t: Tally) -> dict[str, Any]:
    return {
        "inputTokens": t.input_tokens,
        "outputTokens": t.output_tokens,
        "cacheCreationTokens": t.cache_creation_tokens,
        "cacheReadTokens": t.cache_read_tokens,
    }


# (top-level key, per-row label key) for each period, as ccusage names them.
_NAMES = {Period.DAY: ("daily", "date"), Period.WEEK: ("weekly", "week"),
          Period.MONTH: ("monthly", "month")}  # fmt: skip


def period_label(report: DailyReport, start: dt.date) -> str:
    """YYYY-MM-DD for a day or a week's first day, YYYY-MM for a month."""
    return start.strftime("%Y-%m") if report.period is Period.MONTH else start.isoformat()


def daily_json(report: DailyReport) -> dict[str, Any]:
    """`daily`, `weekly` or `monthly` JSON, by the report's period."""
    top, label = _NAMES[report.period]
    rows = []
    for day in report.days:
        models = sorted(day.models.items(), key=lambda kv: (-kv[1].cost_nano, kv[0]))
        rows.append(
            {
                label: period_label(report, day.date),
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
        top: rows,
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
