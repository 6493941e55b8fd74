"""Which lane a dispatch runs on now: pure, from the lanes and the budgets' states.

`auto` starts at the first lane and follows its `on_throttle` / `on_block` links while the
budgets that gate the lane say throttle / block (a free lane is never gated). A lane may also
be limited (a provider said "usage limit" until some time). When every path ends blocked, the
answer is a refusal with the notice to show, never a silent failure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spendlane.lanes.config import Lane
from spendlane.policy.evaluate import Action, BudgetState, Decision, decide
from spendlane.policy.spend import Call


@dataclass(frozen=True, slots=True)
class Pick:
    lane: Lane | None  # None: refused (everything is blocked)
    reason: str  # why this lane, in one line
    path: tuple[str, ...]  # the lanes considered, in order
    decision: Decision | None  # the budgets' decision for the chosen (or last) lane
    reset_ms: int | None = None  # when the blocking budgets reset (on refusal)

    @property
    def refused(self) -> bool:
        return self.lane is None


def gate(lane: Lane, states: Sequence[BudgetState], call: Call, estimate_nano: int) -> Decision:
    """The budgets' decision for `call` on `lane`: those it names, else those that count a
    call to its provider."""
    if lane.budgets is not None:
        states = [s for s in states if s.budget.name in lane.budgets]
    on_lane = Call(provider=lane.provider, model=call.model, agent=call.agent,
                   project=call.project, task_type=call.task_type, source=call.source,
                   machine=call.machine, account=call.account)  # fmt: skip
    return decide(states, on_lane, estimate_nano)


def pick_lane(
    lanes: Sequence[Lane],
    states: Sequence[BudgetState],
    call: Call,
    *,
    wanted: str = "auto",
    estimate_nano: int = 0,
    limited: Mapping[str, int] | None = None,
    now_ms: int = 0,
    zone: dt.tzinfo = dt.UTC,
) -> Pick:
    """The lane for a dispatch. `limited`: lane name -> until when a provider limit holds."""
    by_name = {lane.name: lane for lane in lanes}
    if not lanes:
        return Pick(None, "no lanes are configured", (), None)
    if wanted != "auto":
        lane = by_name.get(wanted)
        if lane is None:
            return Pick(None, f"no lane named {wanted!r}", (), None)
        start = lane
    else:
        start = lanes[0]
    limited = limited or {}
    path: list[str] = []
    reasons: list[str] = []
    current: Lane | None = start
    last: Decision | None = None
    resets: list[int] = []
    while current is not None and current.name not in path:
        path.append(current.name)
        limit_ends = limited.get(current.name)
        if limit_ends is not None and limit_ends > now_ms:
            reasons.append(f"{current.name} is limited by its provider until "
                           f"{_at(limit_ends, zone)}")  # fmt: skip
            resets.append(limit_ends)
            current = by_name.get(current.on_block or "") or _next_after(lanes, current, path)
            continue
        if current.free:
            if not reasons:
                return Pick(current, "first lane (free)", tuple(path), None)
            ends = f" until {_at(min(resets), zone)}" if resets else ""
            why = f"Cloud budget exhausted, operating local-only{ends} ({'; '.join(reasons)})"
            return Pick(current, why, tuple(path), last, min(resets) if resets else None)
        last = gate(current, states, call, estimate_nano)
        if last.action is Action.BLOCK:
            reasons.append(f"{current.name}: {_why(last)}")
            if last.reset_ms is not None:
                resets.append(last.reset_ms)
            current = by_name.get(current.on_block or "") or _next_after(lanes, current, path)
            continue
        if last.action is Action.THROTTLE and current.on_throttle:
            target = by_name.get(current.on_throttle)
            if target is not None and target.name not in path:
                reasons.append(f"{current.name}: {_why(last)}")
                current = target
                continue
        why = "; ".join(reasons) if reasons else "first lane, within its budgets"
        if last.action is Action.WARN and not reasons:
            why = f"first lane; {_why(last)}"
        return Pick(current, why, tuple(path), last)
    reset = min(resets) if resets else None
    ends = f" until {_at(reset, zone)}" if reset is not None else ""
    why = f"Cloud budget exhausted: no lane can take the work{ends} ({'; '.join(reasons)})"
    return Pick(None, why, tuple(path), last, reset)


def _next_after(lanes: Sequence[Lane], lane: Lane, seen: list[str]) -> Lane | None:
    """With no `on_block` link: a free lane not yet tried, as the last resort."""
    return next((x for x in lanes if x.free and x.name not in seen), None)


def _why(decision: Decision) -> str:
    if not decision.deciding:
        return decision.action.word
    state = decision.deciding[0]
    return f"{decision.action.word} by budget {state.budget.name} ({state.fraction * 100:.0f}%)"


def _at(ms: int, zone: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M %Z")
