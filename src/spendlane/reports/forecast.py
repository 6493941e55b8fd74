"""Month-to-date spend and where the month is heading, in total and per provider.

Projection = month to date + (average daily spend over the last 7 full days) × days left in
the month, the rest of today included. Plain and explainable; reports say how it was made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spendlane.ledger import SqliteLedger
from spendlane.periods import EPOCH_DAY
from spendlane.reports.calendar import CostMode
from spendlane.reports.days import refresh_days, zone_key

WINDOW_DAYS = 7
METHOD = (
    f"month to date + average daily spend over the last {WINDOW_DAYS} full days "
    "x days left in the month"
)
_COLUMN = {CostMode.AUTO: "auto_cost_nano", CostMode.CALCULATE: "cost_nano",
           CostMode.DISPLAY: "reported_cost_nano"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Projection:
    month_to_date_nano: int
    daily_rate_nano: int
    projected_nano: int


@dataclass(frozen=True, slots=True)
class Forecast:
    month: str
    days_left: float
    total: Projection
    by_provider: dict[str, Projection]
    method: str = METHOD


def month_forecast(
    ledger: SqliteLedger, *, zone: dt.tzinfo, now: dt.datetime, cost_mode: CostMode
) -> Forecast:
    local = now.astimezone(zone)
    today = local.date()
    month_start = today.replace(day=1)
    window_start = today - dt.timedelta(days=WINDOW_DAYS)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    days_in_month = (next_month - month_start).days  # not `calendar`: it loads `locale`
    past_today = (local.hour * 3600 + local.minute * 60 + local.second) / 86_400
    days_left = days_in_month - today.day + (1 - past_today)

    def number(day: dt.date) -> int:
        return day.toordinal() - EPOCH_DAY

    refresh_days(ledger, zone)
    column = _COLUMN[cost_mode]
    rows = ledger.connection.execute(
        f"SELECT provider, SUM(CASE WHEN day >= ? THEN {column} ELSE 0 END), "
        f"SUM(CASE WHEN day >= ? AND day < ? THEN {column} ELSE 0 END) "
        "FROM rollup_day WHERE zone = ? AND day >= ? AND day <= ? GROUP BY provider",
        (number(month_start), number(window_start), number(today), zone_key(zone),
         number(min(month_start, window_start)), number(today)),
    ).fetchall()  # fmt: skip

    def project(month_to_date: int, window: int) -> Projection:
        rate = window // WINDOW_DAYS
        return Projection(month_to_date, rate, month_to_date + int(rate * days_left))

    return Forecast(
        month=month_start.strftime("%Y-%m"),
        days_left=round(days_left, 2),
        total=project(sum(r[1] for r in rows), sum(r[2] for r in rows)),
        by_provider={provider: project(mtd, window) for provider, mtd, window in rows},
    )
