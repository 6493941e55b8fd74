"""The window a budget counts over right now, and when it resets.

Calendar periods (day, week, month with a billing-cycle day) are local to the budget zone, so
a day can be 23 or 25 hours long and a month ends when the zone says it does. Rolling periods
(5h, 7d) end now; they have no reset, only spend ageing out (see `evaluate.rolling_relief`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spendlane.periods import day_start_ms

ROLLING_MS = {"5h": 5 * 3_600_000, "7d": 7 * 86_400_000}


@dataclass(frozen=True, slots=True)
class BudgetWindow:
    """[start_ms, end_ms): calendar windows end at their reset; rolling ones end now."""

    start_ms: int
    end_ms: int
    rolling: bool

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms


def current_window(
    period: str,
    now_ms: int,
    zone: dt.tzinfo,
    *,
    cycle_start_day: int = 1,
    week_start: int = 0,
) -> BudgetWindow:
    """The window of `period` that holds `now_ms` (week_start: 0 = Monday … 6 = Sunday)."""
    if period in ROLLING_MS:
        return BudgetWindow(now_ms - ROLLING_MS[period], now_ms, True)
    today = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone).date()
    if period == "day":
        first, after = today, today + dt.timedelta(days=1)
    elif period == "week":
        first = today - dt.timedelta(days=(today.weekday() - week_start) % 7)
        after = first + dt.timedelta(days=7)
    elif period == "month":
        first = cycle_start(today, cycle_start_day)
        after = _add_months(first, 1, cycle_start_day)
    else:
        raise ValueError(f"unknown period {period!r}")
    return BudgetWindow(day_start_ms(first, zone), day_start_ms(after, zone), False)


def cycle_start(day: dt.date, cycle_start_day: int) -> dt.date:
    """The first day of the billing cycle `day` falls in (cycle days 1..28 exist every month)."""
    if day.day >= cycle_start_day:
        return day.replace(day=cycle_start_day)
    return _add_months(day.replace(day=1), -1, cycle_start_day)


def _add_months(day: dt.date, months: int, on_day: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, on_day)


def elapsed_fraction(window: BudgetWindow, now_ms: int) -> float:
    """How much of a calendar window has passed (rolling windows are always whole)."""
    if window.rolling or window.length_ms <= 0:
        return 1.0
    return min(1.0, max(0.0, (now_ms - window.start_ms) / window.length_ms))
