"""Budgets against the ledger: states now, the decision for a call, reservations, status.json.

The I/O around the pure policy (`evaluate`): read sums and reservations from the ledger, raise
each level's alert once per period, and write `status.json` for other processes. The CLI and
the Python API (`spendlane.check`, `spendlane.reserve`, …) both call these.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spendlane.ledger import SqliteLedger
from spendlane.money import format_usd
from spendlane.periods import local_iso
from spendlane.policy.config import (
    WEEKDAYS,
    AlertSettings,
    Budget,
    BudgetConfig,
    Floor,
    Levels,
    Scope,
    empty_config,
    find_config,
    load_config,
)
from spendlane.policy.evaluate import (
    RECENT_MS,
    Action,
    BudgetState,
    Decision,
    budget_state,
    decide,
    describe_limit,
    notice,
)
from spendlane.policy.spend import Call, covers, reserved, spent
from spendlane.policy.windows import BudgetWindow, current_window, elapsed_fraction


def now_ms() -> int:
    return int(time.time() * 1000)


def load_budgets(config: Path | None = None) -> BudgetConfig:
    """The given config file, else the one in the config dir, else no budgets."""
    if config is None:
        from spendlane.paths import config_dir

        config = find_config(config_dir())
        if config is None:
            return empty_config()
    return _cached_config(config)


def _cached_config(path: Path) -> BudgetConfig:
    """`load_config`, remembered in the data dir by the file's content, so a `check` before
    every dispatch neither imports the YAML parser nor parses the file again.

    Kept as a pickle (it loads in well under a millisecond, where importing a typed decoder
    costs ten) read by an unpickler that can build nothing but the config's own classes.
    """
    import hashlib

    from spendlane import __version__
    from spendlane.paths import data_dir

    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return load_config(path)  # let the loader say what is wrong with it
    # The file's content (edits always count) and the classes' shape (a new field is a new
    # cache, even within one version).
    key = f"{path.resolve()}|{digest}|{__version__}|{_config_shape()}"
    cache = data_dir() / "config-cache.pickle"
    try:
        with open(cache, "rb") as f:
            held_key, held = _ConfigUnpickler(f).load()
        if held_key == key and isinstance(held, BudgetConfig):
            return held
    except Exception:  # missing, stale, foreign or unreadable: rebuilt below
        pass
    loaded = load_config(path)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps((key, loaded), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, cache)
    except OSError:
        pass  # a cache that cannot be written only costs time
    return loaded


def _config_shape() -> str:
    from spendlane.lanes.config import Lane
    from spendlane.policy.accounts import Account

    classes = [*_CONFIG_CLASSES.values(), Lane, Account]
    return ";".join(f"{c.__name__}:{','.join(getattr(c, '__slots__', ()))}" for c in classes)


class _ConfigUnpickler(pickle.Unpickler):
    """Builds only the config's own classes and paths: a planted file can run nothing."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "spendlane.policy.config" and name in _CONFIG_CLASSES:
            return _CONFIG_CLASSES[name]
        if module == "spendlane.lanes.config" and name == "Lane":
            from spendlane.lanes.config import Lane

            return Lane
        if module == "spendlane.policy.accounts" and name == "Account":
            from spendlane.policy.accounts import Account

            return Account
        if module == "pathlib" and name in ("PosixPath", "WindowsPath", "Path"):
            return getattr(pathlib, name)
        raise pickle.UnpicklingError(f"not part of a budget config: {module}.{name}")


_CONFIG_CLASSES: dict[str, type] = {
    cls.__name__: cls for cls in (BudgetConfig, Budget, Scope, Levels, Floor, AlertSettings)
}


def zone_of(config: BudgetConfig) -> dt.tzinfo:
    from spendlane.periods import local_zone

    return local_zone(config.timezone)


