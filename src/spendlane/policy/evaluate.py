"""Budget levels and the decision for a call: pure arithmetic, no I/O.

Given what each budget has spent, what is reserved against it and what the next call may
cost, say how far along each budget is (ok, warn, throttle, block) and what to do with the
call. Kept free of the ledger and the clock so it is cheap on every call and easy to test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from spendlane.money import format_usd
from spendlane.policy.config import Budget
from spendlane.policy.spend import Call, covers
from spendlane.policy.windows import BudgetWindow, elapsed_fraction

RECENT_MS = 7 * 86_400_000  # the trailing span whose rate projects a budget to its end


class Action(IntEnum):
    """What to do with a call; the value is `spendlane check`'s exit code."""

    ALLOW = 0
    WARN = 10
    THROTTLE = 20
    BLOCK = 30

    @property
    def word(self) -> str:
        return self.name.lower()


_LEVEL_ACTION = {"ok": Action.ALLOW, "warn": Action.WARN, "throttle": Action.THROTTLE,
                 "block": Action.BLOCK}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BudgetState:
    """One budget now: its window, what is used (spent + reserved) and its level."""

    budget: Budget
    window: BudgetWindow
    spent: int  # nano-USD, or tokens for a token budget
    reserved: int  # nano-USD held by open reservations (0 for token budgets)
    limit: int
    level: str  # ok | warn | throttle | block
    projected: int | None  # at the window's end at the current rate (calendar windows)
    unpriced_events: int = 0

    @property
    def used(self) -> int:
        return self.spent + self.reserved

    @property
    def fraction(self) -> float:
        return self.used / self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def in_usd(self) -> bool:
        return self.budget.limit_nano_usd is not None


def level_for(budget: Budget, used: int, limit: int) -> str:
    """The level `used` of `limit` reaches; a budget without hard stop never blocks."""
    fraction = used / limit
    levels = budget.levels
    if fraction >= levels.block:
        return "block" if budget.hard_stop else "throttle"
    if fraction >= levels.throttle:
        return "throttle"
    if fraction >= levels.warn:
        return "warn"
    return "ok"


def budget_state(
    budget: Budget,
    window: BudgetWindow,
    now_ms: int,
    *,
    spent: int,
    reserved: int = 0,
    unpriced_events: int = 0,
    recent: int | None = None,
) -> BudgetState:
    """The state of one budget from its sums.

    The projection to the window's end is what is spent plus the recent rate (`recent`: the
    spend of the last 7 days) over the time left; without a recent figure, the rate of the
    window so far.
    """
    limit = budget.limit_nano_usd if budget.limit_nano_usd is not None else budget.limit_tokens
    assert limit is not None and limit > 0  # the config guarantees one positive limit
    used = spent + reserved
    projected = None
    if not window.rolling:
        left = max(0, window.end_ms - now_ms)
        if recent is not None:
            projected = spent + recent * left // RECENT_MS
        elif (elapsed := elapsed_fraction(window, now_ms)) > 0:
            projected = round(spent / elapsed)
    return BudgetState(budget, window, spent, reserved, limit, level_for(budget, used, limit),
                       projected, unpriced_events)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    deciding: tuple[BudgetState, ...]  # the budgets at the decisive level (worst first)
    applicable: tuple[BudgetState, ...]  # every budget that counts this call
    lane: str | None  # where to send work instead, when throttled or blocked
    reset_ms: int | None  # when the deciding budgets reset (the latest of them)
    notice: str | None  # one line to show a person


def decide(states: Sequence[BudgetState], call: Call, estimate_nano: int = 0) -> Decision:
    """The action for `call` costing about `estimate_nano`: the worst level among the budgets
    that count it, with the estimate added to the USD ones."""
    applicable: list[BudgetState] = []
    for state in states:
        if not covers(state.budget.scope, call):
            continue
        if estimate_nano and state.in_usd:
            level = level_for(state.budget, state.used + estimate_nano, state.limit)
            state = replace(state, level=level)
        applicable.append(state)
    action = max((_LEVEL_ACTION[s.level] for s in applicable), default=Action.ALLOW)
    deciding = tuple(
        sorted((s for s in applicable if _LEVEL_ACTION[s.level] == action and action),
               key=lambda s: -s.fraction)
    )  # fmt: skip
    lane = next((s.budget.fallback for s in deciding if s.budget.fallback), None)
    if action < Action.THROTTLE:
        lane = None
    resets = [s.window.end_ms for s in deciding if not s.window.rolling]
    reset_ms = max(resets) if resets else None
    return Decision(action, deciding, tuple(applicable), lane, reset_ms, None)


_PERIOD_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "5h": "rolling 5-hour",
                 "7d": "rolling 7-day"}  # fmt: skip


def describe_limit(state: BudgetState) -> str:
    """'monthly $200.00' or 'daily 5,000,000 tokens'."""
    word = _PERIOD_WORDS[state.budget.period]
    if state.in_usd:
        return f"{word} {format_usd(state.limit)}"
    return f"{word} {state.limit:,} tokens"


def notice(decision: Decision, zone: dt.tzinfo) -> str | None:
    """The line to show a person, e.g. "anthropic-monthly budget exhausted (monthly $200.00):
    operating on codex until 2026-12-01 00:00 CET"."""
    if not decision.deciding:
        return None
    state = decision.deciding[0]
    name, limit = state.budget.name, describe_limit(state)
    when = ""
    if decision.reset_ms is not None:
        reset = dt.datetime.fromtimestamp(decision.reset_ms / 1000, tz=zone)
        when = reset.strftime("%Y-%m-%d %H:%M %Z")
    if decision.action is Action.BLOCK:
        until = f" until {when}" if when else " until older spend leaves the window"
        if decision.lane:
            return f"{name} budget exhausted ({limit}): operating on {decision.lane}{until}"
        return f"{name} budget exhausted ({limit}): calls blocked{until}"
    text = f"{name} budget at {state.fraction * 100:.0f}% ({limit})"
    if decision.action is Action.THROTTLE:
        text += f": throttle, move work to {decision.lane}" if decision.lane else ": throttle"
    return text + (f"; resets {when}" if when else "")
