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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spendlane.events import USAGE_LIMIT_WINDOW
from spendlane.ledger import SqliteLedger
from spendlane.policy.accounts import DEFAULT, Account, account_of

# Monthly prices in USD of the plans people are on; a config's `[plans]` table overrides them.
PLAN_PRICES = {"pro": 20.0, "max5": 100.0, "max20": 200.0, "team": 30.0, "plus": 20.0}
# Where each source's readings come from, and what people call its windows.
WINDOW_NAMES = {
    ("statusline", "five_hour"): "Claude 5-hour", ("statusline", "seven_day"): "Claude 7-day",
    ("codex", "primary"): "Codex 5-hour", ("codex", "secondary"): "Codex weekly",
    ("claude_code", USAGE_LIMIT_WINDOW): "Claude usage limit (from logs)",
}  # fmt: skip
NEAR_LIMIT = 90.0  # percent projected at the reset that says "move work now"
UNDERUSE_LEFT_MS = 60 * 60_000  # a window about to reset with little used: say so
UNDERUSE_PERCENT = 30.0
# A window of a day or more, half gone, with at most 60 % of the pace that would fill it used
# ("Max plan at 30 % with half the week gone"): say so while there is time to use it.
PACE_MIN_MINUTES = 1440
PACE_AT = 0.5
PACE_SHARE = 0.6


def window_name(source: str, window: str) -> str:
    """What people call a window: "Claude 7-day", and per-model ones "Claude 7-day opus"."""
    known = WINDOW_NAMES.get((source, window))
    if known is not None:
        return known
    for (known_source, prefix), name in WINDOW_NAMES.items():
        if known_source == source and window.startswith(prefix + "_"):
            return f"{name} {window[len(prefix) + 1 :].replace('_', ' ')}"
    return window


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
    account: str = DEFAULT
    window_minutes: int | None = None

    @property
    def level(self) -> str:
        """near-limit when it will (or did) reach the limit before it resets."""
        projected = self.projected_percent if self.projected_percent is not None else 0.0
        if self.used_percent >= 100 or max(projected, self.used_percent) >= 100:
            return "limit"
        if max(projected, self.used_percent) >= NEAR_LIMIT:
            return "near-limit"
        return "ok"


def window_states(
    ledger: SqliteLedger, now_ms: int, accounts: Sequence[Account] = ()
) -> list[WindowState]:
    """The latest reading of every account's windows still running (or reset less than a day
    ago). A reading belongs to the account whose agent folder it came from; readings from
    folders no account names (and earlier readings, which name none) are the `default`'s."""
    db = ledger.connection
    rows = db.execute(
        "SELECT q.source, q.root, q.window, q.used_percent, q.resets_at_ms, q.ts_ms, "
        "q.window_minutes FROM quota_readings q JOIN (SELECT source, root, window, "
        "MAX(ts_ms) AS ts FROM quota_readings GROUP BY source, root, window) m "
        "ON m.source = q.source AND m.root = q.root AND m.window = q.window AND m.ts = q.ts_ms"
    ).fetchall()
    latest: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    roots: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        owner = account_of(accounts, row[1])
        key = (owner.name if owner else DEFAULT, row[0], row[2])
        roots.setdefault(key, []).append(row[1])
        if key not in latest or row[5] > latest[key][5]:
            latest[key] = row
    states = []
    for key in sorted(latest):
        source, _, window, used, resets, observed, minutes = latest[key]
        if resets is not None and resets < now_ms - 86_400_000:
            continue  # long reset: nothing current to say
        if resets is not None and resets <= now_ms:
            used = 0.0  # the window has reset since the reading
        burn = _burn(ledger, source, window, roots[key], resets, minutes, observed, used)
        projected = None
        if burn is not None and resets is not None and resets > now_ms:
            projected = used + burn * (resets - now_ms) / 3_600_000
        states.append(WindowState(source, window, window_name(source, window), float(used),
                                  resets, observed, burn, projected, key[0], minutes))  # fmt: skip
    return states


def _burn(
    ledger: SqliteLedger,
    source: str,
    window: str,
    roots: list[str],
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
        f"AND root IN ({','.join('?' * len(roots))}) AND resets_at_ms = ? AND ts_ms >= ? "
        "ORDER BY ts_ms LIMIT 1",
        (source, window, *roots, resets_at_ms, began),
    ).fetchone()
    if first is None or observed_ms - first[0] < 5 * 60_000:
        return None  # one reading, or minutes apart: no rate yet
    rate: float = float(used - first[1]) / ((observed_ms - int(first[0])) / 3_600_000)
    return max(0.0, rate)


@dataclass(frozen=True, slots=True)
class PlanValue:
    """One account's month: its calls at API prices (what a plan paid for, or what the API
    billed when `auth` is "api"), against its plan's price."""

    account: str
    auth: str
    plan: str | None
    price_usd: float | None
    month_value_nano: int
    calls_today: int
    notes: str | None = None


# The logs each provider's subscription usage is read from.
_PLAN_SOURCES = {"anthropic": ("claude_code",), "openai": ("codex",)}


