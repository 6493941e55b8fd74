"""JSON renderers in ccusage's shape: field names and nesting kept so scripts keep working."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from spendlane.money import nano_to_usd
from spendlane.reports.calendar import DailyReport, Period, Tally

if TYPE_CHECKING:  # a warm `daily --json` loads neither the block nor the session reports
    from spendlane.reports.blocks import Block
    from spendlane.reports.forecast import Forecast, Projection
    from spendlane.reports.sessions import SessionReport


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


def groups_json(by: tuple[str, ...], groups: dict[tuple[str | None, ...], Tally]) -> list[Any]:
    """`--by` sums as a list, costliest first: the key values by name, then the sums."""
    names = [key.replace("-", "_") for key in by]
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1].cost_nano, [v or "" for v in kv[0]]))
    return [
        {
            **dict(zip(names, values, strict=True)),
            **_tokens(t),
            "totalTokens": t.total_tokens,
            "cost": nano_to_usd(t.cost_nano),
            "events": t.events,
        }
        for values, t in ordered
    ]


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
        if report.by:
            rows[-1]["groups"] = groups_json(report.by, day.groups)
    out: dict[str, Any] = {
        top: rows,
        "totals": {
            **_tokens(report.total),
            "totalCost": nano_to_usd(report.total.cost_nano),
            "totalTokens": report.total.total_tokens,
        },
    }
    if report.by:
        out["by"] = list(report.by)
        out["totals"]["groups"] = groups_json(report.by, report.groups)
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


def _utc_iso(ms: int) -> str:
    """The agents' own timestamp form, as ccusage prints activity times."""
    when = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def sessions_json(report: SessionReport) -> dict[str, Any]:
    """`session --json`, in ccusage's shape. `projectPath` is the working directory the agent
    logged (ccusage gives the encoded folder name, which cannot be decoded reliably)."""
    rows = []
    for session in report.sessions:
        models = sorted(session.models.items(), key=lambda kv: (-kv[1].cost_nano, kv[0]))
        rows.append(
            {
                "sessionId": session.session_id,
                "projectPath": session.project,
                **_tokens(session.total),
                "totalTokens": session.total.total_tokens,
                "totalCost": nano_to_usd(session.total.cost_nano),
                "firstActivity": _utc_iso(session.first_ms),
                "lastActivity": _utc_iso(session.last_ms),
                "modelsUsed": [name for name, _ in models],
                "modelBreakdowns": [
                    {"modelName": name, **_tokens(t), "cost": nano_to_usd(t.cost_nano)}
                    for name, t in models
                ],
                "sources": sorted(session.sources),
            }
        )
        if report.by:
            rows[-1]["groups"] = groups_json(report.by, session.groups)
    return {
        "sessions": rows,
        "totals": {
            **_tokens(report.total),
            "totalCost": nano_to_usd(report.total.cost_nano),
            "totalTokens": report.total.total_tokens,
        },
    }


def blocks_json(
    blocks: list[Block], now_ms: int, token_limit: int | None, by: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`blocks --json`, in ccusage's shape, plus the limit status when a limit is given."""
    rows = []
    for b in blocks:
        burn, projection = b.burn(now_ms), b.projection(now_ms)
        row: dict[str, Any] = {
            "id": f"gap-{_utc_iso(b.start_ms)}" if b.gap else _utc_iso(b.start_ms),
            "startTime": _utc_iso(b.start_ms),
            "endTime": _utc_iso(b.end_ms),
            "actualEndTime": _utc_iso(b.last_ms) if b.last_ms is not None else None,
            "isActive": b.active,
            "isGap": b.gap,
            "entries": b.entries,
            "tokenCounts": {
                "inputTokens": b.input_tokens,
                "outputTokens": b.output_tokens,
                "cacheCreationInputTokens": b.cache_creation_tokens,
                "cacheReadInputTokens": b.cache_read_tokens,
            },
            "totalTokens": b.total_tokens,
            "costUSD": nano_to_usd(b.cost_nano),
            "models": b.models,
            "burnRate": None if burn is None else {
                "tokensPerMinute": burn[0], "costPerHour": burn[1]},
            "projection": None if projection is None else {
                "totalTokens": projection[0], "totalCost": projection[1],
                "remainingMinutes": projection[2]},
        }  # fmt: skip
        if b.reset_at_ms is not None:
            row["usageLimitResetTime"] = _utc_iso(b.reset_at_ms)
        if token_limit and not b.gap:
            projected = projection[0] if projection else b.total_tokens
            row["tokenLimitStatus"] = {
                "limit": token_limit,
                "percentUsed": 100 * b.total_tokens / token_limit,
                "projectedPercent": 100 * projected / token_limit,
                "status": "exceeds" if projected > token_limit else
                          "warning" if projected > 0.8 * token_limit else "ok",
            }  # fmt: skip
        if by:
            row["groups"] = groups_json(by, b.groups)
        rows.append(row)
    return {"blocks": rows}


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    def one(p: Projection) -> dict[str, float]:
        return {"monthToDate": nano_to_usd(p.month_to_date_nano),
                "dailyRate": nano_to_usd(p.daily_rate_nano),
                "projected": nano_to_usd(p.projected_nano)}  # fmt: skip

    return {
        "month": forecast.month,
        **one(forecast.total),
        "daysLeft": forecast.days_left,
        "method": forecast.method,
        "byProvider": {name: one(p) for name, p in sorted(forecast.by_provider.items())},
    }


def history_json(report: DailyReport) -> dict[str, Any]:
    """`history --json`: per day, per provider, per model."""
    days = []
    for day in report.days:
        providers: list[dict[str, Any]] = []
        ranked = sorted(day.providers.items(),
                        key=lambda kv: -sum(t.cost_nano for t in kv[1].values()))  # fmt: skip
        for provider, models in ranked:
            cost = sum(t.cost_nano for t in models.values())
            providers.append({
                "provider": provider, "cost": nano_to_usd(cost),
                "models": [{"modelName": name, **_tokens(t), "cost": nano_to_usd(t.cost_nano)}
                           for name, t in sorted(models.items(), key=lambda kv: -kv[1].cost_nano)],
            })  # fmt: skip
        days.append(
            {
                "date": day.date.isoformat(),
                **_tokens(day.total),
                "totalCost": nano_to_usd(day.total.cost_nano),
                "providers": providers,
            }
        )
        if report.by:
            days[-1]["groups"] = groups_json(report.by, day.groups)
    out: dict[str, Any] = {
        "history": days,
        "totals": {**_tokens(report.total), "totalCost": nano_to_usd(report.total.cost_nano)},
    }
    if report.by:
        out["by"] = list(report.by)
        out["totals"]["groups"] = groups_json(report.by, report.groups)
    return out