def budget_states(ledger: SqliteLedger, config: BudgetConfig, at_ms: int) -> list[BudgetState]:
    """Every budget's state at `at_ms`: spend in its current window plus open reservations."""
    zone = zone_of(config)
    week_start = WEEKDAYS.index(config.week_start) if config.week_start in WEEKDAYS else 0
    holds = reserved(ledger, at_ms)
    states = []
    for budget in config.budgets:
        window = current_window(budget.period, at_ms, zone,
                                cycle_start_day=budget.cycle_start_day,
                                week_start=week_start)  # fmt: skip
        sums = spent(ledger, budget.scope, window)
        in_usd = budget.limit_nano_usd is not None
        held = sum(amount for amount, call in holds if covers(budget.scope, call)) if in_usd else 0
        used = sums.nano if in_usd else sums.tokens
        recent = None
        if not window.rolling:
            last_week = spent(ledger, budget.scope, BudgetWindow(at_ms - RECENT_MS, at_ms, True))
            recent = last_week.nano if in_usd else last_week.tokens
        state = budget_state(budget, window, at_ms, spent=used, reserved=held,
                             unpriced_events=sums.unpriced_events, recent=recent)  # fmt: skip
        states.append(state)
    return states


@dataclass(frozen=True, slots=True)
class CheckResult:
    decision: Decision
    states: list[BudgetState]
    notice: str | None
    zone: dt.tzinfo


def check(
    ledger: SqliteLedger,
    config: BudgetConfig,
    call: Call,
    estimate_nano: int = 0,
    at_ms: int | None = None,
) -> CheckResult:
    """The decision for a call about to be made (reservations of others count)."""
    at = at_ms if at_ms is not None else now_ms()
    states = budget_states(ledger, config, at)
    decision = decide(states, call, estimate_nano)
    zone = zone_of(config)
    return CheckResult(decision, states, notice(decision, zone), zone)


def check_json(result: CheckResult) -> dict[str, Any]:
    """`check --json`: the decision, its exit code, the notice, lane, reset and budgets."""
    decision = result.decision
    reset = decision.reset_ms
    return {
        "decision": decision.action.word,
        "exitCode": int(decision.action),
        "notice": result.notice,
        "lane": decision.lane,
        "resetsAt": local_iso(reset, result.zone),
        "budgets": [state_json(s, result.zone) for s in decision.deciding],
        "applicable": [s.budget.name for s in decision.applicable],
    }


def check_text(result: CheckResult) -> str:
    """`check`'s line for a person."""
    return result.notice or f"{result.decision.action.word}: within every budget that applies"