def plan_values(
    ledger: SqliteLedger,
    accounts: Sequence[Account],
    prices: dict[str, float],
    zone: dt.tzinfo,
    now_ms: int,
    notes: dict[str, str] | None = None,
) -> list[PlanValue]:
    """Each account's month at API prices and its calls today. Calls are an account's when
    the ingest attributed them to it (found under its folders); with no accounts configured,
    pass `[implicit(plan)]`: the one default account owns every call."""
    from spendlane.periods import BUCKET_MS, day_start_ms

    today = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone).date()
    month_start = day_start_ms(today.replace(day=1), zone) // BUCKET_MS
    day_start = day_start_ms(today, zone) // BUCKET_MS
    db = ledger.connection
    values = []
    for account in accounts:
        sources = _PLAN_SOURCES.get(account.provider, ("claude_code", "codex"))
        marks = ",".join("?" * len(sources))
        if account.name == DEFAULT and not account.logs:
            who, params = "", []
        else:
            who, params = " AND c.account = ?", [account.name]
        base = (f"FROM rollup_15m r JOIN contexts c ON c.id = r.context_id WHERE r.bucket >= ? "
                f"AND r.source IN ({marks}){who}")  # fmt: skip
        column = "r.auto_cost_nano" if account.auth == "api" else "r.cost_nano"
        value = db.execute(f"SELECT COALESCE(SUM({column}), 0) {base}",
                           (month_start, *sources, *params)).fetchone()[0]  # fmt: skip
        calls = db.execute(
            f"SELECT COALESCE(SUM(r.events), 0) FROM rollup_15m r JOIN contexts c "
            f"ON c.id = r.context_id WHERE r.bucket >= ? AND r.source IN ('claude_code', "
            f"'codex'){who}",
            (day_start, *params),
        ).fetchone()[0]
        price = prices.get(account.plan) if account.plan else None
        values.append(PlanValue(account.name, account.auth, account.plan, price, int(value),
                                int(calls), (notes or {}).get(account.plan or "")))  # fmt: skip
    return values


def raise_quota_alerts(
    ledger: SqliteLedger,
    states: list[WindowState],
    now_ms: int,
    zone: dt.tzinfo,
    plans: dict[str, str] | None = None,
) -> list[int]:
    """Near the limit: move work now. About to reset with little used, or a long window behind
    pace at half time: use what is paid for. Once per account, window and reset.

    `plans` names each account's plan ("max5") for the behind-pace message.
    """
    from spendlane.alerts.state import AlertKind, raise_alert

    raised: list[int] = []
    for s in states:
        if s.resets_at_ms is None or s.resets_at_ms <= now_ms:
            continue
        when = dt.datetime.fromtimestamp(s.resets_at_ms / 1000, tz=zone).strftime("%a %H:%M")
        whose = "" if s.account == DEFAULT else f" ({s.account})"
        subject = f"quota {s.source}/{s.window}" + ("" if not whose else f"@{s.account}")
        elapsed = _elapsed(s, now_ms)
        if s.level in ("near-limit", "limit"):
            projected = f", heading for {s.projected_percent:.0f}%" if s.projected_percent else ""
            ident = raise_alert(
                ledger, AlertKind.LEVEL, subject, s.level, s.resets_at_ms,
                f"spendlane: {s.name} window{whose} at {s.used_percent:.0f}%{projected}",
                f"{s.name} resets {when}. Move work to another lane until then.", now_ms,
            )  # fmt: skip
        elif s.resets_at_ms - now_ms <= UNDERUSE_LEFT_MS and s.used_percent < UNDERUSE_PERCENT:
            minutes = (s.resets_at_ms - now_ms) // 60_000
            ident = raise_alert(
                ledger, AlertKind.UNDERUSE, subject, "floor", s.resets_at_ms,
                f"spendlane: {s.name}{whose} resets in {minutes} min with "
                f"{s.used_percent:.0f}% used",
                "Capacity already paid for: route more work there before it resets.", now_ms,
            )  # fmt: skip
        elif (
            elapsed is not None
            and elapsed >= PACE_AT
            and s.used_percent <= PACE_SHARE * (elapsed * 100)
        ):
            plan = (plans or {}).get(s.account)
            what = f"{plan} plan{whose}" if plan else f"{s.name} window{whose}"
            gone = "half the week" if s.window_minutes == 10_080 and elapsed < 0.6 else (
                f"{elapsed * 100:.0f}% of the window")  # fmt: skip
            ident = raise_alert(
                ledger, AlertKind.UNDERUSE, subject, "pace", s.resets_at_ms,
                f"spendlane: {what} at {s.used_percent:.0f}% with {gone} gone",
                f"{s.name} resets {when}. At this pace most of it goes unused: route more work "
                "there.", now_ms,
            )  # fmt: skip
        else:
            continue
        if ident is not None:
            raised.append(ident)
    return raised


def quota_alerts(
    ledger: SqliteLedger,
    accounts: Sequence[Account],
    plan: str | None,
    now_ms: int,
    zone: dt.tzinfo,
) -> list[int]:
    """Every account's window alerts as an ingest or a `quota` leaves them: `accounts` and
    `plan` as configured (`BudgetConfig.accounts`, `.plan`)."""
    from spendlane.policy.accounts import accounts_of

    plans = {a.name: a.plan for a in accounts_of(accounts, plan) if a.plan}
    return raise_quota_alerts(ledger, window_states(ledger, now_ms, accounts), now_ms, zone, plans)


def _elapsed(state: WindowState, now_ms: int) -> float | None:
    """How much of a long (day or more) window has passed, 0..1; None for short windows."""
    minutes = state.window_minutes
    if not minutes or minutes < PACE_MIN_MINUTES or state.resets_at_ms is None:
        return None
    length = minutes * 60_000
    return max(0.0, min(1.0, 1 - (state.resets_at_ms - now_ms) / length))
