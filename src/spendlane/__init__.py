"""spendlane: what every AI coding agent call costs, kept in a durable ledger.

The Python API: `record` a call, `check` one about to be made, `reserve` money for it and
`settle` the reservation, and read `budget_status`. Each opens the ledger (the default one, or
`db=`) and the budget config (the config dir's, or `config=`) for the one call.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not from typing: the package is imported by every command
if TYPE_CHECKING:  # so it imports nothing at run time
    from decimal import Decimal
    from pathlib import Path
    from typing import Any

    from spendlane.lanes.dispatch import RunResult
    from spendlane.lanes.pick import Pick
    from spendlane.ledger import SqliteLedger
    from spendlane.policy.service import CheckResult

__version__ = "0.1.0"
__all__ = ["budget_status", "check", "dispatch", "pick_lane", "record", "reserve", "settle"]


def _ledger(db: str | Path | None) -> SqliteLedger:
    from pathlib import Path

    from spendlane.ledger import SqliteLedger
    from spendlane.paths import default_ledger_path

    return SqliteLedger(Path(db) if db else default_ledger_path())


def _config(config: str | Path | None) -> Any:
    from pathlib import Path

    from spendlane.policy.service import load_budgets

    return load_budgets(Path(config) if config else None)


def _nano(usd: float | str | Decimal) -> int:
    from spendlane.money import parse_usd

    return parse_usd(str(usd))


def record(*, db: str | Path | None = None, **fields: Any) -> Any:
    """Record one model call in the ledger; returns a `spendlane.recording.Recorded`.

    Fields: timestamp, backend (or provider), model, input_tokens or prompt_tokens,
    output_tokens or completion_tokens, cache_read_tokens or cached_tokens,
    cache_creation_tokens, cost_usd (optional: computed when absent), task_id, task_type,
    agent, session_id, duration_ms, event_id (idempotency key). A bad field raises
    `spendlane.recording.RecordError` naming it.
    """
    from spendlane.recording import record_many

    with _ledger(db) as ledger:
        return record_many(ledger, [fields])[0][0]


def check(
    *,
    estimate_usd: float | str | Decimal = 0,
    db: str | Path | None = None,
    config: str | Path | None = None,
    **call: str | None,
) -> CheckResult:
    """The decision for a call about to be made: `.decision.action` (ALLOW, WARN, THROTTLE,
    BLOCK; its int value is the CLI's exit code), `.notice`, `.decision.lane`, `.states`.

    `call` says what the call is: provider, model, agent, project, task_type, source,
    machine, account (all optional; a budget scoped to a key counts the call only when it is
    given and matches).
    """
    from spendlane.policy.service import check as check_call
    from spendlane.policy.service import make_call, status_after

    budgets = _config(config)
    with _ledger(db) as ledger:
        result = check_call(ledger, budgets, make_call(**call), _nano(estimate_usd))
        status_after(ledger, budgets, result.states)
    return result


def reserve(
    usd: float | str | Decimal,
    *,
    ttl_s: float = 1800,
    db: str | Path | None = None,
    config: str | Path | None = None,
    **call: str | None,
) -> str:
    """Hold `usd` against the budgets the call counts toward; returns the reservation id.

    Raises `spendlane.policy.service.ReservationRefused` when that would take a hard-stop
    budget to its block level. Free it with `settle(id, real_usd)`; otherwise it expires.
    """
    from spendlane.policy.service import make_call, status_after
    from spendlane.policy.service import reserve as hold

    budgets = _config(config)
    with _ledger(db) as ledger:
        ident, result = hold(ledger, budgets, make_call(**call), _nano(usd), int(ttl_s * 1000))
        status_after(ledger, budgets, result.states)
    return ident


def settle(
    reservation_id: str,
    usd: float | str | Decimal | None = None,
    *,
    record: bool = True,
    db: str | Path | None = None,
) -> None:
    """Release a reservation; with `usd` (and `record`), store the real cost as a call."""
    from spendlane.policy.service import settle as release

    with _ledger(db) as ledger:
        release(ledger, reservation_id, _nano(usd) if usd is not None else None, record=record)


def budget_status(
    *, db: str | Path | None = None, config: str | Path | None = None
) -> list[dict[str, Any]]:
    """Every budget now, as `spendlane budget --json` shows it (and status.json holds)."""
    from spendlane.policy.service import (
        budget_states,
        now_ms,
        state_json,
        status_after,
        zone_of,
    )

    budgets = _config(config)
    with _ledger(db) as ledger:
        states = budget_states(ledger, budgets, now_ms())
        status_after(ledger, budgets, states)
    zone = zone_of(budgets)
    return [state_json(state, zone) for state in states]


def pick_lane(
    *,
    lane: str = "auto",
    estimate_usd: float | str | Decimal = 0,
    db: str | Path | None = None,
    config: str | Path | None = None,
    **call: str | None,
) -> Pick:
    """The lane a dispatch would run on now (`.lane`, `.reason`, `.refused`), as `spendlane
    run --dry-run` decides it; `call` as for `check`."""
    from spendlane.lanes.config import lanes_of
    from spendlane.lanes.dispatch import limited_lanes
    from spendlane.lanes.pick import pick_lane as pick
    from spendlane.policy.service import budget_states, make_call, now_ms, zone_of

    budgets = _config(config)
    at = now_ms()
    with _ledger(db) as ledger:
        states = budget_states(ledger, budgets, at)
        limited = limited_lanes(ledger, at, lanes_of(budgets), budgets.accounts)
    return pick(lanes_of(budgets), states, make_call(**call), wanted=lane,
                estimate_nano=_nano(estimate_usd), limited=limited, now_ms=at,
                zone=zone_of(budgets))  # fmt: skip


def dispatch(
    prompt: str,
    *,
    lane: str = "auto",
    agent: str | None = None,
    task_id: str | None = None,
    task_type: str | None = None,
    model: str | None = None,
    max_budget_usd: float | None = None,
    max_turns: int | None = None,
    timeout_s: float | None = None,
    retry_on_limit: bool = False,
    db: str | Path | None = None,
    config: str | Path | None = None,
) -> RunResult:
    """Run `prompt` on the lane the budgets allow, metered: what an orchestrator calls instead
    of `subprocess.run(["claude", "-p", prompt])`. The result has `.lane`, `.exit_code`,
    `.cost_nano`, `.outcome.result_text` and `.outcome.events`; exit code 30 means refused
    (`.reason` says why and until when)."""
    from spendlane.lanes.dispatch import dispatch as run
    from spendlane.policy.service import make_call

    budgets = _config(config)
    with _ledger(db) as ledger:
        return run(ledger, budgets, prompt, wanted=lane,
                   call=make_call(agent=agent, task_type=task_type, model=model),
                   task_id=task_id, model=model, max_budget_usd=max_budget_usd,
                   max_turns=max_turns, timeout_s=timeout_s,
                   retry_on_limit=retry_on_limit)  # fmt: skip
