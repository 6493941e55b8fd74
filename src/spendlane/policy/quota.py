"""Subscription quotas: how full each plan window is, how fast it fills, what the plan is worth.

Windows are observed, never guessed: Claude Code's statusline `rate_limits` (five_hour,
seven_day), Codex's `rate_limits` in its rollouts (primary, secondary) and usage-limit
messages in logs. For each window the latest reading gives the used percent and the reset; the
readings since the window began give the burn rate and the percent projected at the reset.
The month's **value used** is what the subscription's calls would have cost at API prices,
against what the plan costs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spendlane.ledger import SqliteLedger

# Monthly prices in USD of the plans people are on; a config's `[plans]` table overrides them.
PLAN_PRICES = {"pro": 20.0, "max5": 100.0, "max20": 200.0, "team": 30.0, "plus": 20.0}
# Where each source's readings come from, and what people call its windows.
WINDOW_NAMES = {
    ("statusline", "five_hour"): "Claude 5-hour", ("statusline", "seven_day"): "Claude 7-day",
    ("codex", "primary"): "Codex 5-hour", ("codex", "secondary"): "Codex weekly",
}  # fmt: skip
NEAR_LIMIT = 90.0  # percent projected at the reset that says "move work now"
UNDERUSE_LEFT_MS = 60 * 60_000  # a window about to reset with little used: say so
UNDERUSE_PERCENT = 30.0


@dataclass(frozen=True, slots=True)
class WindowState:
    source: str
    window: str
    name: str
    used_percent: float
    resets_at_ms: int | None
    observed_ms: int
    burn_per_hour: float | None  # percent per hour over this window's readings
    projected_percent: float | None  # at the reset, at that rate

    @property
    def level(self) -> str:
        """near-limit when it will (or did) reach the limit before it resets."""
        projected = self.projected_percent if self.projected_percent is not None else 0.0
        if self.used_percent >= 100 or max(projected, self.used_percent) >= 100:
            return "limit"
        if max(projected, self.used_percent) >= NEAR_LIMIT:
            return "near-limit"
        return "ok"


def window_states(ledger: SqliteLedger, now_ms: int) -> list[WindowState]:
    """The latest reading of every window still running (or reset less than a day ago)."""
    db = ledger.connection
    latest = db.execute(
        "SELECT q.source, q.window, q.used_percent, q.resets_at_ms, q.ts_ms, q.window_minutes "
        "FROM quota_readings q JOIN (SELECT source, window, MAX(ts_ms) AS ts FROM quota_readings "
        "GROUP BY source, window) m ON m.source = q.source AND m.window = q.window "
        "AND m.ts = q.ts_ms ORDER BY q.source, q.window"
    ).fetchall()
    states = []
    for source, window, used, resets, observed, minutes in latest:
        if resets is not None and resets < now_ms - 86_400_000:
            continue  # long reset: nothing current to say
        if resets is not None and resets <= now_ms:
            used = 0.0  # the window has reset since the reading
        burn = _burn(ledger, source, window, resets, minutes, observed, used)
        projected = None
        if burn is not None and resets is not None and resets > now_ms:
            projected = used + burn * (resets - now_ms) / 3_600_000
        states.append(WindowState(source, window, WINDOW_NAMES.get((source, window), window),
                                  float(used), resets, observed, burn, projected))  # fmt: skip
    return states


def _burn(
    ledger: SqliteLedger,
    source: str,
    window: str,
    resets_at_ms: int | None,
    minutes: int | None,
    observed_ms: int,
    used: float,
) -> float | None:
    """Percent per hour from the first reading of this window's current run to the latest."""
    if resets_at_ms is None:
        return None
    began = resets_at_ms - (minutes or 300) * 60_000
    first = ledger.connection.execute(
        "SELECT ts_ms, used_percent FROM quota_readings WHERE source = ? AND window = ? "
        "AND resets_at_ms = ? AND ts_ms >= ? ORDER BY ts_ms LIMIT 1",
        (source, window, resets_at_ms, began),
    ).fetchone()
    if first is None or observed_ms - first[0] < 5 * 60_000:
        return None  # one reading, or minutes apart: no rate yet
    rate: float = float(used - first[1]) / ((observed_ms - int(first[0])) / 3_600_000)
    return max(0.0, rate)


@dataclass(frozen=True, slots=True)
class PlanValue:
    plan: str | None
    price_usd: float | None
    month_value_nano: int  # what this month's subscription calls would cost at API prices
    calls_today: int


def plan_value(
    ledger: SqliteLedger, plan: str | None, prices: dict[str, float], zone: dt.tzinfo, now_ms: int
) -> PlanValue:
    """The month's Claude Code usage at API prices (the calls a subscription paid for)."""
    from spendlane.periods import BUCKET_MS, day_start_ms

    today = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone).date()
    month_start = day_start_ms(today.replace(day=1), zone) // BUCKET_MS
    day_start = day_start_ms(today, zone) // BUCKET_MS
    db = ledger.connection
    value = db.execute(
        "SELECT COALESCE(SUM(cost_nano), 0) FROM rollup_15m WHERE bucket >= ? "
        "AND source = 'claude_code'",
        (month_start,),
    ).fetchone()[0]
    calls = db.execute(
        "SELECT COALESCE(SUM(events), 0) FROM rollup_15m WHERE bucket >= ? "
        "AND source IN ('claude_code', 'codex')",
        (day_start,),
    ).fetchone()[0]
    price = prices.get(plan) if plan else None
    return PlanValue(plan, price, int(value), int(calls))


def raise_quota_alerts(ledger: SqliteLedger, states: list[WindowState], now_ms: int,
                       zone: dt.tzinfo) -> list[int]:  # fmt: skip
    """Near the limit: move work now. About to reset with little used: use it. Once per
    window and reset."""
    from spendlane.alerts.state import AlertKind, raise_alert

    raised: list[int] = []
    for s in states:
        if s.resets_at_ms is None or s.resets_at_ms <= now_ms:
            continue
        when = dt.datetime.fromtimestamp(s.resets_at_ms / 1000, tz=zone).strftime("%a %H:%M")
        if s.level in ("near-limit", "limit"):
            projected = f", heading for {s.projected_percent:.0f}%" if s.projected_percent else ""
            ident = raise_alert(
                ledger, AlertKind.LEVEL, f"quota {s.source}/{s.window}", s.level, s.resets_at_ms,
                f"spendlane: {s.name} window at {s.used_percent:.0f}%{projected}",
                f"{s.name} resets {when}. Move work to another lane until then.", now_ms,
            )  # fmt: skip
        elif s.resets_at_ms - now_ms <= UNDERUSE_LEFT_MS and s.used_percent < UNDERUSE_PERCENT:
            minutes = (s.resets_at_ms - now_ms) // 60_000
            ident = raise_alert(
                ledger, AlertKind.UNDERUSE, f"quota {s.source}/{s.window}", "floor",
                s.resets_at_ms,
                f"spendlane: {s.name} resets in {minutes} min with {s.used_percent:.0f}% used",
                "Capacity already paid for: route more work there before it resets.", now_ms,
            )  # fmt: skip
        else:
            continue
        if ident is not None:
            raised.append(ident)
    return raised