class ReservationRefused(Exception):
    """A reservation would take a hard-stop budget to its block level."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.notice or "budget exhausted")


def reserve(
    ledger: SqliteLedger,
    config: BudgetConfig,
    call: Call,
    amount_nano: int,
    ttl_ms: int,
    *,
    note: str | None = None,
    at_ms: int | None = None,
) -> tuple[str, CheckResult]:
    """Hold `amount_nano` against every budget that counts `call`, unless that blocks.

    Deciding and inserting happen in one write transaction, so concurrent reservations queue
    and each sees the ones before it: a hard stop holds however many start at once.
    """
    if amount_nano <= 0:
        raise ValueError("a reservation must be for more than $0")
    at = at_ms if at_ms is not None else now_ms()
    with ledger.write() as db:
        db.execute("DELETE FROM reservations WHERE expires_ms <= ?", (at,))
        result = check(ledger, config, call, amount_nano, at)
        if result.decision.action is Action.BLOCK:
            raise ReservationRefused(result)
        ident = os.urandom(8).hex()
        db.execute(
            "INSERT INTO reservations (id, created_ms, expires_ms, amount_nano, provider, model, "
            "agent, project, task_type, source, machine, account, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ident, at, at + ttl_ms, amount_nano, call.provider, call.model, call.agent,
             call.project, call.task_type, call.source, call.machine, call.account, note),
        )  # fmt: skip
    return ident, result


class UnknownReservation(KeyError):
    pass


def settle(
    ledger: SqliteLedger, ident: str, actual_nano: int | None, *, record: bool = True
) -> Call:
    """Release a reservation; with `record`, store the real cost as a recorded call (for
    calls no agent log will show; leave it off when spendlane ingests the call's log)."""
    with ledger.write() as db:
        row = db.execute(
            "SELECT provider, model, agent, project, task_type, source, machine, account "
            "FROM reservations WHERE id = ?",
            (ident,),
        ).fetchone()
        if row is None:
            raise UnknownReservation(ident)
        db.execute("DELETE FROM reservations WHERE id = ?", (ident,))
    call = Call(*row)
    if record and actual_nano is not None:
        from spendlane.recording import record_many

        record_many(ledger, [{
            "event_id": f"reservation:{ident}", "model": call.model or "unknown",
            "backend": call.provider, "cost_usd": actual_nano / 1e9, "agent": call.agent,
            "project": call.project, "task_type": call.task_type, "machine": call.machine,
            "account": call.account,
        }])  # fmt: skip
    return call


# -- alerts and status.json ------------------------------------------------------------------


def raise_level_alerts(
    ledger: SqliteLedger, states: list[BudgetState], zone: dt.tzinfo
) -> list[int]:
    """One alert per budget, level and period when a budget is at warn or above (the key
    makes a repeat a no-op, in this process or any other). Returns the new alerts' ids."""
    from spendlane.alerts.state import AlertKind, raise_alert

    raised = []
    for state in states:
        if state.level == "ok":
            continue
        window = state.window
        period_start = window.start_ms
        if window.rolling:  # a rolling window has no period: one alert per window length
            period_start = window.end_ms // window.length_ms * window.length_ms
        decision = decide([state], Call(**_scope_as_call(state)))
        text = notice(decision, zone) or state.budget.name
        body = (f"{text}\nUsed {_amount(state, state.used)} of {describe_limit(state)} "
                f"({state.fraction * 100:.0f}%).")  # fmt: skip
        ident = raise_alert(ledger, AlertKind.LEVEL, state.budget.name, state.level,
                            period_start, f"spendlane: {text}", body)  # fmt: skip
        if ident is not None:
            raised.append(ident)
        if state.level == "block" and state.budget.fallback:
            title = f"spendlane: work moves to {state.budget.fallback}"
            lane_id = raise_alert(
                ledger, AlertKind.LANE, state.budget.name, "block", period_start, title, text
            )
            if lane_id is not None:
                raised.append(lane_id)
    return raised


NEAR_END = 0.9  # "near the period's end": this much of it has passed


def raise_floor_alerts(
    ledger: SqliteLedger, states: list[BudgetState], config: BudgetConfig, at_ms: int
) -> list[int]:
    """Money already paid for going unused: a budget with a `floor` under its `min_used`
    share once `at` of its period has passed, and all such budgets together under the alert
    settings' `all_providers_floor` near the period's end. Once per budget and period."""
    from spendlane.alerts.state import AlertKind, raise_alert

    raised: list[int] = []
    floored = [s for s in states if s.budget.floor is not None and not s.window.rolling]
    for state in floored:
        floor = state.budget.floor
        assert floor is not None
        elapsed = elapsed_fraction(state.window, at_ms)
        if elapsed < floor.at or state.fraction >= floor.min_used:
            continue
        title = (f"spendlane: {state.budget.name} is {state.fraction * 100:.0f}% used "
                 f"with {elapsed * 100:.0f}% of the period gone")  # fmt: skip
        body = (f"{describe_limit(state)} is paid for; {_amount(state, state.remaining)} is "
                f"still unused. Route more work there.")  # fmt: skip
        ident = raise_alert(ledger, AlertKind.UNDERUSE, state.budget.name, "floor",
                            state.window.start_ms, title, body, at_ms)  # fmt: skip
        if ident is not None:
            raised.append(ident)
    share = config.alerts.all_providers_floor
    in_usd = [s for s in floored if s.in_usd]
    if share is not None and len(in_usd) > 1:
        near_end = [s for s in in_usd if elapsed_fraction(s.window, at_ms) >= NEAR_END]
        used, limit = sum(s.used for s in near_end), sum(s.limit for s in near_end)
        if near_end and used < share * limit:
            period = min(s.window.start_ms for s in near_end)
            title = (f"spendlane: paid-for budgets are {used / limit * 100:.0f}% used near "
                     "the period's end")  # fmt: skip
            shares = "; ".join(f"{s.budget.name} {s.fraction * 100:.0f}%" for s in near_end)
            body = f"{shares}. {format_usd(limit - used)} still unused."
            ident = raise_alert(ledger, AlertKind.UNDERUSE, "all", "floor", period, title, body,
                                at_ms)  # fmt: skip
            if ident is not None:
                raised.append(ident)
    return raised


def _scope_as_call(state: BudgetState) -> dict[str, Any]:
    scope = state.budget.scope
    return {name: getattr(scope, name) for name in Call.__dataclass_fields__}


def _amount(state: BudgetState, value: int) -> str:
    return format_usd(value) if state.in_usd else f"{value:,} tokens"


def status_json(states: list[BudgetState], zone: dt.tzinfo, at_ms: int) -> dict[str, Any]:
    """What other processes need: every budget's level, blocked providers, lanes, resets."""
    budgets = [state_json(s, zone) for s in states]
    blocked = sorted({s.budget.scope.provider or "*" for s in states if s.level == "block"})
    lanes = {s.budget.scope.provider or "*": s.budget.fallback for s in states
             if s.level in ("throttle", "block") and s.budget.fallback}  # fmt: skip
    return {
        "version": 1,
        "updatedAt": local_iso(at_ms, dt.UTC),
        "timezone": str(zone),
        "level": max((s.level for s in states), key=_LEVELS.index, default="ok"),
        "blockedProviders": blocked,
        "recommendedLanes": lanes,
        "budgets": budgets,
    }


_LEVELS = ["ok", "warn", "throttle", "block"]


def state_json(state: BudgetState, zone: dt.tzinfo) -> dict[str, Any]:
    budget = state.budget
    scope = {k: v for k, v in _scope_as_call(state).items() if v is not None}
    unit = "usd" if state.in_usd else "tokens"

    def amount(value: int | None) -> float | int | None:
        if value is None:
            return None
        return value / 1e9 if state.in_usd else value

    resets = None if state.window.rolling else state.window.end_ms
    return {
        "name": budget.name,
        "scope": scope,
        "period": budget.period,
        "unit": unit,
        "limit": amount(state.limit),
        "spent": amount(state.spent),
        "reserved": amount(state.reserved),
        "remaining": amount(state.remaining),
        "percent": round(state.fraction * 100, 2),
        "level": state.level,
        "hardStop": budget.hard_stop,
        "windowStart": local_iso(state.window.start_ms, zone),
        "resetsAt": local_iso(resets, zone),
        "resetsAtUtc": local_iso(resets, dt.UTC),
        "projected": amount(state.projected),
        "recommendedLane": budget.fallback if state.level in ("throttle", "block") else None,
        "unpricedEvents": state.unpriced_events,
    }


def status_after(
    ledger: SqliteLedger,
    config: BudgetConfig,
    states: list[BudgetState] | None = None,
    at_ms: int | None = None,
) -> list[BudgetState]:
    """What every write and check leaves behind when budgets exist: status.json replaced, each
    level's alert raised once, and new alerts handed to a detached deliverer."""
    at = at_ms if at_ms is not None else now_ms()
    if states is None:
        states = budget_states(ledger, config, at)
    zone = zone_of(config)
    write_status(states, zone, at)
    raised = raise_level_alerts(ledger, states, zone)
    raised += raise_floor_alerts(ledger, states, config, at)
    if raised and config.alerts.urls:
        from spendlane.alerts.background import deliver_soon

        deliver_soon(config.path, ledger.path)
    return states


def make_call(**fields: str | None) -> Call:
    """A `Call` from user input: provider aliases (claude, gpt, kimi) and source names
    canonical, unknown fields refused."""
    from spendlane.policy.config import canonical_provider, canonical_source

    unknown = set(fields) - set(Call.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown call field(s): {', '.join(sorted(unknown))}")
    values = {k: v for k, v in fields.items() if v is not None}
    if "provider" in values:
        values["provider"] = canonical_provider(values["provider"])
    if "source" in values:
        values["source"] = canonical_source(values["source"])
    return Call(**values)


def write_status(states: list[BudgetState], zone: dt.tzinfo, at_ms: int) -> Path:
    """Replace `status.json` in the data dir atomically (readers never see half a file)."""
    from spendlane.paths import data_dir

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "status.json"
    temporary = folder / f".status.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(status_json(states, zone, at_ms), f, indent=2)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
