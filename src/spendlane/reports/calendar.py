"""Tokens and cost per local day, week or month, per model: `daily`, `weekly`, `monthly`.

Reads the quarter-hour rollup, never the events, so a year of heavy use reports in
milliseconds. The JSON keeps ccusage's field names so scripts written for it keep working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from spendlane.ledger import SqliteLedger
from spendlane.periods import EPOCH_DAY, day_from_number
from spendlane.reports.days import refresh_days, zone_key

if TYPE_CHECKING:
    from spendlane.reports.grouped import Window


class CostMode(StrEnum):
    """Which cost to show, as ccusage's --mode: reported by the agent, computed, or either."""

    AUTO = "auto"  # the agent's reported cost where it gave one, else computed
    CALCULATE = "calculate"  # always computed from tokens
    DISPLAY = "display"  # only what the agent reported (0 where it reported nothing)


COST_COLUMN = {
    CostMode.AUTO: "auto_cost_nano",
    CostMode.CALCULATE: "cost_nano",
    CostMode.DISPLAY: "reported_cost_nano",
}


@dataclass(slots=True)
class Tally:
    """Token and cost sums; costs in nano-USD."""

    events: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    cost_nano: int = 0
    unpriced_events: int = 0
    estimated_events: int = 0

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_tokens
            + self.cache_read_tokens
        )

    def copy(self) -> Tally:
        return Tally(self.events, self.input_tokens, self.output_tokens,
                     self.cache_creation_tokens, self.cache_read_tokens, self.reasoning_tokens,
                     self.cost_nano, self.unpriced_events, self.estimated_events)  # fmt: skip

    def add(self, other: Tally) -> None:
        self.events += other.events
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.cost_nano += other.cost_nano
        self.unpriced_events += other.unpriced_events
        self.estimated_events += other.estimated_events


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def period_start(day: dt.date, period: Period, week_start: int = 0) -> dt.date:
    """The first day of the period `day` falls in (week_start: 0 = Monday … 6 = Sunday)."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - dt.timedelta(days=(day.weekday() - week_start) % 7)
    return day.replace(day=1)


@dataclass(slots=True)
class Day:
    """One period's sums: a day, or the week or month that starts on `date`."""

    date: dt.date
    total: Tally = field(default_factory=Tally)
    models: dict[str, Tally] = field(default_factory=dict)
    sources: dict[str, Tally] = field(default_factory=dict)
    # provider -> model -> sums, for `history`
    providers: dict[str, dict[str, Tally]] = field(default_factory=dict)
    # values of the report's `--by` keys -> sums (empty unless grouped)
    groups: dict[tuple[str | None, ...], Tally] = field(default_factory=dict)


@dataclass(slots=True)
class Unpriced:
    """A model no price is known for: its tokens are counted, its cost is not guessed."""

    model: str
    provider: str
    source: str
    events: int
    tokens: int


@dataclass(slots=True)
class DailyReport:
    days: list[Day]
    total: Tally
    unpriced: list[Unpriced]
    zone: str
    cost_mode: CostMode
    period: Period = Period.DAY
    by: tuple[str, ...] = ()
    # values of the `--by` keys -> sums over the whole range
    groups: dict[tuple[str | None, ...], Tally] = field(default_factory=dict)


def daily_report(
    ledger: SqliteLedger,
    *,
    zone: dt.tzinfo,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Iterable[str] | None = None,
    cost_mode: CostMode = CostMode.AUTO,
    order_desc: bool = False,
    period: Period = Period.DAY,
    week_start: int = 0,
    by: Sequence[str] = (),
) -> DailyReport:
    """Sum the ledger per local day (week, month) in `zone`; [since, until] are days, inclusive.

    Reads the zone's day sums (see `reports.days`), so Python sees a row per day and model.
    """
    refresh_days(ledger, zone)
    where = ["zone = ?"]
    params: list[object] = [zone_key(zone)]
    if since is not None:
        where.append("day >= ?")
        params.append(since.toordinal() - EPOCH_DAY)
    if until is not None:
        where.append("day <= ?")
        params.append(until.toordinal() - EPOCH_DAY)
    source_list = list(sources) if sources is not None else None
    if source_list is not None:
        where.append(f"source IN ({','.join('?' * len(source_list))})")
        params.extend(source_list)
    days: dict[dt.date, Day] = {}
    unpriced: dict[tuple[str, str, str], Unpriced] = {}
    total = Tally()
    rows = ledger.connection.execute(
        "SELECT day, source, provider, model, events, input_tokens, output_tokens, "
        "cache_write_5m_tokens + cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, "
        f"{COST_COLUMN[cost_mode]}, unpriced_events, estimated_events FROM rollup_day "
        f"WHERE {' AND '.join(where)}",
        params,
    ).fetchall()
    for row in rows:
        day_number, source, provider, model = row[0], row[1], row[2], row[3]
        tally = Tally(
            events=row[4],
            input_tokens=row[5],
            output_tokens=row[6],
            cache_creation_tokens=row[7],
            cache_read_tokens=row[8],
            reasoning_tokens=row[9],
            cost_nano=row[10],
            unpriced_events=row[11],
            estimated_events=row[12],
        )
        day_key = period_start(day_from_number(day_number), period, week_start)
        day = days.get(day_key)
        if day is None:
            day = days[day_key] = Day(day_key)
        day.total.add(tally)
        day.models.setdefault(model, Tally()).add(tally)
        day.sources.setdefault(source, Tally()).add(tally)
        day.providers.setdefault(provider, {}).setdefault(model, Tally()).add(tally)
        total.add(tally)
        if tally.unpriced_events:
            entry = unpriced.setdefault(
                (model, provider, source), Unpriced(model, provider, source, 0, 0)
            )
            entry.events += tally.unpriced_events
            entry.tokens += tally.total_tokens
    report = DailyReport(
        days=sorted(days.values(), key=lambda d: d.date, reverse=order_desc),
        total=total,
        unpriced=sorted(unpriced.values(), key=lambda u: (-u.tokens, u.model)),
        zone=str(zone),
        cost_mode=cost_mode,
        period=period,
        by=tuple(by),
    )
    if by:  # the grouped sums' module is loaded only for them
        from spendlane.reports.grouped import Window

        _add_groups(ledger, report, days, Window(zone, since, until, source_list), week_start)
    return report


def _add_groups(
    ledger: SqliteLedger,
    report: DailyReport,
    days: dict[dt.date, Day],
    window: Window,
    week_start: int,
) -> None:
    """Sums per `--by` values in each period and over the range, from the rollup."""
    from spendlane.reports.grouped import grouped_rows

    rows = grouped_rows(ledger, window, report.by, cost_column=COST_COLUMN[report.cost_mode],
                        per_day=True)  # fmt: skip
    n = len(report.by) + 1
    for row in rows:
        tally = Tally(*row[n:])
        if not tally.events:
            continue
        day = days.get(period_start(day_from_number(row[0]), report.period, week_start))
        if day is None:
            continue  # only calls the period sums hold (the rollup can be a write ahead)
        key = tuple(row[1:n])
        for groups in (day.groups, report.groups):
            held = groups.get(key)
            if held is None:
                groups[key] = tally.copy()
            else:
                held.add(tally)
