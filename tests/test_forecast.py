"""Month-to-date and projected month-end spend, per provider, across a month end."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import Env

from spendlane.events import UsageEvent
from spendlane.reports.calendar import CostMode
from spendlane.reports.forecast import month_forecast


def spend(day: dt.datetime, key: str, provider: str, dollars: int) -> UsageEvent:
    return UsageEvent(key=key, ts_ms=int(day.timestamp() * 1000), source="record",
                      provider=provider, model="m", output_tokens=1,
                      cost_nano=dollars * 10**9)  # fmt: skip


def test_projection_from_the_last_seven_days(env: Env) -> None:
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)  # 10.5 days left in November
    events = [spend(now - dt.timedelta(days=d), f"a{d}", "anthropic", 7) for d in range(1, 8)]
    events += [spend(now - dt.timedelta(days=1), "o1", "openai", 14)]
    events += [spend(dt.datetime(2026, 10, 25, tzinfo=dt.UTC), "old", "anthropic", 100)]
    with env.ledger() as ledger:
        ledger.insert_events(events)
        forecast = month_forecast(ledger, zone=dt.UTC, now=now, cost_mode=CostMode.AUTO)
    assert forecast.month == "2026-11"
    assert forecast.days_left == 10.5
    assert forecast.total.month_to_date_nano == (7 * 7 + 14) * 10**9
    assert forecast.total.daily_rate_nano == 9 * 10**9  # (49 + 14) / 7
    assert forecast.total.projected_nano == (63 + 9 * 10.5) * 10**9
    anthropic = forecast.by_provider["anthropic"]
    assert anthropic.daily_rate_nano == 7 * 10**9
    assert anthropic.projected_nano == (49 + 7 * 10.5) * 10**9


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_a_new_month_starts_from_zero(env: Env, zone: str) -> None:
    tz = ZoneInfo(zone)
    now = dt.datetime(2026, 12, 1, 6, 0, tzinfo=tz)
    with env.ledger() as ledger:
        ledger.insert_events([spend(now - dt.timedelta(hours=12), "nov", "anthropic", 70)])
        forecast = month_forecast(ledger, zone=tz, now=now, cost_mode=CostMode.AUTO)
    assert forecast.month == "2026-12"
    assert forecast.total.month_to_date_nano == 0
    assert forecast.total.daily_rate_nano == 10 * 10**9
    assert forecast.total.projected_nano == int(10 * 10**9 * forecast.days_left)
